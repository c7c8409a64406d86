import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DerivedSchedules, JobName, JobQueueRepository, QUEUE_OF_JOB } from '@hes/queue';

export interface LoadSheddingSlab {
  /** "HH:mm:ss" in the configured time zone. */
  action_time: string;
  relay_operate: number;
}

interface StoredSlab {
  global_device_id: string;
  slab_index: number;
  action_time: string;
  relay_operate: number;
  start_datetime: Date;
  end_datetime: Date;
  time_zone: string;
}

const PREFIX = 'lsch:';

/**
 * Head-end load shedding: a meter's slabs are stored in public.load_shedding_slabs (the source of truth)
 * and fired by one cron job scheduler each. `restore` rebuilds the schedulers from the table, so a
 * Redis that lost its data still operates the relays at the slabs' action times.
 */
@Injectable()
export class LoadSheddingSchedules implements DerivedSchedules {
  readonly name = 'load-shedding';
  private readonly logger = new Logger('LoadShedding');
  /** The live slabs and the queue's schedulers, counted at the last pass that made them agree. */
  private agreed?: { live: number; schedulers: number };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: JobQueueRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Replaces the meter's schedule (rows first, then its job schedulers). */
  async schedule(globalDeviceId: string, start: Date, end: Date, slabs: LoadSheddingSlab[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM public.load_shedding_slabs WHERE global_device_id = $1`, [
        globalDeviceId,
      ]);
      await manager.query(
        `INSERT INTO public.load_shedding_slabs
           (global_device_id, slab_index, action_time, relay_operate, start_datetime, end_datetime, time_zone)
         SELECT $1, s.i, s.t::time, s.r, $2, $3, $4
           FROM unnest($5::int[], $6::text[], $7::int[]) AS s(i, t, r)`,
        [
          globalDeviceId,
          start,
          end,
          this.config.TIME_ZONE,
          slabs.map((_, index) => index),
          slabs.map((slab) => slab.action_time),
          slabs.map((slab) => (slab.relay_operate === 1 ? 1 : 0)),
        ],
      );
    });
    await this.install(
      globalDeviceId,
      slabs.map((slab, index) => ({
        global_device_id: globalDeviceId,
        slab_index: index,
        action_time: slab.action_time,
        relay_operate: slab.relay_operate === 1 ? 1 : 0,
        start_datetime: start,
        end_datetime: end,
        time_zone: this.config.TIME_ZONE,
      })),
    );
  }

  /** Removes the meter's schedule: its rows (so nothing rebuilds it) and its job schedulers. */
  async remove(globalDeviceId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM public.load_shedding_slabs WHERE global_device_id = $1`, [
      globalDeviceId,
    ]);
    await this.queues.replaceCronSchedules(
      JobName.LoadSheddingAction,
      isLoadSheddingSlabOf(globalDeviceId),
      [],
    );
  }

  /**
   * Keeps the queue's slab schedulers equal to the slabs that have not ended (the supervisor's pass, every
   * SCHEDULE_SUPERVISOR_SECONDS in every worker): while the live slabs and the queue's schedulers number
   * what they did at the last pass that made them agree, one count of each and nothing more; else the
   * schedulers the queue lost (a Redis that lost its data) are put back, and those of no live slab (a slab
   * that ended, a meter removed with its slabs) are removed, which BullMQ does not do itself: they would
   * pile up in Redis, be read whole by every pass and fire on for removed meters. Returns how many were put back.
   */
  async restore(): Promise<number> {
    const queue = QUEUE_OF_JOB[JobName.LoadSheddingAction];
    const live = async () =>
      (
        await this.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM public.load_shedding_slabs WHERE end_datetime > now()`,
        )
      )[0].n;
    const counts = { live: await live(), schedulers: await this.queues.schedulerCount(queue) };
    if (this.agreed?.live === counts.live && this.agreed.schedulers === counts.schedulers) return 0;
    // The queue first, then the table: a scheduler listed was installed after its slab's row was committed
    // (install writes the rows first), so a slab being installed meanwhile is never taken for an orphan.
    const present = await this.queues.schedulerIds(queue, PREFIX);
    const stored = await this.dataSource.query<StoredSlab[]>(
      `SELECT global_device_id, slab_index, to_char(action_time, 'HH24:MI:SS') AS action_time, relay_operate,
              start_datetime, end_datetime, time_zone
         FROM public.load_shedding_slabs WHERE end_datetime > now()
        ORDER BY global_device_id, slab_index`,
    );
    const wanted = new Set(stored.map((slab) => schedulerId(slab.global_device_id, slab.slab_index)));
    const missing = stored.filter(
      (slab) => !present.has(schedulerId(slab.global_device_id, slab.slab_index)),
    );
    const orphans = [...present].filter((id) => !wanted.has(id));
    if (missing.length > 0)
      await this.queues.upsertCronSchedules(
        JobName.LoadSheddingAction,
        missing.map((slab) => cronScheduleOf(slab)),
      );
    if (orphans.length > 0) {
      await this.queues.removeSchedulers(queue, orphans);
      this.logger.log(
        { removed: orphans.length },
        'removed load-shedding schedulers of slabs that ended or of removed meters',
      );
    }
    this.agreed = { live: stored.length, schedulers: await this.queues.schedulerCount(queue) };
    return missing.length;
  }

  private async install(globalDeviceId: string, slabs: StoredSlab[]): Promise<void> {
    await this.queues.replaceCronSchedules(
      JobName.LoadSheddingAction,
      isLoadSheddingSlabOf(globalDeviceId),
      slabs.map((slab) => cronScheduleOf(slab)),
    );
  }
}

function cronScheduleOf(slab: StoredSlab) {
  const [hours, minutes, seconds] = slab.action_time.split(':').map(Number);
  return {
    id: schedulerId(slab.global_device_id, slab.slab_index),
    pattern: `${seconds} ${minutes} ${hours} * * *`,
    tz: slab.time_zone,
    startDate: slab.start_datetime,
    endDate: slab.end_datetime,
    data: {
      globalDeviceId: slab.global_device_id,
      relayOperate: slab.relay_operate === 1 ? (1 as const) : (0 as const),
      actionTime: slab.action_time,
    },
  };
}

function schedulerId(globalDeviceId: string, index: number): string {
  return `${PREFIX}${globalDeviceId}:${index}`;
}

/**
 * Whether a scheduler id is one of the meter's slabs: `lsch:<id>:<slab>`, the slab a number. Not a prefix
 * match alone: a global_device_id may contain ':', and the slabs of `f12:3100001003` (`lsch:f12:3100001003:0`)
 * start with the prefix of a meter `f12`, whose new schedule would have removed them.
 */
export function isLoadSheddingSlabOf(globalDeviceId: string): (schedulerId: string) => boolean {
  const prefix = `${PREFIX}${globalDeviceId}:`;
  return (id) => id.startsWith(prefix) && /^\d+$/.test(id.slice(prefix.length));
}
