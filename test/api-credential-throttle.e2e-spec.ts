import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApiApp } from '../apps/api/src/bootstrap';
import { createDataSourceOptions } from '@hes/database';
import { PostgresFailureCounterStore } from '@hes/security';
import { UdilAuthService } from '@hes/udil';
import { RawAnswer, RawRequest, rawRequest } from './support/raw-http';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';
import { MDM_USER } from './support/udil-client';

const ADMIN = { user: 'operator', password: 'operator-secret-42' };
const MCS = { user: 'master', password: 'master-secret' };
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * Password spraying and guessing (issue 16, point 4), against two api instances that share their
 * counters: failures are counted per address over every username and per username over every
 * address, for UDIL authorization_service, MCS Basic and admin Basic credentials, with 429 and
 * Retry-After in each API's envelope. Different client addresses are real: connections are made from
 * 127.0.0.x source addresses.
 */
describe('api: credential throttling shared by two api instances', () => {
  let database: TestDatabase;
  let first: INestApplication;
  let second: INestApplication;
  const bases: string[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase('throttle');
    applyEnvironment(
      testEnvironment(database.url, {
        AUTH_MAX_FAILURES_PER_ADDRESS: '5',
        AUTH_MAX_FAILURES_PER_USERNAME: '4',
        AUTH_LOCKOUT_SECONDS: '300',
        ADMIN_USERNAME: ADMIN.user,
        ADMIN_PASSWORD: ADMIN.password,
        MCS_USERNAME: MCS.user,
        MCS_PASSWORD: MCS.password,
      }),
    );
    // Two processes' worth of api: same environment (same Redis prefix), separate instances.
    first = await createApiApp();
    second = await createApiApp();
    for (const app of [first, second]) {
      await app.listen(0, '127.0.0.1');
      bases.push((await app.getUrl()).replace('[::1]', '127.0.0.1'));
    }
    await first.get(UdilAuthService).createClient(MDM_USER.username, MDM_USER.password, MDM_USER.code);
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
  });

  /** Request `raw` on instance `instance` (0 or 1) from `from`. */
  const send = (instance: number, from: string, raw: RawRequest): Promise<RawAnswer> =>
    rawRequest(bases[instance], { ...raw, localAddress: from });
  const login = (username: string, password: string) => ({
    method: 'POST',
    path: '/authorization_service',
    headers: { username, password, code: MDM_USER.code },
  });
  const retryAfter = (answer: RawAnswer) => Number(answer.headers['retry-after']);

  it('UDIL: a spray over many usernames from one address is refused once the address has 5 failures, on both instances', async () => {
    // Three failures on the first instance, two on the second: five for the address in all.
    for (const [instance, user] of [
      [0, 'spray1'],
      [0, 'spray2'],
      [0, 'spray3'],
      [1, 'spray4'],
      [1, 'spray5'],
    ] as const)
      expect((await send(instance, '127.0.0.2', login(user, 'guess'))).status).toBe(401);

    for (const instance of [0, 1]) {
      const refused = await send(instance, '127.0.0.2', login('spray6', 'guess'));
      expect(refused.status).toBe(429);
      expect(refused.json).toEqual({
        status: '0',
        message: expect.stringMatching(
          /^too many failed authorizations from this address; try again in \d+ seconds$/,
        ),
      });
      expect(retryAfter(refused)).toBeGreaterThan(0);
      expect(retryAfter(refused)).toBeLessThanOrEqual(300);
    }
    // Even the right password is refused from that address for now…
    expect((await send(0, '127.0.0.2', login(MDM_USER.username, MDM_USER.password))).status).toBe(429);
    // …while the real client, from its own address, still logs in.
    const real = await send(1, '127.0.0.3', login(MDM_USER.username, MDM_USER.password));
    expect(real.status).toBe(200);
    expect(real.json).toMatchObject({ status: '1', privatekey: expect.any(String) });
  });

  it('UDIL: one username guessed from many addresses is refused, whatever the address', async () => {
    for (const [index, from] of ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'].entries())
      expect((await send(index % 2, from, login('victim', 'guess'))).status).toBe(401);
    const refused = await send(0, '127.0.1.5', login('victim', 'guess'));
    expect(refused.status).toBe(429);
    expect((refused.json as { message: string }).message).toMatch(
      /^too many failed authorizations for this username; try again in \d+ seconds$/,
    );
    expect(retryAfter(refused)).toBeGreaterThan(0);
    // Another username from those addresses is not concerned.
    expect((await send(1, '127.0.1.5', login(MDM_USER.username, MDM_USER.password))).status).toBe(200);
  });

  it('MCS: Basic credentials sprayed from one address get 429 in the MCS envelope', async () => {
    const status = (instance: number, authorization: string) =>
      send(instance, '127.0.2.1', {
        method: 'GET',
        path: '/mcs/service-status',
        headers: { authorization },
      });
    for (let i = 0; i < 5; i += 1) expect((await status(i % 2, basic(`user${i}`, 'guess'))).status).toBe(401);
    const refused = await status(1, basic(MCS.user, MCS.password));
    expect(refused.status).toBe(429);
    expect(refused.json).toEqual({
      details: expect.stringMatching(/^too many failed authorizations from this address/),
    });
    expect(retryAfter(refused)).toBeGreaterThan(0);
    const other = await send(0, '127.0.2.2', {
      method: 'GET',
      path: '/mcs/service-status',
      headers: { authorization: basic(MCS.user, MCS.password) },
    });
    expect(other.status).toBe(200);
  });

  it('admin: Basic credentials sprayed from one address get 429 in the admin envelope, Bull Board too', async () => {
    const gateways = (instance: number, authorization: string, path = '/admin/gateways') =>
      send(instance, '127.0.3.1', { method: 'GET', path, headers: { authorization } });
    for (let i = 0; i < 5; i += 1)
      expect((await gateways(i % 2, basic(`admin${i}`, 'guess'))).status).toBe(401);
    for (const path of ['/admin/gateways', '/admin/queues/api/queues']) {
      const refused = await gateways(0, basic(ADMIN.user, ADMIN.password), path);
      expect({ path, status: refused.status }).toEqual({ path, status: 429 });
      expect(refused.json).toEqual({
        statusCode: 429,
        message: expect.stringMatching(/^too many failed authorizations from this address/),
      });
      expect(retryAfter(refused)).toBeGreaterThan(0);
    }
    const other = await send(1, '127.0.3.2', {
      method: 'GET',
      path: '/admin/gateways',
      headers: { authorization: basic(ADMIN.user, ADMIN.password) },
    });
    expect(other.status).toBe(200);
  });
});

