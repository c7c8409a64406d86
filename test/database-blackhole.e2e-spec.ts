import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { createApiApp } from '../apps/api/src/bootstrap';
import { createWorkerApp } from '../apps/worker/src/bootstrap';
import { G13SimulatorHandle, startG13Simulator } from '../apps/simulator/src/g13';
import { GatewayRepository } from '@hes/database';
import { JobQueueRepository, QueueName } from '@hes/queue';
import { transactionJobId } from '@hes/transactions';
import { BlackholeProxy } from './support/blackhole-proxy';
import { expectNothingAccepted, outageRequests } from './support/outage-requests';
import { RawAnswer, RawRequest, rawRequest } from './support/raw-http';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';
import { TransactionRow } from './support/g13-head-end';
import { authorizedKey } from './support/udil-client';

const ADMIN_TOKEN = 'blackhole-admin-token-0123456789abcdef';
const MCS_AUTH = `Basic ${Buffer.from('master:master-secret').toString('base64')}`;
const SERIAL = '3100005001';
const RELAY_PORT = 1;

/**
 * PostgreSQL behind a network that silently drops every packet (no RST, no FIN): without bounded
 * connection and query timeouts every request waited for ever. The api and the worker reach PostgreSQL
 * through a proxy that can swallow packets; the api must answer 503 with Retry-After, /health 503, and a
 * command the worker was carrying out must end in a retry, not be lost.
 */
describe('PostgreSQL that silently drops packets', () => {
  let database: TestDatabase;
  let proxy: BlackholeProxy;
  let gateway: G13SimulatorHandle;
  let api: INestApplication;
  let worker: INestApplication;
  let db: Client;
  let base: string;
  let privatekey: string;
  let sequence = 0;
  const relayCommand = `relay-${Date.now()}`;

  beforeAll(async () => {
    database = await createMigratedDatabase('pg_blackhole');
    const direct = new URL(database.url);
    proxy = await BlackholeProxy.start(direct.hostname, Number(direct.port || 5432));
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    // Slow enough that the relay command is still running when the packets start to be dropped.
    gateway = await startG13Simulator({
      meters: [{ serial: SERIAL, phases: 3 }],
      users: [{ name: 'hes', password: 'gateway-secret' }],
      latencyMs: 1500,
    });
    applyEnvironment(
      testEnvironment(proxied.toString(), {
        ADMIN_TOKEN,
        MCS_USERNAME: 'master',
        MCS_PASSWORD: 'master-secret',
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        DATABASE_QUERY_TIMEOUT_MS: '1500',
        TRANSACTION_ATTEMPTS: '10',
        TRANSACTION_BACKOFF_MS: '500',
        RECONCILE_INTERVAL_SECONDS: '5',
        HEARTBEAT_INTERVAL_SECONDS: '2',
      }),
    );
    api = await createApiApp();
    await api.listen(0, '127.0.0.1');
    base = (await api.getUrl()).replace('[::1]', '127.0.0.1');
    privatekey = await authorizedKey(api as never);
    const registered = await api.get(GatewayRepository).create({
      name: 'gw-blackhole',
      driver: 'ABB_G13',
      endpoint: gateway.url,
      tlsMode: 'pinned',
      tlsFingerprintSha256: gateway.certificateFingerprintSha256,
      username: 'hes',
      password: 'gateway-secret',
      maxInFlight: 2,
      requestTimeoutMs: 5000,
    });
    db = new Client({ connectionString: database.url });
    await db.connect();
    await db.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
       VALUES ('m1', $1::bigint, 'ABB_G13', $2, $1::text)`,
      [SERIAL, registered.id],
    );
    worker = await createWorkerApp();
    await worker.init();
  }, 120_000);

  afterAll(async () => {
    proxy?.restore();
    await worker?.close();
    await api?.close();
    await db?.end();
    await proxy?.stop();
    await gateway?.stop();
    await database?.drop();
  });

  const send = (raw: RawRequest): Promise<RawAnswer> => rawRequest(base, raw);
  const requests = (): [string, RawRequest][] => {
    sequence += 1;
    return [
      ...outageRequests(privatekey, `blackhole-${sequence}`, ADMIN_TOKEN, MCS_AUTH),
      ['health', { method: 'GET', path: '/health' }],
    ];
  };
  const rowOf = async () =>
    (
      await db.query<TransactionRow>(`SELECT * FROM udil.transaction_status WHERE transactionid = $1`, [
        relayCommand,
      ])
    ).rows[0];

  it('answers 503 with Retry-After instead of hanging while every packet is dropped', async () => {
    await waitFor(async () => (await send(requests()[4][1])).status === 200, 'the worker to beat');
    for (const [name, raw] of requests())
      expect({ name, status: (await send(raw)).status }).toEqual({ name, status: 200 });

    const accepted = await send({
      method: 'POST',
      path: '/aux_relay_operations',
      headers: { privatekey, transactionid: relayCommand, 'content-type': 'application/json' },
      body: JSON.stringify({
        global_device_id: ['m1'],
        request_datetime: '2026-11-21 10:00:00',
        relay_operate: '0',
      }),
    });
    expect(accepted.status).toBe(200);
    // The worker has reached the gateway and waits for its (slow) answer: then the packets vanish.
    await waitFor(
      async () => ((await rowOf())?.status_level ?? 0) >= 2,
      'the relay command to reach the gateway',
    );
    proxy.drop();

    const answers = new Map<string, RawAnswer>();
    for (const [name, raw] of requests()) answers.set(name, await send(raw));
    const seen = [...answers].map(([name, answer]) => ({
      name,
      status: answer.status,
      retryAfter: name === 'health' ? undefined : answer.headers['retry-after'],
    }));
    expect(seen).toEqual(
      [...answers.keys()].map((name) => ({
        name,
        status: 503,
        retryAfter: name === 'health' ? undefined : '5',
      })),
    );
    expectNothingAccepted(answers, `blackhole-${sequence}`);
    expect(answers.get('health')!.json).toMatchObject({
      status: 'error',
      error: { database: { status: 'down' } },
    });
  });

  it('serves again once packets pass, kept nothing refused, and the running command was retried, not lost', async () => {
    proxy.restore();
    await waitFor(
      async () => (await send(requests()[3][1])).status === 200,
      'the admin API to answer again once packets pass',
    );
    const row = await waitFor(
      async () => {
        const found = await rowOf();
        return found && found.indv_status !== 0 ? found : undefined;
      },
      'the relay command to finish',
      60_000,
    );
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(gateway.readOutput(SERIAL, RELAY_PORT)).toBe(0);
    // The attempt cut off by the outage failed and the queue ran the command again.
    const job = await worker
      .get(JobQueueRepository)
      .queue(QueueName.Transactions)
      .getJob(transactionJobId(relayCommand, 'm1'));
    expect(job?.attemptsMade).toBeGreaterThanOrEqual(1);
    // The rerun was a resend: it read the relay first and did not write it again.
    expect(gateway.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/io'))).toHaveLength(1);

    const { rows } = await db.query(
      `SELECT (SELECT count(*)::int FROM udil.transaction_status WHERE transactionid LIKE 'blackhole-%') AS transactions,
              (SELECT count(*)::int FROM mcs.collection_requests WHERE request_reference LIKE 'blackhole-%') AS collections`,
    );
    // The round before the outage was accepted (the relay command is not a 'blackhole-<n>'); the one during it was not.
    expect(rows[0]).toEqual({ transactions: 1, collections: 1 });
  });
});
