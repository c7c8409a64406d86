import { Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { text } from 'express';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { AdminAuditController } from './audit/admin-audit.controller';
import { AdminAuditInterceptor } from './audit/admin-audit.interceptor';
import { AdminAuditRepository } from './audit/admin-audit.repository';
import { AdminTransactions } from './audit/admin-transaction';
import { AdminAuthGuard } from './auth/admin-auth.guard';
import { AdminAuthenticator } from './auth/admin-authenticator';
import { AdminDriversController } from './drivers/admin-drivers.controller';
import { AdminDevicesController } from './devices/admin-devices.controller';
import { AdminDevicesService } from './devices/admin-devices.service';
import { AdminGatewayMetersController } from './devices/admin-gateway-meters.controller';
import { DeviceRegistryService } from './devices/device-registry.service';
import { AdminGatewaysController } from './gateways/admin-gateways.controller';
import { AdminGatewaysService } from './gateways/admin-gateways.service';
import { McsAccessModule } from '@hes/mcs';
import { MpcbSiteRepository } from '@hes/mpcb';
import { AdminMcsClientsController } from './mcs-clients/admin-mcs-clients.controller';
import { AdminMcsClientsService } from './mcs-clients/admin-mcs-clients.service';
import { AdminMpcbSitesController } from './mpcb-sites/admin-mpcb-sites.controller';
import { AdminMpcbSitesService } from './mpcb-sites/admin-mpcb-sites.service';
import { AdminPollSchedulesController } from './poll-schedules/admin-poll-schedules.controller';
import { AdminPollSchedulesService } from './poll-schedules/admin-poll-schedules.service';
import { QueueBoard } from './queues/queue-board';
import { AdminUdilClientsController } from './udil-clients/admin-udil-clients.controller';
import { AdminUdilClientsService } from './udil-clients/admin-udil-clients.service';

/**
 * The operators' API under /admin (docs/admin.md): gateways, devices, UDIL clients, MCS clients, MPCB
 * sites, poll schedules, the audit log and Bull Board at /admin/queues, all behind ADMIN_TOKEN or ADMIN_USERNAME / ADMIN_PASSWORD.
 */
@Module({
  imports: [McsAccessModule],
  controllers: [
    AdminDriversController,
    AdminGatewaysController,
    AdminGatewayMetersController,
    AdminDevicesController,
    AdminUdilClientsController,
    AdminMcsClientsController,
    AdminMpcbSitesController,
    AdminPollSchedulesController,
    AdminAuditController,
  ],
  providers: [
    AdminAuthenticator,
    AdminAuthGuard,
    AdminAuditRepository,
    AdminTransactions,
    AdminAuditInterceptor,
    AdminGatewaysService,
    AdminDevicesService,
    DeviceRegistryService,
    AdminUdilClientsService,
    AdminMcsClientsService,
    MpcbSiteRepository,
    AdminMpcbSitesService,
    AdminPollSchedulesService,
    QueueBoard,
  ],
})
export class AdminModule implements NestModule {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Bulk device registration also takes a CSV document (text/csv), within the body size limit. */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(text({ type: 'text/csv', limit: this.config.REQUEST_BODY_LIMIT }))
      .forRoutes({ path: 'admin/devices/bulk', method: RequestMethod.POST });
  }
}
