import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { newestFirst, returnedRows } from '@hes/database';

export const POLLED_TYPES = ['INST', 'BILL', 'MBIL', 'LPRO', 'EVNT'] as const;
export type PolledType = (typeof POLLED_TYPES)[number];

export interface DueRead {
  global_device_id: string;
  data_type: PolledType;
  /**
   * When it was claimed, by the database's clock to the microsecond (ISO text: a JS Date would lose the
   * microseconds that tell one claim from another).
   */
  claimed_at?: string;
}

/** A claim of a read: when (DueRead.claimed_at) and the lease it was claimed with (POLL_CLAIM_LEASE_MINUTES). */
export interface PollClaim {
  at: string;
  leaseMinutes: number;
}

/** The due time a claim gave its schedule (SQL, with the claim's time and lease as parameters $a and $b). */
const claimedDue = (at: string, lease: string) =>
  `${at}::timestamptz + LEAST(interval_minutes, ${lease}::int) * interval '1 minute'`;

/** poll_schedules: which data type of which meter is read how often, and when next. */
@Injectable()
export class PollScheduleRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Gives every meter of `driver` a schedule for each type it can read, at the default interval, where
   * it has none yet (existing schedules, changed by meter_data_sampling or an operator, are kept).
   */
  async ensureDefaults(driver: string, intervals: Partial<Record<PolledType, number>>): Promise<number> {
    const types = Object.keys(intervals) as PolledType[];
    if (types.length === 0) return 0;
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO public.poll_schedules (global_device_id, data_type, interval_minutes)
       SELECT d.global_device_id, t.data_type, t.minutes
         FROM public.devices d CROSS JOIN unnest($2::varchar[], $3::int[]) AS t(data_type, minutes)
        WHERE d.driver = $1
       ON CONFLICT (global_device_id, data_type) DO NOTHING
       RETURNING 1`,
      [driver, types, types.map((t) => intervals[t])],
    );
    return rows.length;
  }

  /**
   * Claims the schedules that are due, of active meters only, in one statement, so that two workers never
   * claim the same read. A claim holds the schedule for its interval, at most `leaseMinutes`: a read whose
   * outcome is never recorded (its job lost with Redis's data, its worker killed, the database away for all
   * its attempts) is claimed again after the lease, not a whole interval (a day for BILL) later.
   * {@link recordOutcome} then sets the next due time: the claim + the interval.
   */
  async claimDue(limit: number, leaseMinutes: number): Promise<DueRead[]> {
    return returnedRows<DueRead>(
      await this.dataSource.query(
        `UPDATE public.poll_schedules s
            SET next_due_at = now() + LEAST(s.interval_minutes, $2) * interval '1 minute'
          WHERE (s.global_device_id, s.data_type) IN (
                SELECT p.global_device_id, p.data_type FROM public.poll_schedules p
                  JOIN public.devices d ON d.global_device_id = p.global_device_id
                 WHERE p.enabled AND p.next_due_at <= now() AND d.activation_status = 1
                 ORDER BY p.next_due_at LIMIT $1 FOR UPDATE OF p SKIP LOCKED)
          RETURNING s.global_device_id, s.data_type,
                    to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS claimed_at`,
        [limit, leaseMinutes],
      ),
    );
  }

  /** Claims whose reads could not be queued: due again now, so that the next tick claims them. */
  async releaseClaims(reads: readonly DueRead[]): Promise<void> {
    if (reads.length === 0) return;
    await this.dataSource.query(
      `UPDATE public.poll_schedules s SET next_due_at = now()
         FROM unnest($1::varchar[], $2::varchar[]) AS r (global_device_id, data_type)
        WHERE s.global_device_id = r.global_device_id AND s.data_type = r.data_type`,
      [reads.map((read) => read.global_device_id), reads.map((read) => read.data_type)],
    );
  }

  /**
   * Whether the schedule is still as `claim` left it, or as the outcome of its read did (a retry of the same
   * read): not claimed again (its lease ran out while the read waited, or the tick that claimed it could not
   * queue it and released it), not asked to be read now by an operator, its interval not changed. A read
   * whose claim is not is left out: another claim reads it.
   */
  async holdsClaim(globalDeviceId: string, dataType: PolledType, claim: PollClaim): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM public.poll_schedules
        WHERE global_device_id = $1 AND data_type = $2
          AND next_due_at IN (${claimedDue('$3', '$4')}, $3::timestamptz + interval_minutes * interval '1 minute')`,
      [globalDeviceId, dataType, claim.at, claim.leaseMinutes],
    );
    return rows.length > 0;
  }

  /**
   * The outcome of a claimed read; with its claim, the schedule is next due a whole interval after the claim,
   * if it still holds the claim (see {@link holdsClaim}: an operator's "poll now" since is kept).
   */
  async recordOutcome(
    globalDeviceId: string,
    dataType: PolledType,
    ok: boolean,
    outcome: string,
    claim?: PollClaim,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE public.poll_schedules
          SET last_polled_at = now(), last_outcome = $3,
              consecutive_failures = CASE WHEN $4 THEN 0 ELSE consecutive_failures + 1 END,
              next_due_at = CASE WHEN $5::text IS NOT NULL AND next_due_at = ${claimedDue('$5', '$6')}
                                 THEN $5::timestamptz + interval_minutes * interval '1 minute'
                                 ELSE next_due_at END
        WHERE global_device_id = $1 AND data_type = $2`,
      [globalDeviceId, dataType, outcome.slice(0, 255), ok, claim?.at ?? null, claim?.leaseMinutes ?? null],
    );
  }

  /** meter_data_sampling: the meter now records `dataType` every `minutes`, so it is read as often. */
  async setInterval(globalDeviceId: string, dataType: PolledType, minutes: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO public.poll_schedules (global_device_id, data_type, interval_minutes) VALUES ($1, $2, $3)
       ON CONFLICT (global_device_id, data_type) DO UPDATE
         SET interval_minutes = EXCLUDED.interval_minutes,
             next_due_at = LEAST(public.poll_schedules.next_due_at, now() + EXCLUDED.interval_minutes * interval '1 minute')`,
      [globalDeviceId, dataType, minutes],
    );
  }

  /**
   * The latest timestamp stored for a meter in the table of a ranged type, not later than `now`: where the
   * next read starts. A row stamped in the future (a meter whose clock jumped ahead) is not: from it, every
   * read would ask for a range that ends before it starts, and the meter's records would not be read until
   * the clock caught up with the stamp (years, for a clock set to 2036). Rows read again are stored once.
   * The readings are partitioned by month: the latest months are asked first ({@link newestFirst}), so a
   * meter that was read lately costs a probe of a few months, not of every month ever kept.
   */
  async lastStored(
    globalDeviceId: string,
    dataType: 'LPRO' | 'EVNT' | 'MBIL',
    now: Date = new Date(),
  ): Promise<Date | undefined> {
    const [table, column, partitioned] =
      dataType === 'LPRO'
        ? ['load_profile_data', 'meter_datetime', true]
        : dataType === 'EVNT'
          ? ['events', 'event_datetime', true]
          : ['monthly_billing_data', 'meter_datetime', false];
    const latest = async (since: Date | undefined): Promise<Date | null> => {
      const [row] = await this.dataSource.query<{ last: Date | null }[]>(
        `SELECT max(${column}) AS last FROM udil.${table}
          WHERE global_device_id = $1 AND ${column} <= $2${since ? ` AND ${column} >= $3` : ''}`,
        since ? [globalDeviceId, now, since] : [globalDeviceId, now],
      );
      return row?.last ?? null;
    };
    const last = partitioned
      ? await newestFirst(latest, (found) => found !== null, now)
      : await latest(undefined);
    return last ?? undefined;
  }
}
