import {
  ConnectionOptions,
  createPostgresBackend,
  createRedisBackend,
  setDefaultBackendFactory,
} from 'bullmq';
import Redis, { Cluster, ClusterNode, ClusterOptions } from 'ioredis';
import { AppConfig, RedisTarget, isRedisCluster, parseRedisUrl } from '@hes/config';

/** A connection to the queues' Redis: one server, or a Redis Cluster (same commands, keys routed by slot). */
export type RedisClient = Redis | Cluster;

/** What each user of Redis tunes; the rest (nodes, credentials, TLS, database) comes from REDIS_URL. */
export interface RedisClientOptions {
  connectionName?: string;
  lazyConnect?: boolean;
  /** null: a command waits for the connection however long (BullMQ's blocking connections need this). */
  maxRetriesPerRequest?: number | null;
  enableOfflineQueue?: boolean;
  /**
   * Commands sent in the same event-loop turn go as one write (ioredis auto-pipelining). On a single server
   * only: see {@link createRedisClient}.
   */
  enableAutoPipelining?: boolean;
  connectTimeout?: number;
  /** Delay before the next reconnect (for a cluster: before the next try to reach any seed node). */
  retryStrategy?: (times: number) => number;
}

function credentials(target: RedisTarget) {
  return { username: target.username, password: target.password, tls: target.tls ? {} : undefined };
}

type RedisConfig = Pick<AppConfig, 'REDIS_URL'> & Partial<Pick<AppConfig, 'REDIS_CLUSTER'>>;

/** ioredis's pause before a cluster command is tried again after CLUSTERDOWN or a lost node connection. */
const CLUSTER_RETRY_DELAY_MS = 100;
/**
 * How long a command of a cluster client that waits (maxRetriesPerRequest null: BullMQ's) goes on being
 * tried while the cluster is down or a master is lost: longer than a failover (a master is found failed
 * after cluster-node-timeout, 15 s by default, then a replica is elected). ioredis counts these tries
 * against maxRedirections, 16 by default: 1.6 s, after which the command fails with "Too many Cluster
 * redirections", an error BullMQ does not retry (only "Connection is closed." and ECONNREFUSED), so a job
 * ending during a failover stayed active until its lock lapsed and the stalled check took it back (up to
 * a minute).
 */
export const CLUSTER_FAILOVER_WAIT_MS = 60_000;

/**
 * ioredis's Cluster with a `connect()` that always settles. ioredis resolves `Cluster.connect()` only from the
 * attempt's own ready check and rejects it only if the cluster closes before its slots were read: when the
 * slots were read and the ready check then failed (`CLUSTER INFO` not yet `cluster_state:ok`, as during a
 * master failover), ioredis reconnects by itself and the first attempt's promise never settles, in ioredis 5
 * and 6 alike. BullMQ's worker awaits that promise when it resets its blocking connection after a `BZPOPMIN`
 * its watchdog gave up on: the worker's fetch loop then waited for good (no job taken from that queue again,
 * the worker not stopping on SIGTERM). Seen in test/faults/redis-cluster-failover.fault-spec.ts after a
 * failover of 3.5 s and more (3 of 15 runs on 2026-12-01). Here `connect()` also settles when the cluster
 * becomes ready (resolved) or ends (rejected), whichever attempt brought it there; and `disconnect()` ends a
 * client caught between two attempts (below). Tested by test/redis-cluster.e2e-spec.ts ("not ok yet").
 */
export class SettlingCluster extends Cluster {
  constructor(
    private readonly seedNodes: ClusterNode[],
    options?: ClusterOptions,
  ) {
    super(seedNodes, options);
  }

  override connect(): Promise<void> {
    // Refused at once by ioredis ("already connecting/connected"): nothing to wait for.
    const refused = ['connecting', 'connect', 'ready'].includes(this.status);
    const attempt = super.connect();
    return refused ? attempt : Promise.race([attempt, readyOrEnd(this)]);
  }

  /**
   * ioredis ends a cluster client once its node pool has drained, and a client between two attempts
   * (`reconnecting`: the pool emptied when the last attempt closed) has no node left to drain: its
   * `disconnect()` stopped the next attempt and left it `disconnecting` for good, without `end`, so a close
   * awaiting `end` (BullMQ's) waited for good. Such a client ends here the way ioredis ends one that never
   * connected.
   */
  override disconnect(reconnect = false): void {
    const drained = this.status !== 'wait' && this.nodes().length === 0;
    super.disconnect(reconnect);
    if (drained && !reconnect && this.status === 'disconnecting') {
      // Cluster's own steps for a client without nodes (private in its typings, as in its 'wait' branch).
      const cluster = this as unknown as { setStatus(status: string): void; handleCloseEvent(): void };
      cluster.setStatus('close');
      cluster.handleCloseEvent();
    }
  }

  /** BullMQ's workers duplicate the queues' client for their blocking connections: a SettlingCluster too. */
  override duplicate(
    overrideStartupNodes: ClusterNode[] = [],
    overrideOptions: ClusterOptions = {},
  ): Cluster {
    return new SettlingCluster(
      overrideStartupNodes.length > 0 ? overrideStartupNodes : this.seedNodes.slice(0),
      {
        ...this.options,
        ...overrideOptions,
      },
    );
  }
}

