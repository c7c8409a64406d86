import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { waitFor } from './test-environment';

const run = promisify(execFile);

/** Whether a TCP port can be listened on at 127.0.0.1 now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** cluster-node-timeout while a cluster starts and runs (Redis's default is 15 s). */
const NODE_TIMEOUT_MS = 5000;
/** cluster-node-timeout set by killMaster just before the kill, so that the replica takes over within seconds. */
const FAILOVER_NODE_TIMEOUT_MS = 1500;

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

/** A node as one line of CLUSTER NODES describes it. */
export interface ClusterNode {
  id: string;
  port: number;
  /** myself, master, slave, fail, fail?, … */
  flags: string[];
  /** The master's id for a replica; '-' for a master. */
  masterId: string;
  /** Slot ranges served, e.g. [[0, 5460]] (masters only). */
  slots: [number, number][];
}

export interface RedisClusterOptions {
  /** Masters (default 3). */
  masters?: number;
  /** One replica per master, so that a master killed (killMaster) is failed over. Default: no replicas. */
  replicas?: boolean;
  /**
   * Start the nodes in cluster mode and nothing more: no `redis-cli --cluster create`, no slot served, every
   * node reporting cluster_state:fail until a test assigns slots itself (CLUSTER ADDSLOTSRANGE).
   */
  unassigned?: boolean;
}

/** What killMaster saw: the master's port, the replica that took over its slots, and how long it took. */
export interface Failover {
  killed: number;
  promoted: number;
  ms: number;
}

/**
 * A throw-away Redis Cluster of three masters (by default without replicas; with `replicas`, one each) on
 * free ports, each redis-server in a temporary folder of its own (its nodes.conf), without persistence;
 * stop() kills them and removes the folders.
 */
export class DisposableRedisCluster {
  /** Each node's redis-server, by port. */
  private readonly processes = new Map<number, ChildProcess>();
  private readonly dirs: string[] = [];
  /** Every node's port (masters first, then their replicas, as `redis-cli --cluster create` paired them). */
  readonly ports: number[] = [];

  /** The seed-node form of REDIS_URL: every node, comma-separated. */
  get url(): string {
    return `redis://${this.ports.map((port) => `127.0.0.1:${port}`).join(',')}`;
  }

  static async start(options: RedisClusterOptions = {}): Promise<DisposableRedisCluster> {
    const cluster = new DisposableRedisCluster();
    try {
      await cluster.boot(options.masters ?? 3, options.replicas ?? false, options.unassigned ?? false);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private async boot(masters: number, replicas: boolean, unassigned: boolean): Promise<void> {
    const taken = new Set<number>();
    for (let i = 0; i < (replicas ? 2 * masters : masters); i += 1) {
      const port = await freeClusterPort(taken);
      taken.add(port).add(port + 10000);
      const dir = mkdtempSync(join(tmpdir(), 'hes-redis-cluster-'));
      this.dirs.push(dir);
      this.ports.push(port);
      // stdio ignored: a node's log would only fill the test's output.
      this.processes.set(
        port,
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, 'nodes.conf'),
            '--cluster-node-timeout',
            String(NODE_TIMEOUT_MS),
            '--dir',
            dir,
            '--save',
            '',
            '--appendonly',
            'no',
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of this.ports) {
      await waitFor(async () => (await this.node(port, (redis) => redis.ping())) === 'PONG', `node ${port}`);
    }
    if (unassigned) return;
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      replicas ? '1' : '0',
      '--cluster-yes',
    ]);
    // Every node must agree that all 16384 slots are served before a client is pointed at it.
    for (const port of this.ports) {
      await waitFor(
        async () =>
          /cluster_state:ok/.test(await this.node(port, (redis) => redis.cluster('INFO'))) &&
          /cluster_slots_assigned:16384/.test(await this.node(port, (redis) => redis.cluster('INFO'))),
        `cluster state ok on node ${port}`,
      );
    }
    // A replica can take over only once it has its master's data: every master serving slots has a replica
    // online. The topology is read again on every look: a node may have been failed over meanwhile.
    if (replicas) {
      await waitFor(
        async () => {
          for (const master of (await this.nodes()).filter(
            (node) => node.flags.includes('master') && node.slots.length > 0,
          )) {
            const replication = await this.node(master.port, (redis) => redis.info('replication'));
            if (!/^slave\d+:.*state=online/m.test(replication)) return false;
          }
          return true;
        },
        'a replica in sync with every master',
        60_000,
      );
    }
  }

