import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobDispatcher, QueueName, WORKER_OPTIONS } from '@hes/queue';

/**
 * Consumes MCS result deliveries, MCS_DELIVERY_CONCURRENCY at once, apart from the collections: a master
 * application that answers slowly or not at all holds delivery slots only.
 */
@Processor(QueueName.McsDelivery, WORKER_OPTIONS)
export class McsDeliveryQueueProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly dispatcher: JobDispatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.dispatcher.watch(QueueName.McsDelivery, this.worker);
    this.worker.concurrency = this.config.MCS_DELIVERY_CONCURRENCY;
  }

  process(job: Job, token?: string): Promise<unknown> {
    return this.dispatcher.dispatch(QueueName.McsDelivery, job, token);
  }
}
