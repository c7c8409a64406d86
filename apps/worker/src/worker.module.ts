import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfigModule } from '@hes/config';
import { DatabaseModule } from '@hes/database';
import { LoggingModule, MetricsModule } from '@hes/observability';
import { JobDispatcher, QueueModule } from '@hes/queue';
import { SystemQueueProcessor } from './system-queue.processor';
import { WorkerHeartbeatJob } from './worker-heartbeat.job';

@Module({
  imports: [
    AppConfigModule.forRoot(),
    LoggingModule,
    DatabaseModule,
    QueueModule,
    MetricsModule,
    DiscoveryModule,
  ],
  providers: [JobDispatcher, SystemQueueProcessor, WorkerHeartbeatJob],
})
export class WorkerModule {}
