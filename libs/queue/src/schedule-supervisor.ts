import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobName, JobPayloads } from './jobs';
import { JobQueueRepository } from './job-queue.repository';
import { GatewayCoordination, RedisGatewayCoordination } from './gateway-leases';

/** Schedules derived from PostgreSQL (e.g. load-shedding slabs) that the supervisor rebuilds. */
export interface DerivedSchedules {
  readonly name: string;
  /** Puts back the schedulers the queue lost; returns how many it restored. */
  restore(): Promise<number>;
}

interface RepeatingJob {
  schedulerId: string;
  everyMs: number;
  name: JobName;
  data: JobPayloads[JobName];
}

/**
 * Keeps every repeating job of this process alive (docs/architecture.md, core idea 1): the job schedulers
 * are upserted at start, again every SCHEDULE_SUPERVISOR_SECONDS and after the queue backend
 * reconnects, and derived schedules are rebuilt from PostgreSQL, so that a Redis that lost its data
 * (FLUSHALL, a restart without persistence) gets its reconciler, heartbeat, poll tick, MPCB cycles and
 * load-shedding slabs back without restarting the worker. Upserting a scheduler is idempotent.
 */
@Injectable()
export class ScheduleSupervisor implements OnApplicationShutdown {
  private readonly logger = new Logger('Schedules');
  private readonly jobs = new Map<string, RepeatingJob>();
  private readonly derived: DerivedSchedules[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastFailureLogged = 0;
  private stopped = false;
  private readonly watchConnection?: () => void;

  constructor(
    private readonly queues: JobQueueRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    coordination: GatewayCoordination,
  ) {
    // A reconnect to Redis (it restarted, maybe empty) is heard on the coordination connection.
    if (coordination instanceof RedisGatewayCoordination) {
      const redis = coordination.connection;
      // The connection is lazy: a process that keeps repeating jobs opens it so that it hears reconnects.
      this.watchConnection = () => {
        if (redis.status === 'wait') redis.connect().catch(() => undefined);
      };
      let connectedBefore = false;
      coordination.connection.on('ready', () => {
        if (connectedBefore && this.jobs.size > 0) this.reconnected();
        connectedBefore = true;
      });
    }
  }

  /** Schedules a repeating job now and keeps it scheduled for the life of the process. */
  async keep<N extends JobName>(
    schedulerId: string,
    everyMs: number,
    name: N,
    data: JobPayloads[N],
  ): Promise<void> {
    this.jobs.set(schedulerId, { schedulerId, everyMs, name, data });
    await this.queues.schedule(schedulerId, everyMs, name, data);
    this.start();
  }

  /** Rebuilds these schedules on every pass (they decide themselves what is missing). */
  keepDerived(schedules: DerivedSchedules): void {
    this.derived.push(schedules);
    this.start();
  }

  /** One pass: every repeating job upserted, every derived schedule restored. Concurrent calls share a pass. */
  assert(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    try {
      for (const job of this.jobs.values()) {
        await this.queues.schedule(job.schedulerId, job.everyMs, job.name, job.data);
      }
      for (const schedules of this.derived) {
        const restored = await schedules.restore();
        if (restored > 0)
          this.logger.warn({ schedules: schedules.name, restored }, 'restored schedules the queue had lost');
      }
    } catch (error) {
      // The backend is unreachable: the next pass (or the reconnect) tries again.
      if (Date.now() - this.lastFailureLogged > 60_000) {
        this.lastFailureLogged = Date.now();
        this.logger.warn({ error: (error as Error).message }, 'could not re-assert the repeating jobs');
      }
    }
  }

  private start(): void {
    if (this.timer || this.stopped) return;
    this.watchConnection?.();
    this.timer = setInterval(() => void this.assert(), this.config.SCHEDULE_SUPERVISOR_SECONDS * 1000);
    this.timer.unref();
  }

  /** The queue backend connected again: whatever it lost comes back now rather than at the next pass. */
  reconnected(): void {
    void this.assert();
  }

  /** No further passes; resolves once the running one ended (the worker stops before its pools close). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }
}
