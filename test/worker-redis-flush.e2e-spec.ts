import Redis from 'ioredis';
import request from 'supertest';
import { formatUdilDatetime } from '@hes/udil';
import { G13HeadEnd, TransactionRow, startG13HeadEnd } from './support/g13-head-end';
import { waitFor } from './support/test-environment';

const SERIALS = Array.from({ length: 12 }, (_, i) => String(3_100_002_001 + i));
const DEVICES = SERIALS.map((_, i) => `m${i + 1}`);
const RELAY_PORT = 1;
const ZONE = 'Asia/Karachi';

/**
 * Redis loses its data (FLUSHALL on the suite's own redis-server) while the worker keeps running: the
 * repeating jobs (reconciler, heartbeat, partition maintenance) and the load-shedding schedules come back by
 * themselves from PostgreSQL, without restarting anything (docs/architecture.md, core idea 1).
 */
describe('Redis flushed while the worker runs', () => {
  let headEnd: G13HeadEnd;
  let redis: Redis;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('redis_flush', SERIALS, {
      HEARTBEAT_INTERVAL_SECONDS: '1',
      RECONCILE_INTERVAL_SECONDS: '1',
      SCHEDULE_SUPERVISOR_SECONDS: '1',
      TRANSACTION_ATTEMPTS: '5',
      PARTITION_MAINTENANCE_SECONDS: '1',
      PARTITION_MONTHS_AHEAD: '3',
    });
    redis = new Redis(headEnd.redis.url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await headEnd?.stop();
  });

  const flush = async () => {
    await redis.flushall();
    return new Date();
  };

  const relay = (transactionid: string, devices: string[], operate: 0 | 1) =>
    request(headEnd.api.getHttpServer())
      .post('/aux_relay_operations')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .send({
        global_device_id: devices,
        request_datetime: '2026-11-21 10:00:00',
        relay_operate: String(operate),
      })
      .expect(200);

  it('finishes every accepted row whose jobs the flush deleted, with the worker still running', async () => {
    // Slow answers keep most jobs waiting in Redis when it is flushed.
    headEnd.gateway.setGatewayFaults({ latencyMs: 150 });
    const transactionid = `flush-${Date.now()}`;
    await relay(transactionid, DEVICES, 0);
    await flush();
    const rows: TransactionRow[] = await waitFor(
      async () => {
        const { rows } = await headEnd.db.query<TransactionRow>(
          `SELECT * FROM udil.transaction_status WHERE transactionid = $1`,
          [transactionid],
        );
        return rows.every((row) => row.indv_status !== 0) ? rows : undefined;
      },
      'every row to finish after the flush',
      60_000,
    );
    headEnd.gateway.clearFaults();
    expect(rows).toHaveLength(DEVICES.length);
    // Each row with its reason, so that a failure says why.
    expect(
      rows.map((row) => [row.global_device_id, row.status_level, row.indv_status, row.response_data]),
    ).toEqual(rows.map((row): unknown[] => [row.global_device_id, 5, 1, expect.anything()]));
    for (const serial of SERIALS) expect(headEnd.gateway.readOutput(serial, RELAY_PORT)).toBe(0);
  });

  it('has /health/worker answer 200 again: the heartbeat is scheduled again', async () => {
    const flushedAt = await flush();
    await waitFor(async () => {
      const { rows } = await headEnd.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM public.worker_heartbeats WHERE last_seen_at > $1`,
        [flushedAt],
      );
      return rows[0].n > 0;
    }, 'a heartbeat consumed after the flush');
    const health = await request(headEnd.api.getHttpServer()).get('/health/worker');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
  });

  it('still operates the relay at a load-shedding slab scheduled before the flush', async () => {
    const serial = SERIALS[0];
    await relay(`close-${Date.now()}`, ['m1'], 1);
    await waitFor(
      () => Promise.resolve(headEnd.gateway.readOutput(serial, RELAY_PORT) === 1),
      'relay closed',
    );
    const at = (offsetMs: number) => formatUdilDatetime(new Date(Date.now() + offsetMs), ZONE);
    const transactionid = `lsch-${Date.now()}`;
    await request(headEnd.api.getHttpServer())
      .post('/load_shedding_scheduling')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .send({
        global_device_id: ['m1'],
        request_datetime: at(0),
        start_datetime: at(-60_000),
        end_datetime: at(10 * 60_000),
        load_shedding_slabs: [{ action_time: at(8_000).slice(11), relay_operate: '0' }],
      })
      .expect(200);
    await headEnd.finished(transactionid, ['m1']);
    const { rows } = await headEnd.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM public.load_shedding_slabs WHERE global_device_id = 'm1'`,
    );
    expect(rows[0].n).toBe(1);
    await flush();
    expect(await redis.keys('*lsch*')).toEqual([]);
    await waitFor(
      () => Promise.resolve(headEnd.gateway.readOutput(serial, RELAY_PORT) === 0),
      'the slab to open the relay after the flush',
      30_000,
    );
  });

  it('removes the schedulers of slabs no longer in the table (a meter removed with its slabs)', async () => {
    /** The ids of the transactions queue's job schedulers that fire load-shedding slabs. */
    const slabSchedulers = async () => {
      const [key] = await redis.keys('*transactions:repeat');
      return key ? (await redis.zrange(key, 0, -1)).filter((id) => id.startsWith('lsch:')) : [];
    };
    await waitFor(async () => (await slabSchedulers()).length === 1, 'the slab scheduler put back');
    expect(await slabSchedulers()).toEqual(['lsch:m1:0']);
    // As the removal of the meter does, by its foreign key's cascade.
    await headEnd.db.query(`DELETE FROM public.load_shedding_slabs WHERE global_device_id = 'm1'`);
    await waitFor(async () => (await slabSchedulers()).length === 0, 'the orphan scheduler removed');
    // The head-end's own repeating jobs stay.
    const [system] = await redis.keys('*system:repeat');
    expect(await redis.zrange(system, 0, -1)).toContain('transaction-reconcile');
  });

  it('creates monthly partitions ahead again: the maintenance job is scheduled again', async () => {
    const now = new Date();
    const month = (offset: number) =>
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1))
        .toISOString()
        .slice(0, 7)
        .replace('-', '');
    // The migration makes the current and the next month; the worker (PARTITION_MONTHS_AHEAD 3) the rest.
    const furthest = `load_profile_data_p${month(3)}`;
    const exists = async () => {
      const { rows } = await headEnd.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'udil'::regnamespace AND relname = $1`,
        [furthest],
      );
      return rows[0].n === 1;
    };
    await waitFor(exists, `${furthest} created by the worker`);
    await flush();
    await headEnd.db.query(`DROP TABLE udil.${furthest}`);
    expect(await exists()).toBe(false);
    await waitFor(exists, `${furthest} created again after the flush`, 30_000);
  });
});
