import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DelayedError, Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DriverError, GatewayEndpoint } from '@hes/drivers';
import { formatUdilDatetime } from '@hes/udil';
import {
  Claimant,
  GatewayCoordination,
  GatewayEntry,
  GatewayLease,
  KEEP_CHECK_MS,
  QueueUnavailableError,
} from '@hes/queue';

/**
 * How often a job waiting in its process for a busy gateway's lease asks the store for one (see
 * GatewayGate.awaitHandOver).
 */
export const HAND_OVER_POLL_MS = 100;

export type GatewayAdmission =
  | { kind: 'admitted'; lease: GatewayLease }
  /** Every lease of the gateway is held: try again at `retryAt` (epoch ms). */
  | { kind: 'busy'; retryAt: number }
  /** The gateway kept timing out: nothing is sent to it before `until`. */
  | { kind: 'down'; until: Date };

/**
 * Bounded concurrency per gateway without head-of-line blocking (docs/architecture.md, core idea 5). A job
 * enters its gateway before talking to it: it gets one of the gateway's max_in_flight leases (shared
 * by every worker process), or it is put back in the queue (delayed) instead of holding a worker slot
 * while it waits. A gateway whose requests keep timing out is marked down for GATEWAY_DOWN_SECONDS:
 * its jobs are deferred meanwhile, and after the down period a single further failure marks it down again.
 */
@Injectable()
export class GatewayGate {
  private readonly logger = new Logger('Gateways');
  /**
   * Jobs of this process waiting, in arrival order, for a lease another of its jobs gives back (see
   * {@link leave}), per gateway; at most the gateway's max_in_flight wait at once.
   */
  private readonly waiting = new Map<string, Array<Waiter>>();

