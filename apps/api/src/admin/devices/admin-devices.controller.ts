import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { AdminApi, AdminErrorDto } from '../common/admin-api.decorator';
import { Paged } from '../common/page-query.dto';
import { AdminDevicesService } from './admin-devices.service';
import {
  DeviceActivationDto,
  DeviceDetailDto,
  DeviceDto,
  DeviceListQueryDto,
  DevicePageDto,
} from './device.dto';

const ID = ApiParam({ name: 'globalDeviceId', example: 'm1' });
const NOT_FOUND = ApiNotFoundResponse({
  type: AdminErrorDto,
  example: { statusCode: 404, message: 'globalDeviceId: no device m1' },
});

@AdminApi('Admin: devices')
@Controller('admin/devices')
export class AdminDevicesController {
  constructor(private readonly devices: AdminDevicesService) {}

  @Get()
  @ApiOperation({ summary: 'List devices, filtered by gateway, driver, activation status, msn or id prefix' })
  @ApiOkResponse({ type: DevicePageDto })
  list(@Query() query: DeviceListQueryDto): Promise<Paged<DeviceDto>> {
    return this.devices.list(query);
  }

  @Get(':globalDeviceId')
  @ID
  @ApiOperation({
    summary: 'One device with its gateway, latest meter visuals, transactions and communications',
  })
  @ApiOkResponse({ type: DeviceDetailDto })
  @NOT_FOUND
  detail(@Param('globalDeviceId') globalDeviceId: string): Promise<DeviceDetailDto> {
    return this.devices.detail(globalDeviceId);
  }

  @Post(':globalDeviceId/activate')
  @HttpCode(200)
  @ID
  @Audited('device.activate', 'device')
  @ApiOperation({ summary: 'Activate a device: it is read and commanded again' })
  @ApiOkResponse({
    type: DeviceActivationDto,
    example: { globalDeviceId: 'm1', activationStatus: 1, message: 'm1 activated: it is read and commanded' },
  })
  @NOT_FOUND
  activate(@Param('globalDeviceId') globalDeviceId: string): Promise<DeviceActivationDto> {
    return this.devices.setActivation(globalDeviceId, 1);
  }

  @Post(':globalDeviceId/deactivate')
  @HttpCode(200)
  @ID
  @Audited('device.deactivate', 'device')
  @ApiOperation({ summary: 'Deactivate a device: UDIL commands and reads for it are refused' })
  @ApiOkResponse({ type: DeviceActivationDto })
  @NOT_FOUND
  deactivate(@Param('globalDeviceId') globalDeviceId: string): Promise<DeviceActivationDto> {
    return this.devices.setActivation(globalDeviceId, 0);
  }
}
