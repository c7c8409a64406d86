import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { ALL_QUEUES, QueueConnection, QueueName, createRedisClient } from '@hes/queue';
import { RedisFailureCounterStore, counterKey } from '@hes/security';
import { createApiApp } from '../apps/api/src/bootstrap';
import { FaultBench } from './faults/fault-bench';
import { rawRequest } from './support/raw-http';
import { DisposableRedisCluster } from './support/redis-cluster';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';

interface Row {
  global_device_id: string;
  status_level: number;
  indv_status: number;
  response_data: string | null;
}

/**
 * The compiled api and worker against a three-master Redis Cluster of their own (issue 17): REDIS_URL
 * lists the seed nodes; each queue lives under its hash-tagged prefix {QUEUE_PREFIX:queue}, and the
 * queues, gateway leases and credential counters spread over the masters. A UDIL command goes to level 5 through BullMQ, the
 * gateway leases and the breaker's scripts; credential throttling counts on the cluster; /health pings
 * it; both processes stop cleanly (SIGTERM, exit code 0) with their cluster connections closed.
 */
describe('head-end on a Redis Cluster', () => {
  let cluster: DisposableRedisCluster;
  let bench: FaultBench;
  const prefix = `t${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    cluster = await DisposableRedisCluster.start();
    bench = await FaultBench.start({
      gateways: 2,
      metersPerGateway: 3,
      redisUrl: cluster.url,
      env: {
        QUEUE_PREFIX: prefix,
        AUTH_MAX_FAILURES_PER_USERNAME: '3',
        AUTH_MAX_FAILURES_PER_ADDRESS: '50',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await bench?.stop();
    await cluster?.stop();
  });

  it('reports the cluster healthy', async () => {
    const response = await fetch(`${bench.apiUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ info: { redis: { status: 'up', backend: 'redis' } } });
  });

  it('runs time_synchronization over six meters on two gateways to status_level 5', async () => {
    const transactionid = `cluster-${Date.now()}`;
    const meters = bench.meters.map((meter) => meter.globalDeviceId);
    const submitted = await fetch(`${bench.apiUrl}/time_synchronization`, {
      method: 'POST',
      headers: { privatekey: bench.key, transactionid, 'content-type': 'application/json' },
      body: JSON.stringify({ global_device_id: meters, request_datetime: '2026-11-21 10:00:00' }),
    });
    expect(submitted.status).toBe(200);
    const rows = await waitFor(
      async () => {
        const found = await bench.query<Row>(
          `SELECT global_device_id, status_level, indv_status, response_data
             FROM udil.transaction_status WHERE transactionid = $1 ORDER BY global_device_id`,
          [transactionid],
        );
        return found.length === meters.length && found.every((row) => row.indv_status !== 0)
          ? found
          : undefined;
      },
      'every row to finish',
      60_000,
      250,
    );
    expect(rows.map((row) => [row.global_device_id, row.status_level, row.indv_status])).toEqual(
      [...meters].sort().map((id) => [id, 5, 1]),
    );
    // Each gateway was reached, never with more requests at once than its max_in_flight (2): the leases
    // that bound it are sorted sets on the cluster.
    for (const gateway of bench.fleet.gateways) {
      expect(gateway.handle.requests.length).toBeGreaterThan(0);
      expect(gateway.handle.peakConcurrency()).toBeLessThanOrEqual(2);
    }

    // Each queue's keys are under its own hash tag {prefix:queue}: one slot, so one master holds them all
    // (a queue without any job yet, e.g. MPCB's here, has no keys).
    const holdersOf = async (queue: QueueName) =>
      [...(await cluster.keysByNode(`{${prefix}:${queue}}:*`)).values()].filter((keys) => keys.length > 0);
    for (const queue of ALL_QUEUES) expect((await holdersOf(queue)).length).toBeLessThanOrEqual(1);
    expect(await holdersOf(QueueName.Transactions)).toHaveLength(1);
    expect(await holdersOf(QueueName.System)).toHaveLength(1);
    const transactions = [...(await cluster.keysByNode(`{${prefix}:transactions}:*`)).values()].flat();
    expect(transactions).toContain(`{${prefix}:transactions}:transactions:meta`);
    // Nothing was written under the bare prefix, which a cluster could not serve atomically.
    const bare = [...(await cluster.keysByNode(`${prefix}:transactions:*`)).values()].flat();
    expect(bare).toEqual([]);
    expect(bench.workerProblems()).toEqual([]);
  });

  it('counts failed credentials on the cluster and refuses a guessed username', async () => {
    const login = (username: string, password: string, from: string) =>
      rawRequest(bench.apiUrl, {
        method: 'POST',
        path: '/authorization_service',
        headers: { username, password, code: '4321' },
        localAddress: from,
      });
    for (const from of ['127.0.3.1', '127.0.3.2', '127.0.3.3'])
      expect((await login('victim', 'guess', from)).status).toBe(401);
    const refused = await login('victim', 'guess', '127.0.3.4');
    expect(refused.status).toBe(429);
    expect((refused.json as { message: string }).message).toMatch(
      /^too many failed authorizations for this username/,
    );
    // The counters are keys of the cluster: the username's and the three addresses'.
    const counters = [...(await cluster.keysByNode(`${prefix}:credential-failures:*`)).values()].flat();
    expect(counters.length).toBeGreaterThanOrEqual(4);
    expect(bench.workerProblems(bench.api)).toEqual([]);
  });

  it('reads and counts credential failures whose keys live on different masters', async () => {
    const store = new RedisFailureCounterStore(
      createRedisClient({ REDIS_URL: cluster.url }, { maxRetriesPerRequest: 1 }),
      `${prefix}s`,
    );
    try {
      const keys = Array.from({ length: 12 }, (_, i) => counterKey('username', `user-${i}`));
      await store.increment(keys, 60_000);
      await store.increment(keys.slice(0, 6), 60_000);
      const counts = await store.read(keys);
      expect(counts.map((count) => count.failures)).toEqual([2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
      for (const count of counts) expect(count.remainingMs).toBeGreaterThan(0);
      expect(await store.read([counterKey('username', 'nobody')])).toEqual([{ failures: 0, remainingMs: 0 }]);
      // The twelve keys are not all on one master: a pipeline or transaction over them would be refused.
      const byNode = await cluster.keysByNode(`${prefix}s:credential-failures:*`);
      expect([...byNode.values()].filter((found) => found.length > 0).length).toBeGreaterThan(1);
    } finally {
      await store.close();
    }
  });

  it('closes the queues and then their shared cluster client when the app closes', async () => {
    applyEnvironment(testEnvironment(bench.databaseUrl, { REDIS_URL: cluster.url, QUEUE_PREFIX: prefix }));
    const app = await createApiApp();
    await app.init();
    const { connection } = app.get(QueueConnection).options;
    expect(connection).toBeInstanceOf(Cluster);
    const queue = app.get<Queue>(getQueueToken(QueueName.System));
    expect(await queue.getJobCounts('wait')).toEqual({ wait: expect.any(Number) });
    await app.close();
    expect((connection as Cluster).status).toBe('end');
  });

  it('stops the compiled api and worker on SIGTERM through their shutdown hooks, without errors', async () => {
    await bench.worker.stop('SIGTERM');
    await bench.api.stop('SIGTERM');
    // Nest's shutdown hooks run, then re-raise the signal.
    expect(bench.worker.exit).toBe('SIGTERM');
    expect(bench.api.exit).toBe('SIGTERM');
    expect(bench.workerProblems()).toEqual([]);
    expect(bench.workerProblems(bench.api)).toEqual([]);
  });
});