  /** The cluster's nodes as a node that is up sees them (CLUSTER NODES). */
  async nodes(): Promise<ClusterNode[]> {
    return parseClusterNodes(
      await this.node(this.running(), (redis) => redis.cluster('NODES') as Promise<string>),
    );
  }

  /** The port of the master serving a key's hash slot (CLUSTER KEYSLOT). */
  async masterOf(key: string): Promise<number> {
    const slot = await this.node(this.running(), (redis) => redis.cluster('KEYSLOT', key));
    const master = (await this.nodes()).find(
      (node) =>
        node.flags.includes('master') &&
        !node.flags.includes('fail') &&
        node.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master.port;
  }

  /**
   * Kills a master hard (SIGKILL: no goodbye to its replica or its clients) and waits until every
   * surviving node reports cluster_state:ok with the killed master's slots served by its former replica.
   */
  async killMaster(port: number, timeoutMs = 30_000): Promise<Failover> {
    const before = await this.nodes();
    const master = before.find((node) => node.port === port && node.flags.includes('master'));
    if (!master) throw new Error(`node ${port} is not a master`);
    const replica = before.find((node) => node.masterId === master.id);
    if (!replica) throw new Error(`master ${port} has no replica to take over`);
    // The failure detection shortened for the kill only: with 2 shared cores busy, a short timeout from the
    // start failed over masters that were merely slow (a replica then never came in sync with its master).
    for (const survivor of this.ports.filter((candidate) => this.isRunning(candidate)))
      await this.node(survivor, (redis) =>
        redis.config('SET', 'cluster-node-timeout', String(FAILOVER_NODE_TIMEOUT_MS)),
      );
    const started = Date.now();
    const child = this.processes.get(port)!;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    const survivors = this.ports.filter((candidate) => this.isRunning(candidate));
    await waitFor(
      async () => {
        for (const survivor of survivors) {
          const info = await this.node(survivor, (redis) => redis.cluster('INFO'));
          if (!/cluster_state:ok/.test(info)) return false;
          const nodes = parseClusterNodes(
            await this.node(survivor, (redis) => redis.cluster('NODES') as Promise<string>),
          );
          const promoted = nodes.find((node) => node.id === replica.id);
          if (!promoted?.flags.includes('master')) return false;
          if (JSON.stringify(promoted.slots) !== JSON.stringify(master.slots)) return false;
        }
        return true;
      },
      `replica ${replica.port} to take over from master ${port}`,
      timeoutMs,
      100,
    );
    return { killed: port, promoted: replica.port, ms: Date.now() - started };
  }

  /** A node that is up. */
  private running(): number {
    const port = this.ports.find((candidate) => this.isRunning(candidate));
    if (port === undefined) throw new Error('no node of the cluster is running');
    return port;
  }

  private isRunning(port: number): boolean {
    const child = this.processes.get(port);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Runs a command on one node (not through the cluster). */
  async node<T>(port: number, command: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await redis.connect();
      return await command(redis);
    } finally {
      redis.disconnect();
    }
  }

  /** The keys each running node holds that match the pattern (KEYS on a small test cluster), by port. */
  async keysByNode(pattern: string): Promise<Map<number, string[]>> {
    const result = new Map<number, string[]>();
    for (const port of this.ports.filter((candidate) => this.isRunning(candidate)))
      result.set(port, await this.node(port, (redis) => redis.keys(pattern)));
    return result;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.processes.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** CLUSTER NODES: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        flags: flags.split(','),
        masterId,
        slots: slots
          // Slots being migrated ([slot->-id]) are not served yet.
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [from, to = from] = slot.split('-').map(Number);
            return [from, to] as [number, number];
          }),
      };
    });
}
