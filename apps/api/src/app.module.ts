import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfigModule } from '@hes/config';
import { DatabaseModule } from '@hes/database';
import { DriversModule } from '@hes/drivers';
import { LoggingModule, MetricsModule } from '@hes/observability';
import { QueueModule } from '@hes/queue';
import { SecurityModule } from '@hes/security';
import { HealthController } from './health/health.controller';
import { QueueMetrics } from './health/queue-metrics';
import { UdilModule } from './udil/udil.module';
import { AdminModule } from './admin/admin.module';
import { McsModule } from './mcs/mcs.module';
import { GatewayChangeListener } from '@hes/transactions';

@Module({
  imports: [
    AppConfigModule.forRoot(),
    LoggingModule,
    DatabaseModule,
    QueueModule,
    SecurityModule,
    MetricsModule,
    TerminusModule,
    DriversModule,
    UdilModule,
    AdminModule,
    McsModule.forRoot(),
  ],
  controllers: [HealthController],
  providers: [QueueMetrics, GatewayChangeListener],
})
export class AppModule {}
