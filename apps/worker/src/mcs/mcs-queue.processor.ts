import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobDispatcher, QueueName, WORKER_OPTIONS } from '@hes/queue';

/** Consumes MCS collections (by priority, then delayUntil) and the reconciler; a collection waits for its gateway out of the worker (GatewayGate). Results are delivered from a queue of their own (McsDeliveryQueueProcessor). */
@Processor(QueueName.Mcs, WORKER_OPTIONS)
export class McsQueueProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly dispatcher: JobDispatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.dispatcher.watch(QueueName.Mcs, this.worker);
    this.worker.concurrency = this.config.MCS_WORKER_CONCURRENCY;
  }

  process(job: Job, token?: string): Promise<unknown> {
    return this.dispatcher.dispatch(QueueName.Mcs, job, token);
  }
}
