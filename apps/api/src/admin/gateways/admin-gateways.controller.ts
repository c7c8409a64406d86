import {
  Body,
  Controller,
  applyDecorators,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { AdminApi, AdminErrorDto } from '../common/admin-api.decorator';
import { uuidParam } from '../common/id-param';
import { Paged } from '../common/page-query.dto';
import { AdminGatewaysService } from './admin-gateways.service';
import {
  CREATE_GATEWAY_EXAMPLE,
  CalibrationDto,
  ConnectionTestDto,
  CreateGatewayDto,
  DiscoveryDto,
  GatewayDto,
  GatewayListQueryDto,
  GatewayPageDto,
  MeterResourcesDto,
  SensorCalibrationDto,
  SensorHistoryDto,
  SensorHistoryQueryDto,
  UpdateGatewayDto,
} from './gateway.dto';

const ID = ApiParam({ name: 'id', example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' });
const CHANNEL = ApiParam({
  name: 'channel',
  example: 'p1ch0',
  description: 'the sensor channel as the driver names it (iServer 2: p<probe>ch<channel>)',
});
const CHANNEL_ERRORS = applyDecorators(
  ApiBadRequestResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 400,
      message: 'channel: "p9ch0" is not an iServer 2 channel (p0ch0–p0ch1, p1ch0–p2ch3)',
    },
  }),
  ApiUnprocessableEntityResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 422,
      message:
        'ABB_G13 driver does not support readCalibration: the G13 gateway reads energy meters, not analyser sensors',
    },
  }),
  ApiBadGatewayResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 502,
      message: 'stack-1-iserver (unreachable): connect ECONNREFUSED 10.20.0.40:80',
    },
  }),
);
/** The refusals of a gateway's settings (POST and PATCH). */
const SETTINGS_ERRORS = applyDecorators(
  ApiBadRequestResponse({
    type: AdminErrorDto,
    example: { statusCode: 400, message: 'tlsFingerprintSha256 is required when tlsMode is pinned' },
  }),
  ApiConflictResponse({
    type: AdminErrorDto,
    example: { statusCode: 409, message: 'name: a gateway named feeder-12-g13 already exists' },
  }),
);
const NOT_FOUND = ApiNotFoundResponse({
  type: AdminErrorDto,
  example: { statusCode: 404, message: 'id: no gateway 0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' },
});

@AdminApi('Admin: gateways')
@Controller('admin/gateways')
export class AdminGatewaysController {
  constructor(private readonly gateways: AdminGatewaysService) {}

