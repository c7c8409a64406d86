import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MPCB_AUTHORIZATION_ENCODINGS, type MpcbAuthorizationEncoding } from '@hes/mpcb';
import { PageQueryDto, PageOf } from '../common/page-query.dto';

/** As `assertIdentifier` of the MPCB wire format: fits a file name and an unquoted CSV cell. */
const IDENTIFIER = /^[A-Za-z0-9](?:[A-Za-z0-9_.\- ]{0,98}[A-Za-z0-9_.-])?$/;
const identifier = (name: string) =>
  Matches(IDENTIFIER, {
    message: `${name} must be 1 to 100 letters, digits, _ . - or inner spaces, starting with a letter or digit`,
  });
/** Names and units go into the data CSV unquoted. */
const csvText = (name: string) =>
  Matches(/^[^,"\r\n]*[^,"\s][^,"\r\n]*$/, {
    message: `${name} must not be empty nor contain , " or a line break`,
  });

export const SOURCE_KINDS = ['sensor', 'meter'] as const;

/** Validates a field only when it is given: null is refused like any other wrong value. */
const present = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

const centralServerUrlProperty = () =>
  ApiPropertyOptional({
    example: 'https://onlinecems.ecmpcb.in/mpcb',
    nullable: true,
    description:
      "the site's own central server (base URL of its routes); null or left out: MPCB_BASE_URL. It wins over MPCB_BASE_URL for every route of the site",
  });
const centralServerUrlRule = () =>
  IsUrl(
    { require_protocol: true, require_tld: false, protocols: ['http', 'https'], disallow_auth: true },
    { message: 'centralServerUrl must be an http(s) URL without credentials' },
  );

/** The rules of a field, in one decorator (shared by creation and PATCH). */
function rules(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorator) => decorator(target, key));
}
const siteTextRules = () => rules(IsString(), MaxLength(200));
const softwareVersionRules = () =>
  rules(
    IsString(),
    Matches(/^[^,]*[^,\s][^,]*$/, { message: 'softwareVersionId must be non-empty and contain no comma' }),
    MaxLength(100),
  );
const siteKeyRules = () =>
  rules(
    IsString(),
    Length(32, 500, { message: 'siteKey must have at least 32 (and at most 500) characters' }),
    Matches(/^(?:[\x20-\x7e]{32}|[\x20-\x7e]*$)/, {
      message: 'siteKey: its first 32 characters must be printable ASCII',
    }),
  );

export class CreateMpcbSiteDto {
  @ApiProperty({ example: 'site_1001', description: 'the siteId given by MPCB (unique)', maxLength: 100 })
  @identifier('siteId')
  siteId!: string;

  @ApiPropertyOptional({ example: 'site_1001', description: 'site_uid; the siteId when left out' })
  @IsOptional()
  @identifier('siteUid')
  siteUid?: string;

  @ApiPropertyOptional({ example: 'Sugar mill, Satara', maxLength: 200 })
  @IsOptional()
  @siteTextRules()
  siteName?: string;

  @ApiPropertyOptional({ example: 'Boiler stack', maxLength: 200 })
  @IsOptional()
  @siteTextRules()
  siteLabel?: string;

  @ApiProperty({
    example: 'ver_2.1',
    description: 'software_version_id registered with MPCB',
    maxLength: 100,
  })
  @softwareVersionRules()
  softwareVersionId!: string;

  @ApiProperty({
    example: 'Q2hhbmdlIHRoaXMgc2l0ZSBrZXkgMDEyMzQ1Njc4OQ',
    description:
      'the site key MPCB issued: at least 32 characters, the first 32 printable ASCII. Stored encrypted, never returned',
    writeOnly: true,
  })
  @siteKeyRules()
  siteKey!: string;

  @ApiPropertyOptional({
    enum: MPCB_AUTHORIZATION_ENCODINGS,
    default: 'hash',
    description: 'how the Authorization header is encoded (docs/mpcb.md)',
  })
  @IsOptional()
  @IsIn(MPCB_AUTHORIZATION_ENCODINGS)
  authorizationEncoding?: MpcbAuthorizationEncoding;

  @centralServerUrlProperty()
  @IsOptional()
  @centralServerUrlRule()
  centralServerUrl?: string | null;
}

