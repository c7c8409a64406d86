import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { RedisClient, createRedisClient } from './queue-connection';

/** One of a gateway's max_in_flight slots, held by one job of one worker process. */
export interface GatewayLease {
  readonly gatewayId: string;
  /**
   * The gateway answered while this lease was held: its failure count and half-open state are cleared
   * (as by recordSuccess), in Redis together with the release (one round trip for both).
   */
  answered(): void;
  /**
   * Passes the slot on to another job of this process without giving it back to the store: when the
   * gateway answered while this lease was held, its breaker is cleared (as release would) and a fresh
   * lease on the same slot is returned; this one is then spent (its release does nothing). Undefined
   * when the gateway did not answer (the slot must be given back, so that a failing gateway's jobs
   * meet its breaker on entry) or when the lease was already released or passed on.
   */
  handOver(to?: Claimant): Promise<GatewayLease | undefined>;
  /**
   * Keeps the slot for the holder's own next exchange with the same gateway (a slice's lane going on to its
   * next device) without giving it back and taking it again: a fresh lease on the same slot when the
   * gateway answered while this one was held and no other claimant waits for the gateway; else undefined,
   * and the slot is given back (a claimant waits) or is to be (not answered, see {@link handOver}). The
   * store is asked, and the breaker's count cleared, at most every {@link KEEP_CHECK_MS} per slot: a lane
   * that keeps getting answers pays no store round trip per device for its lease (docs/reliability.md).
   */
  carryOn(): Promise<GatewayLease | undefined>;
  /** Gives the slot back (idempotent). */
  release(): Promise<void>;
}

/**
 * Who asks for a lease: the queue job (its id) that will come back for it when the gateway is busy. A busy
 * gateway keeps the claimant on its waiting list, and a slot that frees up is kept for the claimants on
 * that list (GatewayCoordination.admit): a job put back because another worker's jobs held every lease
 * gets one when it comes back, instead of finding them all taken again.
 */
export type Claimant = string;

/**
 * How often a kept lease asks the store whether another claimant waits for its gateway
 * (GatewayLease.carryOn), and clears the breaker's count of failures meanwhile.
 */
export const KEEP_CHECK_MS = 500;

/** What admit found: a lease, the gateway marked down until a time, or every lease held (busy). */
export type GatewayEntry = { lease: GatewayLease } | { downUntil: Date } | { busy: true };

export interface BreakerSettings {
  /** Consecutive timeouts / connection failures that mark a gateway down. */
  failures: number;
  downMs: number;
}

/**
 * The state gateways share across every worker process (docs/architecture.md, core idea 5): the leases that
 * bound requests in flight per gateway, and the circuit breaker that marks a gateway that keeps timing
 * out as down for a while. Kept in the queue backend's Redis so that N workers allow max_in_flight,
 * not N × max_in_flight; a lease expires unless its holder renews it, so a dead worker's leases come
 * back by themselves.
 */
export abstract class GatewayCoordination {
  /**
   * {@link downUntil} and, when the gateway is not marked down, a lease: in one round trip. A claimant on
   * the gateway's waiting list takes any free lease (and leaves the list); any other only a lease that
   * leaves one free for each claimant waiting. When none is free, the claimant goes on the waiting list
   * (busy) for `waitMs`: the time in which it is expected back.
   */
  abstract admit(gatewayId: string, limit: number, claimant: Claimant, waitMs: number): Promise<GatewayEntry>;
  /** A free lease of the gateway, or undefined when `limit` are held (the caller must not wait for one). */
  abstract tryAcquire(gatewayId: string, limit: number): Promise<GatewayLease | undefined>;
  /** Leases held now (for tests and metrics). */
  abstract held(gatewayId: string): Promise<number>;
  /** When the gateway is marked down: until when; undefined when it may be tried. */
  abstract downUntil(gatewayId: string): Promise<Date | undefined>;
  /**
   * Counts a timeout or connection failure. Returns the end of the down period when this failure marked
   * the gateway down. After a down period the first failure marks it down again (half-open).
   */
  abstract recordFailure(gatewayId: string, settings: BreakerSettings): Promise<Date | undefined>;
  /** The gateway answered: its failure count and half-open state are cleared. */
  abstract recordSuccess(gatewayId: string): Promise<void>;
}

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/**
 * KEYS: leases, down, waiting. ARGV: limit, lease ms, token, claimant, wait ms. The down expiry (ms) when
 * marked down, else 1 (acquired) or 0 (busy: the claimant is on the waiting list until now + wait ms).
 */
const ADMIT = `
local down = redis.call('GET', KEYS[2])
if down then return tonumber(down) end
${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local waiting = redis.call('ZSCORE', KEYS[3], ARGV[4])
local free = tonumber(ARGV[1]) - held
if (waiting and free > 0) or (not waiting and free > redis.call('ZCARD', KEYS[3])) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if waiting then redis.call('ZREM', KEYS[3], ARGV[4]) end
  return 1
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 0`;

