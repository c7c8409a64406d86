import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { createWorkerApp } from '../apps/worker/src/bootstrap';
import { G13SimulatorHandle, startG13Simulator } from '../apps/simulator/src/g13';
import { GatewayRepository } from '@hes/database';
import { GatewayCoordination } from '@hes/queue';
import { HungGateway, startHungGateway } from './support/hung-gateway';
import { DisposableRedis } from './support/redis-server';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';
import { TransactionRow } from './support/g13-head-end';
import { DEVICE_CREATION_ATTRIBUTES, authorizedKey } from './support/udil-client';

const HEALTHY = Array.from({ length: 24 }, (_, i) => String(3_100_003_001 + i));
const BEHIND_HUNG = Array.from({ length: 12 }, (_, i) => String(3_100_004_001 + i));
const ON_THE_BUS = '3100003099';
const RELAY_PORT = 1;

/**
 * Bounded concurrency per gateway without head-of-line blocking (docs/architecture.md, core idea 5): a gateway
 * that accepts TCP and never answers does not hold the worker's slots, the max_in_flight of a gateway
 * holds across worker processes, and device_creation does not wait for the hung gateway in turn.
 */
describe('a hung gateway beside healthy ones', () => {
  let database: TestDatabase;
  let redis: DisposableRedis;
  let healthy: G13SimulatorHandle;
  let hung: HungGateway;
  let api: INestApplication<App>;
  let db: Client;
  let key: string;
  let hungGatewayId: string;
  let healthyGatewayId: string;
  const workers: INestApplication[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase('gw_isolation');
    redis = await DisposableRedis.start();
    hung = await startHungGateway();
    healthy = await startG13Simulator({
      meters: [
        ...HEALTHY.map((serial) => ({ serial, phases: 3 as const })),
        { serial: ON_THE_BUS, phases: 1 as const, registered: false },
      ],
      users: [{ name: 'hes', password: 'gateway-secret' }],
      latencyMs: 20,
    });
    applyEnvironment(
      testEnvironment(database.url, {
        REDIS_URL: redis.url,
        // Few slots: before gateway leases, every one of them waited for the hung gateway.
        WORKER_CONCURRENCY: '2',
        TRANSACTION_ATTEMPTS: '3',
        TRANSACTION_BACKOFF_MS: '50',
        RECONCILE_INTERVAL_SECONDS: '5',
        GATEWAY_BUSY_DELAY_MS: '100',
        GATEWAY_BREAKER_FAILURES: '2',
        GATEWAY_DOWN_SECONDS: '3',
        GATEWAY_DEFER_LIMIT_SECONDS: '5',
        DEVICE_CREATION_GATEWAY_TIMEOUT_MS: '1500',
        UDIL_ON_DEMAND_WAIT_SECONDS: '5',
        MCS_WORKER_CONCURRENCY: '2',
        MCS_COLLECTION_ATTEMPTS: '3',
        MCS_COLLECTION_BACKOFF_MS: '50',
      }),
    );
    api = (await createApiApp()) as INestApplication<App>;
    await api.init();
    const gateways = api.get(GatewayRepository);
    // Named first: the order in which the old code asked gateways one after the other.
    const hungGateway = await gateways.create({
      name: 'a-hung',
      driver: 'ABB_G13',
      endpoint: hung.url,
      tlsMode: 'insecure',
      username: 'hes',
      password: 'gateway-secret',
      maxInFlight: 2,
      requestTimeoutMs: 4000,
    });
    const healthyGateway = await gateways.create({
      name: 'b-healthy',
      driver: 'ABB_G13',
      endpoint: healthy.url,
      tlsMode: 'pinned',
      tlsFingerprintSha256: healthy.certificateFingerprintSha256,
      username: 'hes',
      password: 'gateway-secret',
      maxInFlight: 2,
      requestTimeoutMs: 4000,
    });
    hungGatewayId = hungGateway.id;
    healthyGatewayId = healthyGateway.id;
    db = new Client({ connectionString: database.url });
    await db.connect();
    const register = (serials: string[], gatewayId: string, prefix: string) =>
      db.query(
        `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
         SELECT $3 || s, s::bigint, 'ABB_G13', $2, s FROM unnest($1::text[]) AS s`,
        [serials, gatewayId, prefix],
      );
    await register(HEALTHY, healthyGateway.id, 'ok-');
    await register(BEHIND_HUNG, hungGateway.id, 'hung-');
    key = await authorizedKey(api);
    // Two workers with their own drivers and G13 clients: two processes as far as the gateway can tell.
    for (let i = 0; i < 2; i++) {
      const worker = await createWorkerApp();
      await worker.init();
      workers.push(worker);
    }
    // A migrated database, a simulator, the api and two workers: more than a minute on a busy machine.
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await db?.end();
    await api?.close();
    await healthy?.stop();
    await hung?.stop();
    await redis?.stop();
    await database?.drop();
  });

  const rowsOf = async (transactionid: string, prefix: string) =>
    (
      await db.query<TransactionRow>(
        `SELECT * FROM udil.transaction_status WHERE transactionid = $1 AND global_device_id LIKE $2 || '%'`,
        [transactionid, prefix],
      )
    ).rows;

  it('creates a device on the healthy gateway without asking the hung one in turn', async () => {
    const transactionid = `create-${Date.now()}`;
    await request(api.getHttpServer())
      .post('/device_creation')
      .set('privatekey', key)
      .set('transactionid', transactionid)
      .send({
        device_identity: [{ dsn: ON_THE_BUS, global_device_id: 'created-1' }],
        ...DEVICE_CREATION_ATTRIBUTES,
      })
      .expect(200);
    const row = await waitFor(
      async () => {
        const [found] = (
          await db.query<TransactionRow>(`SELECT * FROM udil.transaction_status WHERE transactionid = $1`, [
            transactionid,
          ])
        ).rows;
        return found && found.indv_status !== 0 ? found : undefined;
      },
      'device_creation to finish',
      15_000,
    );
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(row.response_data).toBe(`meter ${ON_THE_BUS} created on gateway b-healthy`);
  });
  it('finishes the healthy meters while the hung gateway holds none of the slots, and fails its meters with a reason', async () => {
    healthy.resetStats();
    const transactionid = `hung-${Date.now()}`;
    // The hung gateway's meters first: queued ahead of the healthy ones.
    await request(api.getHttpServer())
      .post('/aux_relay_operations')
      .set('privatekey', key)
      .set('transactionid', transactionid)
      .send({
        global_device_id: [...BEHIND_HUNG.map((s) => `hung-${s}`), ...HEALTHY.map((s) => `ok-${s}`)],
        request_datetime: '2026-11-21 10:00:00',
        relay_operate: '0',
      })
      .expect(200);
    const done = await waitFor(
      async () => {
        const rows = await rowsOf(transactionid, 'ok-');
        return rows.length === HEALTHY.length && rows.every((row) => row.indv_status !== 0)
          ? rows
          : undefined;
      },
      'the healthy meters to finish',
      30_000,
    );
    for (const row of done) expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    for (const serial of HEALTHY) expect(healthy.readOutput(serial, RELAY_PORT)).toBe(0);
    // Two workers of two slots each, and never more than max_in_flight requests at the gateway.
    expect(healthy.peakConcurrency()).toBeLessThanOrEqual(2);

    const behindHung = await waitFor(
      async () => {
        const rows = await rowsOf(transactionid, 'hung-');
        return rows.every((row) => row.indv_status !== 0) ? rows : undefined;
      },
      'the hung gateway meters to end',
      60_000,
    );
    expect(behindHung).toHaveLength(BEHIND_HUNG.length);
    for (const row of behindHung) {
      expect(row.indv_status).toBe(2);
      expect(row.response_data).toMatch(/no complete answer within 4000 ms|gateway a-hung is marked down/);
    }
    // Most were never sent: once marked down, the gateway got no more of them.
    expect(behindHung.filter((row) => /marked down/.test(row.response_data ?? '')).length).toBeGreaterThan(
      BEHIND_HUNG.length / 2,
    );
  });

  /** Submits an MCS collection request of the meter at `serialNumber` behind the gateway at `remoteAddress`. */
  const submitCollection = (
    requestReference: string,
    remoteAddress: string,
    serialNumber: string,
    priority: number,
  ) =>
    request(api.getHttpServer())
      .post('/mcs/collection-request')
      .send({
        requestReference,
        // Nothing listens there: deliveries fail and are retried, which these cases do not look at.
        responseUrl: 'http://127.0.0.1:9/master',
        mpan: '1200012345678',
        priority,
        meterType: 'ABB_G13',
        remoteAddress,
        serialNumber,
      })
      .expect(200);

  it('takes gateway leases for MCS collections: the hung gateway holds no worker slot and never more than max_in_flight connections', async () => {
    // The previous case marked the hung gateway down: start from a gateway that may be tried again.
    const coordination = workers[0].get(GatewayCoordination);
    await waitFor(
      async () => ((await coordination.downUntil(hungGatewayId)) ? undefined : true),
      'the hung gateway to be tried again',
      15_000,
    );
    healthy.resetStats();
    hung.resetPeak();
    const stamp = Date.now();
    const submit = async (remoteAddress: string, serialNumber: string, priority: number) => {
      const requestReference = `mcs-${stamp}-${serialNumber}`;
      await submitCollection(requestReference, remoteAddress, serialNumber, priority);
      return requestReference;
    };
    // The hung gateway's collections first and ahead in priority: two workers of two MCS slots each
    // would all wait for it if a collection held its slot while waiting for the gateway.
    const behindHung = await Promise.all(
      BEHIND_HUNG.slice(0, 8).map((s) => submit(new URL(hung.url).host, s, 1)),
    );
    const onHealthy = await Promise.all(
      HEALTHY.slice(0, 8).map((s) => submit(new URL(healthy.url).host, s, 5)),
    );
    const rowsOf = async (references: string[]) =>
      (
        await db.query<{ request_reference: string; state: string; result_summary: string | null }>(
          `SELECT request_reference, state, result_summary FROM mcs.collection_requests
            WHERE request_reference = ANY($1)`,
          [references],
        )
      ).rows;

    await waitFor(
      async () => ((await rowsOf(onHealthy)).every((row) => row.state === 'completed') ? true : undefined),
      'the healthy gateway collections to complete',
      30_000,
    );
    for (const row of await rowsOf(onHealthy)) expect(row.result_summary).toBe('SUCCESS');
    expect(healthy.peakConcurrency()).toBeLessThanOrEqual(2);

    const ended = await waitFor(
      async () => {
        const rows = await rowsOf(behindHung);
        return rows.every((row) => row.state === 'completed') ? rows : undefined;
      },
      'the hung gateway collections to end',
      60_000,
    );
    for (const row of ended)
      expect(row.result_summary).toMatch(
        /^ERROR: (the meter did not answer: timeout: .*no complete answer within 4000 ms|unreachable: gateway a-hung is marked down)/,
      );
    expect(ended.filter((row) => /marked down/.test(row.result_summary ?? '')).length).toBeGreaterThan(
      ended.length / 2,
    );
    // Two worker processes, each with a G13 client of max_in_flight sockets: the leases held them to two.
    expect(hung.peakOpen).toBeLessThanOrEqual(2);
  });

  it('counts an MCS collection put back while its gateway was busy as one attempt, started when it got the gateway', async () => {
    const coordination = workers[0].get(GatewayCoordination);
    const serialNumber = HEALTHY[20];
    const requestReference = `mcs-busy-${Date.now()}`;
    const rowOf = async () =>
      (
        await db.query<{
          state: string;
          attempts: number;
          result_summary: string | null;
          collection_start_time: Date | null;
        }>(
          `SELECT state, attempts, result_summary, collection_start_time FROM mcs.collection_requests
            WHERE request_reference = $1`,
          [requestReference],
        )
      ).rows[0];
    const leases = [
      await coordination.tryAcquire(healthyGatewayId, 2),
      await coordination.tryAcquire(healthyGatewayId, 2),
    ];
    healthy.resetStats();
    let freedAt = 0;
    try {
      expect(leases.every((lease) => lease !== undefined)).toBe(true);
      await submitCollection(requestReference, new URL(healthy.url).host, serialNumber, 5);
      // Every lease held: each run waits GATEWAY_BUSY_DELAY_MS (100 ms) for a hand-over, then is put back for
      // as long. Over 1.5 s that is several turns, none of which reached the meter.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect((await rowOf()).state).not.toBe('completed');
      expect(healthy.requests.some((r) => r.path.includes(serialNumber))).toBe(false);
    } finally {
      freedAt = Date.now();
      for (const lease of leases) await lease?.release();
    }
    const done = await waitFor(
      async () => {
        const row = await rowOf();
        return row.state === 'completed' ? row : undefined;
      },
      'the collection to complete once its gateway is free',
      30_000,
    );
    expect(done.result_summary).toBe('SUCCESS');
    expect(done.attempts).toBe(1);
    // MCS's collectionStartTime, "the start of the first attempt": when it got the gateway, not its first turn
    // in the queue 1.5 s earlier (a run taken up just before the leases were freed may start a little before).
    expect(done.collection_start_time!.getTime()).toBeGreaterThan(freedAt - 500);
  });

  it("answers a parameter read from the head-end's record without waiting for the hung gateway", async () => {
    // Every lease of the hung gateway is held: whatever needs one is put back until one comes free.
    const coordination = workers[0].get(GatewayCoordination);
    const leases = [
      await coordination.tryAcquire(hungGatewayId, 2),
      await coordination.tryAcquire(hungGatewayId, 2),
    ];
    expect(leases.every((lease) => lease !== undefined)).toBe(true);
    try {
      const device = `hung-${BEHIND_HUNG[0]}`;
      const read = async (type: string) => {
        const transactionid = `${type}-${Date.now()}`;
        const answer = await request(api.getHttpServer())
          .post('/on_demand_parameter_read')
          .set('privatekey', key)
          .set('transactionid', transactionid)
          .type('form')
          .send({ global_device_id: device, type })
          .expect(200);
        const [row] = await rowsOf(transactionid, device);
        return { body: answer.body as { status: string; data?: Record<string, unknown>[] }, row };
      };
      // Device metadata is the head-end registry: no device I/O, so no lease and no wait.
      const metadata = await read('dmdt');
      expect(metadata.row).toMatchObject({ status_level: 5, indv_status: 1 });
      expect(metadata.body.status).toBe('1');
      expect(metadata.body.data?.[0]).toMatchObject({ global_device_id: device, indv_status: '1' });
      // The relay state is read from the meter: it waits for a lease (UDIL_ON_DEMAND_WAIT_SECONDS passes).
      const relay = await read('auxr');
      expect(relay.row.indv_status).toBe(0);
      expect(relay.row.status_level).toBeLessThan(2);
    } finally {
      for (const lease of leases) await lease?.release();
    }
  });
});
