import { Injectable, Logger, OnModuleInit, SetMetadata } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { DelayedError, Job, Worker } from 'bullmq';
import { ALL_JOBS, JobName, JobPayloads, QUEUE_OF_JOB, QueueName } from './jobs';

const JOB_HANDLER = Symbol('JOB_HANDLER');

/** Marks a provider method as the handler of one job name. */
export const JobHandler = (name: JobName) => SetMetadata(JOB_HANDLER, name);

/** `token` is the worker's lock on the job: a handler needs it to put its job back (moveToDelayed). */
type Handler = (data: JobPayloads[JobName], job: Job, token?: string) => Promise<unknown>;

export class JobHandlerRegistrationError extends Error {}

/**
 * Finds every @JobHandler at start-up and routes jobs to them. A job name with no handler, or with
 * two, stops the worker from starting: a job must never sit in a queue nobody consumes.
 */
@Injectable()
export class JobDispatcher implements OnModuleInit {
  private readonly logger = new Logger('Job');
  private readonly handlers = new Map<JobName, Handler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = (instance as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const name = Reflect.getMetadata(JOB_HANDLER, fn) as JobName | undefined;
        if (!name) continue;
        if (this.handlers.has(name)) {
          throw new JobHandlerRegistrationError(
            `job ${name} has two handlers (second: ${wrapper.name}.${method})`,
          );
        }
        this.handlers.set(name, (fn as Handler).bind(instance));
      }
    }
    const missing = ALL_JOBS.filter((name) => !this.handlers.has(name));
    if (missing.length > 0) {
      throw new JobHandlerRegistrationError(`no handler registered for job(s): ${missing.join(', ')}`);
    }
  }

  /**
   * Logs a queue worker's errors (at most one line per queue every 10 s) instead of leaving them to
   * BullMQ's console fallback. "Missing key for job" means the backend lost the job while it ran (Redis
   * flushed or restarted empty): its row is still in PostgreSQL and the reconciler queues it again.
   */
  watch(queue: QueueName, worker: Worker): void {
    let lastLogged = 0;
    worker.on('error', (error: Error) => {
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      const lost = /Missing key for job/.test(error.message);
      this.logger.warn(
        { queue, error: error.message },
        lost
          ? 'the queue backend lost a running job; the reconciler queues its work again'
          : 'queue worker error',
      );
    });
  }

  /** Runs the handler of a job taken from `queue`, with one structured log line per job. */
  async dispatch(queue: QueueName, job: Job, token?: string): Promise<unknown> {
    const name = job.name as JobName;
    const handler = this.handlers.get(name);
    if (!handler || QUEUE_OF_JOB[name] !== queue) {
      throw new Error(`job ${job.name} is not a job of queue ${queue}`);
    }
    const started = process.hrtime.bigint();
    const context = { queue, job: name, jobId: job.id, attempt: job.attemptsMade + 1 };
    try {
      const result = await handler(job.data as JobPayloads[JobName], job, token);
      this.logger.log({ ...context, outcome: 'completed', ms: elapsedMs(started) });
      return result;
    } catch (error) {
      if (error instanceof DelayedError) {
        // Put back by its handler (e.g. its gateway is busy): not a failure, and no attempt spent.
        this.logger.debug({
          ...context,
          outcome: 'postponed',
          ms: elapsedMs(started),
          reason: error.message,
        });
        throw error;
      }
      this.logger.warn({
        ...context,
        outcome: 'failed',
        ms: elapsedMs(started),
        error: (error as Error).message,
      });
      throw error;
    }
  }
}

function elapsedMs(started: bigint): number {
  return Number((process.hrtime.bigint() - started) / 1000n) / 1000;
}
