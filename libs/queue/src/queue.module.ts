import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { ConnectionOptions, Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { once } from 'node:events';
import { TerminusModule } from '@nestjs/terminus';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobQueueRepository } from './job-queue.repository';
import { ALL_QUEUES } from './jobs';
import { configureQueueBackend } from './queue-connection';
import { QueueHealthIndicator } from './queue-health.indicator';
import { GatewayCoordination, LocalGatewayCoordination, RedisGatewayCoordination } from './gateway-leases';
import { ScheduleSupervisor } from './schedule-supervisor';

/** The queues' backend, configured once per process; owns the client a Redis Cluster's queues share. */
@Injectable()
export class QueueConnection implements OnApplicationShutdown {
  readonly options: { connection: ConnectionOptions; prefix?: string };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {
    this.options = configureQueueBackend(config);
  }

  async onApplicationShutdown(): Promise<void> {
    const { connection } = this.options;
    if (!(connection instanceof Cluster)) return; // BullMQ made and closes its connections itself
    // The queues share the client: they are closed first (Queue.close is idempotent), then the client.
    await Promise.all(
      ALL_QUEUES.map((name) =>
        this.moduleRef
          .get<Queue>(getQueueToken(name), { strict: false })
          .close()
          .catch(() => undefined),
      ),
    );
    await connection.quit().catch(() => connection.disconnect());
    // quit() answers before every node's socket is closed: the process is not left holding any.
    const ended = () => connection.status === 'end';
    if (!ended()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        once(connection, 'end'),
        new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
      ]);
      clearTimeout(timer);
      if (!ended()) connection.disconnect();
    }
  }
}

@Module({ providers: [QueueConnection], exports: [QueueConnection] })
class QueueConnectionModule {}

/** BullMQ queues (Redis or PostgreSQL backend) shared by the api, which produces, and the worker, which consumes. */
@Global()
@Module({
  imports: [
    TerminusModule,
    BullModule.forRootAsync({
      imports: [QueueConnectionModule],
      inject: [QueueConnection],
      useFactory: (queueConnection: QueueConnection) => ({
        ...queueConnection.options,
        defaultJobOptions: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { count: 1000, age: 24 * 3600 },
          removeOnFail: { count: 10000, age: 7 * 24 * 3600 },
        },
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  providers: [
    JobQueueRepository,
    QueueHealthIndicator,
    ScheduleSupervisor,
    {
      // Shared through Redis by every process; kept in the process with the PostgreSQL backend (embedded mode).
      provide: GatewayCoordination,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        config.QUEUE_BACKEND === 'redis'
          ? new RedisGatewayCoordination(config)
          : new LocalGatewayCoordination(),
    },
  ],
  exports: [BullModule, JobQueueRepository, QueueHealthIndicator, ScheduleSupervisor, GatewayCoordination],
})
export class QueueModule {}
