import { createHash } from 'node:crypto';
import { JobsOptions } from 'bullmq';
import { AppConfig } from '@hes/config';
import { JobItem, JobName, JobQueueRepository } from '@hes/queue';
import { interleaveByGateway } from './gateway-interleave';

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
  return retried(config, transactionJobId(transactionid, globalDeviceId));
}

/** A job id with the transactions' attempts and exponential backoff (TRANSACTION_ATTEMPTS, TRANSACTION_BACKOFF_MS). */
function retried(config: AppConfig, jobId: string): JobsOptions & { jobId: string } {
  return {
    jobId,
    attempts: config.TRANSACTION_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.TRANSACTION_BACKOFF_MS },
  };
}

/**
 * A slice renews its job's lock before a device when its last renewal is older than this (one Redis round
 * trip per second of a slice instead of one per device). A renewal leaves the lock held for BullMQ's lock
 * duration (30 s), so it cannot lapse for another worker to take within this time; what can happen
 * meanwhile is Redis losing the job (emptied, a failover without it), after which the slice may start
 * devices for up to this long. The reconciler waits this long (and a margin) before it reads again, and
 * queues, the rows of a job it found gone: by then such a slice starts no more rows, and one it started is
 * at level 1 or more, or done, as the row of a single job in flight when Redis lost it.
 */
export const SLICE_LOCK_CHECK_MS = 1_000;

/**
 * The job id of a transaction's slice number `index` (JobName.TransactionExecuteSlice): the reconciler finds
 * the slices of a transaction from their count (udil_transactions.queued_slices).
 */
export function transactionSliceJobId(transactionid: string, index: number): string {
  return `ts-${createHash('sha1').update(transactionid).digest('hex')}-${index}`;
}

/** Queue options of a slice: its id; attempts and backoff for faults of the head-end itself (not a device's). */
export function transactionSliceJobOptions(
  config: AppConfig,
  transactionid: string,
  index: number,
): JobsOptions & { jobId: string } {
  return retried(config, transactionSliceJobId(transactionid, index));
}

/** Jobs per addBulk call when a transaction is queued. */
const QUEUE_BATCH = 1000;

/**
 * The job that queues a transaction's device jobs (JobName.TransactionQueue): one per transaction, its
 * id deterministic so that the api's add and a retry of it are one job.
 */
export function transactionQueueJobOptions(
  config: AppConfig,
  transactionid: string,
): JobsOptions & { jobId: string } {
  return retried(config, `tq-${createHash('sha1').update(transactionid).digest('hex')}`);
}

/**
 * A row of a transaction to queue: its device, its gateway (null: not registered yet) and that gateway's
 * max_in_flight, and whether it is live (neither finished nor cancelled, nor held until later).
 */
export interface RowToQueue {
  globalDeviceId: string;
  receivedAt: Date;
  gatewayId: string | null;
  maxInFlight: number | null;
  live: boolean;
}

/**
 * Queues the jobs of a transaction's live rows and returns how many slice ids it numbered (for
 * udil_transactions.queued_slices: the reconciler looks the slices up by number). A gateway's rows go in
 * slices of at most TRANSACTION_SLICE_SIZE devices, one JobName.TransactionExecuteSlice job each
 * (docs/scaling.md, "Batching meters per job"); a gateway with a single row, and a row whose device has no
 * gateway yet (device_creation), get a JobName.TransactionExecute job of their own. Jobs go in rounds across
 * gateways (the first slice of every gateway, then the second…; see interleaveByGateway), so a worker keeps
 * many gateways busy, and in batches: workers start on the first while the rest are still being queued.
 *
 * `rows` are all the transaction's rows, in the same order each time (by device): the slices are cut from all
 * of them and carry only the live ones, so a transaction queued again (its TransactionQueue job retried after
 * a fault, or the reconciler finding its queueing unfinished) gets the same slices under the same ids. A
 * slice still in the queue is not queued twice (its payload holds what it has not run yet), no device is put
 * in two slices, and a slice with no live device is numbered but not queued.
 */
export async function queueTransactionJobs(
  queues: JobQueueRepository,
  config: AppConfig,
  transactionid: string,
  rows: readonly RowToQueue[],
): Promise<number> {
  const byGateway = new Map<string | null, RowToQueue[]>();
  for (const row of rows) {
    const group = byGateway.get(row.gatewayId);
    if (group) group.push(row);
    else byGateway.set(row.gatewayId, [row]);
  }
  const size = config.TRANSACTION_SLICE_SIZE;
  const jobs: { gatewayId: string | null; item: JobItemWithOptions }[] = [];
  let slices = 0;
  for (const [gatewayId, group] of byGateway) {
    const step = gatewayId === null ? 1 : size;
    for (let at = 0; at < group.length; at += step) {
      const slice = group.slice(at, at + step);
      const live = slice.filter((row) => row.live);
      if (slice.length === 1) {
        if (live.length === 1) jobs.push({ gatewayId, item: deviceJob(config, transactionid, live[0]) });
        continue;
      }
      const index = slices;
      slices += 1;
      if (live.length === 0) continue;
      jobs.push({
        gatewayId,
        item: {
          name: JobName.TransactionExecuteSlice,
          data: {
            transactionid,
            // receivedAt: each row's partition bound (docs/partitions.md).
            devices: live.map((row) => ({
              globalDeviceId: row.globalDeviceId,
              receivedAt: row.receivedAt.toISOString(),
            })),
            lanes: Math.max(1, slice[0].maxInFlight ?? 1),
          },
          opts: transactionSliceJobOptions(config, transactionid, index),
        },
      });
    }
  }
  const ordered = interleaveByGateway(jobs, (job) => job.gatewayId).map((job) => job.item);
  for (let i = 0; i < ordered.length; i += QUEUE_BATCH) {
    await queues.addBulk(ordered.slice(i, i + QUEUE_BATCH));
  }
  return slices;
}

type JobItemWithOptions = JobItem & { opts: JobsOptions };

function deviceJob(config: AppConfig, transactionid: string, row: RowToQueue): JobItemWithOptions {
  return {
    name: JobName.TransactionExecute,
    // receivedAt: the row's partition bound (docs/partitions.md).
    data: { transactionid, globalDeviceId: row.globalDeviceId, receivedAt: row.receivedAt.toISOString() },
    opts: transactionJobOptions(config, transactionid, row.globalDeviceId),
  };
}
