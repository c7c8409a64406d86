import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DriverRegistry } from '@hes/drivers';
import { mpcbSourceKinds } from '@hes/mpcb';
import { AdminApi } from '../common/admin-api.decorator';
import { DriverDto } from './driver.dto';

@AdminApi('Admin: drivers')
@Controller('admin/drivers')
export class AdminDriversController {
  constructor(private readonly drivers: DriverRegistry) {}

  @Get()
  @ApiOperation({
    summary: 'The installed drivers: the gateway kinds this head-end speaks, their settings and capabilities',
    description:
      'Everything here comes from the driver registry (libs/drivers/src/installed-drivers.ts): a driver listed is accepted as a gateway driver, its settings schema is what POST and PATCH /admin/gateways check.',
  })
  @ApiOkResponse({ type: [DriverDto] })
  list(): DriverDto[] {
    return this.drivers.profiles().map((profile) => ({
      ...profile,
      settings: { ...profile.settings, endpointSchemes: [...profile.settings.endpointSchemes] },
      mpcbSources: mpcbSourceKinds(this.drivers.get(profile.name)),
    }));
  }
}
