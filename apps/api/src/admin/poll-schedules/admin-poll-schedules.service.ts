import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { returnedRows } from '@hes/database';
import type { PolledType } from '@hes/transactions';
import { Paged, paged } from '../common/page-query.dto';
import {
  PollNowDto,
  PollScheduleDto,
  PollScheduleKeyDto,
  PollScheduleListQueryDto,
  UpdatePollScheduleDto,
} from './poll-schedule.dto';

interface ScheduleRow {
  global_device_id: string;
  data_type: PolledType;
  interval_minutes: number;
  enabled: boolean;
  next_due_at: Date;
  last_polled_at: Date | null;
  last_outcome: string | null;
  consecutive_failures: number;
}

const COLUMNS = `global_device_id, data_type, interval_minutes, enabled, next_due_at, last_polled_at, last_outcome,
                 consecutive_failures`;

/** public.poll_schedules: which data type of which meter the workers read, how often and when next. */
@Injectable()
export class AdminPollSchedulesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(query: PollScheduleListQueryDto): Promise<Paged<PollScheduleDto>> {
    const filter = `WHERE ($1::varchar IS NULL OR global_device_id = $1)
                      AND ($2::varchar IS NULL OR data_type = $2)
                      AND ($3::boolean IS NULL OR enabled = $3)`;
    const parameters = [query.globalDeviceId ?? null, query.dataType ?? null, query.enabled ?? null];
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query<ScheduleRow[]>(
        `SELECT ${COLUMNS} FROM public.poll_schedules ${filter}
          ORDER BY global_device_id, data_type LIMIT $4 OFFSET $5`,
        [...parameters, query.pageSize, query.offset],
      ),
      this.dataSource.query<{ total: number }[]>(
        `SELECT count(*)::int AS total FROM public.poll_schedules ${filter}`,
        parameters,
      ),
    ]);
    return paged(query, rows.map(view), total);
  }

  /**
   * Changes the interval and/or the enabled flag. A shorter interval brings the next read forward
   * (as meter_data_sampling does: never later than now + the new interval).
   */
  async update(key: PollScheduleKeyDto, input: UpdatePollScheduleDto): Promise<PollScheduleDto> {
    if (input.intervalMinutes === undefined && input.enabled === undefined)
      throw new BadRequestException('intervalMinutes or enabled is required');
    const rows = returnedRows<ScheduleRow>(
      await this.dataSource.query(
        `UPDATE public.poll_schedules
            SET interval_minutes = COALESCE($3::int, interval_minutes),
                enabled = COALESCE($4::boolean, enabled),
                next_due_at = CASE WHEN $3::int IS NULL THEN next_due_at
                                   ELSE LEAST(next_due_at, now() + $3::int * interval '1 minute') END
          WHERE global_device_id = $1 AND data_type = $2
          RETURNING ${COLUMNS}`,
        [key.globalDeviceId, key.dataType, input.intervalMinutes ?? null, input.enabled ?? null],
      ),
    );
    return view(this.found(key, rows));
  }

  /** Makes the schedule due now: the next polling tick claims it (if enabled and the meter active). */
  async pollNow(key: PollScheduleKeyDto): Promise<PollNowDto> {
    const rows = returnedRows<ScheduleRow>(
      await this.dataSource.query(
        `UPDATE public.poll_schedules SET next_due_at = now()
          WHERE global_device_id = $1 AND data_type = $2 RETURNING ${COLUMNS}`,
        [key.globalDeviceId, key.dataType],
      ),
    );
    const schedule = view(this.found(key, rows));
    const message = schedule.enabled
      ? `${key.globalDeviceId} ${key.dataType} is due now: the next polling tick reads it`
      : `${key.globalDeviceId} ${key.dataType} is due now, but the schedule is disabled: it is read once enabled`;
    return { ...schedule, message };
  }

  private found(key: PollScheduleKeyDto, rows: ScheduleRow[]): ScheduleRow {
    if (!rows[0])
      throw new NotFoundException(
        `globalDeviceId, dataType: no poll schedule ${key.dataType} for device ${key.globalDeviceId}`,
      );
    return rows[0];
  }
}

function view(row: ScheduleRow): PollScheduleDto {
  return {
    globalDeviceId: row.global_device_id,
    dataType: row.data_type,
    intervalMinutes: row.interval_minutes,
    enabled: row.enabled,
    nextDueAt: row.next_due_at,
    lastPolledAt: row.last_polled_at,
    lastOutcome: row.last_outcome,
    consecutiveFailures: row.consecutive_failures,
  };
}
