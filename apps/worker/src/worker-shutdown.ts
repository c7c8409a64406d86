import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { WorkerHost } from '@nestjs/bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { ScheduleSupervisor } from '@hes/queue';
import { McsDeliveryQueueProcessor } from './mcs/mcs-delivery-queue.processor';
import { McsQueueProcessor } from './mcs/mcs-queue.processor';
import { MpcbQueueProcessor } from './mpcb/mpcb-queue.processor';
import { PollingQueueProcessor } from './polling/polling-queue.processor';
import { SystemQueueProcessor } from './system-queue.processor';
import { TransactionExecuteJob } from './transactions/transaction-execute.job';
import { TransactionsQueueProcessor } from './transactions/transactions-queue.processor';

/**
 * Stops the worker in order (SIGTERM, SIGINT): it stops taking jobs and lets the running ones finish
 * within WORKER_SHUTDOWN_GRACE_SECONDS (a transaction's slice ends with the devices it is running and puts
 * the others back); a job still running then is handed back (its lock lapses and
 * another worker, or this one after a restart, runs it again; its row is still live in PostgreSQL).
 * Only then do the later shutdown hooks close the connection pools (TypeORM, Redis), so no job loses
 * its database in the middle. beforeApplicationShutdown runs before every onApplicationShutdown.
 */
@Injectable()
export class WorkerShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly hosts: WorkerHost[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly supervisor: ScheduleSupervisor,
    system: SystemQueueProcessor,
    transactions: TransactionsQueueProcessor,
    polling: PollingQueueProcessor,
    mcs: McsQueueProcessor,
    mcsDelivery: McsDeliveryQueueProcessor,
    mpcb: MpcbQueueProcessor,
    private readonly transactionJobs: TransactionExecuteJob,
  ) {
    this.hosts = [system, transactions, polling, mcs, mcsDelivery, mpcb];
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const started = Date.now();
    await this.supervisor.stop();
    // A slice of a gateway's devices could run for minutes: it finishes the devices it is talking to and
    // puts the rest back in the queue.
    this.transactionJobs.stopSlices();
    const workers = this.hosts.map((host) => host.worker);
    const graceMs = this.config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(workers.map((worker) => worker.close())).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      // Stop waiting: the jobs still running keep their rows live and are run again after their lock lapses.
      await Promise.all(workers.map((worker) => worker.close(true).catch(() => undefined)));
    }
    this.logger.log(
      { signal, ms: Date.now() - started, runningJobsHandedBack: !finished },
      finished
        ? 'stopped taking jobs; running jobs finished'
        : 'stopped taking jobs; running jobs handed back',
    );
  }
}