/**
 * KEYS: leases, failures, tripped, waiting. ARGV: lease ms, token. The holder of an answered lease goes on
 * with it (1: renewed) unless a claimant waits for the gateway, or the store no longer counts the slot as
 * held (it expired, or Redis lost it): 0, the slot is given back and the holder must be admitted anew.
 * Either way the breaker's count is cleared (the gateway answered).
 */
const KEEP = `${NOW}
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local expires = redis.call('ZSCORE', KEYS[1], ARGV[2])
if redis.call('ZCARD', KEYS[4]) > 0 or not expires or tonumber(expires) <= now then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/**
 * KEYS: leases, failures, tripped, waiting. ARGV: token, claimant (may be empty). An answered lease handed over
 * in the process: the breaker cleared (the gateway answered) and 1, or 0 when the store no longer counts the
 * slot as held (it expired, or Redis lost it): not handed over, the claimant stays on the waiting list and is
 * admitted by the store, which counts every slot it gives.
 */
const HAND_OVER = `${NOW}
redis.call('DEL', KEYS[2], KEYS[3])
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires or tonumber(expires) <= now then return 0 end
if ARGV[2] ~= '' then redis.call('ZREM', KEYS[4], ARGV[2]) end
return 1`;

/** KEYS: leases, failures, tripped. ARGV: token, '1' when the gateway answered (the breaker is cleared). */
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('DEL', KEYS[2], KEYS[3]) end
return 1`;

const RENEW = `${NOW}
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return renewed`;

const HELD = `${NOW}
return redis.call('ZCOUNT', KEYS[1], now + 1, '+inf')`;

/** KEYS: failures, down, tripped. ARGV: threshold, down ms. Returns the down expiry (ms) or 0. */
const FAILURE = `${NOW}
local down = tonumber(ARGV[2])
local failures = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], down * 4)
local threshold = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 1 then threshold = 1 end
if failures >= threshold and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], now + down, 'PX', down)
  redis.call('SET', KEYS[3], 1, 'PX', down * 4)
  redis.call('DEL', KEYS[1])
  return now + down
end
return 0`;

/** A Lua script of this file, called with its keys, then its arguments. */
type ScriptCall = (...keysAndArguments: (string | number)[]) => Promise<unknown>;

