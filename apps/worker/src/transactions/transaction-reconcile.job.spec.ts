import { AppConfig } from '@hes/config';
import { JobName, JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import {
  PendingPosition,
  PendingRow,
  SLICE_LOCK_CHECK_MS,
  TransactionStatusRepository,
  transactionJobId,
  transactionSliceJobId,
} from '@hes/transactions';
import { RECONCILE_BATCH, TransactionReconcileJob } from './transaction-reconcile.job';

const at = new Date('2026-12-01T01:00:00Z');
const row = (device: string): PendingRow => ({
  transactionid: 'T',
  global_device_id: device,
  command_receiving_datetime: at,
});

/**
 * The reconciler with a fake TRANSACTION_STATUS and queue: `queued` are the devices whose job is in the queue,
 * `finishedMeanwhile` the devices whose job finished (and left the queue) after the rows were read.
 */
function reconcilerWith(
  devices: string[],
  queued: string[],
  finishedMeanwhile: string[],
  liveSlices: string[][] = [],
  unqueued: { transactionid: string; fails?: boolean }[] = [],
) {
  const ensured: string[] = [];
  const marked: string[] = [];
  /** Where each read of the pending rows started (the last device of the page before, or ''). */
  const pages: string[] = [];
  const statuses = {
    unqueued: () => Promise.resolve(unqueued.map((t) => t.transactionid)),
    rowsToQueue: (transactionid: string) =>
      unqueued.find((t) => t.transactionid === transactionid)?.fails
        ? Promise.reject(new Error(`rows of ${transactionid} unreadable`))
        : Promise.resolve([]),
    markQueued: (transactionid: string) => {
      marked.push(transactionid);
      return Promise.resolve();
    },
    queuedSlices: (transactionids: string[]) =>
      Promise.resolve(new Map(transactionids.map((t) => [t, liveSlices.length + 1]))),
    pending: (_olderThan: Date, limit: number, after?: PendingPosition) => {
      const rows = devices.filter((device) => !after || device > after.globalDeviceId).slice(0, limit);
      pages.push(after?.globalDeviceId ?? '');
      const last = rows[rows.length - 1];
      return Promise.resolve({
        rows: rows.map(row),
        last: last && { receivedAt: at.toISOString(), transactionid: 'T', globalDeviceId: last },
      });
    },
    stillPending: (rows: readonly PendingRow[]) =>
      Promise.resolve(rows.filter((r) => !finishedMeanwhile.includes(r.global_device_id))),
  } as unknown as TransactionStatusRepository;
  const queues = {
    notQueued: (name: JobName, ids: readonly string[]) => {
      expect(name).toBe(JobName.TransactionExecute);
      const inQueue = new Set(queued.map((device) => transactionJobId('T', device)));
      return Promise.resolve(new Set(ids.filter((id) => !inQueue.has(id))));
    },
    // Slice 0 of T completed; the others are still in the queue.
    livePayloads: (name: JobName, ids: readonly string[]) => {
      expect(name).toBe(JobName.TransactionExecuteSlice);
      expect(ids).toEqual(
        Array.from({ length: liveSlices.length + 1 }, (_, index) => transactionSliceJobId('T', index)),
      );
      return Promise.resolve(
        liveSlices.map((slice) => ({
          transactionid: 'T',
          devices: slice.map((globalDeviceId) => ({ globalDeviceId, receivedAt: at.toISOString() })),
          lanes: 2,
        })),
      );
    },
    ensureQueued: (_name: JobName, data: { globalDeviceId: string }) => {
      ensured.push(data.globalDeviceId);
      return Promise.resolve('added');
    },
  } as unknown as JobQueueRepository;
  const config = {
    RECONCILE_INTERVAL_SECONDS: 60,
    TRANSACTION_ATTEMPTS: 5,
    TRANSACTION_BACKOFF_MS: 2000,
  } as AppConfig;
  const job = new TransactionReconcileJob(statuses, queues, {} as ScheduleSupervisor, config);
  /** Each wait for a slice that lost its job to find out; `meanwhile` runs during it. */
  const waits: string[] = [];
  const meanwhile: (() => void)[] = [];
  jest.spyOn(job, 'sliceLockCheck').mockImplementation(() => {
    waits.push('waited');
    meanwhile.forEach((step) => step());
    return Promise.resolve();
  });
  return { job, ensured, waits, meanwhile, finishedMeanwhile, marked, pages };
}

describe('the transaction reconciler', () => {
  it('queues again only the rows whose job is gone and that are pending still', async () => {
    // m1 waits in the queue; m2's job finished between the read of the rows and the look at the queue;
    // m3's job was lost (Redis emptied).
    const { job, ensured } = reconcilerWith(['m1', 'm2', 'm3'], ['m1'], ['m2']);
    expect(await job.reconcile()).toEqual({ queued: 0, requeued: 1 });
    expect(ensured).toEqual(['m3']);
  });

  it('queues nothing when every job is in the queue, and does not wait', async () => {
    const { job, ensured, waits } = reconcilerWith(['m1', 'm2'], ['m1', 'm2'], []);
    expect(await job.reconcile()).toEqual({ queued: 0, requeued: 0 });
    expect(ensured).toEqual([]);
    expect(waits).toEqual([]);
  });

  it('reads the rows of a job found gone again only after a slice that lost it has found out', async () => {
    // m1 and m2 were in a slice Redis lost; until its next lock renewal its worker went on, and finished m2.
    const { job, ensured, waits, meanwhile, finishedMeanwhile } = reconcilerWith(['m1', 'm2'], [], []);
    meanwhile.push(() => finishedMeanwhile.push('m2'));
    expect(await job.reconcile()).toEqual({ queued: 0, requeued: 1 });
    expect(waits).toEqual(['waited']);
    expect(ensured).toEqual(['m1']);
  });

  it('waits for as long as a slice goes on between two renewals of its lock, and a margin', async () => {
    const { job } = reconcilerWith([], [], []);
    jest.restoreAllMocks();
    jest.useFakeTimers();
    try {
      let done = false;
      void job.sliceLockCheck().then(() => (done = true));
      await jest.advanceTimersByTimeAsync(SLICE_LOCK_CHECK_MS);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(500);
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('queues the transactions after one whose queueing fails, re-queues the lost rows, then fails the pass', async () => {
    const { job, ensured, marked } = reconcilerWith(
      ['m3'],
      [],
      [],
      [],
      [{ transactionid: 'T0', fails: true }, { transactionid: 'T1' }],
    );
    await expect(job.reconcile()).rejects.toThrow(
      'queued 0 row(s) and re-queued 1, but could not queue transaction(s) T0',
    );
    expect(marked).toEqual(['T1']);
    expect(ensured).toEqual(['m3']);
  });

  it('reaches a row whose job was lost behind a full page of rows that wait, on its next pass', async () => {
    const device = (index: number) => `m${String(index).padStart(5, '0')}`;
    const devices = Array.from({ length: RECONCILE_BATCH + 1 }, (_, index) => device(index));
    const lost = device(RECONCILE_BATCH);
    const { job, ensured, pages } = reconcilerWith(
      devices,
      devices.filter((d) => d !== lost),
      [],
    );
    expect(await job.reconcile()).toEqual({ queued: 0, requeued: 0 });
    expect(await job.reconcile()).toEqual({ queued: 0, requeued: 1 });
    expect(ensured).toEqual([lost]);
    // It went on after the first page, then starts over.
    expect(pages).toEqual(['', device(RECONCILE_BATCH - 1)]);
    await job.reconcile();
    expect(pages[2]).toBe('');
  });

  it('reads the same page again after a pass the queue failed in', async () => {
    const devices = Array.from({ length: RECONCILE_BATCH + 1 }, (_, index) => `m${index}`);
    const { job, pages } = reconcilerWith(devices, [], []);
    const queues = (job as unknown as { queues: { ensureQueued: () => Promise<string> } }).queues;
    queues.ensureQueued = () => Promise.reject(new Error('no answer within 5000 ms (QUEUE_CALL_TIMEOUT_MS)'));
    await expect(job.reconcile()).rejects.toThrow('QUEUE_CALL_TIMEOUT_MS');
    await expect(job.reconcile()).rejects.toThrow('QUEUE_CALL_TIMEOUT_MS');
    expect(pages).toEqual(['', '']);
  });

  it('leaves alone the rows a slice still in the queue carries, and queues those of a slice that is over', async () => {
    // m1 and m2 wait in a live slice; m3 was in slice 0, which is over (its worker failed it), and m4's
    // slice handed it on to a job of its own.
    const { job, ensured } = reconcilerWith(['m1', 'm2', 'm3', 'm4'], ['m4'], [], [['m1', 'm2']]);
    expect(await job.reconcile()).toEqual({ queued: 0, requeued: 1 });
    expect(ensured).toEqual(['m3']);
  });
});