/**
 * PATCH of a site: what is left out is kept. `siteId` is the site's identity at MPCB and does not change;
 * `centralServerUrl: null` returns the site to MPCB_BASE_URL; `siteKey` replaces the key (write-only).
 */
export class UpdateMpcbSiteDto {
  @ApiPropertyOptional({ example: 'site_1001' })
  @present()
  @identifier('siteUid')
  siteUid?: string;

  @ApiPropertyOptional({ example: 'Sugar mill, Satara', maxLength: 200 })
  @present()
  @siteTextRules()
  siteName?: string;

  @ApiPropertyOptional({ example: 'Boiler stack', maxLength: 200 })
  @present()
  @siteTextRules()
  siteLabel?: string;

  @ApiPropertyOptional({ example: 'ver_2.2', description: 'software_version_id registered with MPCB' })
  @present()
  @softwareVersionRules()
  softwareVersionId?: string;

  @ApiPropertyOptional({
    example: 'Q2hhbmdlIHRoaXMgc2l0ZSBrZXkgMDEyMzQ1Njc4OQ',
    description: 'a new site key (as on creation); stored encrypted, never returned',
    writeOnly: true,
  })
  @present()
  @siteKeyRules()
  siteKey?: string;

  @ApiPropertyOptional({ enum: MPCB_AUTHORIZATION_ENCODINGS, example: 'pkcs7' })
  @present()
  @IsIn(MPCB_AUTHORIZATION_ENCODINGS, {
    message: `authorizationEncoding must be one of ${MPCB_AUTHORIZATION_ENCODINGS.join(', ')}`,
  })
  authorizationEncoding?: MpcbAuthorizationEncoding;

  @centralServerUrlProperty()
  @IsOptional()
  @centralServerUrlRule()
  centralServerUrl?: string | null;

  @ApiPropertyOptional({ example: false, description: 'a disabled site neither acquires nor uploads' })
  @present()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}

export class DiscardUnsentReadingsQueryDto {
  @ApiPropertyOptional({
    example: false,
    default: false,
    description: 'delete even when readings were not yet accepted by the central server (they are lost)',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'discardUnsentReadings must be true or false' })
  discardUnsentReadings?: boolean;
}

/** A site, monitoring unit, analyser or parameter removed: its id and what went with it. */
export class MpcbRemovalDto {
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000001', description: 'the id of what was removed' })
  id!: string;
  @ApiProperty({
    example:
      'site site_1001 deleted with its monitoring units, analysers, parameters, upload log and 8640 readings (0 not yet sent)',
  })
  message!: string;
}

export class MpcbSiteListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  enabled?: boolean;
}

export class CreateMonitoringUnitDto {
  @ApiProperty({ example: 'stack_1', description: 'monitoringId given by MPCB (unique in the site)' })
  @identifier('monitoringId')
  monitoringId!: string;