/** Leases and breaker in Redis (QUEUE_BACKEND=redis): shared by every api and worker process. */
@Injectable()
export class RedisGatewayCoordination extends GatewayCoordination implements OnApplicationShutdown {
  private readonly redis: RedisClient;
  private readonly leaseMs: number;
  /** Renewal timers of the leases this process holds. */
  private readonly renewals = new Set<NodeJS.Timeout>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super();
    this.leaseMs = config.GATEWAY_LEASE_SECONDS * 1000;
    this.redis = createRedisClient(config, {
      connectionName: 'hes-gateways',
      lazyConnect: true,
      // Every running job enters and leaves its gateway: what they send in the same turn goes as one write
      // (on a single server; never on a cluster, see createRedisClient).
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // Failures surface to the caller of each command; ioredis would otherwise print every reconnect.
    this.redis.on('error', () => undefined);
    this.admitScript = this.script('hesGatewayAdmit', 3, ADMIT);
    this.keepScript = this.script('hesGatewayKeep', 4, KEEP);
    this.handOverScript = this.script('hesGatewayHandOver', 4, HAND_OVER);
    this.acquireScript = this.script('hesGatewayAcquire', 1, ACQUIRE);
    this.releaseScript = this.script('hesGatewayRelease', 3, RELEASE);
    this.renewScript = this.script('hesGatewayRenew', 1, RENEW);
    this.heldScript = this.script('hesGatewayHeld', 1, HELD);
    this.failureScript = this.script('hesGatewayFailure', 3, FAILURE);
  }

  private readonly admitScript: ScriptCall;
  private readonly keepScript: ScriptCall;
  private readonly handOverScript: ScriptCall;
  private readonly acquireScript: ScriptCall;
  private readonly releaseScript: ScriptCall;
  private readonly renewScript: ScriptCall;
  private readonly heldScript: ScriptCall;
  private readonly failureScript: ScriptCall;

  /**
   * A script sent by its SHA-1 (EVALSHA): ioredis sends its text once per connection, and again only when
   * Redis answers NOSCRIPT (restarted, flushed). Every job enters and leaves its gateway through these:
   * EVAL with the whole text each time cost the worker and Redis the text's bytes and hash per call.
   */
  private script(name: string, keys: number, lua: string): ScriptCall {
    this.redis.defineCommand(name, { numberOfKeys: keys, lua });
    // defineCommand adds the method by name at run time; ioredis's types cannot name it.
    const call = (this.redis as unknown as Record<string, ScriptCall>)[name];
    return call.bind(this.redis);
  }

  /** The connection used, for the schedule supervisor to hear reconnects on. */
  get connection(): RedisClient {
    return this.redis;
  }

  /**
   * A gateway's keys share the hash tag {gatewayId}, so the breaker's three-key script stays in one slot of
   * a Redis Cluster while the gateways spread over its nodes.
   */
  private key(gatewayId: string, part: string): string {
    return `${this.config.QUEUE_PREFIX}:gateway:{${gatewayId}}:${part}`;
  }

  async admit(gatewayId: string, limit: number, claimant: Claimant, waitMs: number): Promise<GatewayEntry> {
    const token = randomUUID();
    const leases = this.key(gatewayId, 'leases');
    const answer = Number(
      await this.admitScript(
        leases,
        this.key(gatewayId, 'down'),
        this.key(gatewayId, 'waiting'),
        Math.max(1, limit),
        this.leaseMs,
        token,
        claimant,
        Math.max(1, Math.round(waitMs)),
      ),
    );
    if (answer === 0) return { busy: true };
    if (answer !== 1) return { downUntil: new Date(answer) };
    return { lease: this.leaseOf(gatewayId, leases, token) };
  }

  async tryAcquire(gatewayId: string, limit: number): Promise<GatewayLease | undefined> {
    const token = randomUUID();
    const leases = this.key(gatewayId, 'leases');
    const acquired = await this.acquireScript(leases, Math.max(1, limit), this.leaseMs, token);
    return acquired === 1 ? this.leaseOf(gatewayId, leases, token) : undefined;
  }

  /** The lease `token` this process acquired: renewed while held, given back once. */
  private leaseOf(gatewayId: string, leases: string, token: string): GatewayLease {
    // Renewed while held, so that only a dead holder's lease expires.
    const renewal = setInterval(
      () => void this.renewScript(leases, this.leaseMs, token).catch(() => undefined),
      Math.max(1000, Math.floor(this.leaseMs / 3)),
    );
    renewal.unref();
    this.renewals.add(renewal);
    return this.holderOf(gatewayId, leases, token, { renewal, checkedAt: Date.now() });
  }

  /**
   * One holder of the slot `token` (a lease handed over or carried on gets a new holder, same slot and
   * renewal; `slot.checkedAt`: when a holder of the slot last asked the store whether it may keep it or
   * handed it over, epoch ms).
   */
  private holderOf(
    gatewayId: string,
    leases: string,
    token: string,
    slot: { renewal: NodeJS.Timeout; checkedAt: number },
  ): GatewayLease {
    let spent = false;
    let answered = false;
    const stopRenewing = () => {
      clearInterval(slot.renewal);
      this.renewals.delete(slot.renewal);
    };
    return {
      gatewayId,
      answered: () => {
        answered = true;
      },
      handOver: async (to?: Claimant) => {
        if (spent || !answered) return undefined;
        spent = true;
        slot.checkedAt = Date.now();
        // What the release would have done with an answered lease: the breaker's count is cleared
        // before the next holder can add to it (same connection, so in this order); the next holder
        // leaves the waiting list it joined when it found the gateway busy.
        const held = await this.handOverScript(
          leases,
          this.key(gatewayId, 'failures'),
          this.key(gatewayId, 'tripped'),
          this.key(gatewayId, 'waiting'),
          token,
          to ?? '',
        ).catch(() => 1); // the store cannot be asked: the slot in hand goes on, as it would have
        if (held === 0) {
          // A slot the store forgot, passed from job to job, would let one more job in than max_in_flight
          // for as long as jobs wait for it: given up, and the waiting job is admitted by the store.
          stopRenewing();
          return undefined;
        }
        return this.holderOf(gatewayId, leases, token, slot);
      },
      carryOn: async () => {
        if (spent || !answered) return undefined;
        const now = Date.now();
        if (now - slot.checkedAt < KEEP_CHECK_MS) {
          spent = true;
          return this.holderOf(gatewayId, leases, token, slot);
        }
        slot.checkedAt = now;
        let kept: unknown;
        try {
          kept = await this.keepScript(
            leases,
            this.key(gatewayId, 'failures'),
            this.key(gatewayId, 'tripped'),
            this.key(gatewayId, 'waiting'),
            this.leaseMs,
            token,
          );
        } catch {
          // The store cannot be asked: the slot is left as a release leaves it (it expires if need be).
          return undefined;
        }
        spent = true;
        if (kept === 1) return this.holderOf(gatewayId, leases, token, slot);
        stopRenewing();
        return undefined;
      },
      release: async () => {
        if (spent) return;
        spent = true;
        stopRenewing();
        // A lease that cannot be given back (Redis unreachable) expires by itself.
        await this.releaseScript(
          leases,
          this.key(gatewayId, 'failures'),
          this.key(gatewayId, 'tripped'),
          token,
          answered ? '1' : '0',
        ).catch(() => undefined);
      },
    };
  }

  async held(gatewayId: string): Promise<number> {
    return Number(await this.heldScript(this.key(gatewayId, 'leases')));
  }

  async downUntil(gatewayId: string): Promise<Date | undefined> {
    const until = await this.redis.get(this.key(gatewayId, 'down'));
    return until ? new Date(Number(until)) : undefined;
  }

  async recordFailure(gatewayId: string, settings: BreakerSettings): Promise<Date | undefined> {
    const until = Number(
      await this.failureScript(
        this.key(gatewayId, 'failures'),
        this.key(gatewayId, 'down'),
        this.key(gatewayId, 'tripped'),
        settings.failures,
        settings.downMs,
      ),
    );
    return until > 0 ? new Date(until) : undefined;
  }

  async recordSuccess(gatewayId: string): Promise<void> {
    await this.redis.del(this.key(gatewayId, 'failures'), this.key(gatewayId, 'tripped'));
  }

  /** After the worker stopped taking jobs (see WorkerShutdown): the last leases are given back first. */
  onApplicationShutdown(): void {
    for (const renewal of this.renewals) clearInterval(renewal);
    this.renewals.clear();
    if (this.redis.status !== 'end') this.redis.disconnect();
  }
}

/**
 * Leases and breaker in this process (QUEUE_BACKEND=postgres, the single-process embedded mode): the
 * same rules without a shared store.
 */
@Injectable()
export class LocalGatewayCoordination extends GatewayCoordination {
  private readonly leases = new Map<string, Set<symbol>>();
  private readonly failures = new Map<string, number>();
  private readonly down = new Map<string, number>();
  private readonly tripped = new Map<string, number>();

