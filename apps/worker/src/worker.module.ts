import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfigModule } from '@hes/config';
import { DatabaseModule } from '@hes/database';
import { DriversModule } from '@hes/drivers';
import { LoggingModule, MetricsModule } from '@hes/observability';
import { JobDispatcher, QueueModule } from '@hes/queue';
import {
  CommunicationHistoryRepository,
  DeviceCreationService,
  DeviceDirectory,
  GatewayChangeListener,
  GatewayGate,
  LoadSheddingSchedules,
  MeterVisualsRepository,
  TransactionStatusRepository,
  UdilCommandRunner,
  PollScheduleRepository,
  UdilReadRunner,
  UdilParameterRunner,
} from '@hes/transactions';
import { UdilReadingsRepository } from '@hes/readings';
import { SystemQueueProcessor } from './system-queue.processor';
import { TransactionExecuteJob } from './transactions/transaction-execute.job';
import { TransactionReconcileJob } from './transactions/transaction-reconcile.job';
import { LoadSheddingActionJob } from './transactions/load-shedding-action.job';
import { TransactionsQueueProcessor } from './transactions/transactions-queue.processor';
import { WorkerHeartbeatJob } from './worker-heartbeat.job';
import { PartitionMaintenanceJob } from './partition-maintenance.job';
import { WorkerShutdown } from './worker-shutdown';
import { PollJobs } from './polling/poll.jobs';
import { PollingQueueProcessor } from './polling/polling-queue.processor';
import { MpcbModule } from '@hes/mpcb';
import { MpcbQueueProcessor } from './mpcb/mpcb-queue.processor';
import { MpcbSiteClientJob } from './mpcb/mpcb-site-client.job';
import {
  McsCollectionService,
  McsMeterResolver,
  McsRequestRepository,
  McsResultDeliveryService,
} from '@hes/mcs';
import { McsDeliveryQueueProcessor } from './mcs/mcs-delivery-queue.processor';
import { McsQueueProcessor } from './mcs/mcs-queue.processor';
import { McsCollectJob } from './mcs/mcs-collect.job';
import { McsDeliverResultJob } from './mcs/mcs-deliver-result.job';
import { McsReconcileJob } from './mcs/mcs-reconcile.job';

@Module({
  imports: [
    AppConfigModule.forRoot(),
    LoggingModule,
    DatabaseModule,
    QueueModule,
    MetricsModule,
    DiscoveryModule,
    DriversModule,
    MpcbModule,
  ],
  providers: [
    GatewayChangeListener,
    JobDispatcher,
    SystemQueueProcessor,
    TransactionsQueueProcessor,
    WorkerHeartbeatJob,
    PartitionMaintenanceJob,
    WorkerShutdown,
    TransactionExecuteJob,
    TransactionReconcileJob,
    LoadSheddingActionJob,
    TransactionStatusRepository,
    DeviceDirectory,
    DeviceCreationService,
    GatewayGate,
    LoadSheddingSchedules,
    MeterVisualsRepository,
    CommunicationHistoryRepository,
    UdilCommandRunner,
    UdilReadRunner,
    UdilParameterRunner,
    UdilReadingsRepository,
    PollScheduleRepository,
    PollJobs,
    PollingQueueProcessor,
    MpcbQueueProcessor,
    MpcbSiteClientJob,
    McsQueueProcessor,
    McsDeliveryQueueProcessor,
    McsCollectJob,
    McsDeliverResultJob,
    McsReconcileJob,
    McsRequestRepository,
    McsMeterResolver,
    McsCollectionService,
    McsResultDeliveryService,
  ],
})
export class WorkerModule {}