  constructor(
    private readonly coordination: GatewayCoordination,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * How long a claimant that found its gateway busy stays on the gateway's waiting list: the longest
   * put-back delay (1.5 × GATEWAY_BUSY_DELAY_MS) and time for the queue to hand the job out again. A
   * claimant that does not come back (its work was done elsewhere) keeps a slot from others this long.
   */
  private get waitMs(): number {
    return Math.max(2000, this.config.GATEWAY_BUSY_DELAY_MS * 4);
  }

  /**
   * `claimant`: the queue job that comes back for a lease if the gateway is busy now (its id); it is kept
   * on the gateway's waiting list meanwhile (GatewayCoordination.admit).
   */
  async enter(gateway: GatewayEndpoint, claimant: Claimant): Promise<GatewayAdmission> {
    let entry: GatewayEntry;
    try {
      entry = await this.coordination.admit(gateway.id, gateway.maxInFlight, claimant, this.waitMs);
    } catch (error) {
      throw new QueueUnavailableError(`gateway ${gateway.name}: its leases could not be read`, error);
    }
    if ('downUntil' in entry) return { kind: 'down', until: entry.downUntil };
    if ('lease' in entry) return { kind: 'admitted', lease: entry.lease };
    // Every lease is held: one held by a job of this process may be handed over shortly (the usual case
    // when many of a gateway's jobs are queued at once), which saves putting the job back and taking it
    // up again. Bounded: a gateway that does not answer hands nothing over.
    const handedOver = await this.awaitHandOver(gateway, claimant);
    if (handedOver) return { kind: 'admitted', lease: handedOver };
    // Jittered, so that the jobs of a busy gateway do not all come back at the same moment.
    const delay = Math.round(this.config.GATEWAY_BUSY_DELAY_MS * (0.5 + Math.random()));
    return { kind: 'busy', retryAt: Date.now() + delay };
  }

  /**
   * Enters the gateway for a job: a lease, or the job is put back in the queue (busy: shortly; marked
   * down: until it is up again, after `deferred` recorded the reason). Work accepted at `acceptedAt` and
   * still not sent GATEWAY_DEFER_LIMIT_SECONDS later fails instead (a non-retryable DriverError naming
   * the reason).
   */
  async admit(
    gateway: GatewayEndpoint,
    job: Job,
    token: string | undefined,
    acceptedAt: Date,
    deferred: (reason: string) => Promise<void>,
  ): Promise<GatewayLease> {
    return this.admitOr(
      gateway,
      acceptedAt,
      deferred,
      (at) => this.postpone(job, token, at),
      claimantOf(job),
    );
  }

  /**
   * {@link admit} with the putting back left to `putBack` (at: epoch ms; reason: why the gateway is
   * deferred, when it is marked down): a slice of several devices puts itself back only once its running
   * devices are done. `claimant`: the job that is put back (see {@link enter}).
   */
  async admitOr(
    gateway: GatewayEndpoint,
    acceptedAt: Date,
    deferred: (reason: string) => Promise<void>,
    putBack: (at: number, reason?: string) => Promise<never>,
    claimant: Claimant,
  ): Promise<GatewayLease> {
    const admission = await this.enter(gateway, claimant);
    if (admission.kind === 'admitted') return admission.lease;
    if (admission.kind === 'busy') return putBack(admission.retryAt);
    const reason = `gateway ${gateway.name} is marked down until ${formatUdilDatetime(admission.until, this.config.TIME_ZONE)} after repeated timeouts`;
    const deadline = acceptedAt.getTime() + this.config.GATEWAY_DEFER_LIMIT_SECONDS * 1000;
    if (admission.until.getTime() > deadline)
      throw new DriverError(
        'unreachable',
        `${reason}; not sent within ${this.config.GATEWAY_DEFER_LIMIT_SECONDS} s of acceptance (GATEWAY_DEFER_LIMIT_SECONDS)`,
        false,
      );
    await deferred(`deferred: ${reason}`);
    return putBack(admission.until.getTime() + Math.round(Math.random() * 1000), `deferred: ${reason}`);
  }

  /**
   * Waits up to GATEWAY_BUSY_DELAY_MS + KEEP_CHECK_MS for a lease of the gateway: one a job of this process
   * passes on, or one the store gives the claimant (asked every {@link HAND_OVER_POLL_MS}: a lease another
   * worker's lane keeps is given back within KEEP_CHECK_MS once it hears the claimant waits, and the slot is
   * kept for the claimants waiting). Undefined when none came, the gateway was marked down meanwhile, or
   * max_in_flight jobs of this process already wait for one.
   */
  private awaitHandOver(gateway: GatewayEndpoint, claimant: Claimant): Promise<GatewayLease | undefined> {
    const queue = this.waiting.get(gateway.id) ?? [];
    if (queue.length >= Math.max(1, gateway.maxInFlight)) return Promise.resolve(undefined);
    this.waiting.set(gateway.id, queue);
    return new Promise<GatewayLease | undefined>((resolve) => {
      let done = false;
      let poll: NodeJS.Timeout | undefined;
      const finish = (lease: GatewayLease | undefined) => {
        if (done) {
          // A lease the store gave while a hand-over came (or the reverse): the waiter needs one.
          void lease?.release();
          return;
        }
        done = true;
        clearTimeout(timer);
        clearTimeout(poll);
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0 && this.waiting.get(gateway.id) === queue) this.waiting.delete(gateway.id);
        resolve(lease);
      };
      const waiter: Waiter = Object.assign((lease: GatewayLease | undefined) => finish(lease), { claimant });
      const timer = setTimeout(() => finish(undefined), this.config.GATEWAY_BUSY_DELAY_MS + KEEP_CHECK_MS);
      const ask = () => {
        poll = setTimeout(() => {
          void this.coordination.admit(gateway.id, gateway.maxInFlight, claimant, this.waitMs).then(
            (entry) => {
              if ('lease' in entry) finish(entry.lease);
              else if ('downUntil' in entry) finish(undefined);
              else if (!done) ask();
            },
            // The store cannot be asked now: the job is put back when its wait ends.
            () => undefined,
          );
        }, HAND_OVER_POLL_MS);
      };
      ask();
      queue.push(waiter);
    });
  }

  /**
   * Gives a lease up once its job is done with the gateway: to the job of this process that has waited
   * longest for the same gateway when the gateway answered (no store round trip to give it back and take
   * it again), else back to the store. Either way the lease holds no more for its former job.
   */
  async leave(lease: GatewayLease): Promise<void> {
    const first = this.waiting.get(lease.gatewayId)?.[0];
    if (first) {
      const next = await lease.handOver(first.claimant);
      // The waiter may have stopped waiting while the breaker was cleared: then it gives the lease back.
      if (next) return first(next);
    }
    await lease.release();
  }