  /** One process: no other worker's claimant to wait for (its jobs wait for hand-overs in GatewayGate). */
  async admit(gatewayId: string, limit: number): Promise<GatewayEntry> {
    const downUntil = await this.downUntil(gatewayId);
    if (downUntil) return { downUntil };
    const lease = await this.tryAcquire(gatewayId, limit);
    return lease ? { lease } : { busy: true };
  }

  tryAcquire(gatewayId: string, limit: number): Promise<GatewayLease | undefined> {
    const held = this.leases.get(gatewayId) ?? new Set<symbol>();
    this.leases.set(gatewayId, held);
    if (held.size >= Math.max(1, limit)) return Promise.resolve(undefined);
    const token = Symbol(gatewayId);
    held.add(token);
    return Promise.resolve(this.holderOf(gatewayId, held, token));
  }

  private holderOf(gatewayId: string, held: Set<symbol>, token: symbol): GatewayLease {
    let spent = false;
    let answered = false;
    const passOn = (): Promise<GatewayLease | undefined> => {
      if (spent || !answered) return Promise.resolve(undefined);
      spent = true;
      return Promise.resolve(this.holderOf(gatewayId, held, token));
    };
    return {
      gatewayId,
      answered: () => {
        answered = true;
        void this.recordSuccess(gatewayId);
      },
      handOver: passOn,
      // In one process the breaker is cleared by answered() itself, and nobody else waits: carrying on is
      // handing over to oneself.
      carryOn: passOn,
      release: () => {
        if (spent) return Promise.resolve();
        spent = true;
        held.delete(token);
        return Promise.resolve();
      },
    };
  }

  held(gatewayId: string): Promise<number> {
    return Promise.resolve(this.leases.get(gatewayId)?.size ?? 0);
  }

  downUntil(gatewayId: string): Promise<Date | undefined> {
    const until = this.down.get(gatewayId);
    return Promise.resolve(until !== undefined && until > Date.now() ? new Date(until) : undefined);
  }

  recordFailure(gatewayId: string, settings: BreakerSettings): Promise<Date | undefined> {
    const now = Date.now();
    const failures = (this.failures.get(gatewayId) ?? 0) + 1;
    this.failures.set(gatewayId, failures);
    const halfOpen = (this.tripped.get(gatewayId) ?? 0) > now;
    const isDown = (this.down.get(gatewayId) ?? 0) > now;
    if (isDown || failures < (halfOpen ? 1 : settings.failures)) return Promise.resolve(undefined);
    this.down.set(gatewayId, now + settings.downMs);
    this.tripped.set(gatewayId, now + settings.downMs * 4);
    this.failures.delete(gatewayId);
    return Promise.resolve(new Date(now + settings.downMs));
  }

  recordSuccess(gatewayId: string): Promise<void> {
    this.failures.delete(gatewayId);
    this.tripped.delete(gatewayId);
    return Promise.resolve();
  }
}
