import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const TOKEN = `Bearer ${ADMIN_TOKEN}`;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
/** The names of the clients of a page. */
const names = (response: { body: unknown }): string[] =>
  (response.body as { items: { name: string }[] }).items.map((client) => client.name);
/** The addresses supertest calls from. */
const LOCAL = ['127.0.0.1', '::1'];

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

type Method = 'get' | 'post' | 'patch' | 'delete';

/** Every MCS-client route, with a body an authorized caller could send. */
const ROUTES: [method: Method, path: string, body: object | null][] = [
  ['post', '/admin/mcs-clients', { name: 'anonymous', allowedAddresses: [] }],
  ['get', '/admin/mcs-clients', null],
  ['get', '/admin/mcs-clients/environment', null],
  ['get', `/admin/mcs-clients/${UNKNOWN_ID}`, null],
  ['patch', `/admin/mcs-clients/${UNKNOWN_ID}`, { name: 'anonymous' }],
  ['post', `/admin/mcs-clients/${UNKNOWN_ID}/credentials`, { username: 'anonymous' }],
  ['delete', `/admin/mcs-clients/${UNKNOWN_ID}/credentials`, null],
  ['post', `/admin/mcs-clients/${UNKNOWN_ID}/disable`, null],
  ['post', `/admin/mcs-clients/${UNKNOWN_ID}/enable`, null],
  ['delete', `/admin/mcs-clients/${UNKNOWN_ID}`, null],
];

