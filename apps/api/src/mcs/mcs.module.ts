import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, RouterModule } from '@nestjs/core';
import { parseEnvironment } from '@hes/config';
import { McsAcceptanceService, McsAccessModule, McsRequestRepository } from '@hes/mcs';
import { McsAccessGuard } from './mcs-access.guard';
import { McsController } from './mcs.controller';
import { McsExceptionFilter } from './mcs-exception.filter';

/**
 * The MCS Request API under MCS_BASE_PATH (default /mcs). The path is read when the module is built,
 * after AppConfigModule.forRoot() has validated the environment (and merged .env).
 */
@Module({})
export class McsModule {
  static forRoot(basePath = parseEnvironment(process.env).MCS_BASE_PATH): DynamicModule {
    return {
      module: McsModule,
      imports: [RouterModule.register([{ path: basePath, module: McsModule }]), McsAccessModule],
      controllers: [McsController],
      providers: [
        McsAcceptanceService,
        McsRequestRepository,
        McsAccessGuard,
        { provide: APP_FILTER, useClass: McsExceptionFilter },
      ],
    };
  }
}
