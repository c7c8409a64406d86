import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobHandler, JobName, JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import { McsRequestRepository, collectionJobOptions, deliveryJobOptions } from '@hes/mcs';

const BATCH = 5000;

/**
 * Nothing accepted is forgotten: requests neither finished nor cancelled, and results whose delivery
 * is overdue, get their job back when the queue lost it (or it died with its worker).
 */
@Injectable()
export class McsReconcileJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('Mcs');

  constructor(
    private readonly requests: McsRequestRepository,
    private readonly queues: JobQueueRepository,
    private readonly supervisor: ScheduleSupervisor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.supervisor.keep(
      'mcs-reconcile',
      this.config.RECONCILE_INTERVAL_SECONDS * 1000,
      JobName.McsReconcile,
      {},
    );
  }

  @JobHandler(JobName.McsReconcile)
  async reconcile(): Promise<{ collections: number; deliveries: number }> {
    const olderThan = new Date(Date.now() - this.config.RECONCILE_INTERVAL_SECONDS * 1000);
    let collections = 0;
    for (const row of await this.requests.unfinished(olderThan, BATCH)) {
      const outcome = await this.queues.ensureQueued(
        JobName.McsCollect,
        { requestReference: row.request_reference },
        collectionJobOptions(this.config, row.request),
      );
      if (outcome !== 'present') collections += 1;
    }
    let deliveries = 0;
    for (const row of await this.requests.overdueDeliveries(olderThan, BATCH)) {
      const outcome = await this.queues.ensureQueued(
        JobName.McsDeliverResult,
        { requestReference: row.request_reference },
        deliveryJobOptions(row.request_reference, row.delivery_attempts, 0),
      );
      if (outcome !== 'present') deliveries += 1;
    }
    if (collections + deliveries > 0)
      this.logger.warn({ collections, deliveries }, 're-queued MCS work the queue had lost');
    return { collections, deliveries };
  }
}
