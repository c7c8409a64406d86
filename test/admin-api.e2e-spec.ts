import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { G13SimulatorHandle, startG13Simulator } from '../apps/simulator/src/g13';
import { SPENT_PRIVATEKEY_DAYS, UdilPrivateKeyRepository } from '@hes/database';
import { UdilAuthService } from '@hes/udil';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const ADMIN_USER = 'operator';
const ADMIN_PASSWORD = 'operator-secret-42';
const SERIALS = ['3100001001', '3100001002', '3100001003'];

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const TOKEN = `Bearer ${ADMIN_TOKEN}`;

/** A field of every item of a paged answer. */
const column = (response: { body: unknown }, field: string): unknown[] =>
  (response.body as { items: Record<string, unknown>[] }).items.map((item) => item[field]);
/** A string field of an answer. */
const text = (response: { body: unknown }, field: string): string =>
  String((response.body as Record<string, unknown>)[field]);
const BASIC = basic(ADMIN_USER, ADMIN_PASSWORD);

/** One route of each admin group, with a body that would be accepted by an authorized caller. */
const PROTECTED_ROUTES: [method: 'get' | 'post', path: string, body: object | null][] = [
  ['get', '/admin/gateways', null],
  ['post', '/admin/gateways', { name: 'anonymous', driver: 'ABB_G13', endpoint: 'https://10.0.0.1' }],
  ['get', '/admin/gateways/00000000-0000-4000-8000-000000000000', null],
  ['post', '/admin/gateways/00000000-0000-4000-8000-000000000000/test-connection', null],
  ['post', '/admin/gateways/00000000-0000-4000-8000-000000000000/discover-meters', null],
  ['post', '/admin/gateways/00000000-0000-4000-8000-000000000000/disable', null],
  ['get', '/admin/devices', null],
  ['get', '/admin/devices/m1', null],
  ['post', '/admin/devices/m1/deactivate', null],
  ['get', '/admin/udil-clients', null],
  ['post', '/admin/udil-clients', { username: 'anonymous', password: 'anonymous-pw', code: '1' }],
  ['post', '/admin/udil-clients/00000000-0000-4000-8000-000000000000/rotate', null],
  ['post', '/admin/udil-clients/00000000-0000-4000-8000-000000000000/revoke-keys', null],
  ['get', '/admin/audit', null],
  ['get', '/admin/audit/device-commands', null],
  ['get', '/admin/queues', null],
  ['get', '/admin/queues/api/queues', null],
];

