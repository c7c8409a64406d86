import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsIP,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

/**
 * How a registry field of `public.devices` is named in the API (and as a CSV column), its column and SQL
 * type, and how a CSV cell is read. The UDIL device_creation attributes a device may carry; all optional.
 */
export interface RegistryField {
  field: string;
  column: string;
  sqlType: 'smallint' | 'integer' | 'boolean' | 'time' | 'varchar';
  kind: 'int' | 'boolean' | 'string';
}

export const REGISTRY_FIELDS: readonly RegistryField[] = [
  { field: 'deviceType', column: 'device_type', sqlType: 'smallint', kind: 'int' },
  { field: 'communicationMode', column: 'communication_mode', sqlType: 'smallint', kind: 'int' },
  { field: 'communicationType', column: 'communication_type', sqlType: 'smallint', kind: 'int' },
  { field: 'communicationInterval', column: 'communication_interval', sqlType: 'integer', kind: 'int' },
  {
    field: 'initialCommunicationTime',
    column: 'initial_communication_time',
    sqlType: 'time',
    kind: 'string',
  },
  { field: 'bidirectionalDevice', column: 'bidirectional_device', sqlType: 'boolean', kind: 'boolean' },
  { field: 'simNumber', column: 'sim_number', sqlType: 'varchar', kind: 'string' },
  { field: 'simId', column: 'sim_id', sqlType: 'varchar', kind: 'string' },
  { field: 'mdiResetDate', column: 'mdi_reset_date', sqlType: 'smallint', kind: 'int' },
  { field: 'mdiResetTime', column: 'mdi_reset_time', sqlType: 'time', kind: 'string' },
  { field: 'phase', column: 'phase', sqlType: 'smallint', kind: 'int' },
  { field: 'meterType', column: 'meter_type', sqlType: 'smallint', kind: 'int' },
  { field: 'primaryIpAddress', column: 'primary_ip_address', sqlType: 'varchar', kind: 'string' },
  { field: 'secondaryIpAddress', column: 'secondary_ip_address', sqlType: 'varchar', kind: 'string' },
  { field: 'primaryPort', column: 'primary_port', sqlType: 'integer', kind: 'int' },
  { field: 'secondaryPort', column: 'secondary_port', sqlType: 'integer', kind: 'int' },
  { field: 'wakeupNumber1', column: 'wakeup_number_1', sqlType: 'varchar', kind: 'string' },
  { field: 'wakeupNumber2', column: 'wakeup_number_2', sqlType: 'varchar', kind: 'string' },
  { field: 'wakeupNumber3', column: 'wakeup_number_3', sqlType: 'varchar', kind: 'string' },
  { field: 'activationStatus', column: 'activation_status', sqlType: 'smallint', kind: 'int' },
];

/** A device's identity on the head-end and on its gateway. */
export const IDENTITY_FIELDS: readonly RegistryField[] = [
  { field: 'globalDeviceId', column: 'global_device_id', sqlType: 'varchar', kind: 'string' },
  { field: 'msn', column: 'msn', sqlType: 'varchar', kind: 'string' },
  { field: 'gatewayId', column: 'gateway_id', sqlType: 'varchar', kind: 'string' },
  { field: 'serial', column: 'serial_on_gateway', sqlType: 'varchar', kind: 'string' },
];

const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?$/;
/** global_device_id: what UDIL clients will send (at most 50 characters). */
export const GLOBAL_DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}$/;
export const GLOBAL_DEVICE_ID_MESSAGE =
  'globalDeviceId must be 1 to 50 letters, digits or _ . : -, starting with a letter or digit';
/** The serial as the gateway names it: any printable text without spaces at either end. */
export const GATEWAY_SERIAL = /^[^\s\p{Cc}](?:[^\p{Cc}]{0,62}[^\s\p{Cc}])?$/u;
export const GATEWAY_SERIAL_MESSAGE =
  'serial must be 1 to 64 printable characters, as the gateway names the meter (e.g. ABB_8 or 3100001001)';
export const MSN = /^\d{1,18}$/;
export const MSN_MESSAGE = 'msn must be the meter serial number: 1 to 18 digits';

/** null clears an optional field in PATCH; in POST it is the same as leaving it out. */
const optional = () => ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null);
const smallRange = (name: string, min: number, max: number, meaning: string) => [
  ApiPropertyOptional({ example: min, minimum: min, maximum: max, nullable: true, description: meaning }),
  optional(),
  IsInt({ message: `${name} must be an integer from ${min} to ${max}` }),
  Min(min, { message: `${name} must be an integer from ${min} to ${max}` }),
  Max(max, { message: `${name} must be an integer from ${min} to ${max}` }),
];
function apply(decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorator) => decorator(target, key));
}
const text = (name: string, max: number, example: string, description?: string) =>
  apply([
    ApiPropertyOptional({ example, maxLength: max, nullable: true, description }),
    optional(),
    IsString(),
    Length(1, max, { message: `${name} must have 1 to ${max} characters` }),
  ]);
