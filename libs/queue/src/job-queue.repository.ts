import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Job, JobsOptions, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { ALL_QUEUES, JobItem, JobName, JobPayloads, QUEUE_OF_JOB, QueueName } from './jobs';
import { QueueUnavailableError } from './queue-unavailable.error';

export type JobCounts = Record<string, number>;

/** A cron job scheduler: id, pattern with seconds, time zone, start and end, and the job it adds. */
export interface CronSchedule<N extends JobName> {
  id: string;
  pattern: string;
  tz: string;
  startDate: Date;
  endDate: Date;
  data: JobPayloads[N];
}

const COUNTED_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

/** All queue I/O goes through here, with payloads typed by job name. */
const ERROR_LOG_INTERVAL_MS = 10_000;

@Injectable()
export class JobQueueRepository implements OnModuleInit {
  private readonly logger = new Logger('Queue');
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'QUEUE_CALL_TIMEOUT_MS'>,
  ) {}

  /**
   * The call, or QueueUnavailableError when the backend does not answer within QUEUE_CALL_TIMEOUT_MS: BullMQ's
   * connections wait for Redis without limit (maxRetriesPerRequest null, the offline queue), so an add while
   * Redis is unreachable would otherwise hold its caller, e.g. an api request, until Redis is back. The
   * command itself stays queued in the client and may still run once Redis is back; every call bounded
   * here is idempotent (jobs by id), so a late one changes nothing.
   */
  private async bounded<T>(what: string, call: () => Promise<T>): Promise<T> {
    const timeoutMs = this.config.QUEUE_CALL_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms (QUEUE_CALL_TIMEOUT_MS)`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      throw error instanceof QueueUnavailableError ? error : new QueueUnavailableError(what, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connection errors go to the structured log, at most one line per queue every 10 s. */
  onModuleInit(): void {
    for (const name of ALL_QUEUES) {
      let lastLogged = 0;
      this.queue(name).on('error', (error: Error) => {
        if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return;
        lastLogged = Date.now();
        this.logger.warn({ queue: name, error: error.message }, 'queue backend unreachable');
      });
    }
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async add<N extends JobName>(
    name: N,
    data: JobPayloads[N],
    options?: JobsOptions,
  ): Promise<string | undefined> {
    const job = await this.bounded(`queue ${QUEUE_OF_JOB[name]}: add ${name}`, () =>
      this.queue(QUEUE_OF_JOB[name]).add(name, data, options),
    );
    return job.id;
  }

  /** Adds many jobs with one round trip per queue. */
  async addBulk(items: (JobItem & { opts?: JobsOptions })[]): Promise<void> {
    const byQueue = new Map<QueueName, typeof items>();
    for (const item of items) {
      const queue = QUEUE_OF_JOB[item.name];
      const list = byQueue.get(queue);
      if (list) list.push(item);
      else byQueue.set(queue, [item]);
    }
    await Promise.all(
      [...byQueue].map(([queue, jobs]) =>
        this.bounded(`queue ${queue}: add ${jobs.length} jobs`, () => this.queue(queue).addBulk(jobs)),
      ),
    );
  }

  /**
   * The ids among `jobIds` whose job will not run: none in the queue, or one that completed or failed (what
   * {@link ensureQueued} would act on).
   */
  async notQueued(name: JobName, jobIds: readonly string[]): Promise<Set<string>> {
    const found = await this.lookUp(name, jobIds);
    return new Set(
      jobIds.filter((_, index) => !found[index] || ['completed', 'failed'].includes(found[index].state)),
    );
  }

  /**
   * The payloads of those jobs among `jobIds` that will still run (waiting, delayed, prioritized or
   * active; not completed, failed or absent).
   */
  async livePayloads<N extends JobName>(name: N, jobIds: readonly string[]): Promise<JobPayloads[N][]> {
    const found = await this.lookUp(name, jobIds);
    return found.flatMap((entry) =>
      entry && entry.job.name === name && !['unknown', 'completed', 'failed'].includes(entry.state)
        ? [entry.job.data as JobPayloads[N]]
        : [],
    );
  }

  /** Each job of `jobIds` with its state (undefined: not in the queue), looked up concurrently (auto-pipelined). */
  private lookUp(
    name: JobName,
    jobIds: readonly string[],
  ): Promise<({ job: Job; state: string } | undefined)[]> {
    const queue = this.queue(QUEUE_OF_JOB[name]);
    return this.bounded(`queue ${queue.name}: look up ${jobIds.length} ${name} jobs`, () =>
      Promise.all(
        jobIds.map(async (jobId) => {
          const job = await queue.getJob(jobId);
          return job ? { job, state: await job.getState() } : undefined;
        }),
      ),
    );
  }

  /**
   * Makes sure a job with this id will run: added when the queue has none, retried when it failed,
   * replaced when it completed without finishing its work; left alone while waiting, delayed or active.
   */
  async ensureQueued<N extends JobName>(
    name: N,
    data: JobPayloads[N],
    options: JobsOptions & { jobId: string },
  ): Promise<'present' | 'added' | 'retried'> {
    const jobId = options.jobId;
    const queue = this.queue(QUEUE_OF_JOB[name]);
    return this.bounded(`queue ${queue.name}: ensure ${name} ${jobId}`, async () => {
      const job = await queue.getJob(jobId);
      if (job) {
        const state = await job.getState();
        if (state === 'failed') {
          await job.retry();
          return 'retried';
        }
        if (state !== 'completed') return 'present';
        await job.remove();
      }
      await queue.add(name, data, options);
      return 'added';
    });
  }

  /** Removes a job that has not started (a cancelled transaction); false when it is gone or running. */
  async remove(name: JobName, jobId: string): Promise<boolean> {
    const queue = this.queue(QUEUE_OF_JOB[name]);
    return (await this.bounded(`queue ${queue.name}: remove ${jobId}`, () => queue.remove(jobId))) === 1;
  }

  /**
   * Replaces every cron job scheduler of one owner (`owns` says which ids are its) by `schedules` (id, cron
   * pattern with seconds, time zone, start and end): the set of timed actions of one owner, e.g. a meter's
   * load-shedding slabs.
   */
  async replaceCronSchedules<N extends JobName>(
    name: N,
    owns: (schedulerId: string) => boolean,
    schedules: CronSchedule<N>[],
  ): Promise<void> {
    const queue = this.queue(QUEUE_OF_JOB[name]);
    const existing = await queue.getJobSchedulers(0, -1);
    for (const scheduler of existing) {
      if (owns(scheduler.key) && !schedules.some((s) => s.id === scheduler.key)) {
        await queue.removeJobScheduler(scheduler.key);
      }
    }
    await this.upsertCronSchedules(name, schedules);
  }

  /** Creates or updates cron job schedulers (idempotent: the same id is one scheduler). */
  async upsertCronSchedules<N extends JobName>(name: N, schedules: CronSchedule<N>[]): Promise<void> {
    const queue = this.queue(QUEUE_OF_JOB[name]);
    for (const schedule of schedules) {
      await queue.upsertJobScheduler(
        schedule.id,
        {
          pattern: schedule.pattern,
          tz: schedule.tz,
          startDate: schedule.startDate,
          endDate: schedule.endDate,
        },
        {
          name,
          data: schedule.data,
          opts: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 100 },
        },
      );
    }
  }

  /** Ids of the job schedulers of a queue that start with `prefix` (reads every scheduler of the queue). */
  async schedulerIds(queue: QueueName, prefix: string): Promise<Set<string>> {
    const schedulers = await this.queue(queue).getJobSchedulers(0, -1);
    return new Set(schedulers.map((s) => s.key).filter((key) => key.startsWith(prefix)));
  }

  /** How many job schedulers a queue has, of every owner (one count, not a read of each). */
  schedulerCount(queue: QueueName): Promise<number> {
    return this.queue(queue).getJobSchedulersCount();
  }

  /** Removes job schedulers by id (an id that is gone already is no error). */
  async removeSchedulers(queue: QueueName, ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.queue(queue).removeJobScheduler(id);
  }

  /** Creates or updates a repeating job (BullMQ job scheduler), idempotent across restarts. */
  async schedule<N extends JobName>(
    schedulerId: string,
    everyMs: number,
    name: N,
    data: JobPayloads[N],
  ): Promise<void> {
    await this.queue(QUEUE_OF_JOB[name]).upsertJobScheduler(
      schedulerId,
      { every: everyMs },
      { name, data, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }

  async counts(): Promise<Record<QueueName, JobCounts>> {
    const entries = await this.bounded('job counts', () =>
      Promise.all(
        ALL_QUEUES.map(
          async (name) => [name, await this.queue(name).getJobCounts(...COUNTED_STATES)] as const,
        ),
      ),
    );
    return Object.fromEntries(entries) as Record<QueueName, JobCounts>;
  }
}
