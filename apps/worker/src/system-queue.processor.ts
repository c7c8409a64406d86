import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobDispatcher, QueueName, WORKER_OPTIONS } from '@hes/queue';

@Processor(QueueName.System, WORKER_OPTIONS)
export class SystemQueueProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly dispatcher: JobDispatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.dispatcher.watch(QueueName.System, this.worker);
    this.worker.concurrency = Math.min(this.config.WORKER_CONCURRENCY, 4);
  }

  process(job: Job): Promise<unknown> {
    return this.dispatcher.dispatch(QueueName.System, job);
  }
}
