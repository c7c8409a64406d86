import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobHandler, JobName, JobPayloads, JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import {
  PendingPosition,
  PendingRow,
  SLICE_LOCK_CHECK_MS,
  TransactionStatusRepository,
  queueTransactionJobs,
  transactionJobId,
  transactionJobOptions,
  transactionSliceJobId,
} from '@hes/transactions';

/** Pending rows one pass looks at; the next pass goes on after the last of them. */
export const RECONCILE_BATCH = 5000;
/** What a slice's renewal may take beyond SLICE_LOCK_CHECK_MS (its round trip, the device's start). */
const SLICE_LOCK_CHECK_MARGIN_MS = 500;
/** Transactions whose queueing did not finish, taken per run (each queued whole). */
const UNQUEUED_BATCH = 20;

/**
 * Queues the device jobs of accepted UDIL transactions, and makes sure nothing accepted is forgotten.
 * The api adds one TransactionQueue job after it committed a transaction; the worker that takes it queues
 * the live rows' jobs (slices of a gateway's rows, or one per row; see queueTransactionJobs) and records
 * queued_at and the number of slices. A transaction
 * whose queued_at is still NULL after a reconcile interval (its api stopped or lost Redis after the
 * commit, or a worker died while queueing) is queued the same way by the reconciler. Then rows accepted
 * but neither finished nor cancelled for longer than a reconcile interval get their job back if the queue
 * lost it (a Redis restart without persistence) or if it died with its worker.
 */
@Injectable()
export class TransactionReconcileJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('Reconciler');
  /** Where the next pass goes on (the last pending row looked at), or undefined to start from the oldest. */
  private after: PendingPosition | undefined;

  constructor(
    private readonly statuses: TransactionStatusRepository,
    private readonly queues: JobQueueRepository,
    private readonly supervisor: ScheduleSupervisor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.supervisor.keep(
      'transaction-reconcile',
      this.config.RECONCILE_INTERVAL_SECONDS * 1000,
      JobName.TransactionReconcile,
      {},
    );
  }

  @JobHandler(JobName.TransactionQueue)
  async queueTransaction({
    transactionid,
  }: JobPayloads[JobName.TransactionQueue]): Promise<{ queued: number }> {
    return { queued: await this.queueLiveRows(transactionid) };
  }

  /**
   * The jobs of the transaction's live rows (slices of a gateway's rows, or one per row); then queued_at.
   * Returns how many live rows it queued.
   */
  private async queueLiveRows(transactionid: string): Promise<number> {
    const rows = await this.statuses.rowsToQueue(transactionid);
    const slices = await queueTransactionJobs(
      this.queues,
      this.config,
      transactionid,
      rows.map((row) => ({
        globalDeviceId: row.global_device_id,
        receivedAt: row.command_receiving_datetime,
        gatewayId: row.gateway_id,
        maxInFlight: row.max_in_flight,
        live: row.live,
      })),
    );
    await this.statuses.markQueued(transactionid, slices);
    return rows.filter((row) => row.live).length;
  }

  @JobHandler(JobName.TransactionReconcile)
  async reconcile(): Promise<{ queued: number; requeued: number }> {
    const olderThan = new Date(Date.now() - this.config.RECONCILE_INTERVAL_SECONDS * 1000);
    let queued = 0;
    /** Transactions whose queueing failed again: the pass goes on with the others, and fails at its end. */
    const unqueuable: string[] = [];
    for (const transactionid of await this.statuses.unqueued(olderThan, UNQUEUED_BATCH)) {
      try {
        const rows = await this.queueLiveRows(transactionid);
        queued += rows;
        this.logger.warn(
          { transactionid, rows },
          'queued an accepted transaction whose queueing had not finished',
        );
      } catch (error) {
        unqueuable.push(transactionid);
        this.logger.error(
          { transactionid, error: (error as Error).message },
          'could not queue an accepted transaction; the next pass tries again, the others go on',
        );
      }
    }
    // A page at a time: rows that wait for their gateway (a long transaction) must not hide a lost row
    // behind them for as long as they wait.
    const page = await this.statuses.pending(olderThan, RECONCILE_BATCH, this.after);
    const pending = page.rows;
    // Rows whose job will not run, read again: a job that finished between the read and the look at the
    // queue is gone from it, but its row is finished, not lost (it was counted, and run again, as lost).
    const notQueued = await this.queues.notQueued(
      JobName.TransactionExecute,
      pending.map((row) => transactionJobId(row.transactionid, row.global_device_id)),
    );
    const withoutJob = pending.filter((row) =>
      notQueued.has(transactionJobId(row.transactionid, row.global_device_id)),
    );
    const carried = await this.carriedBySlices(withoutJob);
    const candidates = withoutJob.filter(
      (row) => !carried.has(`${row.transactionid}\u0000${row.global_device_id}`),
    );
    // A slice whose job Redis lost starts devices until its next lock renewal (SLICE_LOCK_CHECK_MS): read
    // after that, a row it started is at level 1 or more (or done), as a single job's row in flight is.
    if (candidates.length > 0) await this.sliceLockCheck();
    const lost = await this.statuses.stillPending(candidates);
    let requeued = 0;
    for (const row of lost) {
      const outcome = await this.queues.ensureQueued(
        JobName.TransactionExecute,
        {
          transactionid: row.transactionid,
          globalDeviceId: row.global_device_id,
          receivedAt: row.command_receiving_datetime.toISOString(),
        },
        transactionJobOptions(this.config, row.transactionid, row.global_device_id),
      );
      if (outcome !== 'present') requeued += 1;
    }
    // Moved on only once the page is done: a pass the queue failed in reads the same page again.
    this.after = pending.length === RECONCILE_BATCH ? page.last : undefined;
    if (requeued > 0)
      this.logger.warn(
        { requeued, pending: pending.length, notQueued: notQueued.size },
        're-queued transaction rows the queue had lost',
      );
    // Seen in the queue as a failed pass; the oldest transaction's fault must not keep the ones after it,
    // nor the rows the queue lost, from being queued (it is first in every pass).
    if (unqueuable.length > 0)
      throw new Error(
        `queued ${queued} row(s) and re-queued ${requeued}, but could not queue transaction(s) ${unqueuable.join(', ')}`,
      );
    return { queued, requeued };
  }

  /** Waits until a slice that lost its job has found out (overridden in tests). */
  sliceLockCheck(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, SLICE_LOCK_CHECK_MS + SLICE_LOCK_CHECK_MARGIN_MS));
  }

  /**
   * The (transactionid NUL device) keys of the rows that a slice job still in the queue carries: their
   * own job is absent, but their slice will run them. A slice's payload lists the devices it has not
   * started yet; a device it handed on to a job of its own (a retry) has that job.
   */
  private async carriedBySlices(rows: readonly PendingRow[]): Promise<Set<string>> {
    const counts = await this.statuses.queuedSlices([...new Set(rows.map((row) => row.transactionid))]);
    const carried = new Set<string>();
    for (const [transactionid, count] of counts) {
      const slices = await this.queues.livePayloads(
        JobName.TransactionExecuteSlice,
        Array.from({ length: count }, (_, index) => transactionSliceJobId(transactionid, index)),
      );
      for (const slice of slices)
        for (const device of slice.devices) carried.add(`${transactionid}\u0000${device.globalDeviceId}`);
    }
    return carried;
  }
}
