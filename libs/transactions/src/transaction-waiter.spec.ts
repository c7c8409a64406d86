import { TransactionStatusRepository, TransactionStatusRow } from './transaction-status.repository';
import { TransactionWaiter } from './transaction-waiter';

const row = (global_device_id: string, changes: Partial<TransactionStatusRow> = {}) =>
  ({
    transactionid: 't1',
    global_device_id,
    status_level: 1,
    indv_status: 0,
    request_cancelled: 0,
    ...changes,
  }) as TransactionStatusRow;

function waiterOver(looks: TransactionStatusRow[][]) {
  let look = 0;
  const findByTransactions = jest.fn((): Promise<TransactionStatusRow[]> =>
    Promise.resolve(looks[Math.min(look++, looks.length - 1)]),
  );
  const waiter = new TransactionWaiter({ findByTransactions } as unknown as TransactionStatusRepository);
  return { waiter, findByTransactions };
}

describe('TransactionWaiter', () => {
  it('answers the rows once every awaited device has finished (complete, failed or cancelled)', async () => {
    const done = [
      row('m1', { status_level: 5, indv_status: 1 }),
      row('m2', { indv_status: 2 }),
      row('m3', { request_cancelled: 1 }),
    ];
    const { waiter, findByTransactions } = waiterOver([
      [row('m1'), row('m2'), row('m3')],
      [done[0], row('m2'), done[2]],
      done,
    ]);
    await expect(waiter.wait('t1', ['m1', 'm2', 'm3'], 60_000)).resolves.toEqual({
      finished: true,
      rows: done,
    });
    expect(findByTransactions).toHaveBeenCalledTimes(3);
    expect(findByTransactions).toHaveBeenCalledWith(['t1']);
  });

  it('only the awaited devices count', async () => {
    const { waiter } = waiterOver([[row('m1', { indv_status: 1 }), row('m2')]]);
    await expect(waiter.wait('t1', ['m1'], 60_000)).resolves.toEqual({
      finished: true,
      rows: [row('m1', { indv_status: 1 })],
    });
  });

  it('past the wait it answers the rows as they stand, not finished', async () => {
    const { waiter, findByTransactions } = waiterOver([[row('m1', { status_level: 3 })]]);
    await expect(waiter.wait('t1', ['m1'], 0)).resolves.toEqual({
      finished: false,
      rows: [row('m1', { status_level: 3 })],
    });
    expect(findByTransactions).toHaveBeenCalledTimes(1);
  });

  it('a client that went away ends the wait', async () => {
    const { waiter, findByTransactions } = waiterOver([[row('m1')]]);
    const gone = new AbortController();
    const waiting = waiter.wait('t1', ['m1'], 600_000, gone.signal);
    gone.abort();
    await expect(waiting).resolves.toEqual({ finished: false, rows: [row('m1')] });
    expect(findByTransactions.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('a device without a row yet is not finished', async () => {
    const { waiter } = waiterOver([[]]);
    await expect(waiter.wait('t1', ['m1'], 0)).resolves.toEqual({ finished: false, rows: [] });
  });
});