const time = (name: string, example: string) =>
  apply([
    ApiPropertyOptional({ example, nullable: true, description: 'HH:mm or HH:mm:ss' }),
    optional(),
    Matches(TIME, { message: `${name} must be a time of day, HH:mm or HH:mm:ss` }),
  ]);
const port = (name: string) => apply(smallRange(name, 1, 65535, 'TCP port'));
const address = (name: string) =>
  apply([
    ApiPropertyOptional({ example: '10.20.0.41', nullable: true }),
    optional(),
    IsIP(undefined, { message: `${name} must be an IPv4 or IPv6 address` }),
  ]);

/** The UDIL device_creation attributes of a device, as `public.devices` keeps them; all optional. */
export class DeviceRegistryFieldsDto {
  @apply(smallRange('deviceType', 1, 5, '1 meter, 2 DCU, 3 APMS (other in UDIL 2019), 4 grid meter, 5 other'))
  deviceType?: number | null;

  @apply(smallRange('communicationMode', 1, 5, '1 GPRS/3G/4G, 2 RF, 3 PLC, 4 Ethernet, 5 other'))
  communicationMode?: number | null;

  @apply(smallRange('communicationType', 0, 2, '0 always on, 1 periodic, 2 on demand'))
  communicationType?: number | null;

  @apply(smallRange('communicationInterval', 0, 1_000_000, 'minutes'))
  communicationInterval?: number | null;

  @time('initialCommunicationTime', '00:00')
  initialCommunicationTime?: string | null;

  @ApiPropertyOptional({ example: true, nullable: true })
  @optional()
  @IsBoolean({ message: 'bidirectionalDevice must be true or false' })
  bidirectionalDevice?: boolean | null;

  @text('simNumber', 20, '03001234567')
  simNumber?: string | null;

  @text('simId', 32, '8992300000123456789')
  simId?: string | null;

  @apply(smallRange('mdiResetDate', 1, 28, 'day of the month'))
  mdiResetDate?: number | null;

  @time('mdiResetTime', '00:00:00')
  mdiResetTime?: string | null;

  @ApiPropertyOptional({
    example: 3,
    enum: [1, 2, 3],
    nullable: true,
    description: '1 single, 3 three phase, 2 other',
  })
  @optional()
  @IsIn([1, 2, 3], { message: 'phase must be 1, 2 or 3' })
  phase?: number | null;

  @apply(smallRange('meterType', 1, 5, '1 normal, 2 whole current, 3 CTO, 4 CTPT, 5 other'))
  meterType?: number | null;

  @address('primaryIpAddress')
  primaryIpAddress?: string | null;

  @address('secondaryIpAddress')
  secondaryIpAddress?: string | null;

  @port('primaryPort')
  primaryPort?: number | null;

  @port('secondaryPort')
  secondaryPort?: number | null;

  @text('wakeupNumber1', 20, '03001234567')
  wakeupNumber1?: string | null;

  @text('wakeupNumber2', 20, '03001234568')
  wakeupNumber2?: string | null;

  @text('wakeupNumber3', 20, '03001234569')
  wakeupNumber3?: string | null;

  @ApiPropertyOptional({ example: 1, enum: [0, 1], description: '1 active (default), 0 inactive' })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @IsIn([0, 1], { message: 'activationStatus must be 0 or 1' })
  activationStatus?: number;
}

export class CreateDeviceDto extends DeviceRegistryFieldsDto {
  @ApiProperty({ example: 'm8', description: 'the id UDIL clients use, unique', maxLength: 50 })
  @IsString()
  @Matches(GLOBAL_DEVICE_ID, { message: GLOBAL_DEVICE_ID_MESSAGE })
  globalDeviceId!: string;

  @ApiProperty({ example: '3100000008', description: 'meter serial number (digits)' })
  @IsString({ message: MSN_MESSAGE })
  @Matches(MSN, { message: MSN_MESSAGE })
  msn!: string;

  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001', description: 'a registered gateway' })
  @IsUUID(undefined, { message: 'gatewayId must be a UUID' })
  gatewayId!: string;

  @ApiPropertyOptional({
    example: 'ABB_8',
    description: 'the meter as its gateway names it, unique on the gateway; the msn when left out',
  })
  @IsOptional()
  @IsString({ message: GATEWAY_SERIAL_MESSAGE })
  @Matches(GATEWAY_SERIAL, { message: GATEWAY_SERIAL_MESSAGE })
  serial?: string;
}

/** PATCH: every field optional; what is left out is kept, null clears an optional registry field. */
export class UpdateDeviceDto extends DeviceRegistryFieldsDto {
  @ApiPropertyOptional({ example: '3100000008' })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @IsString({ message: MSN_MESSAGE })
  @Matches(MSN, { message: MSN_MESSAGE })
  msn?: string;

