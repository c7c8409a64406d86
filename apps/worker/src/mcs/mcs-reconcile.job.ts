import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobHandler, JobName, JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import { McsRequestRepository, collectionJobOptions, deliveryJobOptions } from '@hes/mcs';

/** Requests (and deliveries) one pass looks at; the next pass goes on after the last of them. */
export const MCS_RECONCILE_BATCH = 5000;

/**
 * Nothing accepted is forgotten: requests neither finished nor cancelled, and results whose delivery
 * is overdue, get their job back when the queue lost it (or it died with its worker).
 */
@Injectable()
export class McsReconcileJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('Mcs');
  /** Where the next pass goes on (the last reference looked at), or '' to start from the first. */
  private readonly after = { collections: '', deliveries: '' };

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
    const unfinished = await this.requests.unfinished(olderThan, MCS_RECONCILE_BATCH, this.after.collections);
    for (const row of unfinished) {
      const outcome = await this.queues.ensureQueued(
        JobName.McsCollect,
        { requestReference: row.request_reference },
        collectionJobOptions(this.config, row.request),
      );
      if (outcome !== 'present') collections += 1;
    }
    // Moved on only once the page is done: a pass the queue failed in reads the same page again.
    this.after.collections =
      unfinished.length === MCS_RECONCILE_BATCH ? unfinished[unfinished.length - 1].request_reference : '';
    let deliveries = 0;
    const overdue = await this.requests.overdueDeliveries(
      olderThan,
      MCS_RECONCILE_BATCH,
      this.after.deliveries,
    );
    for (const row of overdue) {
      const outcome = await this.queues.ensureQueued(
        JobName.McsDeliverResult,
        { requestReference: row.request_reference },
        deliveryJobOptions(row.request_reference, row.delivery_attempts, 0),
      );
      if (outcome !== 'present') deliveries += 1;
    }
    this.after.deliveries =
      overdue.length === MCS_RECONCILE_BATCH ? overdue[overdue.length - 1].request_reference : '';
    if (collections + deliveries > 0)
      this.logger.warn({ collections, deliveries }, 're-queued MCS work the queue had lost');
    return { collections, deliveries };
  }
}
