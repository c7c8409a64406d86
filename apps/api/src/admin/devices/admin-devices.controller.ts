import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { AdminApi, AdminErrorDto } from '../common/admin-api.decorator';
import { Paged } from '../common/page-query.dto';
import { AdminDevicesService } from './admin-devices.service';
import { bulkRows } from './device-bulk-body';
import {
  BulkDevicesDto,
  BulkRegistrationDto,
  CREATE_DEVICE_EXAMPLE,
  CreateDeviceDto,
  DeviceRemovalDto,
  MoveDeviceDto,
  UpdateDeviceDto,
} from './device-registration.dto';
import { DeviceRegistryService } from './device-registry.service';
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
const DUPLICATE = ApiConflictResponse({
  type: AdminErrorDto,
  example: {
    statusCode: 409,
    message: 'serial: gateway feeder-12-g13 already has a device with serial ABB_8 (m8)',
  },
});
const BAD_FIELD = ApiBadRequestResponse({
  type: AdminErrorDto,
  example: { statusCode: 400, message: 'msn must be the meter serial number: 1 to 18 digits' },
});
const CSV_EXAMPLE = `globalDeviceId,msn,gatewayId,serial,phase
m8,3100000008,0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001,ABB_8,3
m9,3100000009,0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001,ABB_9,1
`;

@AdminApi('Admin: devices')
@Controller('admin/devices')
export class AdminDevicesController {
  constructor(
    private readonly devices: AdminDevicesService,
    private readonly registry: DeviceRegistryService,
  ) {}

  @Post()
  @Audited('device.create', 'device')
  @ApiOperation({
    summary: 'Register a device that is on a gateway, by its serial there (the gateway is not changed)',
  })
  @ApiBody({
    type: CreateDeviceDto,
    examples: { meter: { summary: 'a G13 meter', value: CREATE_DEVICE_EXAMPLE } },
  })
  @ApiCreatedResponse({ type: DeviceDto })
  @BAD_FIELD
  @ApiNotFoundResponse({
    type: AdminErrorDto,
    example: { statusCode: 404, message: 'gatewayId: no gateway 0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' },
  })
  @DUPLICATE
  async create(@Body() body: CreateDeviceDto): Promise<DeviceDto> {
    return this.devices.detail(await this.registry.create(body));
  }

  @Post('bulk')
  @Audited('device.bulk-create', 'device')
  @ApiOperation({
    summary:
      "Register many devices from a JSON list or a CSV document, all or nothing, with each row's outcome",
    description:
      'JSON: a list of POST /admin/devices bodies, or {"devices": [...]}. CSV (Content-Type: text/csv): a header line naming the same fields, one device per line. When a row is wrong nothing is registered and the answer (400, 404 or 409) names each row, field or column.',
  })
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({
    type: BulkDevicesDto,
    examples: {
      json: { summary: 'a JSON list', value: { devices: [CREATE_DEVICE_EXAMPLE] } },
      csv: { summary: 'a CSV document (Content-Type: text/csv)', value: CSV_EXAMPLE },
    },
  })
  @ApiCreatedResponse({ type: BulkRegistrationDto })
  @ApiBadRequestResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 400,
      message:
        'nothing was registered: 1 of 2 rows are refused: row 2 (line 3), column msn: msn must be the meter serial number: 1 to 18 digits',
      rows: [
        { row: 1, line: 2, globalDeviceId: 'm8', outcome: 'valid' },
        {
          row: 2,
          line: 3,
          globalDeviceId: 'm9',
          outcome: 'invalid',
          errors: [{ field: 'msn', message: 'msn must be the meter serial number: 1 to 18 digits' }],
        },
      ],
    },
  })
  @DUPLICATE
  bulk(@Body() body: BulkDevicesDto | string): Promise<BulkRegistrationDto> {
    return this.registry.bulk(bulkRows(body));
  }

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

  @Patch(':globalDeviceId')
  @ID
  @Audited('device.update', 'device')
  @ApiOperation({
    summary: 'Change a device: fields left out are kept, null clears an optional one; gatewayId moves it',
  })
  @ApiBody({
    type: UpdateDeviceDto,
    examples: {
      sim: {
        summary: 'a new SIM, no wakeup number',
        value: { simNumber: '03007654321', wakeupNumber1: null },
      },
    },
  })
  @ApiOkResponse({ type: DeviceDto })
  @BAD_FIELD
  @NOT_FOUND
  @DUPLICATE
  async update(
    @Param('globalDeviceId') globalDeviceId: string,
    @Body() body: UpdateDeviceDto,
  ): Promise<DeviceDto> {
    await this.registry.update(globalDeviceId, body);
    return this.devices.detail(globalDeviceId);
  }

  @Post(':globalDeviceId/move')
  @HttpCode(200)
  @ID
  @Audited('device.move', 'device')
  @ApiOperation({ summary: 'Move a device to the gateway it is on now (and its serial there)' })
  @ApiBody({
    type: MoveDeviceDto,
    examples: {
      move: {
        summary: 'to another gateway',
        value: { gatewayId: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d002', serial: 'ABB_3' },
      },
    },
  })
  @ApiOkResponse({ type: DeviceDto })
  @NOT_FOUND
  @DUPLICATE
  async move(
    @Param('globalDeviceId') globalDeviceId: string,
    @Body() body: MoveDeviceDto,
  ): Promise<DeviceDto> {
    await this.registry.update(globalDeviceId, body);
    return this.devices.detail(globalDeviceId);
  }

  @Delete(':globalDeviceId')
  @ID
  @Audited('device.delete', 'device')
  @ApiOperation({
    summary:
      'Remove a device from the registry; its readings, transactions and communication history are kept',
  })
  @ApiOkResponse({ type: DeviceRemovalDto })
  @NOT_FOUND
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 409,
      message:
        'globalDeviceId: m8 has 1 transaction(s) in progress; wait for them or cancel them (transaction_cancel) first',
    },
  })
  remove(@Param('globalDeviceId') globalDeviceId: string): Promise<DeviceRemovalDto> {
    return this.registry.remove(globalDeviceId);
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