  /**
   * The lease of a job going on to its next exchange with the same gateway (a slice's lane and its next
   * device): kept while the gateway answers and nobody waits for it (GatewayLease.carryOn); undefined when
   * it is to be left ({@link leave}), e.g. handed over to a job of this process that waits for the gateway.
   */
  async keep(lease: GatewayLease): Promise<GatewayLease | undefined> {
    if (this.waiting.get(lease.gatewayId)?.length) return undefined;
    return lease.carryOn();
  }

  /** Until when the gateway is marked down; undefined when it may be tried. */
  downUntil(gatewayId: string): Promise<Date | undefined> {
    return this.coordination.downUntil(gatewayId);
  }

  /**
   * Feeds the breaker with the outcome of an exchange: a timeout or connection failure counts against
   * the gateway, anything it answered (success or a refusal) clears its count. Returns the end of the
   * down period when this failure marked the gateway down. With the `lease` the exchange held, the count
   * is cleared when the lease is given back (in the same round trip).
   */
  async observe(gateway: GatewayEndpoint, error?: unknown, lease?: GatewayLease): Promise<Date | undefined> {
    if (isGatewayUnresponsive(error)) {
      const until = await this.coordination.recordFailure(gateway.id, {
        failures: this.config.GATEWAY_BREAKER_FAILURES,
        downMs: this.config.GATEWAY_DOWN_SECONDS * 1000,
      });
      if (until)
        this.logger.warn(
          { gateway: gateway.name, until: until.toISOString(), error: (error as Error).message },
          'gateway marked down: it keeps timing out',
        );
      return until;
    }
    if (lease) lease.answered();
    else await this.coordination.recordSuccess(gateway.id);
    return undefined;
  }

  /**
   * Runs `work` holding a lease of the gateway and feeds the breaker with its outcome; a busy gateway
   * puts the job back briefly; a gateway marked down gets `whenDown` instead of the work.
   */
  async run<T>(
    gateway: GatewayEndpoint,
    job: Job,
    token: string | undefined,
    work: () => Promise<T>,
    whenDown: (until: Date) => Promise<T>,
  ): Promise<T> {
    const admission = await this.enter(gateway, claimantOf(job));
    if (admission.kind === 'down') return whenDown(admission.until);
    if (admission.kind === 'busy') return this.postpone(job, token, admission.retryAt);
    try {
      const result = await work();
      await this.observe(gateway, undefined, admission.lease);
      return result;
    } catch (error) {
      await this.observe(gateway, error, admission.lease).catch(() => undefined);
      throw error;
    } finally {
      await this.leave(admission.lease);
    }
  }

  /**
   * Puts the job back in the queue until `at` (delayed, its attempts untouched) and ends this run of it:
   * the worker slot is free for another gateway's job meanwhile.
   */
  async postpone(job: Job, token: string | undefined, at: number): Promise<never> {
    try {
      await job.moveToDelayed(at, token);
    } catch (error) {
      // E.g. "Missing key for job" after Redis lost its data: the job cannot be put back.
      throw new QueueUnavailableError(`job ${job.id} could not be put back in the queue`, error);
    }
    throw new DelayedError(`gateway busy or down: job put back until ${new Date(at).toISOString()}`);
  }
}

/** A job of this process waiting for a lease to be handed over, and who it is on the gateway's waiting list. */
type Waiter = ((lease: GatewayLease | undefined) => void) & { claimant: Claimant };

/** The claimant a queue job is on a gateway's waiting list (its id; a job without one waits as nobody known). */
export function claimantOf(job: Job): Claimant {
  return job.id ?? `job-${randomUUID()}`;
}

/** A timeout or a connection that could not be made: the gateway, not the meter, is not answering. */
export function isGatewayUnresponsive(error: unknown): boolean {
  return (
    error instanceof DriverError &&
    error.retryable &&
    (error.kind === 'timeout' || error.kind === 'unreachable')
  );
}
