import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { AdminApi, AdminErrorDto } from '../common/admin-api.decorator';
import { uuidParam } from '../common/id-param';
import { DiscoveredRegistrationDto, RegisterDiscoveredDto } from './device-registration.dto';
import { DeviceRegistryService } from './device-registry.service';

/** Registering a gateway's meters in the device registry (apart from the gateway routes it extends). */
@AdminApi('Admin: gateways')
@Controller('admin/gateways')
export class AdminGatewayMetersController {
  constructor(private readonly registry: DeviceRegistryService) {}

  @Post(':id/register-discovered-meters')
  @HttpCode(200)
  @ApiParam({ name: 'id', example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  @Audited('gateway.register-discovered-meters', 'gateway')
  @ApiOperation({
    summary: 'Ask the gateway for its meters and register those not registered yet, in one call',
    description:
      'globalDeviceId = globalDeviceIdPrefix + serial, msn = serial (a serial that is not digits is skipped with the reason: register it with POST /admin/devices), phase as discovered.',
  })
  @ApiBody({
    type: RegisterDiscoveredDto,
    required: false,
    examples: {
      all: { summary: 'every new meter', value: {} },
      prefixed: {
        summary: 'with a prefix, two meters only',
        value: { globalDeviceIdPrefix: 'f12-', serials: ['3100001001', '3100001002'] },
      },
    },
  })
  @ApiOkResponse({ type: DiscoveredRegistrationDto })
  @ApiNotFoundResponse({
    type: AdminErrorDto,
    example: { statusCode: 404, message: 'id: no gateway 0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' },
  })
  @ApiBadGatewayResponse({
    type: AdminErrorDto,
    example: { statusCode: 502, message: 'feeder-12-g13 (unreachable): connect ECONNREFUSED 10.20.0.12:443' },
  })
  registerDiscovered(
    @Param('id', uuidParam) id: string,
    @Body() body: RegisterDiscoveredDto,
  ): Promise<DiscoveredRegistrationDto> {
    return this.registry.registerDiscovered(id, body ?? {});
  }
}
