import { Queue, createRedisBackend, setDefaultBackendFactory } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { AppConfig, parseEnvironment } from '@hes/config';
import {
  CLUSTER_FAILOVER_WAIT_MS,
  configureQueueBackend,
  createRedisClient,
  queueKeyPrefix,
} from './queue-connection';

const config = (env: Record<string, string>): AppConfig =>
  parseEnvironment({
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/hes',
    CREDENTIALS_ENCRYPTION_KEY: 'a'.repeat(64),
    QUEUE_PREFIX: 'hes',
    ...env,
  });

describe('Redis connections', () => {
  it("makes a single-server client with the URL's credentials, database and TLS", () => {
    const client = createRedisClient(config({ REDIS_URL: 'rediss://u:p@cache.local:6380/4' }), {
      lazyConnect: true,
      connectionName: 'test',
    });
    expect(client).toBeInstanceOf(Redis);
    const { options } = client as Redis;
    expect(options).toMatchObject({
      host: 'cache.local',
      port: 6380,
      username: 'u',
      password: 'p',
      db: 4,
      tls: {},
      connectionName: 'test',
    });
    client.disconnect();
  });

  it('makes a cluster client from the seed nodes, the node options in redisOptions', () => {
    const client = createRedisClient(config({ REDIS_URL: 'redis://:pw@h1:7000,h2:7001,h3:7002' }), {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => 500,
    });
    expect(client).toBeInstanceOf(Cluster);
    const cluster = client as Cluster;
    expect(cluster.options.redisOptions).toMatchObject({ password: 'pw', maxRetriesPerRequest: null });
    expect(cluster.options.clusterRetryStrategy?.(1)).toBe(500);
    // ioredis's auto-pipelining answers MOVED for good after a failover on a cluster (queue-connection.ts).
    const pipelining = createRedisClient(config({ REDIS_URL: 'redis://h1:7000,h2:7001' }), {
      lazyConnect: true,
      enableAutoPipelining: true,
    }) as Cluster;
    expect(pipelining.options.enableAutoPipelining).toBe(false);
    pipelining.disconnect();
    expect(cluster.status).toBe('wait');
    cluster.disconnect();
  });

  it('lets a cluster client that waits for Redis retry through a failover, and a fail-fast one give up as ioredis does', () => {
    const url = { REDIS_URL: 'redis://h1:7000,h2:7001' };
    const waiting = createRedisClient(config(url), {
      lazyConnect: true,
      maxRetriesPerRequest: null,
    }) as Cluster;
    // Each try after CLUSTERDOWN or a lost node waits retryDelayOnClusterDown / retryDelayOnFailover.
    const { maxRedirections = 0, retryDelayOnClusterDown = 0, retryDelayOnFailover = 0 } = waiting.options;
    expect(maxRedirections * retryDelayOnClusterDown).toBe(CLUSTER_FAILOVER_WAIT_MS);
    expect(maxRedirections * retryDelayOnFailover).toBe(CLUSTER_FAILOVER_WAIT_MS);
    expect(CLUSTER_FAILOVER_WAIT_MS).toBeGreaterThan(15_000 + 5_000); // cluster-node-timeout's default + election
    const failFast = createRedisClient(config(url), {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    }) as Cluster;
    expect(failFast.options.maxRedirections).toBe(16);
    waiting.disconnect();
    failFast.disconnect();
  });

  it('hash-tags each queue on a cluster only, so single-server keys stay as they were', () => {
    expect(queueKeyPrefix(config({ REDIS_URL: 'redis://127.0.0.1:6379' }), 'transactions')).toBe('hes');
    expect(queueKeyPrefix(config({ REDIS_URL: 'redis://h1:7000,h2:7001' }), 'transactions')).toBe(
      '{hes:transactions}',
    );
    expect(queueKeyPrefix(config({ REDIS_URL: 'redis://h1:7000', REDIS_CLUSTER: 'true' }), 'system')).toBe(
      '{hes:system}',
    );
    const single = configureQueueBackend(config({ REDIS_URL: 'redis://127.0.0.1:6379/1' }));
    expect(single).toEqual({
      connection: expect.objectContaining({
        host: '127.0.0.1',
        port: 6379,
        db: 1,
        maxRetriesPerRequest: null,
      }),
      prefix: 'hes',
    });
    const clustered = configureQueueBackend(config({ REDIS_URL: 'redis://h1:7000,h2:7001' }));
    expect(clustered.connection).toBeInstanceOf(Cluster);
    // The prefix is the queue's own, set by the backend factory: a queue made now carries it.
    const queue = new Queue('transactions', { connection: clustered.connection, prefix: 'ignored' });
    expect(queue.qualifiedName).toBe('{hes:transactions}:transactions');
    expect(queue.keys.wait).toBe('{hes:transactions}:transactions:wait');
    (clustered.connection as Cluster).disconnect();
    setDefaultBackendFactory(createRedisBackend);
  });
});