/**
 * Per cluster client, the wait for its next `ready` (resolved) or `end` (rejected): one pair of listeners
 * however many connects wait on it (ioredis's own reconnects, every 100 ms while a cluster is down, call
 * `connect()` too). Outside the class: a field would be reset after the constructor, whose `connect()` (when
 * not lazy) already set it.
 */
const readyOrEndOf = new WeakMap<Cluster, Promise<void>>();

function readyOrEnd(cluster: Cluster): Promise<void> {
  let waiting = readyOrEndOf.get(cluster);
  if (!waiting) {
    waiting = new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        cluster.off('ready', onReady);
        cluster.off('end', onEnd);
        readyOrEndOf.delete(cluster);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = (): void => settle();
      const onEnd = (): void => settle(new Error('Connection is closed.'));
      cluster.once('ready', onReady);
      cluster.once('end', onEnd);
    });
    readyOrEndOf.set(cluster, waiting);
  }
  return waiting;
}

/**
 * The one place where connections to Redis are made (queues, gateway leases, credential throttling,
 * health): a single server, or, when REDIS_URL lists a cluster's seed nodes (or REDIS_CLUSTER=true), an
 * ioredis Cluster that learns the other nodes and follows slot moves by itself. Every multi-key
 * command and script of the system keeps its keys in one hash slot (see docs/reliability.md).
 */
export function createRedisClient(config: RedisConfig, options: RedisClientOptions = {}): RedisClient {
  const target = parseRedisUrl(config.REDIS_URL!);
  const { lazyConnect, enableOfflineQueue, enableAutoPipelining, retryStrategy, ...perConnection } = options;
  const node = { ...credentials(target), ...perConnection };
  if (!isRedisCluster(config)) {
    return new Redis({
      ...target.nodes[0],
      ...node,
      db: target.db,
      lazyConnect,
      enableOfflineQueue,
      enableAutoPipelining,
      retryStrategy,
    });
  }
  return new SettlingCluster(target.nodes, {
    redisOptions: node,
    lazyConnect,
    enableOfflineQueue,
    // Never on a cluster: ioredis groups auto-pipelined commands by node and handles a MOVED answer per
    // pipeline, so after a failover the commands of a moved slot kept going to the old node and were answered
    // MOVED for good (ioredis issue 2075, open). Seen as the gateway leases' "MOVED 7569 …" on every
    // admission after a master failover of 3.5 s, every slice failing until the test gave up
    // (test/faults/redis-cluster-failover.fault-spec.ts, 2 of 7 runs on 2026-12-01).
    enableAutoPipelining: false,
    clusterRetryStrategy: retryStrategy,
    retryDelayOnClusterDown: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnFailover: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnTryAgain: CLUSTER_RETRY_DELAY_MS,
    // A client that waits for Redis waits through a failover too; the others fail fast, as on one server.
    ...(options.maxRetriesPerRequest === null
      ? { maxRedirections: CLUSTER_FAILOVER_WAIT_MS / CLUSTER_RETRY_DELAY_MS }
      : {}),
  });
}

/**
 * BullMQ's key prefix of a queue: QUEUE_PREFIX on a single server (the keys as they always were); on a
 * cluster `{<QUEUE_PREFIX>:<queue>}`, a hash tag per queue (BullMQ's advice for several queues): every key
 * a BullMQ script of that queue touches is in one slot, and the queues spread over the masters.
 */
export function queueKeyPrefix(config: RedisConfig & Pick<AppConfig, 'QUEUE_PREFIX'>, queue: string): string {
  return isRedisCluster(config) ? `{${config.QUEUE_PREFIX}:${queue}}` : config.QUEUE_PREFIX;
}

/**
 * Points every BullMQ Queue and Worker of this process at the configured backend and returns the
 * connection options to hand them. Redis is the production backend; PostgreSQL (BullMQ 6's
 * PostgreSQL backend, in the same database) serves the zero-service embedded mode.
 */
export function configureQueueBackend(config: AppConfig): { connection: ConnectionOptions; prefix?: string } {
  if (config.QUEUE_BACKEND === 'postgres') {
    setDefaultBackendFactory(createPostgresBackend);
    return {
      // A node-postgres pool config; `schema` is the namespace of the queue tables, created on connect.
      connection: {
        connectionString: config.DATABASE_URL,
        schema: `${config.QUEUE_PREFIX}_queues`,
        migrate: true,
        max: 10,
      },
    };
  }
  if (isRedisCluster(config)) {
    // Each queue, worker and scheduler is built by this factory, with its queue's own hash-tagged prefix.
    setDefaultBackendFactory((name, opts, flags) =>
      createRedisBackend(name, { ...opts, prefix: queueKeyPrefix(config, name) } as typeof opts, flags),
    );
    // BullMQ takes a cluster only as a client: the queues share it, each worker duplicates it.
    return {
      connection: createRedisClient(config, { connectionName: 'hes-queues', maxRetriesPerRequest: null }),
    };
  }
  setDefaultBackendFactory(createRedisBackend);
  const target = parseRedisUrl(config.REDIS_URL!);
  return {
    connection: {
      ...target.nodes[0],
      ...credentials(target),
      db: target.db,
      maxRetriesPerRequest: null,
    },
    prefix: config.QUEUE_PREFIX,
  };
}
