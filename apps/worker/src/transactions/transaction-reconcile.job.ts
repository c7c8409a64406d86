import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobHandler, JobName, JobPayloads, JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import {
  TransactionStatusRepository,
  interleaveByGateway,
  queueTransactionJobs,
  transactionJobId,
  transactionJobOptions,
} from '@hes/transactions';

const BATCH = 5000;
/** Transactions whose queueing did not finish, taken per run (each queued whole). */
const UNQUEUED_BATCH = 20;

/**
 * Queues the device jobs of accepted UDIL transactions, and makes sure nothing accepted is forgotten.
 * The api adds one TransactionQueue job after it committed a transaction; the worker that takes it queues
 * one TransactionExecute job per live row, interleaved by gateway, and records queued_at. A transaction
 * whose queued_at is still NULL after a reconcile interval (its api stopped or lost Redis after the
 * commit, or a worker died while queueing) is queued the same way by the reconciler. Then rows accepted
 * but neither finished nor cancelled for longer than a reconcile interval get their job back if the queue
 * lost it (a Redis restart without persistence) or if it died with its worker.
 */
@Injectable()
export class TransactionReconcileJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('Reconciler');

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

  /** One job per live row of the transaction, round-robin across gateways; then queued_at. */
  private async queueLiveRows(transactionid: string): Promise<number> {
    const rows = await this.statuses.liveRows(transactionid);
    const ordered = interleaveByGateway(rows, (row) => row.gateway_id).map((row) => ({
      globalDeviceId: row.global_device_id,
      receivedAt: row.command_receiving_datetime,
    }));
    await queueTransactionJobs(this.queues, this.config, transactionid, ordered);
    await this.statuses.markQueued(transactionid);
    return rows.length;
  }

  @JobHandler(JobName.TransactionReconcile)
  async reconcile(): Promise<{ queued: number; requeued: number }> {
    const olderThan = new Date(Date.now() - this.config.RECONCILE_INTERVAL_SECONDS * 1000);
    let queued = 0;
    for (const transactionid of await this.statuses.unqueued(olderThan, UNQUEUED_BATCH)) {
      const rows = await this.queueLiveRows(transactionid);
      queued += rows;
      this.logger.warn(
        { transactionid, rows },
        'queued an accepted transaction whose queueing had not finished',
      );
    }
    const pending = await this.statuses.pending(olderThan, BATCH);
    // Rows whose job will not run, read again: a job that finished between the read and the look at the
    // queue is gone from it, but its row is finished, not lost (it was counted, and run again, as lost).
    const notQueued = await this.queues.notQueued(
      JobName.TransactionExecute,
      pending.map((row) => transactionJobId(row.transactionid, row.global_device_id)),
    );
    const lost = await this.statuses.stillPending(
      pending.filter((row) => notQueued.has(transactionJobId(row.transactionid, row.global_device_id))),
    );
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
    if (requeued > 0)
      this.logger.warn(
        { requeued, pending: pending.length, notQueued: notQueued.size },
        're-queued transaction rows the queue had lost',
      );
    return { queued, requeued };
  }
}