describe('admin API', () => {
  let database: TestDatabase;
  let g13: G13SimulatorHandle;
  let app: INestApplication<App>;
  let db: Client;
  let gatewayId: string;

  const http = () => request(app.getHttpServer());
  const auditCount = async () =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.admin_audit_log`)).rows[0].n;

  beforeAll(async () => {
    database = await createMigratedDatabase('admin');
    g13 = await startG13Simulator({
      meters: SERIALS.map((serial) => ({ serial, phases: 3 as const })),
      users: [{ name: 'hes', password: 'gateway-secret' }],
    });
    applyEnvironment(
      testEnvironment(database.url, {
        ADMIN_TOKEN,
        ADMIN_USERNAME: ADMIN_USER,
        ADMIN_PASSWORD,
        // Every refusal below comes from 127.0.0.1: throttling is tested in api-credential-throttle.
        AUTH_MAX_FAILURES_PER_ADDRESS: '10000',
        AUTH_MAX_FAILURES_PER_USERNAME: '10000',
      }),
    );
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await g13?.stop();
    await database?.drop();
  });

  describe('protection', () => {
    it.each(PROTECTED_ROUTES)(
      '%s %s refuses anonymous callers with 401 and a challenge',
      async (method, path, body) => {
        const response = await http()
          [method](path)
          .send(body ?? undefined);
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/^Basic realm="hes-admin"/);
        expect(response.body).toEqual({
          statusCode: 401,
          message: expect.stringMatching(/^authorization: header is required/),
        });
      },
    );

    it.each(PROTECTED_ROUTES)('%s %s refuses wrong credentials', async (method, path, body) => {
      for (const authorization of [
        'Bearer not-the-admin-token-at-all-000000',
        basic(ADMIN_USER, 'wrong-password'),
        basic('intruder', ADMIN_PASSWORD),
        `Bearer ${ADMIN_TOKEN}x`,
        `Basic ${ADMIN_TOKEN}`,
      ]) {
        const response = await http()
          [method](path)
          .set('authorization', authorization)
          .send(body ?? undefined);
        expect(response.status).toBe(401);
        expect(response.body).toEqual({
          statusCode: 401,
          message: 'authorization: credentials are not valid',
        });
      }
      const digest = await http()
        [method](path)
        .set('authorization', 'Digest username="operator"')
        .send(body ?? undefined);
      expect(digest.status).toBe(401);
      expect(digest.body.message).toMatch(/^authorization: scheme Digest is not accepted/);
    });

    it('did nothing and wrote nothing for the refused calls', async () => {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM public.gateways) AS gateways,
                (SELECT count(*)::int FROM public.udil_clients) AS clients,
                (SELECT count(*)::int FROM public.admin_audit_log) AS audit`,
      );
      expect(rows[0]).toEqual({ gateways: 0, clients: 0, audit: 0 });
    });

    it('accepts the bearer token and the Basic credentials', async () => {
      await http().get('/admin/gateways').set('authorization', TOKEN).expect(200);
      await http().get('/admin/gateways').set('authorization', BASIC).expect(200);
    });

    it('leaves the public routes public', async () => {
      await http().get('/docs-json').expect(200);
      await http().get('/metrics').expect(200);
    });
  });

  describe('gateways', () => {
    const g13Body = () => ({
      name: 'feeder-1',
      driver: 'ABB_G13',
      endpoint: g13.url,
      tlsMode: 'pinned',
      tlsFingerprintSha256: g13.certificateFingerprintSha256,
      username: 'hes',
      password: 'gateway-secret',
      maxInFlight: 2,
      requestTimeoutMs: 3000,
    });

    it('creates a gateway, keeping the password encrypted and out of every answer', async () => {
      const response = await http()
        .post('/admin/gateways')
        .set('authorization', BASIC)
        .send(g13Body())
        .expect(201);
      expect(response.body).toMatchObject({
        name: 'feeder-1',
        driver: 'ABB_G13',
        endpoint: g13.url,
        tlsMode: 'pinned',
        username: 'hes',
        hasPassword: true,
        enabled: true,
        deviceCount: 0,
      });
      expect(JSON.stringify(response.body)).not.toContain('gateway-secret');
      expect(response.body).not.toHaveProperty('password');
      expect(response.body).not.toHaveProperty('passwordEncrypted');
      gatewayId = response.body.id;
      const { rows } = await db.query<{ password_encrypted: string }>(
        `SELECT password_encrypted FROM public.gateways WHERE id = $1`,
        [gatewayId],
      );
      expect(rows[0].password_encrypted).toMatch(/^v1\./);
      expect(rows[0].password_encrypted).not.toContain('gateway-secret');
    });

    it.each([
      [{ driver: 'ABB_G13', endpoint: 'https://10.0.0.1' }, /name must be/],
      [{ name: 'x', driver: 'NOT_A_DRIVER', endpoint: 'https://10.0.0.1' }, /^driver must be one of ABB_G13/],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'ftp://10.0.0.1' },
        /^endpoint must start with https:\/\/ or http:\/\/ for driver ABB_G13 /,
      ],
      [{ name: 'x', driver: 'ABB_G13', endpoint: 'not a url' }, /^endpoint must be a URL/],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1', tlsMode: 'pinned' },
        /^tlsFingerprintSha256 is required when tlsMode is pinned$/,
      ],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1', tlsMode: 'trusting' },
        /^tlsMode must be one of/,
      ],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1', tlsFingerprintSha256: 'abc' },
        /^tlsFingerprintSha256 must be a SHA-256/,
      ],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1', maxInFlight: 0 },
        /^maxInFlight must not be less than 1$/,
      ],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1', requestTimeoutMs: '1000' },
        /requestTimeoutMs must be an integer number/,
      ],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1', password: 'p' },
        /^username is required when a password is given$/,
      ],
      [
        { name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1', colour: 'red' },
        /^property colour should not exist$/,
      ],
    ])('refuses %j with 400 naming the field', async (body, message) => {
      const response = await http()
        .post('/admin/gateways')
        .set('authorization', TOKEN)
        .send(body)
        .expect(400);
      expect(response.body).toEqual({ statusCode: 400, message: expect.stringMatching(message) });
    });

    it('refuses malformed JSON with 400 and a second gateway of the same name with 409', async () => {
      const malformed = await http()
        .post('/admin/gateways')
        .set('authorization', TOKEN)
        .set('content-type', 'application/json')
        .send('{"name": ')
        .expect(400);
      expect(malformed.body.statusCode).toBe(400);
      const duplicate = await http()
        .post('/admin/gateways')
        .set('authorization', TOKEN)
        .send(g13Body())
        .expect(409);
      expect(duplicate.body).toEqual({
        statusCode: 409,
        message: 'name: a gateway named feeder-1 already exists',
      });
    });

    it('tests the connection: logged in and the meters listed', async () => {
      const response = await http()
        .post(`/admin/gateways/${gatewayId}/test-connection`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(response.body).toMatchObject({
        id: gatewayId,
        ok: true,
        reachedLevel: 4,
        message: 'connected and authenticated; the gateway lists 3 meters',
      });
      expect(g13.requests.some((r) => r.path === '/meters' && r.status === 200)).toBe(true);
    });

    it('reports a refused login as ok false with the kind of failure', async () => {
      const wrong = await http()
        .post('/admin/gateways')
        .set('authorization', TOKEN)
        .send({ ...g13Body(), name: 'feeder-wrong-password', password: 'not-the-password' })
        .expect(201);
      const response = await http()
        .post(`/admin/gateways/${wrong.body.id}/test-connection`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(response.body).toMatchObject({ ok: false, errorKind: 'authentication' });
      expect(response.body.message).toMatch(/^feeder-wrong-password: /);
      expect(response.body.reachedLevel).toBeLessThan(3);
    });

    it('reports an unreachable gateway as ok false, unreachable', async () => {
      const closed = await http()
        .post('/admin/gateways')
        .set('authorization', TOKEN)
        .send({
          name: 'feeder-nowhere',
          driver: 'ABB_G13',
          endpoint: 'http://127.0.0.1:1',
          requestTimeoutMs: 500,
        })
        .expect(201);
      const response = await http()
        .post(`/admin/gateways/${closed.body.id}/test-connection`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(response.body).toMatchObject({ ok: false, reachedLevel: expect.any(Number) });
      expect(['unreachable', 'timeout']).toContain(response.body.errorKind);
      const discovery = await http()
        .post(`/admin/gateways/${closed.body.id}/discover-meters`)
        .set('authorization', TOKEN)
        .expect(502);
      expect(discovery.body.message).toMatch(/^feeder-nowhere \((unreachable|timeout)\): /);
    });

    it('discovers the meters of a G13 and marks the registered ones', async () => {
      await db.query(
        `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
         VALUES ('m1', 3100001001, 'ABB_G13', $1, '3100001001')`,
        [gatewayId],
      );
      const response = await http()
        .post(`/admin/gateways/${gatewayId}/discover-meters`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(response.body.message).toBe('the gateway lists 3 meters, 2 of them not registered');
      const meters = response.body.meters as {
        serial: string;
        globalDeviceId: string | null;
        phases?: number;
      }[];
      expect(meters.map((m) => m.serial).sort()).toEqual(SERIALS);
      expect(meters.find((m) => m.serial === '3100001001')?.globalDeviceId).toBe('m1');
      expect(meters.find((m) => m.serial === '3100001002')?.globalDeviceId).toBeNull();
      expect(meters.every((m) => m.phases === 3)).toBe(true);
    });

    it('refuses discovery on a driver without it with 422', async () => {
      const iserver = await http()
        .post('/admin/gateways')
        .set('authorization', TOKEN)
        .send({ name: 'stack-1', driver: 'OMEGA_ISERVER2', endpoint: 'ws://127.0.0.1:1' })
        .expect(201);
      const response = await http()
        .post(`/admin/gateways/${iserver.body.id}/discover-meters`)
        .set('authorization', TOKEN)
        .expect(422);
      expect(response.body.message).toMatch(/OMEGA_ISERVER2 driver does not support meter discovery/);
    });

    it('lists with filters and pages, and answers one gateway', async () => {
      const all = await http().get('/admin/gateways?pageSize=2').set('authorization', TOKEN).expect(200);
      expect(all.body).toMatchObject({ total: 4, page: 1, pageSize: 2 });
      expect(column(all, 'name')).toEqual(['feeder-1', 'feeder-nowhere']);
      const page2 = await http()
        .get('/admin/gateways?pageSize=2&page=2')
        .set('authorization', TOKEN)
        .expect(200);
      expect(column(page2, 'name')).toEqual(['feeder-wrong-password', 'stack-1']);
      const iservers = await http()
        .get('/admin/gateways?driver=OMEGA_ISERVER2')
        .set('authorization', TOKEN)
        .expect(200);
      expect(column(iservers, 'name')).toEqual(['stack-1']);
      const one = await http().get(`/admin/gateways/${gatewayId}`).set('authorization', TOKEN).expect(200);
      expect(one.body).toMatchObject({ id: gatewayId, name: 'feeder-1', deviceCount: 1 });
    });

    it('answers 400 for a malformed id or query and 404 for an unknown gateway', async () => {
      const malformed = await http()
        .get('/admin/gateways/not-a-uuid')
        .set('authorization', TOKEN)
        .expect(400);
      expect(malformed.body).toEqual({ statusCode: 400, message: 'id must be a UUID' });
      const query = await http().get('/admin/gateways?pageSize=0').set('authorization', TOKEN).expect(400);
      expect(query.body.message).toMatch(/^pageSize must not be less than 1/);
      const enabled = await http()
        .get('/admin/gateways?enabled=maybe')
        .set('authorization', TOKEN)
        .expect(400);
      expect(enabled.body.message).toMatch(/^enabled must be a boolean/);
      const unknown = await http()
        .post('/admin/gateways/00000000-0000-4000-8000-000000000000/disable')
        .set('authorization', TOKEN)
        .expect(404);
      expect(unknown.body).toEqual({
        statusCode: 404,
        message: 'id: no gateway 00000000-0000-4000-8000-000000000000',
      });
    });

    it('disables and enables a gateway', async () => {
      const disabled = await http()
        .post(`/admin/gateways/${gatewayId}/disable`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(disabled.body.enabled).toBe(false);
      const listed = await http()
        .get('/admin/gateways?enabled=false')
        .set('authorization', TOKEN)
        .expect(200);
      expect(column(listed, 'id')).toEqual([gatewayId]);
      const enabled = await http()
        .post(`/admin/gateways/${gatewayId}/enable`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(enabled.body.enabled).toBe(true);
    });
  });

  describe('devices', () => {
    beforeAll(async () => {
      await db.query(
        `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway, activation_status)
         VALUES ('m2', 3100001002, 'ABB_G13', $1, '3100001002', 1),
                ('m3', 3100001003, 'ABB_G13', $1, '3100001003', 0),
                ('x_probe', 42, 'OMEGA_ISERVER2', NULL, NULL, 1)`,
        [gatewayId],
      );
      await db.query(
        `INSERT INTO udil.meter_visuals (global_device_id, msn, last_command, last_command_resp, active_energy_pos_tl, meter_activation_status)
         VALUES ('m1', 3100001001, 'AUX_RELAY_OPERATIONS', 'relay opened', 1234.5, 1)`,
      );
      await db.query(
        `INSERT INTO udil.transaction_status (transactionid, global_device_id, msn, type, type_parameters, status_level, indv_status, response_data)
         VALUES ('tx-old', 'm1', 3100001001, 'AUX_RELAY_OPERATIONS', '{"relay_operate":"0"}', 5, 1, 'relay opened')`,
      );
      await db.query(
        `INSERT INTO udil.device_communication_history (global_device_id, msn, communication_status, message_log, mdc_read_datetime)
         VALUES ('m1', 3100001001, 1, 'POST /meters/3100001001/io 200', now())`,
      );
    });

    const ids = (response: { body: unknown }) => column(response, 'globalDeviceId');

    it('lists devices with filters and pagination', async () => {
      const all = await http().get('/admin/devices').set('authorization', TOKEN).expect(200);
      expect(all.body).toMatchObject({ total: 4, page: 1, pageSize: 50 });
      expect(ids(all)).toEqual(['m1', 'm2', 'm3', 'x_probe']);
      const ofGateway = await http()
        .get(`/admin/devices?gatewayId=${gatewayId}&activationStatus=1`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(ids(ofGateway)).toEqual(['m1', 'm2']);
      const inactive = await http()
        .get('/admin/devices?activationStatus=0')
        .set('authorization', TOKEN)
        .expect(200);
      expect(ids(inactive)).toEqual(['m3']);
      const byDriver = await http()
        .get('/admin/devices?driver=OMEGA_ISERVER2')
        .set('authorization', TOKEN)
        .expect(200);
      expect(ids(byDriver)).toEqual(['x_probe']);
      const byMsn = await http().get('/admin/devices?msn=3100001002').set('authorization', TOKEN).expect(200);
      expect(ids(byMsn)).toEqual(['m2']);
      const byPrefix = await http()
        .get('/admin/devices?search=m&page=2&pageSize=2')
        .set('authorization', TOKEN)
        .expect(200);
      expect(byPrefix.body).toMatchObject({ total: 3, page: 2, pageSize: 2 });
      expect(ids(byPrefix)).toEqual(['m3']);
      const underscore = await http().get('/admin/devices?search=x_').set('authorization', TOKEN).expect(200);
      expect(ids(underscore)).toEqual(['x_probe']);
    });

    it.each([
      ['activationStatus=7', /^activationStatus must be one of/],
      ['gatewayId=feeder-1', /^gatewayId must be a UUID/],
      ['msn=abc', /^msn must be digits/],
      ['pageSize=501', /^pageSize must not be greater than 500/],
      ['page=x', /page must be an integer number/],
      ['sort=msn', /^property sort should not exist/],
    ])('refuses ?%s with 400 naming the parameter', async (query, message) => {
      const response = await http().get(`/admin/devices?${query}`).set('authorization', TOKEN).expect(400);
      expect(response.body).toEqual({ statusCode: 400, message: expect.stringMatching(message) });
    });

    it('answers a device with its gateway, visuals, transactions and communications', async () => {
      const response = await http().get('/admin/devices/m1').set('authorization', BASIC).expect(200);
      expect(response.body).toMatchObject({
        globalDeviceId: 'm1',
        msn: '3100001001',
        activationStatus: 1,
        gateway: { id: gatewayId, name: 'feeder-1', driver: 'ABB_G13', enabled: true },
        visuals: {
          last_command: 'AUX_RELAY_OPERATIONS',
          last_command_resp: 'relay opened',
          active_energy_pos_tl: '1234.500',
        },
        recentTransactions: [
          { transactionid: 'tx-old', type: 'AUX_RELAY_OPERATIONS', status_level: 5, indv_status: 1 },
        ],
        recentCommunications: [{ communication_status: 1, message_log: 'POST /meters/3100001001/io 200' }],
      });
      expect(response.body.visuals).not.toHaveProperty('frequency');
      const unknown = await http().get('/admin/devices/nope').set('authorization', BASIC).expect(404);
      expect(unknown.body).toEqual({ statusCode: 404, message: 'globalDeviceId: no device nope' });
    });

    it('finds a device’s older transactions beyond the latest months, and pages its commands by date range', async () => {
      await db.query(
        `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime, status_level, indv_status)
         VALUES ('tx-probe-400', 'x_probe', 'INST', now() - interval '400 days', 5, 1),
                ('tx-probe-40', 'x_probe', 'INST', now() - interval '40 days', 5, 1)`,
      );
      const detail = await http().get('/admin/devices/x_probe').set('authorization', TOKEN).expect(200);
      expect(
        (detail.body.recentTransactions as { transactionid: string }[]).map((row) => row.transactionid),
      ).toEqual(['tx-probe-40', 'tx-probe-400']);

      const recent = await http()
        .get('/admin/audit/device-commands?globalDeviceId=x_probe')
        .set('authorization', TOKEN)
        .expect(200);
      expect(recent.body).toMatchObject({ items: [], total: 0, to: null });
      const thirtyDays = Date.now() - new Date(recent.body.from as string).getTime();
      expect(Math.round(thirtyDays / 86_400_000)).toBe(30);
      const from = new Date(Date.now() - 500 * 86_400_000).toISOString();
      const to = new Date(Date.now() - 100 * 86_400_000).toISOString();
      const older = await http()
        .get(`/admin/audit/device-commands?globalDeviceId=x_probe&from=${from}&to=${to}`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(older.body).toMatchObject({ total: 1, from, to });
      expect(older.body.items).toEqual([expect.objectContaining({ transactionid: 'tx-probe-400' })]);
      for (const [query, message] of [
        ['from=last-week', 'from must be an ISO 8601 date-time'],
        ['from=2026-11-01T00:00:00', 'from must end with its offset (Z or ±hh:mm)'],
        ['to=yesterday', 'to must be an ISO 8601 date-time'],
        ['from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'to must not be before from'],
      ]) {
        const refused = await http()
          .get(`/admin/audit/device-commands?${query}`)
          .set('authorization', TOKEN)
          .expect(400);
        expect(refused.body).toEqual({ statusCode: 400, message: expect.stringContaining(message) });
      }
    });

    it('deactivates and activates a device in the registry and in meter_visuals', async () => {
      const off = await http().post('/admin/devices/m1/deactivate').set('authorization', TOKEN).expect(200);
      expect(off.body).toEqual({
        globalDeviceId: 'm1',
        activationStatus: 0,
        message: 'm1 deactivated: it is neither read nor commanded',
      });
      const state = async () =>
        (
          await db.query<{ activation_status: number; meter_activation_status: number }>(
            `SELECT d.activation_status, v.meter_activation_status FROM public.devices d
               JOIN udil.meter_visuals v USING (global_device_id) WHERE d.global_device_id = 'm1'`,
          )
        ).rows[0];
      expect(await state()).toEqual({ activation_status: 0, meter_activation_status: 0 });
      await http().post('/admin/devices/m1/activate').set('authorization', TOKEN).expect(200);
      expect(await state()).toEqual({ activation_status: 1, meter_activation_status: 1 });
      await http().post('/admin/devices/nope/activate').set('authorization', TOKEN).expect(404);
    });
  });

  describe('UDIL clients', () => {
    const authorize = (username: string, password: string, code: string) =>
      http()
        .post('/authorization_service')
        .set('username', username)
        .set('password', password)
        .set('code', code);

    it('creates an account whose credentials authorization_service accepts', async () => {
      const created = await http()
        .post('/admin/udil-clients')
        .set('authorization', TOKEN)
        .send({ username: 'mdm_user', password: 'WSnt!@SS^I2*', code: '223' })
        .expect(201);
      expect(created.body).toMatchObject({
        username: 'mdm_user',
        enabled: true,
        activeKeys: 0,
        revokedKeys: 0,
      });
      expect(created.body).not.toHaveProperty('password');
      expect(created.body).not.toHaveProperty('code');
      const { rows } = await db.query(
        `SELECT password_hash, code_hash FROM public.udil_clients WHERE username = 'mdm_user'`,
      );
      expect(rows[0].password_hash).toMatch(/^scrypt\$/);
      expect(rows[0].code_hash).toMatch(/^scrypt\$/);
      await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(200);
      const listed = await http().get('/admin/udil-clients').set('authorization', TOKEN).expect(200);
      expect(listed.body).toEqual([expect.objectContaining({ username: 'mdm_user', activeKeys: 1 })]);
    });

    it('generates the secrets it is not given and answers them once', async () => {
      const created = await http()
        .post('/admin/udil-clients')
        .set('authorization', TOKEN)
        .send({ username: 'mdm_lesco' })
        .expect(201);
      expect(created.body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(created.body.code).toMatch(/^\d{6}$/);
      await authorize('mdm_lesco', text(created, 'password'), text(created, 'code')).expect(200);
      const again = await http()
        .get(`/admin/udil-clients/${created.body.id}`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(again.body).not.toHaveProperty('password');
    });

    it.each([
      [{ username: 'has space', password: 'long-enough', code: '1' }, /^username must be 1 to 100 letters/],
      [
        { username: 'short', password: 'short', code: '1' },
        /^password must be longer than or equal to 8 characters/,
      ],
      [
        { username: 'nocode', password: 'long-enough', code: '' },
        /^code must be longer than or equal to 1 characters/,
      ],
      [{ password: 'long-enough' }, /^username must be 1 to 100 letters/],
    ])('refuses %j with 400 naming the field', async (body, message) => {
      const response = await http()
        .post('/admin/udil-clients')
        .set('authorization', TOKEN)
        .send(body)
        .expect(400);
      expect(response.body).toEqual({ statusCode: 400, message: expect.stringMatching(message) });
    });

    it('refuses a second account of the same name with 409', async () => {
      const response = await http()
        .post('/admin/udil-clients')
        .set('authorization', TOKEN)
        .send({ username: 'mdm_user', password: 'another-password', code: '1' })
        .expect(409);
      expect(response.body).toEqual({
        statusCode: 409,
        message: 'username: a UDIL client named mdm_user already exists',
      });
      await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(200);
    });

    it('rotates password and code and revokes the keys issued with the old ones', async () => {
      const auth = app.get(UdilAuthService);
      const id = (await db.query(`SELECT id FROM public.udil_clients WHERE username = 'mdm_user'`)).rows[0]
        .id as string;
      const oldKey = (await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(200)).body
        .privatekey as string;
      await expect(auth.clientOf(oldKey)).resolves.toBe(id);
      const rotated = await http()
        .post(`/admin/udil-clients/${id}/rotate`)
        .set('authorization', TOKEN)
        .send({})
        .expect(200);
      expect(rotated.body.revokedKeys).toBeGreaterThanOrEqual(1);
      expect(rotated.body.activeKeys).toBe(0);
      await expect(auth.clientOf(oldKey)).rejects.toThrow(/not valid or has expired/);
      await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(401);
      await authorize('mdm_user', text(rotated, 'password'), text(rotated, 'code')).expect(200);
      const given = await http()
        .post(`/admin/udil-clients/${id}/rotate`)
        .set('authorization', TOKEN)
        .send({ password: 'WSnt!@SS^I2*', code: '223' })
        .expect(200);
      expect(given.body).not.toHaveProperty('password');
      await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(200);
      const bad = await http()
        .post(`/admin/udil-clients/${id}/rotate`)
        .set('authorization', TOKEN)
        .send({ code: 5 })
        .expect(400);
      expect(bad.body.message).toMatch(/code must be a string/);
    });

    it('revokes keys, disables and enables an account', async () => {
      const auth = app.get(UdilAuthService);
      const id = (await db.query(`SELECT id FROM public.udil_clients WHERE username = 'mdm_user'`)).rows[0]
        .id as string;
      const key = (await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(200)).body.privatekey as string;
      const revoked = await http()
        .post(`/admin/udil-clients/${id}/revoke-keys`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(revoked.body).toMatchObject({ id, activeKeys: 0 });
      expect(revoked.body.revokedKeys).toBeGreaterThanOrEqual(1);
      await expect(auth.clientOf(key)).rejects.toThrow(/not valid/);
      // A UDIL service refuses the revoked key too.
      await http()
        .post('/transaction_status')
        .set('privatekey', key)
        .set('transactionid', 'tx-old')
        .expect(401);

      const disabled = await http()
        .post(`/admin/udil-clients/${id}/disable`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(disabled.body.enabled).toBe(false);
      await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(401);
      await http().post(`/admin/udil-clients/${id}/enable`).set('authorization', TOKEN).expect(200);
      await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(200);
      await http()
        .post('/admin/udil-clients/00000000-0000-4000-8000-000000000000/revoke-keys')
        .set('authorization', TOKEN)
        .expect(404);
    });

    it('removes keys a week after they expired or were revoked (the hourly maintenance), and no other', async () => {
      const id = (await db.query(`SELECT id FROM public.udil_clients WHERE username = 'mdm_user'`)).rows[0]
        .id as string;
      const live = (await authorize('mdm_user', 'WSnt!@SS^I2*', '223').expect(200)).body.privatekey as string;
      const day = 86_400_000;
      await db.query(
        `INSERT INTO public.udil_private_keys (key_hash, client_id, issued_at, expires_at, revoked_at)
         VALUES (repeat('a', 64), $1, $2, $3, NULL), (repeat('b', 64), $1, $2, $4, NULL),
                (repeat('c', 64), $1, $2, $5, $3), (repeat('d', 64), $1, $2, $5, $4)`,
        [
          id,
          new Date(Date.now() - 30 * day),
          new Date(Date.now() - 8 * day), // expired or revoked 8 days ago: removed
          new Date(Date.now() - 6 * day), // 6 days ago: kept
          new Date(Date.now() + day),
        ],
      );
      const before = Number((await db.query(`SELECT count(*) AS n FROM public.udil_private_keys`)).rows[0].n);
      const removed = await app
        .get(UdilPrivateKeyRepository)
        .pruneSpent(new Date(Date.now() - SPENT_PRIVATEKEY_DAYS * day), 1);
      expect(removed).toBe(2);
      const kept = await db.query<{ key_hash: string }>(
        `SELECT key_hash FROM public.udil_private_keys WHERE key_hash IN (repeat('a', 64), repeat('b', 64),
           repeat('c', 64), repeat('d', 64)) ORDER BY 1`,
      );
      expect(kept.rows.map((row) => row.key_hash[0])).toEqual(['b', 'd']);
      expect(Number((await db.query(`SELECT count(*) AS n FROM public.udil_private_keys`)).rows[0].n)).toBe(
        before - 2,
      );
      await expect(app.get(UdilAuthService).clientOf(live)).resolves.toBe(id);
    });
  });

  describe('audit log', () => {
    it('records admin actions with who, what, when and the result, secrets redacted', async () => {
      const response = await http()
        .get('/admin/audit?action=gateway.create&pageSize=500')
        .set('authorization', TOKEN)
        .expect(200);
      const entries = response.body.items as {
        actor: string;
        auth_method: string;
        target_id: string | null;
        request: Record<string, unknown>;
        result: string;
        status_code: number;
        detail: string | null;
        occurred_at: string;
      }[];
      const created = entries.find((e) => e.target_id === gatewayId);
      expect(created).toMatchObject({
        actor: ADMIN_USER,
        auth_method: 'basic',
        result: 'success',
        status_code: 201,
        request: { name: 'feeder-1', driver: 'ABB_G13', password: '[redacted]', username: 'hes' },
      });
      expect(new Date(created!.occurred_at).getTime()).not.toBeNaN();
      const refusedFingerprint = entries.find(
        (e) => e.detail === 'tlsFingerprintSha256 is required when tlsMode is pinned',
      );
      expect(refusedFingerprint).toMatchObject({
        actor: 'token',
        auth_method: 'token',
        result: 'failure',
        status_code: 400,
      });
      const duplicate = entries.find((e) => e.status_code === 409);
      expect(duplicate?.detail).toBe('name: a gateway named feeder-1 already exists');
      const stored = await db.query(`SELECT request::text FROM public.admin_audit_log`);
      for (const row of stored.rows as { request: string | null }[]) {
        expect(row.request ?? '').not.toMatch(/gateway-secret|WSnt!@SS|not-the-password/);
      }
    });

    it('records a failed connection test as a failure and filters by result and target', async () => {
      const failures = await http()
        .get('/admin/audit?action=gateway.test-connection&result=failure')
        .set('authorization', TOKEN)
        .expect(200);
      expect(failures.body.items.length).toBeGreaterThanOrEqual(2);
      expect(column(failures, 'detail')).toEqual(
        expect.arrayContaining([expect.stringMatching(/^feeder-wrong-password: /)]),
      );
      const ofGateway = await http()
        .get(`/admin/audit?targetType=gateway&targetId=${gatewayId}`)
        .set('authorization', TOKEN)
        .expect(200);
      expect(column(ofGateway, 'action')).toEqual([
        'gateway.enable',
        'gateway.disable',
        'gateway.discover-meters',
        'gateway.test-connection',
        'gateway.create',
      ]);
      const devices = await http()
        .get('/admin/audit?targetType=device&targetId=m1')
        .set('authorization', TOKEN)
        .expect(200);
      expect(column(devices, 'action')).toEqual(['device.activate', 'device.deactivate']);
      const bad = await http().get('/admin/audit?result=maybe').set('authorization', TOKEN).expect(400);
      expect(bad.body.message).toMatch(/^result must be one of/);
    });

    it('does not audit reads', async () => {
      const before = await auditCount();
      await http().get('/admin/devices').set('authorization', TOKEN).expect(200);
      await http().get('/admin/audit').set('authorization', TOKEN).expect(200);
      expect(await auditCount()).toBe(before);
    });

    it('lists every command sent to a device with the UDIL client that asked for it', async () => {
      const key = (
        await http()
          .post('/authorization_service')
          .set('username', 'mdm_user')
          .set('password', 'WSnt!@SS^I2*')
          .set('code', '223')
          .expect(200)
      ).body.privatekey as string;
      await http()
        .post('/aux_relay_operations')
        .set('privatekey', key)
        .set('transactionid', 'tx-admin-audit-1')
        .type('form')
        .send({
          global_device_id: JSON.stringify(['m2', 'm3']),
          request_datetime: '2026-11-21 10:00:00',
          relay_operate: '0',
        })
        .expect(200);
      const response = await http()
        .get('/admin/audit/device-commands?transactionid=tx-admin-audit-1')
        .set('authorization', TOKEN)
        .expect(200);
      expect(response.body.total).toBe(2);
      const rows = response.body.items as {
        global_device_id: string;
        requested_by: string;
        command: string;
        result: string;
      }[];
      expect(rows.find((r) => r.global_device_id === 'm2')).toMatchObject({
        requested_by: 'mdm_user',
        command: 'AUX_RELAY_OPERATIONS',
        result: 'in progress',
      });
      // m3 is inactive: refused at acceptance, recorded as cancelled with the reason.
      expect(rows.find((r) => r.global_device_id === 'm3')).toMatchObject({
        requested_by: 'mdm_user',
        result: 'cancelled',
      });
      const byDevice = await http()
        .get('/admin/audit/device-commands?globalDeviceId=m1')
        .set('authorization', TOKEN)
        .expect(200);
      expect(byDevice.body.items).toEqual([
        expect.objectContaining({
          transactionid: 'tx-old',
          requested_by: 'head-end',
          result: 'complete',
          status_level: 5,
        }),
      ]);
    });
  });

  describe('Bull Board', () => {
    it('serves the queue dashboard and its API to admins', async () => {
      const page = await http().get('/admin/queues').set('authorization', BASIC).expect(200);
      expect(page.text).toContain('Head-end queues');
      const api = await http().get('/admin/queues/api/queues').set('authorization', TOKEN).expect(200);
      const names = (api.body.queues as { name: string }[]).map((q) => q.name).sort();
      expect(names).toEqual(expect.arrayContaining(['system', 'transactions']));
    });

    it('writes every action taken in it to the audit log, refused ones included', async () => {
      await http().put('/admin/queues/api/queues/system/pause').set('authorization', TOKEN).expect(200);
      await http().put('/admin/queues/api/queues/system/resume').set('authorization', BASIC).expect(200);
      await http()
        .put('/admin/queues/api/queues/no-such-queue/pause')
        .set('authorization', TOKEN)
        .expect(404);
      const audited = async () =>
        (await http().get('/admin/audit?targetType=queue').set('authorization', TOKEN).expect(200)).body
          .items as Record<string, unknown>[];
      // Written when the answer has gone out: wait for the three rows.
      for (let i = 0; i < 50 && (await audited()).length < 3; i += 1)
        await new Promise((r) => setTimeout(r, 100));
      // Each row is written when its response closes, so their order need not be the requests' order.
      const rows = await audited();
      expect(rows).toHaveLength(3);
      expect(rows).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            action: 'queue.pause',
            target_id: 'no-such-queue',
            result: 'failure',
            status_code: 404,
            actor: 'token',
          }),
          expect.objectContaining({
            action: 'queue.resume',
            target_id: 'system',
            result: 'success',
            actor: ADMIN_USER,
            auth_method: 'basic',
            detail: 'PUT /api/queues/system/resume',
          }),
          expect.objectContaining({
            action: 'queue.pause',
            target_id: 'system',
            result: 'success',
            actor: 'token',
          }),
        ]),
      );
      // GETs (looking) are not actions
      expect((await audited()).some((row) => row.detail === 'GET /api/queues')).toBe(false);
    });
  });

  describe('Swagger', () => {
    interface Operation {
      summary?: string;
      security?: Record<string, string[]>[];
      requestBody?: { content: Record<string, { examples?: object; schema?: { $ref?: string } }> };
      responses: Record<
        string,
        { content?: Record<string, { example?: unknown; examples?: object; schema?: Schema }> }
      >;
      parameters?: { name: string; in: string; example?: unknown; schema?: Schema }[];
    }
    interface Schema {
      $ref?: string;
      type?: string;
      items?: Schema;
      example?: unknown;
      properties?: Record<string, Schema>;
      allOf?: Schema[];
    }

    it('documents every admin route with a summary, the security schemes and examples', async () => {
      const document = (await http().get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, Operation>>;
        components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { scheme: string }> };
      };
      expect(document.components.securitySchemes['admin-token']).toMatchObject({ scheme: 'bearer' });
      expect(document.components.securitySchemes['admin-basic']).toMatchObject({ scheme: 'basic' });
      const resolve = (schema: Schema): Schema =>
        schema.$ref ? document.components.schemas[schema.$ref.split('/').pop()!] : schema;
      /** Every property of the schema (and of the schemas it refers to) carries an example. */
      const exemplified = (schema: Schema, seen = new Set<Schema>()): boolean => {
        const resolved = resolve(schema);
        if (seen.has(resolved)) return true;
        seen.add(resolved);
        if (resolved.example !== undefined) return true;
        if (resolved.items) return exemplified(resolved.items, seen);
        if (resolved.allOf) return resolved.allOf.every((part) => exemplified(part, seen));
        if (!resolved.properties) return false;
        return Object.values(resolved.properties).every((property) => exemplified(property, seen));
      };
      const adminPaths = Object.entries(document.paths).filter(([path]) => path.startsWith('/admin'));
      const operations = adminPaths.flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({
          route: `${method.toUpperCase()} ${path}`,
          operation,
        })),
      );
      expect(operations.length).toBeGreaterThanOrEqual(20);
      for (const { route, operation } of operations) {
        expect({ route, summary: Boolean(operation.summary) }).toEqual({ route, summary: true });
        expect({ route, security: operation.security }).toEqual({
          route,
          security: expect.arrayContaining([{ 'admin-token': [] }, { 'admin-basic': [] }]),
        });
        const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
        const content = success?.[1].content?.['application/json'];
        const example = Boolean(
          content &&
          (content.example !== undefined ||
            content.examples ||
            (content.schema && exemplified(content.schema))),
        );
        expect({ route, example }).toEqual({ route, example: true });
        const body = operation.requestBody?.content['application/json'];
        if (body)
          expect({
            route,
            body: Boolean(body.examples || (body.schema && exemplified(body.schema))),
          }).toEqual({ route, body: true });
      }
    });
  });
});
