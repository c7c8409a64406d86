import { AppConfig } from '@hes/config';
import { JobItem, JobName, JobQueueRepository } from '@hes/queue';
import { queueTransactionJobs, transactionJobId, transactionSliceJobId } from './transaction-jobs';

const receivedAt = new Date('2026-12-01T04:00:00Z');
const row = (
  globalDeviceId: string,
  gatewayId: string | null,
  maxInFlight: number | null = 2,
  live = true,
) => ({
  globalDeviceId,
  receivedAt,
  gatewayId,
  maxInFlight,
  live,
});

/** What queueTransactionJobs added, batch by batch: a slice as `slice <id> [devices] lanes`, a device job as `device <id>`. */
async function queued(rows: ReturnType<typeof row>[], sliceSize: number) {
  const batches: string[][] = [];
  const queues = {
    addBulk: (items: (JobItem & { opts: { jobId: string } })[]) => {
      batches.push(
        items.map((item) =>
          item.name === JobName.TransactionExecuteSlice
            ? `slice ${item.opts.jobId} [${item.data.devices.map((d) => d.globalDeviceId).join(' ')}] ${item.data.lanes}`
            : `device ${item.opts.jobId}`,
        ),
      );
      return Promise.resolve();
    },
  } as unknown as JobQueueRepository;
  const config = {
    TRANSACTION_SLICE_SIZE: sliceSize,
    TRANSACTION_ATTEMPTS: 5,
    TRANSACTION_BACKOFF_MS: 2000,
  } as AppConfig;
  const slices = await queueTransactionJobs(queues, config, 'T', rows);
  return { slices, jobs: batches.flat(), batches: batches.map((batch) => batch.length) };
}

describe('queueTransactionJobs', () => {
  it("queues a gateway's devices in slices, a lone device and one without a gateway alone, interleaved by gateway", async () => {
    const { slices, jobs } = await queued(
      [
        row('a1', 'A', 3),
        row('a2', 'A', 3),
        row('a3', 'A', 3),
        row('a4', 'A', 3),
        row('a5', 'A', 3),
        row('b1', 'B', null),
        row('c1', 'C'),
        row('c2', 'C'),
        row('n1', null, null),
        row('n2', null, null),
      ],
      2,
    );
    expect(slices).toBe(3);
    expect(jobs).toEqual([
      // Round 1: the first job of every gateway (devices without one count as one group, a job each).
      `slice ${transactionSliceJobId('T', 0)} [a1 a2] 3`,
      `device ${transactionJobId('T', 'b1')}`,
      `slice ${transactionSliceJobId('T', 2)} [c1 c2] 2`,
      `device ${transactionJobId('T', 'n1')}`,
      // Round 2, then 3: a gateway's later slices; a slice of one device is a device job.
      `slice ${transactionSliceJobId('T', 1)} [a3 a4] 3`,
      `device ${transactionJobId('T', 'n2')}`,
      `device ${transactionJobId('T', 'a5')}`,
    ]);
  });

  it('queues a transaction again with the same slices under the same ids, each with its devices still live', async () => {
    const rows = (done: string[]) =>
      ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'b1', 'b2', 'c1'].map((id) =>
        row(id, id[0].toUpperCase(), 2, !done.includes(id)),
      );
    const first = await queued(rows([]), 3);
    expect(first.slices).toBe(3);
    expect(first.jobs).toEqual([
      `slice ${transactionSliceJobId('T', 0)} [a1 a2 a3] 2`,
      `slice ${transactionSliceJobId('T', 2)} [b1 b2] 2`,
      `device ${transactionJobId('T', 'c1')}`,
      `slice ${transactionSliceJobId('T', 1)} [a4 a5 a6] 2`,
    ]);
    // Queued again after some rows finished: no slice shifts (cut from the live rows only, as before, a6 moved
    // into slice 0, whose id the first queueing's slice 0 still held), a slice of one live device stays a
    // slice, and a slice with none is numbered but not queued.
    const again = await queued(rows(['a2', 'a4', 'a5', 'b1', 'b2', 'c1']), 3);
    expect(again.slices).toBe(3);
    expect(again.jobs).toEqual([
      `slice ${transactionSliceJobId('T', 0)} [a1 a3] 2`,
      `slice ${transactionSliceJobId('T', 1)} [a6] 2`,
    ]);
  });

  it('queues one job per device with slices of 1', async () => {
    const { slices, jobs } = await queued([row('a1', 'A'), row('a2', 'A')], 1);
    expect(slices).toBe(0);
    expect(jobs).toEqual([`device ${transactionJobId('T', 'a1')}`, `device ${transactionJobId('T', 'a2')}`]);
  });

  it('adds the jobs of a large transaction in batches of 1 000', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => row(`m${i}`, `G${i}`));
    const { slices, batches } = await queued(rows, 100);
    expect(slices).toBe(0);
    expect(batches).toEqual([1000, 1000, 500]);
  });
});