  @ApiPropertyOptional({
    example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d002',
    description: 'move the device to this gateway (its driver becomes the gateway driver)',
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @IsUUID(undefined, { message: 'gatewayId must be a UUID' })
  gatewayId?: string;

  @ApiPropertyOptional({ example: 'ABB_8' })
  @ValidateIf((_object: object, value: unknown) => value !== undefined)
  @IsString({ message: GATEWAY_SERIAL_MESSAGE })
  @Matches(GATEWAY_SERIAL, { message: GATEWAY_SERIAL_MESSAGE })
  serial?: string;
}

export class MoveDeviceDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d002', description: 'the gateway it is on now' })
  @IsUUID(undefined, { message: 'gatewayId must be a UUID' })
  gatewayId!: string;

  @ApiPropertyOptional({ example: 'ABB_8', description: 'its serial on that gateway; kept when left out' })
  @IsOptional()
  @IsString({ message: GATEWAY_SERIAL_MESSAGE })
  @Matches(GATEWAY_SERIAL, { message: GATEWAY_SERIAL_MESSAGE })
  serial?: string;
}

export const CREATE_DEVICE_EXAMPLE = {
  globalDeviceId: 'm8',
  msn: '3100000008',
  gatewayId: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001',
  serial: 'ABB_8',
  deviceType: 1,
  communicationMode: 4,
  phase: 3,
  meterType: 1,
};

export class BulkDevicesDto {
  @ApiProperty({ type: [CreateDeviceDto], example: [CREATE_DEVICE_EXAMPLE] })
  devices!: CreateDeviceDto[];
}

export class BulkRowErrorDto {
  @ApiProperty({ example: 'msn', description: 'the field (JSON) or column (CSV)' })
  field!: string;
  @ApiProperty({ example: 'msn must be the meter serial number: 1 to 18 digits' })
  message!: string;
}

export class BulkRowDto {
  @ApiProperty({
    example: 1,
    description: '1-based position in the list (CSV: data row, the header not counted)',
  })
  row!: number;
  @ApiPropertyOptional({ example: 2, description: 'CSV only: the line of the file' })
  line?: number;
  @ApiProperty({ example: 'm8', nullable: true })
  globalDeviceId!: string | null;
  @ApiProperty({
    example: 'created',
    enum: ['created', 'valid', 'invalid', 'unknown-gateway', 'duplicate'],
    description: 'valid: the row was right but nothing was registered because another row was not',
  })
  outcome!: string;
  @ApiPropertyOptional({ type: [BulkRowErrorDto] })
  errors?: BulkRowErrorDto[];
}

export class BulkRegistrationDto {
  @ApiProperty({ example: 'registered 2 devices' })
  message!: string;
  @ApiProperty({ example: 2 })
  created!: number;
  @ApiProperty({ type: [BulkRowDto] })
  rows!: BulkRowDto[];
}

export class RegisterDiscoveredDto {
  @ApiPropertyOptional({
    example: 'feeder12-',
    description: 'globalDeviceId of each new device = prefix + its serial (default: no prefix)',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{0,40}$/, {
    message: 'globalDeviceIdPrefix must be at most 40 letters, digits or _ . : -',
  })
  globalDeviceIdPrefix?: string;

  @ApiPropertyOptional({
    example: ['3100001001'],
    type: [String],
    description:
      'register only these serials (default: every meter the gateway lists that is not registered)',
  })
  @IsOptional()
  @IsString({ each: true, message: 'serials must be a list of serials' })
  serials?: string[];
}

export class RegisteredMeterDto {
  @ApiProperty({ example: '3100001001' })
  serial!: string;
  @ApiProperty({ example: 'feeder12-3100001001' })
  globalDeviceId!: string;
  @ApiPropertyOptional({ example: '3100001001' })
  msn?: string;
}

export class SkippedMeterDto {
  @ApiProperty({ example: 'ABB_8' })
  serial!: string;
  @ApiProperty({
    example:
      'serial ABB_8 is not a meter serial number (digits): register it with POST /admin/devices and its msn',
  })
  reason!: string;
}

export class DiscoveredRegistrationDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({ example: 'the gateway lists 3 meters: 2 registered now, 1 already known, 0 skipped' })
  message!: string;
  @ApiProperty({ type: [RegisteredMeterDto] })
  registered!: RegisteredMeterDto[];
  @ApiProperty({ type: [RegisteredMeterDto], description: 'meters of the gateway already in the registry' })
  alreadyKnown!: RegisteredMeterDto[];
  @ApiProperty({ type: [SkippedMeterDto] })
  skipped!: SkippedMeterDto[];
}

export class DeviceRemovalDto {
  @ApiProperty({ example: 'm8' })
  globalDeviceId!: string;
  @ApiProperty({
    example: 'm8 removed from the registry; its readings, transactions and communication history are kept',
  })
  message!: string;
}
