import { randomBytes } from 'node:crypto';
import { AppConfig } from '@hes/config';
import {
  createRedisClient,
  GatewayCoordination,
  KEEP_CHECK_MS,
  LocalGatewayCoordination,
  RedisGatewayCoordination,
} from '@hes/queue';
import { DisposableRedisCluster } from './support/redis-cluster';
import { DisposableRedis } from './support/redis-server';
import { waitFor } from './support/test-environment';

const LEASE_SECONDS = 5;

/**
 * The leases and breaker that bound each gateway across worker processes (Redis, or a three-master Redis
 * Cluster) or in one process (local).
 */
describe.each(['redis', 'cluster', 'local'] as const)('gateway coordination (%s)', (kind) => {
  let redis: DisposableRedis | DisposableRedisCluster | undefined;
  const created: RedisGatewayCoordination[] = [];
  let prefix: string;

  const coordination = (): GatewayCoordination => {
    if (kind === 'local') return shared!;
    const instance = new RedisGatewayCoordination({
      REDIS_URL: redis!.url,
      QUEUE_PREFIX: prefix,
      GATEWAY_LEASE_SECONDS: LEASE_SECONDS,
    } as AppConfig);
    created.push(instance);
    return instance;
  };
  let shared: LocalGatewayCoordination | undefined;

  beforeAll(async () => {
    if (kind === 'redis') redis = await DisposableRedis.start();
    if (kind === 'cluster') redis = await DisposableRedisCluster.start();
  });
  beforeEach(() => {
    prefix = `t${randomBytes(4).toString('hex')}`;
    shared = new LocalGatewayCoordination();
  });
  afterAll(async () => {
    for (const instance of created) instance.onApplicationShutdown();
    await redis?.stop();
  });

  it('hands out at most max_in_flight leases of a gateway, to every process together', async () => {
    const first = coordination();
    const second = coordination();
    const a = await first.tryAcquire('gw-1', 2);
    const b = await second.tryAcquire('gw-1', 2);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(await first.tryAcquire('gw-1', 2)).toBeUndefined();
    expect(await second.tryAcquire('gw-1', 2)).toBeUndefined();
    // Another gateway has its own leases.
    const other = await second.tryAcquire('gw-2', 2);
    expect(other).toBeDefined();
    expect(await first.held('gw-1')).toBe(2);
    await a!.release();
    await a!.release(); // idempotent: gives back one lease, not two
    expect(await first.held('gw-1')).toBe(1);
    const c = await second.tryAcquire('gw-1', 2);
    expect(c).toBeDefined();
    expect(await second.tryAcquire('gw-1', 2)).toBeUndefined();
    await Promise.all([b!.release(), c!.release(), other!.release()]);
    expect(await first.held('gw-1')).toBe(0);
  });

  if (kind !== 'local') {
    it("gets a dead worker's leases back once they expire, while a live holder keeps its own", async () => {
      const dead = coordination() as RedisGatewayCoordination;
      const live = coordination();
      expect(await dead.tryAcquire('gw-1', 2)).toBeDefined();
      const kept = await live.tryAcquire('gw-1', 2);
      expect(kept).toBeDefined();
      dead.onApplicationShutdown(); // the process is gone: its lease is neither released nor renewed
      const survivor = coordination();
      const regained = await waitFor(
        () => survivor.tryAcquire('gw-1', 2),
        'the dead lease to expire',
        LEASE_SECONDS * 1000 * 3,
        250,
      );
      expect(regained).toBeDefined();
      // The live holder renewed its lease past the first expiry: the gateway is full again.
      expect(await survivor.tryAcquire('gw-1', 2)).toBeUndefined();
      await Promise.all([kept!.release(), regained.release()]);
    });
  }

  it('marks a gateway down after consecutive failures, again after one failure once it is back, and clears on success', async () => {
    const breaker = coordination();
    const settings = { failures: 3, downMs: 400 };
    expect(await breaker.recordFailure('gw-1', settings)).toBeUndefined();
    await breaker.recordSuccess('gw-1'); // an answer in between: the count starts again
    expect(await breaker.recordFailure('gw-1', settings)).toBeUndefined();
    expect(await breaker.recordFailure('gw-1', settings)).toBeUndefined();
    const until = await breaker.recordFailure('gw-1', settings);
    expect(until).toBeInstanceOf(Date);
    expect((await breaker.downUntil('gw-1'))?.getTime()).toBe(until!.getTime());
    expect(await breaker.downUntil('gw-2')).toBeUndefined();
    await waitFor(async () => (await breaker.downUntil('gw-1')) === undefined, 'the down period to end');
    // Half-open: the first failure after the down period marks it down again.
    expect(await breaker.recordFailure('gw-1', settings)).toBeInstanceOf(Date);
    await waitFor(
      async () => (await breaker.downUntil('gw-1')) === undefined,
      'the second down period to end',
    );
    await breaker.recordSuccess('gw-1');
    expect(await breaker.recordFailure('gw-1', settings)).toBeUndefined();
  });
  it('admits in one step: down until a time, busy when every lease is held, else a lease that clears the count when answered', async () => {
    const gate = coordination();
    const settings = { failures: 2, downMs: 400 };
    const first = await gate.admit('gw-1', 1, 'job-1', 2000);
    expect('lease' in first).toBe(true);
    expect(await gate.admit('gw-1', 1, 'job-1', 2000)).toEqual({ busy: true });
    if ('lease' in first) await first.lease.release();

    // A failure counted, then an exchange the gateway answered: the count starts again at its release.
    expect(await gate.recordFailure('gw-1', settings)).toBeUndefined();
    const answered = await gate.admit('gw-1', 1, 'job-1', 2000);
    if (!('lease' in answered)) throw new Error('expected a lease');
    answered.lease.answered();
    await answered.lease.release();
    expect(await gate.recordFailure('gw-1', settings)).toBeUndefined();

    // Not answered: the count stays, and the next failure marks the gateway down.
    const unanswered = await gate.admit('gw-1', 1, 'job-1', 2000);
    if (!('lease' in unanswered)) throw new Error('expected a lease');
    await unanswered.lease.release();
    const until = await gate.recordFailure('gw-1', settings);
    expect(until).toBeInstanceOf(Date);
    expect(await gate.admit('gw-1', 1, 'job-1', 2000)).toEqual({ downUntil: until });
    expect(await gate.held('gw-1')).toBe(0);
  });

  it('hands an answered lease over on the same slot: the breaker cleared, the slot still held until the last holder gives it back', async () => {
    const gate = coordination();
    const settings = { failures: 2, downMs: 400 };
    const first = await gate.tryAcquire('gw-1', 1);
    if (!first) throw new Error('expected a lease');
    // Not answered: nothing to hand over (the slot goes back to the store, past the breaker).
    expect(await first.handOver()).toBeUndefined();
    expect(await gate.recordFailure('gw-1', settings)).toBeUndefined();
    first.answered();
    const second = await first.handOver();
    expect(second).toBeDefined();
    expect(await first.handOver()).toBeUndefined(); // spent: handed over once
    await first.release(); // spent: gives nothing back
    expect(await gate.held('gw-1')).toBe(1);
    expect(await gate.tryAcquire('gw-1', 1)).toBeUndefined();
    // The failure counted before the hand-over was cleared: one more does not mark the gateway down.
    expect(await gate.recordFailure('gw-1', settings)).toBeUndefined();
    await second!.release();
    expect(await gate.held('gw-1')).toBe(0);
  });

  if (kind !== 'local') {
    it('keeps a freed slot for the claimant that found the gateway busy, not for one that comes later', async () => {
      const first = coordination();
      const second = coordination();
      const held = await first.admit('gw-1', 2, 'slice-a', 2000);
      const other = await first.admit('gw-1', 2, 'slice-x', 2000);
      if (!('lease' in held) || !('lease' in other)) throw new Error('expected two leases');
      // Every lease is held: slice-b (another worker's) goes on the waiting list.
      expect(await second.admit('gw-1', 2, 'slice-b', 2000)).toEqual({ busy: true });
      await held.lease.release();
      // One slot is free, and slice-b waits for it: a newcomer is turned away (and waits in turn) ...
      expect(await first.admit('gw-1', 2, 'slice-c', 2000)).toEqual({ busy: true });
      // ... and slice-b, back from its put-back, takes it and leaves the list.
      const waited = await second.admit('gw-1', 2, 'slice-b', 2000);
      expect('lease' in waited).toBe(true);
      if ('lease' in waited) await waited.lease.release();
      // slice-c is now the one waiting: slice-d gets nothing, slice-c the slot.
      expect(await second.admit('gw-1', 2, 'slice-d', 2000)).toEqual({ busy: true });
      await other.lease.release();
      const c = await first.admit('gw-1', 2, 'slice-c', 2000);
      const d = await second.admit('gw-1', 2, 'slice-d', 2000);
      expect('lease' in c && 'lease' in d).toBe(true);
      expect(await first.held('gw-1')).toBe(2);
      for (const entry of [c, d]) if ('lease' in entry) await entry.lease.release();
    });

    it('takes a claimant off the waiting list when a lease is handed over to it in its process', async () => {
      const gate = coordination();
      const held = await gate.admit('gw-1', 1, 'slice-a', 2000);
      if (!('lease' in held)) throw new Error('expected a lease');
      expect(await gate.admit('gw-1', 1, 'slice-b', 2000)).toEqual({ busy: true });
      held.lease.answered();
      const next = await held.lease.handOver('slice-b');
      expect(next).toBeDefined();
      await next!.release();
      // slice-b got its slot: it waits no more, and a newcomer gets the freed one.
      const c = await gate.admit('gw-1', 1, 'slice-c', 2000);
      expect('lease' in c).toBe(true);
      if ('lease' in c) await c.lease.release();
    });

    it('forgets a claimant that does not come back within its wait', async () => {
      const gate = coordination();
      const held = await gate.admit('gw-1', 1, 'slice-a', 2000);
      if (!('lease' in held)) throw new Error('expected a lease');
      expect(await gate.admit('gw-1', 1, 'slice-b', 300)).toEqual({ busy: true });
      await held.lease.release();
      expect(await gate.admit('gw-1', 1, 'slice-c', 2000)).toEqual({ busy: true });
      // slice-b's wait ends (its work was done elsewhere): the slot is anyone's again; slice-c waited.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const c = await gate.admit('gw-1', 1, 'slice-c', 2000);
      expect('lease' in c).toBe(true);
      if ('lease' in c) await c.lease.release();
    });

    it('carries a lease on while nobody waits for the gateway, and gives it back once a claimant waits', async () => {
      const holder = coordination();
      const other = coordination();
      const settings = { failures: 2, downMs: 60_000 };
      const entry = await holder.admit('gw-1', 1, 'slice-a', 2000);
      if (!('lease' in entry)) throw new Error('expected a lease');
      // Not answered: not carried on (the slot is to be given back past the breaker).
      expect(await entry.lease.carryOn()).toBeUndefined();
      entry.lease.answered();
      let lease = await entry.lease.carryOn();
      expect(lease).toBeDefined();
      expect(await entry.lease.carryOn()).toBeUndefined(); // spent
      // Carried on past its check: the store renews it and clears the breaker's count.
      expect(await holder.recordFailure('gw-1', settings)).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, KEEP_CHECK_MS + 50));
      lease!.answered();
      lease = await lease!.carryOn();
      expect(lease).toBeDefined();
      expect(await holder.recordFailure('gw-1', settings)).toBeUndefined(); // one failure, not two
      expect(await holder.held('gw-1')).toBe(1);
      // Another worker's slice finds it busy and waits: the holder's next check gives the slot back.
      expect(await other.admit('gw-1', 1, 'slice-b', 2000)).toEqual({ busy: true });
      lease!.answered();
      const quick = await lease!.carryOn(); // within KEEP_CHECK_MS of the last check: kept, store not asked
      expect(quick).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, KEEP_CHECK_MS + 50));
      quick!.answered();
      expect(await quick!.carryOn()).toBeUndefined();
      expect(await holder.held('gw-1')).toBe(0);
      await quick!.release(); // spent: gives nothing back twice
      const waited = await other.admit('gw-1', 1, 'slice-b', 2000);
      expect('lease' in waited).toBe(true);
      if ('lease' in waited) await waited.lease.release();
    });

    it('does not carry on a slot the store no longer holds (Redis lost it): the holder is admitted anew', async () => {
      const gate = coordination();
      const entry = await gate.admit('gw-1', 1, 'slice-a', 2000);
      if (!('lease' in entry)) throw new Error('expected a lease');
      // As after a FLUSHALL: a second holder takes the slot the store forgot.
      const store = createRedisClient({ REDIS_URL: redis!.url });
      try {
        expect(await store.del(`${prefix}:gateway:{gw-1}:leases`)).toBe(1);
      } finally {
        store.disconnect();
      }
      const second = await coordination().admit('gw-1', 1, 'slice-b', 2000);
      expect('lease' in second).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, KEEP_CHECK_MS + 50));
      entry.lease.answered();
      expect(await entry.lease.carryOn()).toBeUndefined();
      expect(await gate.held('gw-1')).toBe(1);
      if ('lease' in second) await second.lease.release();
    });

    it('does not hand over a slot the store no longer holds (Redis lost it): the waiting job is admitted by the store', async () => {
      const gate = coordination();
      const entry = await gate.admit('gw-1', 1, 'job-a', 2000);
      if (!('lease' in entry)) throw new Error('expected a lease');
      const store = createRedisClient({ REDIS_URL: redis!.url });
      try {
        expect(await store.del(`${prefix}:gateway:{gw-1}:leases`)).toBe(1);
      } finally {
        store.disconnect();
      }
      // Another worker takes the slot the store forgot; a job of the first worker waits for the gateway.
      const other = await coordination().admit('gw-1', 1, 'job-x', 2000);
      expect('lease' in other).toBe(true);
      expect(await gate.admit('gw-1', 1, 'job-b', 2000)).toEqual({ busy: true });
      entry.lease.answered();
      // Handed over, the forgotten slot would be a second job at the gateway beside job-x (max_in_flight 1).
      expect(await entry.lease.handOver('job-b')).toBeUndefined();
      await entry.lease.release();
      expect(await gate.held('gw-1')).toBe(1);
      if ('lease' in other) await other.lease.release();
      // job-b stayed on the waiting list: the freed slot is its own.
      const waited = await coordination().admit('gw-1', 1, 'job-c', 2000);
      expect(waited).toEqual({ busy: true });
      const b = await gate.admit('gw-1', 1, 'job-b', 2000);
      expect('lease' in b).toBe(true);
      if ('lease' in b) await b.lease.release();
    });
  }

  if (kind === 'cluster') {
    it("spreads the gateways' keys over the masters, each gateway's keys in one slot", async () => {
      const cluster = redis as DisposableRedisCluster;
      const instance = coordination();
      const gateways = Array.from({ length: 12 }, (_, i) => `gw-spread-${i}`);
      const leases = await Promise.all(gateways.map((id) => instance.tryAcquire(id, 1)));
      // The breaker's script touches three keys of a gateway: a CROSSSLOT error would reject here.
      for (const id of gateways) await instance.recordFailure(id, { failures: 1, downMs: 60_000 });
      const byNode = await cluster.keysByNode(`${prefix}:gateway:*`);
      const holders = [...byNode.values()].filter((keys) => keys.length > 0);
      expect(holders.length).toBeGreaterThan(1);
      for (const id of gateways) {
        const nodes = [...byNode.entries()].filter(([, keys]) => keys.some((key) => key.includes(`{${id}}`)));
        expect(nodes).toHaveLength(1);
        expect(nodes[0][1].filter((key) => key.includes(`{${id}}`)).sort()).toEqual(
          ['down', 'leases', 'tripped'].map((part) => `${prefix}:gateway:{${id}}:${part}`),
        );
      }
      await Promise.all(leases.map((lease) => lease!.release()));
    });
  }
});
