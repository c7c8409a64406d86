import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobDispatcher, JobName, JobPayloads, QueueName, WORKER_OPTIONS } from '@hes/queue';
import { McsDeliverResultJob } from './mcs-deliver-result.job';

/** Consumes MCS collections (by priority, then delayUntil) and the reconciler; a collection waits for its gateway out of the worker (GatewayGate). Results are delivered from a queue of their own (McsDeliveryQueueProcessor). */
@Processor(QueueName.Mcs, WORKER_OPTIONS)
export class McsQueueProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly dispatcher: JobDispatcher,
    private readonly deliveries: McsDeliverResultJob,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.dispatcher.watch(QueueName.Mcs, this.worker);
    this.worker.concurrency = this.config.MCS_WORKER_CONCURRENCY;
  }

  process(job: Job, token?: string): Promise<unknown> {
    // A delivery queued here before deliveries had a queue of their own (2026-12-03; a worker of the version
    // before, in a rolling deploy) is delivered all the same, not failed as a job of another queue.
    if (job.name === (JobName.McsDeliverResult as string))
      return this.deliveries.deliver(job.data as JobPayloads[JobName.McsDeliverResult]);
    return this.dispatcher.dispatch(QueueName.Mcs, job, token);
  }
}