  @ApiPropertyOptional({ example: 'Emission', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  monitoringType?: string;
}

export class CreateAnalyserDto {
  @ApiProperty({
    example: 'analyser_1',
    description: 'analyzerId given by MPCB (unique in the monitoring unit)',
  })
  @identifier('analyzerId')
  analyzerId!: string;

  @ApiPropertyOptional({ example: 'Flue gas analyser', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  analyzerName?: string;
}

export class ParameterSourceDto {
  @ApiProperty({
    enum: SOURCE_KINDS,
    example: 'sensor',
    description: 'sensor: an Omega iServer 2 probe/channel; meter: a value an ABB G13 meter reports',
  })
  @IsIn(SOURCE_KINDS)
  kind!: (typeof SOURCE_KINDS)[number];

  @ApiProperty({
    example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001',
    description:
      'a registered gateway whose driver can feed this kind (GET /admin/drivers: mpcbSources), e.g. OMEGA_ISERVER2 for a sensor, ABB_G13 for a meter',
  })
  @IsUUID()
  gatewayId!: string;

  @ApiPropertyOptional({ example: 'p1ch0', description: 'sensor only: probe and channel' })
  @ValidateIf((source: ParameterSourceDto) => source.kind === 'sensor' || source.channel !== undefined)
  @Matches(/^p\d+ch\d+$/, { message: 'channel must look like p1ch0 (probe 1, channel 0)' })
  channel?: string;

  @ApiPropertyOptional({ example: '3100001001', description: 'meter only: the meter serial on the G13' })
  @ValidateIf((source: ParameterSourceDto) => source.kind === 'meter' || source.deviceSerial !== undefined)
  @Matches(/^[A-Za-z0-9_.-]{1,100}$/, {
    message: 'deviceSerial must be 1 to 100 letters, digits or _ . - (the meter serial on the gateway)',
  })
  deviceSerial?: string;

  @ApiPropertyOptional({
    example: 'current_phase_a',
    description: 'meter only: the UDIL column name of the instantaneous value',
  })
  @ValidateIf((source: ParameterSourceDto) => source.kind === 'meter' || source.quantity !== undefined)
  @Matches(/^[a-z][a-z0-9_]{0,99}$/, {
    message: 'quantity must be a UDIL column name such as current_phase_a',
  })
  quantity?: string;
}

/**
 * The fields of a parameter. PATCH: what is left out is kept; `null` clears the gauge limits or the
 * source. PUT behaves the same on an existing parameter, and creates a missing one, which then needs
 * `parameterName` and `unit` (the rest takes its default).
 */
export class ParameterChangesDto {
  @ApiPropertyOptional({ example: 'SO2', maxLength: 100, description: 'required to create a parameter' })
  @present()
  @IsString()
  @MaxLength(100)
  @csvText('parameterName')
  parameterName?: string;

  @ApiPropertyOptional({ example: 'mg/Nm3', maxLength: 50, description: 'required to create a parameter' })
  @present()
  @IsString()
  @MaxLength(50)
  @csvText('unit')
  unit?: string;

  @ApiPropertyOptional({
    example: 1,
    default: 1,
    description: 'validated = coefficientA × raw + coefficientB',
  })
  @present()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  coefficientA?: number;

  @ApiPropertyOptional({ example: 0, default: 0 })
  @present()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  coefficientB?: number;

  @ApiPropertyOptional({
    example: 0,
    nullable: true,
    description: 'readings below are flagged O; null: no limit',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  gaugeMinimum?: number | null;

  @ApiPropertyOptional({
    example: 500,
    nullable: true,
    description: 'readings above are flagged O; null: no limit',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  gaugeMaximum?: number | null;

  @ApiPropertyOptional({ example: '0', default: '0', maxLength: 20 })
  @present()
  @Matches(/^[A-Za-z0-9_.-]{1,20}$/, { message: 'channelNo must be 1 to 20 letters, digits or _ . -' })
  channelNo?: string;

  @ApiPropertyOptional({
    type: ParameterSourceDto,
    nullable: true,
    description:
      'where the value is read; left out: the stored source is kept; null: the parameter has no source (not acquired)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ParameterSourceDto)
  source?: ParameterSourceDto | null;
}

export class PutParameterDto extends ParameterChangesDto {}

export class MaintenanceDto {
  @ApiProperty({ example: true, description: 'readings of an analyser in maintenance are flagged M' })
  @IsBoolean()
  maintenance!: boolean;
}

export class MpcbSiteDto {
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000001' })
  id!: string;
  @ApiProperty({ example: 'site_1001' })
  siteId!: string;
  @ApiProperty({ example: 'site_1001' })
  siteUid!: string;
  @ApiProperty({ example: 'Sugar mill, Satara' })
  siteName!: string;
  @ApiProperty({ example: 'Boiler stack' })
  siteLabel!: string;
  @ApiProperty({ example: 'ver_2.1' })
  softwareVersionId!: string;
  @ApiProperty({ enum: MPCB_AUTHORIZATION_ENCODINGS, example: 'hash' })
  authorizationEncoding!: MpcbAuthorizationEncoding;
  @ApiProperty({
    example: null,
    nullable: true,
    description: "the site's own central server; null: MPCB_BASE_URL",
  })
  centralServerUrl!: string | null;
  @ApiProperty({ example: true, description: 'a site key is stored (encrypted; it is never returned)' })
  hasSiteKey!: boolean;
  @ApiProperty({ example: true })
  enabled!: boolean;
  @ApiProperty({ example: '2026-11-21 10:00:00', nullable: true })
  serverConfigLastUpdatedTime!: string | null;
  @ApiProperty({ example: '2026-11-21 10:00:00', nullable: true })
  siteConfigLastUpdatedTime!: string | null;
  @ApiProperty({ example: 1 })
  monitoringUnitCount!: number;
  @ApiProperty({ example: 4 })
  parameterCount!: number;
}

export class MpcbSitePageDto extends PageOf(MpcbSiteDto) {}

export class MonitoringUnitDto {
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000002' })
  id!: string;
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000001' })
  siteRef!: string;
  @ApiProperty({ example: 'stack_1' })
  monitoringId!: string;
  @ApiProperty({ example: 'Emission' })
  monitoringType!: string;
}

export class AnalyserDto {
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000003' })
  id!: string;
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000002' })
  monitoringUnitRef!: string;
  @ApiProperty({ example: 'analyser_1' })
  analyzerId!: string;
  @ApiProperty({ example: 'Flue gas analyser' })
  analyzerName!: string;
  @ApiProperty({ example: false })
  maintenance!: boolean;
}

export class ParameterDto {
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000004' })
  id!: string;
  @ApiProperty({ example: '5a1c2d3e-0000-4000-8000-000000000003' })
  analyserRef!: string;
  @ApiProperty({ example: 'SO2' })
  parameterId!: string;
  @ApiProperty({ example: 'SO2' })
  parameterName!: string;
  @ApiProperty({ example: 'mg/Nm3' })
  unit!: string;
  @ApiProperty({ example: 1 })
  coefficientA!: number;
  @ApiProperty({ example: 0 })
  coefficientB!: number;
  @ApiProperty({ example: 0, nullable: true })
  gaugeMinimum!: number | null;
  @ApiProperty({ example: 500, nullable: true })
  gaugeMaximum!: number | null;
  @ApiProperty({ example: '0' })
  channelNo!: string;
  @ApiProperty({
    type: ParameterSourceDto,
    nullable: true,
    example: { kind: 'sensor', gatewayId: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001', channel: 'p1ch0' },
  })
  source!: ParameterSourceDto | null;
  @ApiProperty({ example: true })
  enabled!: boolean;
}

export class AnalyserTreeDto extends AnalyserDto {
  @ApiProperty({ type: [ParameterDto] })
  parameters!: ParameterDto[];
}

export class MonitoringUnitTreeDto extends MonitoringUnitDto {
  @ApiProperty({ type: [AnalyserTreeDto] })
  analysers!: AnalyserTreeDto[];
}

export class MpcbSiteTreeDto {
  @ApiProperty({ type: MpcbSiteDto })
  site!: MpcbSiteDto;
  @ApiProperty({ type: [MonitoringUnitTreeDto] })
  monitoringUnits!: MonitoringUnitTreeDto[];
}

/** Example body of POST /admin/mpcb-sites. */
export const CREATE_MPCB_SITE_EXAMPLE = {
  siteId: 'site_1001',
  siteName: 'Sugar mill, Satara',
  siteLabel: 'Boiler stack',
  softwareVersionId: 'ver_2.1',
  siteKey: 'Q2hhbmdlIHRoaXMgc2l0ZSBrZXkgMDEyMzQ1Njc4OQ',
  authorizationEncoding: 'hash',
};

/** Example bodies of PUT …/parameters/:parameterId. */
export const PUT_PARAMETER_EXAMPLES = {
  sensor: {
    summary: 'an Omega iServer 2 probe/channel',
    value: {
      parameterName: 'SO2',
      unit: 'mg/Nm3',
      coefficientA: 1,
      coefficientB: 0,
      gaugeMinimum: 0,
      gaugeMaximum: 500,
      source: { kind: 'sensor', gatewayId: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001', channel: 'p1ch0' },
    },
  },
  meter: {
    summary: 'a value of an ABB G13 meter, by its UDIL column name',
    value: {
      parameterName: 'Current L1',
      unit: 'A',
      source: {
        kind: 'meter',
        gatewayId: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d002',
        deviceSerial: '3100001001',
        quantity: 'current_phase_a',
      },
    },
  },
  keepSource: {
    summary: 'change the coefficients, keep everything else',
    value: { coefficientA: 2.62 },
  },
};

/** Example bodies of PATCH …/parameters/:parameterId. */
export const PATCH_PARAMETER_EXAMPLES = {
  unit: {
    summary: 'a new unit and factor; gauge limits and source kept',
    value: { unit: 'ppm', coefficientA: 2.62 },
  },
  noLimit: { summary: 'no upper gauge limit any more', value: { gaugeMaximum: null } },
};