  @Post()
  @Audited('gateway.create', 'gateway')
  @ApiOperation({ summary: 'Register a gateway (its password is stored encrypted and never returned)' })
  @ApiBody({
    type: CreateGatewayDto,
    examples: {
      g13: { summary: 'ABB G13 with a pinned certificate', value: CREATE_GATEWAY_EXAMPLE },
      iserver2: {
        summary: 'Omega iServer 2',
        value: { name: 'stack-1-iserver', driver: 'OMEGA_ISERVER2', endpoint: 'ws://10.20.0.40:80' },
      },
    },
  })
  @ApiCreatedResponse({ type: GatewayDto })
  @SETTINGS_ERRORS
  create(@Body() body: CreateGatewayDto): Promise<GatewayDto> {
    return this.gateways.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List gateways (filter by driver or enabled), with their device counts' })
  @ApiOkResponse({ type: GatewayPageDto })
  list(@Query() query: GatewayListQueryDto): Promise<Paged<GatewayDto>> {
    return this.gateways.list(query);
  }

  @Get(':id')
  @ID
  @ApiOperation({ summary: 'One gateway' })
  @ApiOkResponse({ type: GatewayDto })
  @NOT_FOUND
  get(@Param('id', uuidParam) id: string): Promise<GatewayDto> {
    return this.gateways.get(id);
  }

  @Patch(':id')
  @ID
  @Audited('gateway.update', 'gateway')
  @ApiOperation({
    summary:
      'Change some settings of a gateway (name, endpoint, credentials, TLS, limits, clock zone, enabled)',
    description:
      "Fields left out keep their values; null clears tlsCaPem, tlsFingerprintSha256, username, password or clockTimeZone (back to the head-end's TIME_ZONE). The driver cannot change. The result is checked as at creation, against the driver's settings (GET /admin/drivers). The API's connection to the gateway is closed at once when it was made with other settings; the workers open a new one at the gateway's next operation.",
  })
  @ApiBody({
    type: UpdateGatewayDto,
    examples: {
      password: { summary: 'new password', value: { password: 'new-gateway-secret' } },
      pin: {
        summary: 'a renewed certificate',
        value: {
          tlsMode: 'pinned',
          tlsFingerprintSha256: '9F1F009C4E2177ABCDEF0123456789ABCDEF0123456789ABCDEF012345678A3A',
        },
      },
    },
  })
  @ApiOkResponse({ type: GatewayDto })
  @SETTINGS_ERRORS
  @NOT_FOUND
  update(@Param('id', uuidParam) id: string, @Body() body: UpdateGatewayDto): Promise<GatewayDto> {
    return this.gateways.update(id, body);
  }

  @Post(':id/test-connection')
  @HttpCode(200)
  @ID
  @Audited('gateway.test-connection', 'gateway')
  @ApiOperation({
    summary: 'Connect and log in to the gateway now',
    description:
      'G13: lists its meters; iServer 2: reads its diagnostics. A gateway that cannot be reached or refuses the credentials is answered 200 with ok false, the kind of failure and the furthest step reached.',
  })
  @ApiOkResponse({
    type: ConnectionTestDto,
    examples: {
      ok: {
        summary: 'connected',
        value: {
          id: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001',
          ok: true,
          reachedLevel: 4,
          message: 'connected and authenticated; the gateway lists 3 meters',
          log: [],
        },
      },
      refused: {
        summary: 'credentials refused',
        value: {
          id: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001',
          ok: false,
          reachedLevel: 2,
          errorKind: 'authentication',
          message: 'feeder-12-g13: G13 refused the credentials (401)',
          log: [],
        },
      },
    },
  })
  @NOT_FOUND
  testConnection(@Param('id', uuidParam) id: string): Promise<ConnectionTestDto> {
    return this.gateways.testConnection(id);
  }

  @Post(':id/discover-meters')
  @HttpCode(200)
  @ID
  @Audited('gateway.discover-meters', 'gateway')
  @ApiOperation({
    summary: 'List the meters the gateway reports (G13 GET /meters), marking those registered as devices',
  })
  @ApiOkResponse({
    type: DiscoveryDto,
    example: {
      id: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001',
      message: 'the gateway lists 2 meters, 1 of them not registered',
      meters: [
        { serial: '3100001001', description: '3100001001 at HES (online)', phases: 3, globalDeviceId: 'm1' },
        { serial: '3100001002', description: '3100001002 at HES (online)', phases: 1, globalDeviceId: null },
      ],
    },
  })
  @ApiUnprocessableEntityResponse({
    type: AdminErrorDto,
    example: { statusCode: 422, message: 'OMEGA_ISERVER2 driver does not support meter discovery' },
  })
  @ApiBadGatewayResponse({
    type: AdminErrorDto,
    example: { statusCode: 502, message: 'feeder-12-g13 (unreachable): connect ECONNREFUSED 10.20.0.12:443' },
  })
  @NOT_FOUND
  discoverMeters(@Param('id', uuidParam) id: string): Promise<DiscoveryDto> {
    return this.gateways.discoverMeters(id);
  }

  @Post(':id/meters/:serial/rediscover')
  @HttpCode(200)
  @ID
  @ApiParam({ name: 'serial', example: 'ABB_8', description: 'the meter serial as the gateway names it' })
  @Audited('gateway.rediscover-meter', 'gateway')
  @ApiOperation({
    summary: 'Discover again which optional resources a meter provides (reads skip what it lacks)',
    description:
      'Reads also rediscover a meter by themselves when a resource it had answers 404. The answer replaces the catalogued resources.',
  })
  @ApiOkResponse({
    type: MeterResourcesDto,
    example: {
      id: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001',
      serial: 'ABB_8',
      resources: { activeEnergy: true, reactiveEnergy: false, alarms: false },
      message: 'meter ABB_8 lacks reactiveEnergy, alarms',
    },
  })
  @ApiBadGatewayResponse({
    type: AdminErrorDto,
    example: { statusCode: 502, message: 'feeder-12-g13 (unreachable): connect ECONNREFUSED 10.20.0.12:443' },
  })
  @NOT_FOUND
  rediscoverMeter(
    @Param('id', uuidParam) id: string,
    @Param('serial') serial: string,
  ): Promise<MeterResourcesDto> {
    return this.gateways.rediscoverMeterResources(id, serial);
  }

  @Get(':id/channels/:channel/calibration')
  @ID
  @CHANNEL
  @CHANNEL_ERRORS
  @Audited('gateway.read-calibration', 'gateway')
  @ApiOperation({
    summary: "Read a sensor channel's calibration (gain and offset) from the unit now",
    description: 'iServer 2: adjustInfo. Drivers without sensor channels answer 422 with their reason.',
  })
  @ApiOkResponse({ type: CalibrationDto })
  @NOT_FOUND
  readCalibration(
    @Param('id', uuidParam) id: string,
    @Param('channel') channel: string,
  ): Promise<CalibrationDto> {
    return this.gateways.readCalibration(id, channel);
  }

  @Put(':id/channels/:channel/calibration')
  @ID
  @CHANNEL
  @CHANNEL_ERRORS
  @Audited('gateway.write-calibration', 'gateway')
  @ApiOperation({
    summary: "Write a sensor channel's calibration (gain and offset) to the unit, then read it back",
    description:
      "iServer 2: adjustInfo write, then read. The answer is what the unit holds afterwards. An MPCB parameter's own coefficients (admin mpcb-sites) are applied by the head-end on top of this.",
  })
  @ApiBody({ type: SensorCalibrationDto })
  @ApiOkResponse({ type: CalibrationDto })
  @NOT_FOUND
  writeCalibration(
    @Param('id', uuidParam) id: string,
    @Param('channel') channel: string,
    @Body() body: SensorCalibrationDto,
  ): Promise<CalibrationDto> {
    return this.gateways.writeCalibration(id, channel, body);
  }

  @Get(':id/channels/:channel/history')
  @ID
  @CHANNEL
  @CHANNEL_ERRORS
  @Audited('gateway.read-history', 'gateway')
  @ApiOperation({
    summary: 'Read the values a sensor channel logged between two date-times, from the unit now',
    description:
      "iServer 2: the CGI extract; times without an offset are taken in the gateway's clock zone. 400 when to is before from or more than 7 days after it.",
  })
  @ApiOkResponse({ type: SensorHistoryDto })
  @NOT_FOUND
  readHistory(
    @Param('id', uuidParam) id: string,
    @Param('channel') channel: string,
    @Query() query: SensorHistoryQueryDto,
  ): Promise<SensorHistoryDto> {
    return this.gateways.readHistory(id, channel, query);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ID
  @Audited('gateway.disable', 'gateway')
  @ApiOperation({
    summary: 'Disable a gateway: its devices are refused commands and reads until it is enabled',
  })
  @ApiOkResponse({ type: GatewayDto })
  @NOT_FOUND
  disable(@Param('id', uuidParam) id: string): Promise<GatewayDto> {
    return this.gateways.setEnabled(id, false);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ID
  @Audited('gateway.enable', 'gateway')
  @ApiOperation({ summary: 'Enable a disabled gateway again' })
  @ApiOkResponse({ type: GatewayDto })
  @NOT_FOUND
  enable(@Param('id', uuidParam) id: string): Promise<GatewayDto> {
    return this.gateways.setEnabled(id, true);
  }
}
