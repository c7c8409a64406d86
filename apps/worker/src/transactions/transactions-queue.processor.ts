import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobDispatcher, QueueName, WORKER_OPTIONS } from '@hes/queue';

/** Consumes UDIL transaction jobs; a job waits for its gateway out of the worker (GatewayGate), not in a slot. */
@Processor(QueueName.Transactions, WORKER_OPTIONS)
export class TransactionsQueueProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly dispatcher: JobDispatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.dispatcher.watch(QueueName.Transactions, this.worker);
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
  }

  process(job: Job, token?: string): Promise<unknown> {
    return this.dispatcher.dispatch(QueueName.Transactions, job, token);
  }
}
