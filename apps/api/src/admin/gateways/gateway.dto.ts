import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsTimeZone,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { TlsMode } from '@hes/database';
import { IsInstant } from '../common/instant';
import { PageQueryDto, PageOf } from '../common/page-query.dto';

export const TLS_MODES: readonly TlsMode[] = ['verify', 'pinned', 'insecure'];

/** scheme://host…: which schemes a gateway takes is its driver's setting (DriverRegistry). */
const ENDPOINT = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/i;

/** SHA-256 as 64 hex digits, optionally in colon-separated pairs (as `openssl x509 -fingerprint` prints it). */
const FINGERPRINT = /^(?:[0-9A-Fa-f]{64}|(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})$/;

export class CreateGatewayDto {
  @ApiProperty({ example: 'feeder-12-g13', description: 'unique name', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiProperty({
    example: 'ABB_G13',
    description: 'an installed driver: the name of one listed by GET /admin/drivers',
  })
  @IsString()
  @Length(1, 32)
  driver!: string;

  @ApiProperty({
    example: 'https://10.20.0.12:443',
    description:
      "the gateway's URL, in a scheme its driver takes (GET /admin/drivers: settings.endpointSchemes), e.g. https://host:port for a G13, ws://host:port for an iServer 2",
  })
  @IsString()
  @Matches(ENDPOINT, { message: 'endpoint must be a URL: scheme://host[:port][/path]' })
  @MaxLength(2000)
  endpoint!: string;

  @ApiPropertyOptional({ enum: TLS_MODES, default: 'verify', example: 'pinned' })
  @IsOptional()
  @IsIn(TLS_MODES)
  tlsMode?: TlsMode;

  @ApiPropertyOptional({
    example: '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----',
    description: 'CA certificate(s) trusted in verify mode, PEM',
  })
  @IsOptional()
  @IsString()
  @Matches(/-----BEGIN CERTIFICATE-----/, { message: 'tlsCaPem must be a PEM certificate' })
  @MaxLength(100_000)
  tlsCaPem?: string;

  @ApiPropertyOptional({
    example:
      '3A:1F:00:9C:4E:21:77:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:9F',
    description: 'SHA-256 of the gateway certificate; required when tlsMode is pinned',
  })
  @IsOptional()
  @Matches(FINGERPRINT, {
    message: 'tlsFingerprintSha256 must be a SHA-256 as 64 hex digits (colons allowed)',
  })
  tlsFingerprintSha256?: string;

  @ApiPropertyOptional({ example: 'hes', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  username?: string;

  @ApiPropertyOptional({ example: 'gateway-secret', description: 'stored encrypted, never returned' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  password?: string;

  @ApiPropertyOptional({ example: 2, default: 1, minimum: 1, maximum: 64 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  maxInFlight?: number;

  @ApiPropertyOptional({ example: 10000, default: 10000, minimum: 100, maximum: 120000 })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(120_000)
  requestTimeoutMs?: number;

  @ApiPropertyOptional({
    example: 'Asia/Karachi',
    description:
      "IANA zone the clocks behind this gateway keep (G13 meters, iServer 2): every date-time read from or written to it is in this zone. Default: the head-end's TIME_ZONE",
  })
  @IsOptional()
  @IsTimeZone({ message: 'clockTimeZone must be an IANA time zone such as Asia/Karachi' })
  clockTimeZone?: string;
}

/** Fields of PATCH /admin/gateways/:id that null clears (back to none, or to the head-end's TIME_ZONE). */
export const CLEARABLE_GATEWAY_FIELDS = [
  'tlsCaPem',
  'tlsFingerprintSha256',
  'username',
  'password',
  'clockTimeZone',
] as const;

/**
 * Body of PATCH /admin/gateways/:id: any of the settings of POST (not the driver), and `enabled`. Fields
 * left out keep their values; null clears those of CLEARABLE_GATEWAY_FIELDS.
 */
export class UpdateGatewayDto extends PartialType(OmitType(CreateGatewayDto, ['driver'] as const)) {
  @ApiPropertyOptional({ example: false, description: 'false: its devices are refused until enabled again' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class GatewayListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'ABB_G13' })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  driver?: string;

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  enabled?: boolean;
}

export class GatewayDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({ example: 'feeder-12-g13' })
  name!: string;
  @ApiProperty({ example: 'ABB_G13' })
  driver!: string;
  @ApiProperty({ example: 'https://10.20.0.12:443' })
  endpoint!: string;
  @ApiProperty({ enum: TLS_MODES, example: 'pinned' })
  tlsMode!: TlsMode;
  @ApiProperty({
    example: '3A1F009C4E2177ABCDEF0123456789ABCDEF0123456789ABCDEF01234567899F',
    nullable: true,
  })
  tlsFingerprintSha256!: string | null;
  @ApiProperty({ example: false, description: 'whether a CA certificate is stored' })
  hasCaPem!: boolean;
  @ApiProperty({ example: 'hes', nullable: true })
  username!: string | null;
  @ApiProperty({ example: true, description: 'whether a password is stored (it is never returned)' })
  hasPassword!: boolean;
  @ApiProperty({ example: 2 })
  maxInFlight!: number;
  @ApiProperty({ example: 10000 })
  requestTimeoutMs!: number;
  @ApiProperty({
    example: 'Asia/Karachi',
    description: "the zone of the gateway's clocks (its setting, or the head-end's TIME_ZONE)",
  })
  clockTimeZone!: string;
  @ApiProperty({ example: true })
  enabled!: boolean;
  @ApiProperty({ example: 3, description: 'devices registered behind this gateway' })
  deviceCount!: number;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  updatedAt!: Date;
}

export class GatewayPageDto extends PageOf(GatewayDto) {}

export class ConnectionTestDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({
    example: true,
    description: 'false when the gateway could not be reached or refused the credentials',
  })
  ok!: boolean;
  @ApiProperty({
    example: 3,
    description:
      'furthest step reached: 0 none, 2 request sent, 3 connected and authenticated, 4 device answered',
  })
  reachedLevel!: number;
  @ApiPropertyOptional({
    example: 'authentication',
    description: 'on failure: unreachable, timeout, authentication, refused, device, protocol or unsupported',
  })
  errorKind?: string;
  @ApiProperty({ example: 'connected and authenticated; the gateway lists 3 meters' })
  message!: string;
  @ApiProperty({ example: ['GET /meters 200'], type: [String] })
  log!: string[];
}

export class DiscoveredMeterDto {
  @ApiProperty({ example: '3100001001' })
  serial!: string;
  @ApiPropertyOptional({ example: '3100001001 at HES (online)' })
  description?: string;
  @ApiPropertyOptional({ example: 3, enum: [1, 3] })
  phases?: 1 | 3;
  @ApiProperty({
    example: 'm1',
    nullable: true,
    description: 'global_device_id of the device registered with this serial on this gateway, if any',
  })
  globalDeviceId!: string | null;
}

export class DiscoveryDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({ example: 'the gateway lists 3 meters, 1 of them not registered' })
  message!: string;
  @ApiProperty({ type: [DiscoveredMeterDto] })
  meters!: DiscoveredMeterDto[];
}

export class MeterResourcesDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({ example: 'ABB_8' })
  serial!: string;
  @ApiProperty({
    example: { activeEnergy: true, reactiveEnergy: false, alarms: false, loadProfiles: false },
    description: 'optional resources of the meter: name → provided',
  })
  resources!: Record<string, boolean>;
  @ApiProperty({ example: 'meter ABB_8 lacks reactiveEnergy, alarms, loadProfiles' })
  message!: string;
}

/** Body of PUT /admin/gateways/:id/channels/:channel/calibration. */
export class SensorCalibrationDto {
  @ApiProperty({ example: 1.0125, description: 'multiplier the unit applies to the raw reading' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  gain!: number;

  @ApiProperty({ example: -0.4, description: "added after the gain, in the sensor's unit" })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  offset!: number;
}

export class CalibrationDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({ example: 'p1ch0', description: 'the sensor channel as the driver names it' })
  channel!: string;
  @ApiProperty({ example: 1.0125 })
  gain!: number;
  @ApiProperty({ example: -0.4 })
  offset!: number;
  @ApiProperty({
    example: ['adjustInfo p1ch0'],
    type: [String],
    description: 'the exchanges with the gateway, as the communication history records them',
  })
  log!: string[];
}

/** Longest range of one history read: the unit's extract of a week at its shortest interval is large. */
export const HISTORY_MAX_DAYS = 7;

export class SensorHistoryQueryDto {
  @ApiProperty({ example: '2026-11-30T08:00:00Z', description: 'start of the range (ISO 8601, with offset)' })
  @IsInstant('from')
  from!: string;

  @ApiProperty({
    example: '2026-11-30T09:00:00Z',
    description: `end of the range (ISO 8601, with offset); at most ${HISTORY_MAX_DAYS} days after from`,
  })
  @IsInstant('to')
  to!: string;
}

export class LoggedValueDto {
  @ApiProperty({ example: '2026-11-30T08:00:30.000Z' })
  timestamp!: Date;
  @ApiProperty({ example: 21.4 })
  value!: number;
}

export class SensorHistoryDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({ example: 'p1ch0' })
  channel!: string;
  @ApiProperty({ example: 'Temperature', nullable: true, description: "the sensor's name on the unit" })
  name!: string | null;
  @ApiProperty({ example: 'C', nullable: true })
  unit!: string | null;
  @ApiProperty({
    type: [LoggedValueDto],
    description: 'the values the unit logged in the range, oldest first',
  })
  values!: LoggedValueDto[];
  @ApiProperty({
    example: ['GET /cgi-bin/query?startTime=…&endTime=…&p1ch0=p1ch0 200 (12 ms)'],
    type: [String],
  })
  log!: string[];
}

/** Example body of POST /admin/gateways. */
export const CREATE_GATEWAY_EXAMPLE = {
  name: 'feeder-12-g13',
  driver: 'ABB_G13',
  endpoint: 'https://10.20.0.12:443',
  tlsMode: 'pinned',
  tlsFingerprintSha256: '3A1F009C4E2177ABCDEF0123456789ABCDEF0123456789ABCDEF01234567899F',
  username: 'hes',
  password: 'gateway-secret',
  maxInFlight: 2,
  requestTimeoutMs: 10000,
  clockTimeZone: 'Asia/Karachi',
};
