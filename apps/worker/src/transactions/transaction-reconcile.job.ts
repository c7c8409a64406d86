import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobHandler, JobName, JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import { TransactionStatusRepository, transactionJobOptions } from '@hes/transactions';

const BATCH = 5000;

/**
 * Nothing accepted is forgotten: rows accepted but neither finished nor cancelled for longer than a
 * reconcile interval get their job back if the queue lost it (a Redis restart without persistence,
 * an enqueue that failed after the commit) or if it died with its worker.
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

  @JobHandler(JobName.TransactionReconcile)
  async reconcile(): Promise<{ requeued: number }> {
    const olderThan = new Date(Date.now() - this.config.RECONCILE_INTERVAL_SECONDS * 1000);
    const pending = await this.statuses.pending(olderThan, BATCH);
    let requeued = 0;
    for (const row of pending) {
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
        { requeued, pending: pending.length },
        're-queued transaction rows the queue had lost',
      );
    return { requeued };
  }
}