describe('credential failure counters in PostgreSQL (QUEUE_BACKEND=postgres)', () => {
  let database: TestDatabase;
  const sources: DataSource[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase('throttle_pg');
    for (let i = 0; i < 2; i += 1) {
      const source = new DataSource(createDataSourceOptions(database.url, `hes-throttle-${i}`));
      sources.push(await source.initialize());
    }
  });

  afterAll(async () => {
    for (const source of sources) await source.destroy();
    await database?.drop();
  });

  it('are shared by two processes and forgotten when their window ends', async () => {
    const [a, b] = sources.map((source) => new PostgresFailureCounterStore(source));
    await a.increment(['udil:address:x', 'udil:username:y'], 60_000);
    await b.increment(['udil:address:x'], 60_000);
    const [address, username, none] = await a.read(['udil:address:x', 'udil:username:y', 'other']);
    expect(address.failures).toBe(2);
    expect(username.failures).toBe(1);
    expect(address.remainingMs).toBeGreaterThan(0);
    expect(address.remainingMs).toBeLessThanOrEqual(60_000);
    expect(none).toEqual({ failures: 0, remainingMs: 0 });

    await b.increment(['short'], 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await a.read(['short'])).toEqual([{ failures: 0, remainingMs: 0 }]);
    await a.increment(['short'], 60_000);
    expect((await b.read(['short']))[0].failures).toBe(1);
  });
});
