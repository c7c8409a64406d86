import { createRedisClient } from '@hes/queue';
import { DisposableRedisCluster, Failover } from '../support/redis-cluster';
import { waitFor } from '../support/test-environment';
import { FaultBench } from './fault-bench';
import { CaseResult, FaultCases } from './fault-cases';

/**
 * A Redis Cluster master failover mid-command: three masters with a replica each (cluster-node-timeout
 * 5 s, 1.5 s from just before the kill), the compiled api and worker on it, 200 simulated G13 meters on four gateways. An
 * aux_relay_operations is sent; once a quarter of its rows finished, the master holding the transactions
 * queue's hash slot is killed (SIGKILL) and its replica promoted; once the cluster is ok again a second
 * command is sent. Replication is asynchronous, so the old master may have acknowledged jobs its replica
 * never received: the reconciler (every 2 s here) queues again whatever live row lost its job. Asserted:
 * every row of both transactions at status_level 5, none lost or stuck, no 5xx other than 503, /health
 * and /health/worker healthy afterwards, nothing at error level in the logs.
 */

const GATEWAYS = 4;
const METERS_PER_GATEWAY = 50;
const QUEUE_PREFIX = 'failover';

describe('Redis Cluster master failover', () => {
  let cluster: DisposableRedisCluster;
  let bench: FaultBench;
  let cases: FaultCases;

  beforeAll(async () => {
    cluster = await DisposableRedisCluster.start({ replicas: true });
    bench = await FaultBench.start({
      gateways: GATEWAYS,
      metersPerGateway: METERS_PER_GATEWAY,
      latencyMs: 100,
      redisUrl: cluster.url,
      env: { QUEUE_PREFIX, RECONCILE_INTERVAL_SECONDS: '2' },
    });
    cases = new FaultCases(bench);
  }, 180_000);

  afterAll(async () => {
    if (cases) console.log(cases.table());
    await bench?.stop();
    await cluster?.stop();
  }, 120_000);

  it('loses nothing when the master of the transactions queue fails over mid-command', async () => {
    const queueKey = `{${QUEUE_PREFIX}:transactions}:transactions:meta`;
    let failover: Failover | undefined;
    let finishedAtKill = 0;
    /** /health's answers while the cluster was failing over, by status. */
    const health = new Map<number, number>();
    const during = await cases.run(
      'Redis Cluster master failover (relay)',
      { service: 'aux_relay_operations', operate: 0 },
      bench.meters,
      async () => {
        const master = await cluster.masterOf(queueKey);
        let failingOver = true;
        const prober = (async () => {
          while (failingOver) {
            // 0: no answer at all (the api would have crashed; the assertions below would show it).
            const status = await fetch(`${bench.apiUrl}/health`, {
              signal: AbortSignal.timeout(10_000),
            }).then(
              async (response) => (await response.arrayBuffer(), response.status),
              () => 0,
            );
            health.set(status, (health.get(status) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        })();
        // The bench's first transaction: every row so far is one of its.
        const [{ done }] = await bench.query<{ done: number }>(
          `SELECT count(*)::int AS done FROM udil.transaction_status WHERE status_level = 5`,
        );
        finishedAtKill = done;
        try {
          failover = await cluster.killMaster(master);
        } finally {
          failingOver = false;
          await prober;
        }
        console.log(JSON.stringify({ failover, finishedAtKill, health: Object.fromEntries(health) }));
      },
      // A job whose end the old master acknowledged and never replicated stays active on the new one
      // until BullMQ's stalled check takes it back (lock 30 s, checked every 30 s): a minute at worst.
      90_000,
    );
    // The master was killed while the command was being carried out.
    expect(finishedAtKill).toBeLessThan(bench.meters.length);
    expect(failover?.promoted).toBe(await cluster.masterOf(queueKey));
    const after = await cases.run(
      'second command after the failover (relay)',
      { service: 'aux_relay_operations', operate: 1 },
      bench.meters,
      () => Promise.resolve(),
      60_000,
    );

    for (const result of [during, after]) {
      expect(result).toMatchObject({ accepted: bench.meters.length, lost: 0, stuck: 0 });
      expect(result.fiveXx).toBe(result.unavailable);
      expect(levels(result)).toEqual({ '5/1': bench.meters.length });
    }
    // Both processes serve again: the api's Redis connections and the worker's consumers came back.
    await waitFor(async () => (await fetch(`${bench.apiUrl}/health`)).ok, '/health to be ok', 30_000, 250);
    await waitFor(
      async () => (await fetch(`${bench.apiUrl}/health/worker`, { signal: AbortSignal.timeout(5_000) })).ok,
      '/health/worker to be ok',
      30_000,
      250,
    );
    expect(bench.workerProblems()).toEqual([]);
    expect(bench.workerProblems(bench.api)).toEqual([]);
  });
});

/**
 * The product's fix this case found: ioredis gave a cluster command up after 16 tries (1.6 s) of
 * CLUSTERDOWN or a lost node, shorter than any failover, with an error BullMQ does not retry; a job ending
 * then stayed active until the stalled check (up to a minute). The queues' client (maxRetriesPerRequest
 * null) now waits through a failover: every command sent to the lost master's slot from its kill until its
 * replica took over is answered.
 */
describe('a waiting cluster client during a failover', () => {
  let cluster: DisposableRedisCluster;

  beforeAll(async () => {
    cluster = await DisposableRedisCluster.start({ replicas: true });
  }, 60_000);

  afterAll(() => cluster?.stop());

  it('answers every command sent while the master of its slot fails over', async () => {
    const key = '{failover-client}:counter';
    const redis = createRedisClient({ REDIS_URL: cluster.url }, { maxRetriesPerRequest: null });
    try {
      expect(await redis.incr(key)).toBe(1);
      const master = await cluster.masterOf(key);
      let failingOver = true;
      const sent: Promise<number>[] = [];
      const sender = (async () => {
        while (failingOver) {
          sent.push(redis.incr(key));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const failover = await cluster.killMaster(master).finally(() => (failingOver = false));
      await sender;
      const answers = await Promise.allSettled(sent);
      const refused = answers.filter((answer) => answer.status === 'rejected');
      console.log(JSON.stringify({ failover, sent: sent.length, refused: refused.length }));
      expect(refused).toEqual([]);
      expect(sent.length).toBeGreaterThan(10);
    } finally {
      redis.disconnect();
    }
  });
});

/** The case's rows counted by `status_level/indv_status`. */
function levels(result: CaseResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of result.rows) {
    const key = `${row.status_level}/${row.indv_status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
