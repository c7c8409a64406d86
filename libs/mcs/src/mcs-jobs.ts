import { createHash } from 'node:crypto';
import { JobsOptions } from 'bullmq';
import { AppConfig } from '@hes/config';
import { MAX_PRIORITY } from './mcs-request';

function digest(requestReference: string): string {
  return createHash('sha1').update(requestReference).digest('hex');
}

/** One collection job per request: re-enqueueing it never duplicates work. */
export function collectionJobId(requestReference: string): string {
  return `mcs-c-${digest(requestReference)}`;
}

/** One delivery job per (request, attempt number). */
export function deliveryJobId(requestReference: string, attempt: number): string {
  return `mcs-d-${digest(requestReference)}-${attempt}`;
}

/** BullMQ priority (lower = sooner, as MCS) and the delay until `delayUntil`. */
export function collectionJobOptions(
  config: AppConfig,
  request: { requestReference: string; priority: number; delayUntil: string | Date | null },
  now = Date.now(),
): JobsOptions & { jobId: string } {
  const delay = request.delayUntil ? Math.max(0, new Date(request.delayUntil).getTime() - now) : 0;
  return {
    jobId: collectionJobId(request.requestReference),
    priority: Math.min(Math.max(request.priority, 1), MAX_PRIORITY),
    ...(delay > 0 ? { delay } : {}),
    attempts: config.MCS_COLLECTION_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.MCS_COLLECTION_BACKOFF_MS },
  };
}

export function deliveryJobOptions(
  requestReference: string,
  attempt: number,
  delayMs: number,
): JobsOptions & { jobId: string } {
  return {
    jobId: deliveryJobId(requestReference, attempt),
    ...(delayMs > 0 ? { delay: delayMs } : {}),
    // Retries are scheduled by the delivery job itself (backoff, expiry, service-status check).
    attempts: 1,
  };
}

/** Delay before delivery attempt n+1 after n failures: doubling from the base, capped. */
export function deliveryBackoffMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}
