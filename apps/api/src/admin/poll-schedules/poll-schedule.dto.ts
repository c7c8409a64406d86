import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { POLLED_TYPES, type PolledType } from '@hes/transactions';
import { PageQueryDto, PageOf } from '../common/page-query.dto';

/** Longest interval: 31 days, as the poll_schedules CHECK constraint. */
export const MAX_INTERVAL_MINUTES = 44_640;

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class PollScheduleListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'm1', description: 'global_device_id' })
  @IsOptional()
  @IsString()
  @Length(1, 50)
  globalDeviceId?: string;

  @ApiPropertyOptional({ enum: POLLED_TYPES, example: 'LPRO' })
  @IsOptional()
  @IsIn(POLLED_TYPES)
  dataType?: PolledType;

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  enabled?: boolean;
}

/** `:globalDeviceId/:dataType` of one schedule. */
export class PollScheduleKeyDto {
  @ApiProperty({ example: 'm1' })
  @IsString()
  @Length(1, 50)
  globalDeviceId!: string;

  @ApiProperty({ enum: POLLED_TYPES, example: 'LPRO' })
  @IsIn(POLLED_TYPES)
  dataType!: PolledType;
}

export class UpdatePollScheduleDto {
  @ApiPropertyOptional({
    example: 30,
    minimum: 1,
    maximum: MAX_INTERVAL_MINUTES,
    description: 'minutes between two reads (1 to 44640, 31 days)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INTERVAL_MINUTES)
  intervalMinutes?: number;

  @ApiPropertyOptional({ example: true, description: 'a disabled schedule is not read' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class PollScheduleDto {
  @ApiProperty({ example: 'm1' })
  globalDeviceId!: string;
  @ApiProperty({ enum: POLLED_TYPES, example: 'LPRO' })
  dataType!: PolledType;
  @ApiProperty({ example: 30 })
  intervalMinutes!: number;
  @ApiProperty({ example: true })
  enabled!: boolean;
  @ApiProperty({ example: '2026-11-21T10:30:00.000Z', description: 'when it is read next' })
  nextDueAt!: Date;
  @ApiProperty({ example: '2026-11-21T10:00:01.000Z', nullable: true })
  lastPolledAt!: Date | null;
  @ApiProperty({ example: '48 rows', nullable: true })
  lastOutcome!: string | null;
  @ApiProperty({ example: 0 })
  consecutiveFailures!: number;
}

export class PollSchedulePageDto extends PageOf(PollScheduleDto) {}

export class PollNowDto extends PollScheduleDto {
  @ApiProperty({ example: 'm1 LPRO is due now: the next polling tick reads it' })
  message!: string;
}
