import { createHash } from 'node:crypto';
import { JobsOptions } from 'bullmq';
import { AppConfig } from '@hes/config';

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
