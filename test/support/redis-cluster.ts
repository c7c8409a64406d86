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

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

/**
 * A throw-away Redis Cluster of three masters (no replicas) on free ports, each redis-server in a
 * temporary folder of its own (its nodes.conf), without persistence; stop() kills them and removes the
 * folders.
 */
export class DisposableRedisCluster {
  private readonly processes: ChildProcess[] = [];
  private readonly dirs: string[] = [];
  readonly ports: number[] = [];

  /** The seed-node form of REDIS_URL: every master, comma-separated. */
  get url(): string {
    return `redis://${this.ports.map((port) => `127.0.0.1:${port}`).join(',')}`;
  }

  static async start(masters = 3): Promise<DisposableRedisCluster> {
    const cluster = new DisposableRedisCluster();
    try {
      await cluster.boot(masters);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private async boot(masters: number): Promise<void> {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i += 1) {
      const port = await freeClusterPort(taken);
      taken.add(port).add(port + 10000);
      const dir = mkdtempSync(join(tmpdir(), 'hes-redis-cluster-'));
      this.dirs.push(dir);
      this.ports.push(port);
      // stdio ignored: a node's log would only fill the test's output.
      this.processes.push(
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
            '5000',
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
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
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

  /** The keys each node holds that match the pattern (KEYS on a small test cluster), by port. */
  async keysByNode(pattern: string): Promise<Map<number, string[]>> {
    const result = new Map<number, string[]>();
    for (const port of this.ports) result.set(port, await this.node(port, (redis) => redis.keys(pattern)));
    return result;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(
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
