import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { PageQueryDto, PageOf } from '../common/page-query.dto';
import { DeviceRegistryFieldsDto } from './device-registration.dto';

export class DeviceListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  @IsOptional()
  @IsUUID()
  gatewayId?: string;

  @ApiPropertyOptional({ example: 'ABB_G13' })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  driver?: string;

  @ApiPropertyOptional({ example: 1, enum: [0, 1], description: '1 active, 0 inactive' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @IsIn([0, 1])
  activationStatus?: number;

  @ApiPropertyOptional({ example: '3100001001' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'msn must be digits (a meter serial number)' })
  msn?: string;

  @ApiPropertyOptional({ example: 'm1', description: 'global_device_id prefix' })
  @IsOptional()
  @IsString()
  @Length(1, 50)
  search?: string;
}

export class DeviceGatewayDto {
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001' })
  id!: string;
  @ApiProperty({ example: 'feeder-12-g13' })
  name!: string;
  @ApiProperty({ example: 'ABB_G13' })
  driver!: string;
  @ApiProperty({ example: true })
  enabled!: boolean;
}

export class DeviceDto extends DeviceRegistryFieldsDto {
  @ApiProperty({ example: 'm1' })
  globalDeviceId!: string;
  @ApiProperty({ example: '3100001001' })
  msn!: string;
  @ApiProperty({ example: 'ABB_G13' })
  driver!: string;
  @ApiProperty({ example: '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001', nullable: true })
  gatewayId!: string | null;
  @ApiProperty({ example: 'ABB_8', nullable: true, description: 'the meter as its gateway names it' })
  serialOnGateway!: string | null;
  @ApiProperty({ example: 1, enum: [0, 1], description: '1 active, 0 inactive (neither read nor commanded)' })
  declare activationStatus: number;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  updatedAt!: Date;
}

export class DevicePageDto extends PageOf(DeviceDto) {}

export class DeviceTransactionDto {
  @ApiProperty({ example: 'tx-20261121-0001' })
  transactionid!: string;
  @ApiProperty({ example: 'AUX_RELAY_OPERATIONS' })
  type!: string;
  @ApiProperty({ example: '{"relay_operate":"0"}', nullable: true })
  type_parameters!: string | null;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  command_receiving_datetime!: Date;
  @ApiProperty({ example: 5 })
  status_level!: number;
  @ApiProperty({ example: 1, description: '0 in progress, 1 complete, 2 failed' })
  indv_status!: number;
  @ApiProperty({ example: 0 })
  request_cancelled!: number;
  @ApiProperty({ example: 'relay opened', nullable: true })
  response_data!: string | null;
}

export class DeviceCommunicationDto {
  @ApiProperty({ example: '2026-11-21T10:00:02.000Z', nullable: true })
  mdc_read_datetime!: Date | null;
  @ApiProperty({ example: 1, description: '1 successful, 0 failed' })
  communication_status!: number;
  @ApiProperty({ example: '2026-11-21 10:00:01 POST /meters/3100001001/io 200', nullable: true })
  message_log!: string | null;
  @ApiProperty({ example: 1, nullable: true, description: 'seconds' })
  connection_duration!: number | null;
}

export class DeviceDetailDto extends DeviceDto {
  @ApiProperty({ type: DeviceGatewayDto, nullable: true })
  gateway!: DeviceGatewayDto | null;

  @ApiProperty({
    nullable: true,
    description: 'the device row of udil.meter_visuals (columns without a value are left out)',
    example: {
      msn: '3100001001',
      last_command: 'AUX_RELAY_OPERATIONS',
      last_command_resp: 'relay opened',
      active_energy_pos_tl: '1234.500',
      meter_activation_status: 1,
    },
  })
  visuals!: Record<string, unknown> | null;

  @ApiProperty({ type: [DeviceTransactionDto], description: 'the 20 newest rows of udil.transaction_status' })
  recentTransactions!: DeviceTransactionDto[];

  @ApiProperty({
    type: [DeviceCommunicationDto],
    description: 'the 10 newest rows of udil.device_communication_history',
  })
  recentCommunications!: DeviceCommunicationDto[];
}

export class DeviceActivationDto {
  @ApiProperty({ example: 'm1' })
  globalDeviceId!: string;
  @ApiProperty({ example: 0, enum: [0, 1] })
  activationStatus!: number;
  @ApiProperty({ example: 'm1 deactivated: it is neither read nor commanded' })
  message!: string;
}
