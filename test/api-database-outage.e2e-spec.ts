import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { createApiApp } from '../apps/api/src/bootstrap';
import { DisposablePostgres } from './support/disposable-postgres';
import { RawAnswer, RawRequest, rawRequest } from './support/raw-http';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';
import { expectNothingAccepted, outageRequests } from './support/outage-requests';
import { authorizedKey } from './support/udil-client';

const ADMIN_TOKEN = 'outage-admin-token-0123456789abcdef';
const MCS_AUTH = `Basic ${Buffer.from('master:master-secret').toString('base64')}`;

/**
 * A PostgreSQL outage (issue 16, point 6), on a PostgreSQL of the test's own: every API answers 503
 * with Retry-After in its own envelope, saying nothing was accepted, and serves again once it is back.
 */
describe('api during a database outage', () => {
  let postgres: DisposablePostgres;
  let app: INestApplication;
  let base: string;
  let privatekey: string;
  let sequence = 0;

  beforeAll(async () => {
    postgres = await DisposablePostgres.start();
    applyEnvironment(
      testEnvironment(postgres.url, {
        ADMIN_TOKEN,
        MCS_USERNAME: 'master',
        MCS_PASSWORD: 'master-secret',
      }),
    );
    app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    privatekey = await authorizedKey(app as never);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await postgres?.remove();
  });

  const requests = (): [string, RawRequest][] => {
    sequence += 1;
    return outageRequests(privatekey, `outage-${sequence}`, ADMIN_TOKEN, MCS_AUTH);
  };
  const send = (raw: RawRequest): Promise<RawAnswer> => rawRequest(base, raw);
  /** transaction_status of the first round's command (accepted before the outage). */
  const status = (): RawRequest => ({
    method: 'POST',
    path: '/transaction_status',
    headers: { privatekey, transactionid: 'outage-1' },
  });
  let kept: RawAnswer;

  it('answers 503 with Retry-After in each envelope while PostgreSQL is stopped', async () => {
    // Served before the outage (no worker runs here: /health/worker answers 503 for that reason alone).
    for (const [name, raw] of requests().slice(0, 4))
      expect({ name, status: (await send(raw)).status }).toEqual({ name, status: 200 });
    // The command's transaction_status, read twice: its answer is kept (UDIL_READ_CACHE_MB).
    kept = await send(status());
    expect(kept.status).toBe(200);
    expect((await send(status())).text).toBe(kept.text);
    await postgres.stop();

    const answers = new Map<string, RawAnswer>();
    for (const [name, raw] of requests()) answers.set(name, await send(raw));
    const seen = [...answers].map(([name, answer]) => ({
      name,
      status: answer.status,
      retryAfter: answer.headers['retry-after'],
    }));
    expect(seen).toEqual([...answers.keys()].map((name) => ({ name, status: 503, retryAfter: '5' })));
    expectNothingAccepted(answers, `outage-${sequence}`);
    // A kept answer is never given without its rows' version: the read waits for the database like the rest.
    const read = await send(status());
    expect({ status: read.status, retryAfter: read.headers['retry-after'] }).toEqual({
      status: 503,
      retryAfter: '5',
    });
    expect(read.json).toMatchObject({ status: '0' });
    expect(answers.get('health of the workers')!.json).toEqual({
      status: 'error',
      windowSeconds: 45,
      workers: [],
      error: "database: unavailable, the workers' heartbeats cannot be read",
    });
  });

  it('serves again once PostgreSQL is back, and kept nothing of the refused requests', async () => {
    await postgres.start();
    await waitFor(
      async () => (await send(requests()[3][1])).status === 200,
      'the admin API to answer again after PostgreSQL restarts',
    );
    const db = new Client({ connectionString: postgres.url });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM udil.transaction_status WHERE transactionid LIKE 'outage-%') AS transactions,
                (SELECT count(*)::int FROM mcs.collection_requests WHERE request_reference LIKE 'outage-%') AS collections`,
      );
      // The requests sent before the outage were accepted; those sent during it were not.
      expect(rows[0]).toEqual({ transactions: 1, collections: 1 });
      expect((await send(status())).text).toBe(kept.text);
    } finally {
      await db.end();
    }
  });
});