describe('admin API: MCS clients', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;
  /** A second api on the same database: another process as far as caching goes. */
  let other: INestApplication<App>;
  let db: Client;
  const ids: Record<string, string> = {};
  const secrets: Record<string, string> = {};

  const http = () => request(app.getHttpServer());
  const admin = (method: Method, path: string, body?: object) =>
    http()[method](path).set('authorization', TOKEN).send(body);
  /** An MCS request to the cheapest route, with the given Authorization header. */
  const mcs = (authorization?: string, target = app) => {
    const call = request(target.getHttpServer()).get('/mcs/service-status');
    return authorization ? call.set('authorization', authorization) : call;
  };

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_mcs');
    // No MCS_* access variables: MCS starts open, as it always was.
    applyEnvironment(testEnvironment(database.url, { ADMIN_TOKEN }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    other = (await createApiApp()) as INestApplication<App>;
    await other.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await other?.close();
    await app?.close();
    await database?.drop();
  });

  describe('protection', () => {
    it.each(ROUTES)(
      '%s %s refuses anonymous callers and a wrong token with 401',
      async (method, path, body) => {
        for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}x`]) {
          const call = http()[method](path);
          const response = await (authorization ? call.set('authorization', authorization) : call).send(
            body ?? undefined,
          );
          expect([response.status, response.body]).toEqual([
            401,
            {
              statusCode: 401,
              message: authorization
                ? 'authorization: credentials are not valid'
                : expect.stringMatching(/^authorization: header is required/),
            },
          ]);
          expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="hes-admin"/);
        }
      },
    );

    it('did nothing and wrote nothing for the refused calls', async () => {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM public.mcs_clients) AS clients,
                (SELECT count(*)::int FROM public.admin_audit_log) AS audit`,
      );
      expect(rows[0]).toEqual({ clients: 0, audit: 0 });
    });
  });

  describe('with no client, MCS stays open', () => {
    it('admits anonymous MCS requests and says so', async () => {
      await mcs().expect(200);
      await mcs(undefined, other).expect(200);
      const environment = await admin('get', '/admin/mcs-clients/environment').expect(200);
      expect(environment.body).toEqual({
        configured: false,
        allowedAddresses: [],
        username: null,
        mcsOpen: true,
      });
      const list = await admin('get', '/admin/mcs-clients').expect(200);
      expect(list.body).toEqual({ items: [], total: 0, page: 1, pageSize: 50 });
    });
  });

  describe('create, read, change, delete', () => {
    it('creates a client with credentials: MCS requires them at once', async () => {
      const created = await admin('post', '/admin/mcs-clients', {
        name: 'lesco-master',
        allowedAddresses: [],
        username: 'lesco_master',
        password: 'Lesco-master-pw1',
      }).expect(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        name: 'lesco-master',
        allowedAddresses: [],
        username: 'lesco_master',
        enabled: true,
        lastSeenAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      ids.lesco = created.body.id;
      secrets.lesco = 'Lesco-master-pw1';
      const { rows } = await db.query(`SELECT password_hash FROM public.mcs_clients WHERE id = $1`, [
        ids.lesco,
      ]);
      expect(rows[0].password_hash).toMatch(/^scrypt\$/);

      const anonymous = await mcs().expect(401);
      expect(anonymous.body).toEqual({ details: 'credentials are required (HTTP Basic authentication)' });
      const wrong = await mcs(basic('lesco_master', 'not-the-password')).expect(401);
      expect(wrong.body).toEqual({ details: 'credentials are not valid' });
      await mcs(basic('lesco_master', secrets.lesco)).expect(200);
      const seen = await waitFor(async () => {
        const { rows: stamped } = await db.query(
          `SELECT last_seen_at FROM public.mcs_clients WHERE id = $1`,
          [ids.lesco],
        );
        return stamped[0].last_seen_at as Date | null;
      }, 'last_seen_at');
      expect(seen).toBeInstanceOf(Date);
    });

    it('applies the change within the cache period in another process', async () => {
      await waitFor(
        async () => (await mcs(undefined, other)).status === 401,
        'the other api to refuse',
        5000,
      );
      await mcs(basic('lesco_master', secrets.lesco), other).expect(200);
    });

    it('generates a password for a username without one and answers it once', async () => {
      const created = await admin('post', '/admin/mcs-clients', {
        name: 'mepco-master',
        allowedAddresses: [' 127.0.0.1', '::1 '],
        username: 'mepco_master',
      }).expect(201);
      expect(created.body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(created.body.allowedAddresses).toEqual(LOCAL);
      ids.mepco = created.body.id;
      secrets.mepco = created.body.password;
      await mcs(basic('mepco_master', secrets.mepco)).expect(200);
      const again = await admin('get', `/admin/mcs-clients/${ids.mepco}`).expect(200);
      expect(again.body).not.toHaveProperty('password');
      expect(again.body).toMatchObject({ name: 'mepco-master', username: 'mepco_master' });
    });

    it('lists clients by name, paged, never with a password or its hash', async () => {
      const list = await admin('get', '/admin/mcs-clients?pageSize=1').expect(200);
      expect(list.body).toMatchObject({ total: 2, page: 1, pageSize: 1 });
      expect(names(list)).toEqual(['lesco-master']);
      const all = await admin('get', '/admin/mcs-clients').expect(200);
      expect(names(all)).toEqual(['lesco-master', 'mepco-master']);
      const text = JSON.stringify(all.body);
      expect(text).not.toMatch(/scrypt|password|Hash/i);
      expect(text).not.toContain(secrets.mepco);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      for (const [method, path, body] of ROUTES.filter(([, path]) => path.includes(UNKNOWN_ID))) {
        const response = await admin(method, path, body ?? undefined).expect(404);
        expect(response.body).toEqual({ statusCode: 404, message: `id: no MCS client ${UNKNOWN_ID}` });
      }
      const bad = await admin('get', '/admin/mcs-clients/not-a-uuid').expect(400);
      expect(bad.body).toEqual({ statusCode: 400, message: 'id must be a UUID' });
    });

    it.each([
      [
        { name: 'x', allowedAddresses: ['10.0.0.1', '10.0.0.300'] },
        'allowedAddresses[1]: 10.0.0.300 is not an IP address or CIDR range',
      ],
      [
        { name: 'x', allowedAddresses: ['10.0.0.0/33'] },
        'allowedAddresses[0]: 10.0.0.0/33 is not an IP address or CIDR range',
      ],
      [{ name: 'x', allowedAddresses: [''] }, 'allowedAddresses[0] must be an IP address or CIDR range'],
      [
        { name: 'x', allowedAddresses: '10.0.0.1' },
        'allowedAddresses must be an array of IP addresses or CIDR ranges',
      ],
      [{ name: 'x' }, 'allowedAddresses must be an array of IP addresses or CIDR ranges'],
      [{ allowedAddresses: [] }, /^name must be 1 to 100 letters/],
      [{ name: ' leading', allowedAddresses: [] }, /^name must be 1 to 100 letters/],
      [{ name: 'x', allowedAddresses: [], username: 'has:colon' }, /^username must be 1 to 100 letters/],
      [
        { name: 'x', allowedAddresses: [], username: 'x_user', password: 'short' },
        'password must be longer than or equal to 8 characters',
      ],
      [
        { name: 'x', allowedAddresses: [], password: 'long-enough-pw' },
        'username is required when a password is given',
      ],
      [{ name: 'x', allowedAddresses: [], enabled: false }, 'property enabled should not exist'],
    ])('refuses to create %j with 400 naming the field', async (body, message) => {
      const response = await admin('post', '/admin/mcs-clients', body).expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        message: typeof message === 'string' ? message : expect.stringMatching(message),
      });
    });

    it('refuses bad changes with 400 naming the field', async () => {
      const cases: [Method, string, object, string | RegExp][] = [
        ['patch', ids.lesco, {}, 'name or allowedAddresses is required'],
        [
          'patch',
          ids.lesco,
          { allowedAddresses: ['10.0.0.1/8/9'] },
          'allowedAddresses[0]: 10.0.0.1/8/9 is not an IP address or CIDR range',
        ],
        ['patch', ids.lesco, { name: '' }, /^name must be 1 to 100 letters/],
        ['post', `${ids.lesco}/credentials`, {}, /^username must be 1 to 100 letters/],
        [
          'post',
          `${ids.lesco}/credentials`,
          { username: 'u', password: 1234567890 },
          /password must be a string$/,
        ],
      ];
      for (const [method, path, body, message] of cases) {
        const response = await admin(method, `/admin/mcs-clients/${path}`, body).expect(400);
        if (typeof message === 'string') expect(response.body.message).toBe(message);
        else expect(response.body.message).toMatch(message);
      }
      await mcs(basic('lesco_master', secrets.lesco)).expect(200);
    });

    it('refuses a duplicate name or username with 409', async () => {
      const name = await admin('post', '/admin/mcs-clients', {
        name: 'lesco-master',
        allowedAddresses: [],
      }).expect(409);
      expect(name.body).toEqual({
        statusCode: 409,
        message: 'name: an MCS client named lesco-master already exists',
      });
      const username = await admin('post', '/admin/mcs-clients', {
        name: 'another',
        allowedAddresses: [],
        username: 'lesco_master',
      }).expect(409);
      expect(username.body).toEqual({
        statusCode: 409,
        message: 'username: an MCS client with username lesco_master already exists',
      });
      await admin('patch', `/admin/mcs-clients/${ids.mepco}`, { name: 'lesco-master' }).expect(409);
      const credentials = await admin('post', `/admin/mcs-clients/${ids.mepco}/credentials`, {
        username: 'lesco_master',
      }).expect(409);
      expect(credentials.body.message).toBe(
        'username: an MCS client with username lesco_master already exists',
      );
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM public.mcs_clients`);
      expect(rows[0].n).toBe(2);
    });

    it('replaces the allowed addresses: credentials are accepted only from an admitted address', async () => {
      const patched = await admin('patch', `/admin/mcs-clients/${ids.mepco}`, {
        allowedAddresses: ['10.0.0.0/8'],
      }).expect(200);
      expect(patched.body).toMatchObject({ name: 'mepco-master', allowedAddresses: ['10.0.0.0/8'] });
      // lesco-master still admits every address, so the refusal is 401, not 403.
      await mcs(basic('mepco_master', secrets.mepco)).expect(401);
      const renamed = await admin('patch', `/admin/mcs-clients/${ids.mepco}`, {
        name: 'mepco master',
      }).expect(200);
      expect(renamed.body.allowedAddresses).toEqual(['10.0.0.0/8']);
    });

    it('rotates credentials: the old password stops working at once', async () => {
      const rotated = await admin('post', `/admin/mcs-clients/${ids.lesco}/credentials`, {
        username: 'lesco_master',
      }).expect(200);
      expect(rotated.body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      await mcs(basic('lesco_master', secrets.lesco)).expect(401);
      secrets.lesco = rotated.body.password;
      await mcs(basic('lesco_master', secrets.lesco)).expect(200);
      const given = await admin('post', `/admin/mcs-clients/${ids.lesco}/credentials`, {
        username: 'lesco',
        password: 'Lesco-given-pw2',
      }).expect(200);
      expect(given.body).not.toHaveProperty('password');
      expect(given.body.username).toBe('lesco');
      await mcs(basic('lesco_master', secrets.lesco)).expect(401);
      await mcs(basic('lesco', 'Lesco-given-pw2')).expect(200);
    });

    it('removes credentials: the client becomes address-only', async () => {
      const removed = await admin('delete', `/admin/mcs-clients/${ids.lesco}/credentials`).expect(200);
      expect(removed.body).toMatchObject({ id: ids.lesco, username: null });
      const { rows } = await db.query(
        `SELECT username, password_hash FROM public.mcs_clients WHERE id = $1`,
        [ids.lesco],
      );
      expect(rows[0]).toEqual({ username: null, password_hash: null });
      await mcs().expect(200);
    });

    it('disables and enables a client: a disabled one admits nobody, and MCS stays closed', async () => {
      const disabled = await admin('post', `/admin/mcs-clients/${ids.lesco}/disable`).expect(200);
      expect(disabled.body).toMatchObject({ id: ids.lesco, enabled: false });
      const refused = await mcs().expect(403);
      expect(refused.body.details).toMatch(/^client address .* is not allowed$/);
      await admin('post', `/admin/mcs-clients/${ids.mepco}/disable`).expect(200);
      await mcs().expect(403);
      expect((await admin('get', '/admin/mcs-clients/environment').expect(200)).body.mcsOpen).toBe(false);

      const enabled = await admin('post', `/admin/mcs-clients/${ids.lesco}/enable`).expect(200);
      expect(enabled.body.enabled).toBe(true);
      await mcs().expect(200);
    });

    it('deletes clients: with none left MCS is open again', async () => {
      const deleted = await admin('delete', `/admin/mcs-clients/${ids.lesco}`).expect(200);
      expect(deleted.body).toMatchObject({ id: ids.lesco, name: 'lesco-master' });
      await admin('get', `/admin/mcs-clients/${ids.lesco}`).expect(404);
      await admin('delete', `/admin/mcs-clients/${ids.lesco}`).expect(404);
      await mcs().expect(403); // mepco master (disabled) still exists
      await admin('delete', `/admin/mcs-clients/${ids.mepco}`).expect(200);
      await mcs().expect(200);
      expect((await admin('get', '/admin/mcs-clients/environment').expect(200)).body.mcsOpen).toBe(true);
    });
  });

  describe('audit log', () => {
    it('records every change with its target, passwords redacted; reads are not audited', async () => {
      const { rows } = await db.query<{
        action: string;
        target_id: string | null;
        result: string;
        status_code: number;
        request: Record<string, unknown> | null;
      }>(
        `SELECT action, target_id, result, status_code, request FROM public.admin_audit_log
          WHERE target_type = 'mcs-client' ORDER BY id`,
      );
      const successes = rows.filter((r) => r.result === 'success');
      expect(new Set(successes.map((r) => r.action))).toEqual(
        new Set([
          'mcs-client.create',
          'mcs-client.update',
          'mcs-client.set-credentials',
          'mcs-client.remove-credentials',
          'mcs-client.disable',
          'mcs-client.enable',
          'mcs-client.delete',
        ]),
      );
      expect(successes.find((r) => r.action === 'mcs-client.create')).toMatchObject({
        target_id: ids.lesco,
        status_code: 201,
        request: { name: 'lesco-master', username: 'lesco_master', password: '[redacted]' },
      });
      expect(rows).toContainEqual(
        expect.objectContaining({ action: 'mcs-client.create', result: 'failure', status_code: 409 }),
      );
      expect(rows).toContainEqual(
        expect.objectContaining({ action: 'mcs-client.create', result: 'failure', status_code: 400 }),
      );
      const count = async () =>
        (await db.query(`SELECT count(*)::int AS n FROM public.admin_audit_log`)).rows[0].n as number;
      const before = await count();
      await admin('get', '/admin/mcs-clients').expect(200);
      await admin('get', '/admin/mcs-clients/environment').expect(200);
      await admin('get', `/admin/mcs-clients/${ids.lesco}`).expect(404);
      expect(await count()).toBe(before);
      const stored = await db.query(
        `SELECT string_agg(request::text, ' ') AS text FROM public.admin_audit_log`,
      );
      for (const secret of ['Lesco-master-pw1', 'Lesco-given-pw2'])
        expect(stored.rows[0].text).not.toContain(secret);
    });
  });

  describe('Swagger', () => {
    it('documents every MCS-client route with examples', async () => {
      const document = (await http().get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, OpenApiOperation>>;
      };
      const operations = Object.entries(document.paths)
        .filter(([path]) => path.startsWith('/admin/mcs-clients'))
        .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
      expect(operations).toHaveLength(ROUTES.length);
      for (const { path, method, op } of operations) {
        const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'));
        expect([path, method, success?.[1].content?.['application/json']?.example]).toEqual([
          path,
          method,
          expect.anything(),
        ]);
        if (op.requestBody)
          expect([path, method, op.requestBody.content['application/json'].examples]).toEqual([
            path,
            method,
            expect.anything(),
          ]);
      }
    });
  });
});

interface OpenApiOperation {
  requestBody?: { content: Record<string, { examples?: unknown }> };
  responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
}

describe('MCS clients next to the environment client', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_mcs_env');
    applyEnvironment(
      testEnvironment(database.url, {
        ADMIN_TOKEN,
        MCS_ALLOWED_CLIENTS: '10.0.0.0/8',
        MCS_USERNAME: 'master',
        MCS_PASSWORD: 'master-secret',
      }),
    );
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('admits a request that matches either; the environment alone refuses as before', async () => {
    const http = () => request(app.getHttpServer());
    const environment = await http()
      .get('/admin/mcs-clients/environment')
      .set('authorization', TOKEN)
      .expect(200);
    expect(environment.body).toEqual({
      configured: true,
      allowedAddresses: ['10.0.0.0/8'],
      username: 'master',
      mcsOpen: false,
    });
    expect(JSON.stringify(environment.body)).not.toContain('master-secret');
    const refused = await http().get('/mcs/service-status').auth('master', 'master-secret').expect(403);
    expect(refused.body.details).toMatch(/is not allowed$/);

    const created = await http()
      .post('/admin/mcs-clients')
      .set('authorization', TOKEN)
      .send({ name: 'local-scada', allowedAddresses: LOCAL })
      .expect(201);
    await http().get('/mcs/service-status').expect(200);
    await http()
      .post(`/admin/mcs-clients/${created.body.id}/disable`)
      .set('authorization', TOKEN)
      .expect(200);
    await http().get('/mcs/service-status').expect(403);
  });
});
