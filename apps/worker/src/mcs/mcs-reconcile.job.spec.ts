import { AppConfig } from '@hes/config';
import { JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import { McsRequestRepository } from '@hes/mcs';
import { MCS_RECONCILE_BATCH, McsReconcileJob } from './mcs-reconcile.job';

/** References r00000 … in order; those whose job the queue lost. */
function reconcilerOver(total: number, lost: Set<string>) {
  const references = Array.from({ length: total }, (_, i) => `r${String(i).padStart(5, '0')}`);
  const asked: string[] = [];
  const page = (after: string, limit: number) => references.filter((ref) => ref > after).slice(0, limit);
  const requests = {
    unfinished: (_olderThan: Date, limit: number, after = '') => {
      asked.push(after);
      return Promise.resolve(
        page(after, limit).map((ref) => ({
          request_reference: ref,
          request: { requestReference: ref, priority: 1, delayUntil: null },
        })),
      );
    },
    overdueDeliveries: () => Promise.resolve([]),
  } as unknown as McsRequestRepository;
  const requeued: string[] = [];
  const queues = {
    ensureQueued: (_name: string, data: { requestReference: string }) => {
      if (!lost.has(data.requestReference)) return Promise.resolve('present');
      requeued.push(data.requestReference);
      return Promise.resolve('added');
    },
  } as unknown as JobQueueRepository;
  const job = new McsReconcileJob(
    requests,
    queues,
    {} as ScheduleSupervisor,
    {
      RECONCILE_INTERVAL_SECONDS: 30,
      MCS_COLLECTION_ATTEMPTS: 3,
      MCS_COLLECTION_BACKOFF_MS: 1000,
    } as AppConfig,
  );
  return { job, asked, requeued };
}

describe('the MCS reconciler', () => {
  it('reaches a request whose job was lost behind a full page of requests that wait, on its next pass', async () => {
    const last = `r${String(MCS_RECONCILE_BATCH).padStart(5, '0')}`;
    const { job, asked, requeued } = reconcilerOver(MCS_RECONCILE_BATCH + 1, new Set([last]));
    expect(await job.reconcile()).toEqual({ collections: 0, deliveries: 0 });
    expect(await job.reconcile()).toEqual({ collections: 1, deliveries: 0 });
    expect(requeued).toEqual([last]);
    // It went on after the first page, then starts over.
    expect(asked).toEqual(['', `r${String(MCS_RECONCILE_BATCH - 1).padStart(5, '0')}`]);
    await job.reconcile();
    expect(asked[2]).toBe('');
  });

  it('reads the same page again after a pass the queue failed in', async () => {
    const { job, asked } = reconcilerOver(MCS_RECONCILE_BATCH + 1, new Set());
    const queues = (job as unknown as { queues: { ensureQueued: () => Promise<string> } }).queues;
    const ensureQueued = queues.ensureQueued;
    queues.ensureQueued = () => Promise.reject(new Error('no answer within 5000 ms (QUEUE_CALL_TIMEOUT_MS)'));
    await expect(job.reconcile()).rejects.toThrow('QUEUE_CALL_TIMEOUT_MS');
    queues.ensureQueued = ensureQueued;
    await job.reconcile();
    expect(asked).toEqual(['', '']);
  });
});
