import { OnApplicationBootstrap } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobDispatcher, QueueName, WORKER_OPTIONS } from '@hes/queue';

/**
 * Consumes the MPCB site client's jobs. Two at a time, so that a slow transmission (a central server
 * timing out) does not hold acquisition back; transmissions of one site are serialised by an advisory lock.
 */
@Processor(QueueName.Mpcb, WORKER_OPTIONS)
export class MpcbQueueProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(private readonly dispatcher: JobDispatcher) {
    super();
  }

  onApplicationBootstrap(): void {
    this.dispatcher.watch(QueueName.Mpcb, this.worker);
    this.worker.concurrency = 2;
  }

  process(job: Job): Promise<unknown> {
    return this.dispatcher.dispatch(QueueName.Mpcb, job);
  }
}
