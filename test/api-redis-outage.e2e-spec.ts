import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { createApiApp } from '../apps/api/src/bootstrap';
import { GatewayRepository } from '@hes/database';
import { RawAnswer, RawRequest, rawRequest } from './support/raw-http';
import { DisposableRedis } from './support/redis-server';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';
import { authorizedKey } from './support/udil-client';

const MCS_AUTH = `Basic ${Buffer.from('master:master-secret').toString('base64')}`;
/** Far above QUEUE_CALL_TIMEOUT_MS (1 s here): a request not answered by then hangs on the queue. */
const HANG_MS = 15_000;

/**
 * Redis unreachable while requests arrive at the api (no worker runs here). The api commits what it
 * accepts and answers: a queue call gives up after QUEUE_CALL_TIMEOUT_MS (the reconciler queues what is
 * committed once Redis is back) instead of waiting as long as Redis is down.
 */
describe('api while Redis is unreachable', () => {
  let database: TestDatabase;
  let redis: DisposableRedis;
  let app: INestApplication;
  let base: string;
  let privatekey: string;
  let db: Client;

  beforeAll(async () => {
    database = await createMigratedDatabase('redis_outage');
    redis = await DisposableRedis.start();
    applyEnvironment(
      testEnvironment(database.url, {
        REDIS_URL: redis.url,
        QUEUE_CALL_TIMEOUT_MS: '1000',
        MCS_USERNAME: 'master',
        MCS_PASSWORD: 'master-secret',
      }),
    );
    app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    privatekey = await authorizedKey(app as never);
    db = new Client({ connectionString: database.url });
    await db.connect();
    const gateway = await app.get(GatewayRepository).create({
      name: 'outage-gateway',
      driver: 'ABB_G13',
      endpoint: 'https://127.0.0.1:1',
      tlsMode: 'insecure',
      username: 'hes',
      password: 'gateway-secret',
      maxInFlight: 2,
      requestTimeoutMs: 500,
    });
    await db.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
       VALUES ('m1', 4096541254, 'ABB_G13', $1, '4096541254')`,
      [gateway.id],
    );
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await redis?.stop();
    await database?.drop();
  });

  /** The answer, or a failure naming the request when none comes within HANG_MS. */
  const send = async (what: string, raw: RawRequest): Promise<RawAnswer> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        rawRequest(base, raw),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what}: no answer within ${HANG_MS} ms`)), HANG_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  it('answers a UDIL command, an MCS request and its cancel, and /metrics, with what it accepted committed', async () => {
    await redis.stop();

    const command = await send('UDIL command', {
      method: 'POST',
      path: '/time_synchronization',
      headers: { privatekey, transactionid: 'redis-outage-1', 'content-type': 'application/json' },
      body: JSON.stringify({ global_device_id: 'm1', request_datetime: '2026-11-21 10:00:00' }),
    });
    expect({ status: command.status, json: command.json }).toMatchObject({
      status: 200,
      json: { status: '1', transactionid: 'redis-outage-1' },
    });

    const collection = await send('MCS collection-request', {
      method: 'POST',
      path: '/mcs/collection-request',
      headers: { authorization: MCS_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        requestReference: 'redis-outage-mcs-1',
        responseUrl: 'http://127.0.0.1:9/master',
        mpan: '12345',
        priority: 1,
        meterType: 'ABB_G13',
        remoteAddress: '10.2.34.4:3400',
        serialNumber: '12345678',
      }),
    });
    expect({ status: collection.status, json: collection.json }).toEqual({
      status: 200,
      json: { requestReference: 'redis-outage-mcs-1' },
    });
    const cancel = await send('MCS collection-cancel', {
      method: 'DELETE',
      path: '/mcs/collection-cancel',
      headers: { authorization: MCS_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ requestReference: 'redis-outage-mcs-1' }),
    });
    expect({ status: cancel.status, json: cancel.json }).toEqual({
      status: 200,
      json: { requestReference: 'redis-outage-mcs-1' },
    });

    const metrics = await send('/metrics', { method: 'GET', path: '/metrics' });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('process_cpu_user_seconds_total');

    // Committed, not queued: the reconciler's to queue once Redis is back.
    const { rows } = await db.query<{ levels: number[]; queued: boolean; collection: string }>(
      `SELECT (SELECT array_agg(status_level) FROM udil.transaction_status WHERE transactionid = 'redis-outage-1') AS levels,
              (SELECT queued_at IS NOT NULL FROM public.udil_transactions WHERE transactionid = 'redis-outage-1') AS queued,
              (SELECT state FROM mcs.collection_requests WHERE request_reference = 'redis-outage-mcs-1') AS collection`,
    );
    expect(rows[0]).toEqual({ levels: [0], queued: false, collection: 'cancelled' });
    await redis.start();
  });
});
