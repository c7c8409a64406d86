import { Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { TerminusModule } from '@nestjs/terminus';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobQueueRepository } from './job-queue.repository';
import { ALL_QUEUES } from './jobs';
import { configureQueueBackend } from './queue-connection';
import { QueueHealthIndicator } from './queue-health.indicator';
import { GatewayCoordination, LocalGatewayCoordination, RedisGatewayCoordination } from './gateway-leases';
import { ScheduleSupervisor } from './schedule-supervisor';

/** BullMQ queues (Redis or PostgreSQL backend) shared by the api, which produces, and the worker, which consumes. */
@Global()
@Module({
  imports: [
    TerminusModule,
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...configureQueueBackend(config),
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
