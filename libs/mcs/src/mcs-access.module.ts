import { Module } from '@nestjs/common';
import { McsClientAccess } from './mcs-client-access';
import { McsClientRepository } from './mcs-client.repository';

/**
 * One McsClientAccess per process, shared by the MCS routes (which check it) and the admin API (which
 * invalidates it after every change): both modules import this one.
 */
@Module({
  providers: [McsClientRepository, McsClientAccess],
  exports: [McsClientAccess],
})
export class McsAccessModule {}
