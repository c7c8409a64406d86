import { createHash } from 'node:crypto';
import { JobsOptions } from 'bullmq';
import { AppConfig } from '@hes/config';
import { JobName, JobQueueRepository } from '@hes/queue';

/** The job id of one (transaction, device): deterministic, so re-enqueueing it never duplicates work. */
export function transactionJobId(transactionid: string, globalDeviceId: string): string {
  return `tx-${createHash('sha1').update(`${transactionid}\u0000${globalDeviceId}`).digest('hex')}`;
}

/** Queue options of one device's job: its deterministic id, attempts and backoff from the configuration. */
export function transactionJobOptions(
  config: AppConfig,
  transactionid: string,
  globalDeviceId: string,
): JobsOptions & { jobId: string } {
  return {
    jobId: transactionJobId(transactionid, globalDeviceId),
    attempts: config.TRANSACTION_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.TRANSACTION_BACKOFF_MS },
  };
}

/** Jobs per addBulk call when a transaction is queued. */
const QUEUE_SLICE = 1000;

/**
 * The job that queues a transaction's device jobs (JobName.TransactionQueue): one per transaction, its
 * id deterministic so that the api's add and a retry of it are one job.
 */
export function transactionQueueJobOptions(
  config: AppConfig,
  transactionid: string,
): JobsOptions & { jobId: string } {
  return {
    jobId: `tq-${createHash('sha1').update(transactionid).digest('hex')}`,
    attempts: config.TRANSACTION_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.TRANSACTION_BACKOFF_MS },
  };
}

/**
 * Queues the jobs of a transaction's devices, in the order given (see interleaveByGateway), in slices:
 * workers start on the first devices while the rest are still being queued, and 100 000 devices are not
 * one huge Redis MULTI. Idempotent: a device whose job is still in the queue is not queued twice.
 */
export async function queueTransactionJobs(
  queues: JobQueueRepository,
  config: AppConfig,
  transactionid: string,
  rows: readonly { globalDeviceId: string; receivedAt: Date }[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += QUEUE_SLICE) {
    await queues.addBulk(
      rows.slice(i, i + QUEUE_SLICE).map(({ globalDeviceId, receivedAt }) => ({
        name: JobName.TransactionExecute,
        // receivedAt: the row's partition bound (docs/partitions.md).
        data: { transactionid, globalDeviceId, receivedAt: receivedAt.toISOString() },
        opts: transactionJobOptions(config, transactionid, globalDeviceId),
      })),
    );
  }
}