/**
 * The defect behind the failover fault case's stopped consumer (docs/reliability.md): ioredis settles
 * `Cluster.connect()` only from its own attempt, so when the slots were read but the ready check failed
 * (cluster_state not ok, as while a master fails over) and ioredis reconnected by itself, the promise stayed
 * pending for good, and BullMQ's worker, which awaits it to reset its blocking connection, with it. One node
 * in cluster mode serving half the slots reports cluster_state:fail; serving them all, ok. Also: a client
 * closed between two such attempts ends (ioredis left it `disconnecting` for good).
 */
describe('connecting to a cluster that is not ok yet', () => {
  let node: DisposableRedisCluster;
  let port: number;

  beforeEach(async () => {
    node = await DisposableRedisCluster.start({ masters: 1, unassigned: true });
    [port] = node.ports;
    // A node that never met another does not know its address: CLUSTER SLOTS would name none.
    await node.node(port, (redis) => redis.config('SET', 'cluster-announce-ip', '127.0.0.1'));
    await node.node(port, (redis) => redis.cluster('ADDSLOTSRANGE', 0, 8191));
  }, 60_000);

  afterEach(() => node?.stop());

  /** Resolves with how the promise settled, or 'pending' if it had not within the time given. */
  const outcome = (promise: Promise<unknown>, ms: number) =>
    Promise.race([
      promise.then(
        () => 'resolved',
        (error: Error) => `rejected: ${error.message}`,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('pending'), ms)),
    ]);

  /** Waits until the client's ready check failed at least once and it went on by itself. */
  const reconnected = (client: Cluster) =>
    new Promise<void>((resolve) => client.once('reconnecting', () => resolve()));

  it('settles connect() once the cluster is ready, where ioredis alone waits for good', async () => {
    const settling = createRedisClient(
      { REDIS_URL: node.url, REDIS_CLUSTER: true },
      { lazyConnect: true, maxRetriesPerRequest: null },
    ) as Cluster;
    const plain = new Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true });
    try {
      const retried = Promise.all([reconnected(settling), reconnected(plain)]);
      const connecting = settling.connect();
      const plainConnecting = plain.connect();
      await retried;
      await node.node(port, (redis) => redis.cluster('ADDSLOTSRANGE', 8192, 16383));
      await waitFor(
        () => Promise.resolve(settling.status === 'ready' && plain.status === 'ready'),
        'both clients ready',
        30_000,
        50,
      );
      expect(await outcome(connecting, 5_000)).toBe('resolved');
      expect(await settling.set('settled', '1')).toBe('OK');
      // The control: ioredis alone, the same situation (not reported upstream from here: no network; if this
      // starts to resolve, ioredis fixed it and SettlingCluster's connect() can go).
      expect(await outcome(plainConnecting, 1_000)).toBe('pending');
    } finally {
      settling.disconnect();
      plain.disconnect();
    }
  });

  it('rejects connect() when the client is closed before the cluster was ever ready', async () => {
    const settling = createRedisClient(
      { REDIS_URL: node.url, REDIS_CLUSTER: true },
      { lazyConnect: true, maxRetriesPerRequest: null },
    ) as Cluster;
    const retried = reconnected(settling);
    const connecting = settling.connect();
    await retried;
    settling.disconnect();
    expect(await outcome(connecting, 5_000)).toBe('rejected: Connection is closed.');
    expect(settling.status).toBe('end');
  });
});
