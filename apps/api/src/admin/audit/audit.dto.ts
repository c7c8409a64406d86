import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { IsInstant } from '../common/instant';
import { PageQueryDto, PageOf } from '../common/page-query.dto';

/**
 * How far back the device-command page reads when neither `from` nor a transactionid is given: its table is
 * partitioned by month and grows for years (docs/partitions.md).
 */
export const DEVICE_COMMANDS_DEFAULT_DAYS = 30;

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'gateway.create' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  action?: string;

  @ApiPropertyOptional({ example: 'operator' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  actor?: string;

  @ApiPropertyOptional({ example: 'gateway', enum: ['gateway', 'device', 'udil-client'] })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  targetType?: string;

  @ApiPropertyOptional({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  targetId?: string;

  @ApiPropertyOptional({ enum: ['success', 'failure'], example: 'failure' })
  @IsOptional()
  @IsIn(['success', 'failure'])
  result?: 'success' | 'failure';
}

export class DeviceCommandQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'm1' })
  @IsOptional()
  @IsString()
  @Length(1, 50)
  globalDeviceId?: string;

  @ApiPropertyOptional({ example: 'tx-20261121-0001' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  transactionid?: string;

  @ApiPropertyOptional({ example: 'mdm_user', description: 'UDIL client username, or head-end' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  requestedBy?: string;

  @ApiPropertyOptional({
    example: '2026-11-01T00:00:00Z',
    description: `commands requested at or after this instant (ISO 8601, with offset); default ${DEVICE_COMMANDS_DEFAULT_DAYS} days before to (or now), or the transaction's acceptance when transactionid is given`,
  })
  @IsOptional()
  @IsInstant('from')
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-30T23:59:59Z',
    description: 'commands requested at or before this instant (ISO 8601, with offset); default none',
  })
  @IsOptional()
  @IsInstant('to')
  to?: string;
}

export class AuditEntryDto {
  @ApiProperty({ example: '42' })
  id!: string;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  occurred_at!: Date;
  @ApiProperty({ example: 'operator', description: 'the Basic username, or "token"' })
  actor!: string;
  @ApiProperty({ example: 'basic', enum: ['basic', 'token'] })
  auth_method!: string;
  @ApiProperty({ example: '10.0.0.5', nullable: true })
  remote_address!: string | null;
  @ApiProperty({ example: 'gateway.create' })
  action!: string;
  @ApiProperty({ example: 'gateway' })
  target_type!: string;
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001', nullable: true })
  target_id!: string | null;
  @ApiProperty({
    example: { name: 'feeder-12-g13', driver: 'ABB_G13', password: '[redacted]' },
    nullable: true,
    description: 'the request body, secrets redacted',
  })
  request!: Record<string, unknown> | null;
  @ApiProperty({ example: 'success', enum: ['success', 'failure'] })
  result!: string;
  @ApiProperty({ example: 201 })
  status_code!: number;
  @ApiProperty({ example: null, nullable: true, description: 'error message, or the message of the answer' })
  detail!: string | null;
}

export class AuditPageDto extends PageOf(AuditEntryDto) {}

export class DeviceCommandDto {
  @ApiProperty({ example: 'tx-20261121-0001' })
  transactionid!: string;
  @ApiProperty({ example: 'm1' })
  global_device_id!: string;
  @ApiProperty({ example: '3100001001', nullable: true })
  msn!: string | null;
  @ApiProperty({
    example: 'AUX_RELAY_OPERATIONS',
    description: 'UDIL service or on-demand type, as stored in transaction_status',
  })
  command!: string;
  @ApiProperty({ example: '{"relay_operate":"0"}', nullable: true })
  parameters!: string | null;
  @ApiProperty({ example: 'mdm_user', description: 'UDIL client username; head-end for its own requests' })
  requested_by!: string;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  requested_at!: Date;
  @ApiProperty({ example: 5, description: 'UDIL status_level 0–5' })
  status_level!: number;
  @ApiProperty({ example: '2026-11-21T10:00:02.000Z', nullable: true })
  completed_at!: Date | null;
  @ApiProperty({ example: 1, description: '0 in progress, 1 complete, 2 failed' })
  indv_status!: number;
  @ApiProperty({ example: 'complete', enum: ['in progress', 'complete', 'failed', 'cancelled'] })
  result!: string;
  @ApiProperty({ example: null, nullable: true })
  request_cancel_reason!: string | null;
  @ApiProperty({ example: 'relay opened', nullable: true })
  response_data!: string | null;
}

export class DeviceCommandPageDto extends PageOf(DeviceCommandDto) {
  @ApiProperty({
    example: '2026-10-31T12:00:00.000Z',
    nullable: true,
    description: 'the start of the range read (the query’s from, or its default); null: none',
  })
  from!: Date | null;
  @ApiProperty({ example: null, nullable: true, description: 'the end of the range read; null: none' })
  to!: Date | null;
}
