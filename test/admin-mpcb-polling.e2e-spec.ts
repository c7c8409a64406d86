import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { GatewayRepository } from '@hes/database';
import { MpcbSiteRepository } from '@hes/mpcb';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const ADMIN_USER = 'operator';
const ADMIN_PASSWORD = 'operator-secret-42';
const SITE_KEY = 'Zx9-site-key-that-must-never-leak-0123456789';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const TOKEN = `Bearer ${ADMIN_TOKEN}`;
const BASIC = basic(ADMIN_USER, ADMIN_PASSWORD);

type Method = 'get' | 'post' | 'put' | 'patch';

/** One route of each new admin group, with a body that would be accepted by an authorized caller. */
const PROTECTED_ROUTES: [method: Method, path: string, body: object | null][] = [
  ['get', '/admin/mpcb-sites', null],
  ['post', '/admin/mpcb-sites', { siteId: 'anonymous', softwareVersionId: 'v1', siteKey: SITE_KEY }],
  ['get', `/admin/mpcb-sites/${UNKNOWN}`, null],
  ['post', `/admin/mpcb-sites/${UNKNOWN}/monitoring-units`, { monitoringId: 'stack_1' }],
  ['post', `/admin/mpcb-sites/${UNKNOWN}/monitoring-units/${UNKNOWN}/analysers`, { analyzerId: 'a1' }],
  [
    'put',
    `/admin/mpcb-sites/${UNKNOWN}/analysers/${UNKNOWN}/parameters/SO2`,
    { parameterName: 'SO2', unit: 'ppm' },
  ],
  ['post', `/admin/mpcb-sites/${UNKNOWN}/analysers/${UNKNOWN}/maintenance`, { maintenance: true }],
  ['get', '/admin/poll-schedules', null],
  ['patch', '/admin/poll-schedules/pm1/LPRO', { intervalMinutes: 15 }],
  ['post', '/admin/poll-schedules/pm1/LPRO/poll-now', null],
];

interface AuditEntry {
  actor: string;
  auth_method: string;
  action: string;
  target_type: string;
  target_id: string | null;
  request: Record<string, unknown> | null;
  result: string;
  status_code: number;
  detail: string | null;
}

interface ScheduleRow {
  interval_minutes: number;
  enabled: boolean;
  next_due_at: Date;
}

describe('admin API: MPCB sites and poll schedules', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;
  let db: Client;
  let iserverId: string;
  let g13Id: string;
  let siteRef: string;
  let unitRef: string;
  let analyserRef: string;
  /** Every answer body of the MPCB routes, to prove the site key is in none. */
  const answers: string[] = [];

  /** An authorized call whose answer is kept. */
  const call = async (method: Method, path: string, body?: object, authorization = TOKEN) => {
    const response = await request(app.getHttpServer())
      [method](path)
      .set('authorization', authorization)
      .send(body);
    answers.push(response.text);
    return response;
  };
  const schedule = async (device: string, type: string): Promise<ScheduleRow> =>
    (
      await db.query<ScheduleRow>(
        `SELECT interval_minutes, enabled, next_due_at FROM public.poll_schedules
          WHERE global_device_id = $1 AND data_type = $2`,
        [device, type],
      )
    ).rows[0];
  const auditCount = async () =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.admin_audit_log`)).rows[0].n;

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_mpcb');
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
    const gateways = app.get(GatewayRepository);
    iserverId = (
      await gateways.create({ name: 'stack-iserver', driver: 'OMEGA_ISERVER2', endpoint: 'ws://127.0.0.1:1' })
    ).id;
    g13Id = (
      await gateways.create({ name: 'feeder-g13', driver: 'ABB_G13', endpoint: 'https://127.0.0.1:1' })
    ).id;
    await db.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
       VALUES ('pm1', 3100001001, 'ABB_G13', $1, '3100001001'), ('pm2', 3100001002, 'ABB_G13', $1, '3100001002')`,
      [g13Id],
    );
    await db.query(
      `INSERT INTO public.poll_schedules (global_device_id, data_type, interval_minutes, next_due_at)
       SELECT d, t, 1440, now() + interval '1 day'
         FROM unnest(ARRAY['pm1', 'pm2']) AS d CROSS JOIN unnest(ARRAY['INST', 'LPRO', 'EVNT']) AS t`,
    );
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await database?.drop();
  });

  describe('protection', () => {
    it.each(PROTECTED_ROUTES)('%s %s refuses anonymous callers with 401', async (method, path, body) => {
      const response = await request(app.getHttpServer())
        [method](path)
        .send(body ?? undefined);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="hes-admin"/);
      expect(response.body).toEqual({
        statusCode: 401,
        message: expect.stringMatching(/^authorization: header is required/),
      });
    });

    it.each(PROTECTED_ROUTES)('%s %s refuses wrong credentials', async (method, path, body) => {
      for (const authorization of [
        'Bearer not-the-admin-token-at-all-000000',
        basic(ADMIN_USER, 'wrong-password'),
        basic('intruder', ADMIN_PASSWORD),
        `Bearer ${ADMIN_TOKEN}x`,
      ]) {
        const response = await request(app.getHttpServer())
          [method](path)
          .set('authorization', authorization)
          .send(body ?? undefined);
        expect(response.status).toBe(401);
        expect(response.body).toEqual({
          statusCode: 401,
          message: 'authorization: credentials are not valid',
        });
      }
    });

    it('did nothing and wrote nothing for the refused calls', async () => {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM mpcb.sites) AS sites,
                (SELECT count(*)::int FROM public.poll_schedules WHERE interval_minutes <> 1440) AS changed,
                (SELECT count(*)::int FROM public.poll_schedules WHERE next_due_at <= now()) AS due,
                (SELECT count(*)::int FROM public.admin_audit_log) AS audit`,
      );
      expect(rows[0]).toEqual({ sites: 0, changed: 0, due: 0, audit: 0 });
    });
  });

  describe('MPCB sites', () => {
    it('creates a site, keeping the site key encrypted and out of the answer', async () => {
      const response = await call('post', '/admin/mpcb-sites', {
        siteId: 'site_1001',
        siteName: 'Sugar mill',
        softwareVersionId: 'ver_2.1',
        siteKey: SITE_KEY,
      });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        id: expect.any(String),
        siteId: 'site_1001',
        siteUid: 'site_1001',
        siteName: 'Sugar mill',
        siteLabel: '',
        softwareVersionId: 'ver_2.1',
        authorizationEncoding: 'hash',
        hasSiteKey: true,
        centralServerUrl: null,
        enabled: true,
        serverConfigLastUpdatedTime: null,
        siteConfigLastUpdatedTime: null,
        monitoringUnitCount: 0,
        parameterCount: 0,
      });
      siteRef = response.body.id;
      const { rows } = await db.query<{ site_key_encrypted: string }>(
        `SELECT site_key_encrypted FROM mpcb.sites WHERE id = $1`,
        [siteRef],
      );
      expect(rows[0].site_key_encrypted).toMatch(/^v1\./);
      expect(rows[0].site_key_encrypted).not.toContain(SITE_KEY);
      // The repository the site client uses reads the key back.
      expect((await app.get(MpcbSiteRepository).findSite(siteRef))?.siteKey).toBe(SITE_KEY);
    });

    it('refuses a second site with the same siteId with 409', async () => {
      const response = await call('post', '/admin/mpcb-sites', {
        siteId: 'site_1001',
        softwareVersionId: 'ver_2.1',
        siteKey: SITE_KEY,
      });
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ statusCode: 409, message: 'siteId: a site site_1001 already exists' });
    });

    it.each([
      [
        { siteId: 'site_2', softwareVersionId: 'v1', siteKey: 'too-short-key' },
        /^siteKey must have at least 32/,
      ],
      [{ siteId: 'site/2', softwareVersionId: 'v1', siteKey: SITE_KEY }, /^siteId must be 1 to 100 letters/],
      [
        { siteId: 'site_2', softwareVersionId: 'v,1', siteKey: SITE_KEY },
        /^softwareVersionId must be non-empty/,
      ],
      [{ siteId: 'site_2', softwareVersionId: 'v1' }, /siteKey must have at least 32/],
      [
        { siteId: 'site_2', softwareVersionId: 'v1', siteKey: `\u00e9${SITE_KEY}` },
        /^siteKey: its first 32 characters must be printable ASCII$/,
      ],
      [
        { siteId: 'site_2', softwareVersionId: 'v1', siteKey: SITE_KEY, authorizationEncoding: 'rot13' },
        /^authorizationEncoding must be one of/,
      ],
      [
        { siteId: 'site_2', softwareVersionId: 'v1', siteKey: SITE_KEY, colour: 'red' },
        /^property colour should not exist$/,
      ],
    ])('refuses the site %j with 400 naming the field', async (body, message) => {
      const response = await call('post', '/admin/mpcb-sites', body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, message: expect.stringMatching(message) });
      expect((await db.query(`SELECT 1 FROM mpcb.sites WHERE site_id = 'site_2'`)).rowCount).toBe(0);
    });

    it('adds a monitoring unit, an analyser and a sensor and a meter parameter, and reads the tree back', async () => {
      const unit = await call('post', `/admin/mpcb-sites/${siteRef}/monitoring-units`, {
        monitoringId: 'stack_1',
        monitoringType: 'Emission',
      });
      expect(unit.status).toBe(201);
      expect(unit.body).toEqual({
        id: expect.any(String),
        siteRef,
        monitoringId: 'stack_1',
        monitoringType: 'Emission',
      });
      unitRef = unit.body.id;
      const analyser = await call(
        'post',
        `/admin/mpcb-sites/${siteRef}/monitoring-units/${unitRef}/analysers`,
        { analyzerId: 'analyser_1', analyzerName: 'Flue gas analyser' },
      );
      expect(analyser.status).toBe(201);
      analyserRef = analyser.body.id;
      const sensor = await call(
        'put',
        `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/parameters/SO2`,
        {
          parameterName: 'SO2',
          unit: 'mg/Nm3',
          coefficientA: 2,
          coefficientB: 0.5,
          gaugeMinimum: 0,
          gaugeMaximum: 500,
          source: { kind: 'sensor', gatewayId: iserverId, channel: 'p1ch0' },
        },
      );
      expect(sensor.status).toBe(200);
      expect(sensor.body.source).toEqual({ kind: 'sensor', gatewayId: iserverId, channel: 'p1ch0' });
      const meter = await call('put', `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/parameters/I1`, {
        parameterName: 'Current L1',
        unit: 'A',
        source: { kind: 'meter', gatewayId: g13Id, deviceSerial: '3100001001', quantity: 'current_phase_a' },
      });
      expect(meter.status).toBe(200);

      const tree = await call('get', `/admin/mpcb-sites/${siteRef}`);
      expect(tree.status).toBe(200);
      expect(tree.body).toEqual({
        site: expect.objectContaining({
          id: siteRef,
          siteId: 'site_1001',
          monitoringUnitCount: 1,
          parameterCount: 2,
        }),
        monitoringUnits: [
          {
            id: unitRef,
            siteRef,
            monitoringId: 'stack_1',
            monitoringType: 'Emission',
            analysers: [
              {
                id: analyserRef,
                monitoringUnitRef: unitRef,
                analyzerId: 'analyser_1',
                analyzerName: 'Flue gas analyser',
                maintenance: false,
                parameters: [
                  {
                    id: meter.body.id,
                    analyserRef,
                    parameterId: 'I1',
                    parameterName: 'Current L1',
                    unit: 'A',
                    coefficientA: 1,
                    coefficientB: 0,
                    gaugeMinimum: null,
                    gaugeMaximum: null,
                    channelNo: '0',
                    source: {
                      kind: 'meter',
                      gatewayId: g13Id,
                      deviceSerial: '3100001001',
                      quantity: 'current_phase_a',
                    },
                    enabled: true,
                  },
                  {
                    id: sensor.body.id,
                    analyserRef,
                    parameterId: 'SO2',
                    parameterName: 'SO2',
                    unit: 'mg/Nm3',
                    coefficientA: 2,
                    coefficientB: 0.5,
                    gaugeMinimum: 0,
                    gaugeMaximum: 500,
                    channelNo: '0',
                    source: { kind: 'sensor', gatewayId: iserverId, channel: 'p1ch0' },
                    enabled: true,
                  },
                ],
              },
            ],
          },
        ],
      });
      // What acquisition will read: both parameters with their sources.
      const targets = await app.get(MpcbSiteRepository).acquisitionTargets();
      expect(targets.map((t) => [t.parameter.parameterId, t.parameter.source.kind])).toEqual([
        ['I1', 'meter'],
        ['SO2', 'sensor'],
      ]);

      const list = await call('get', '/admin/mpcb-sites?enabled=true');
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ total: 1, page: 1, pageSize: 50 });
      expect(list.body.items).toEqual([
        expect.objectContaining({ id: siteRef, hasSiteKey: true, monitoringUnitCount: 1, parameterCount: 2 }),
      ]);
      const none = await call('get', '/admin/mpcb-sites?enabled=false');
      expect(none.body).toMatchObject({ total: 0, items: [] });
    });

    it('updates a parameter, keeping its source when none is given and removing it with null', async () => {
      const path = `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/parameters/SO2`;
      const kept = await call('put', path, { parameterName: 'SO2', unit: 'ppm', coefficientA: 2.62 });
      expect(kept.status).toBe(200);
      expect(kept.body).toMatchObject({ unit: 'ppm', coefficientA: 2.62 });
      expect(kept.body.source).toEqual({ kind: 'sensor', gatewayId: iserverId, channel: 'p1ch0' });
      const { rows } = await db.query(
        `SELECT count(*)::int AS n, min(source_channel) AS channel FROM mpcb.parameters WHERE parameter_id = 'SO2'`,
      );
      expect(rows[0]).toEqual({ n: 1, channel: 'p1ch0' });

      await call('put', `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/parameters/TMP`, {
        parameterName: 'Temperature',
        unit: 'C',
        source: { kind: 'sensor', gatewayId: iserverId, channel: 'p2ch1' },
      });
      const removed = await call(
        'put',
        `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/parameters/TMP`,
        {
          parameterName: 'Temperature',
          unit: 'C',
          source: null,
        },
      );
      expect(removed.status).toBe(200);
      expect(removed.body.source).toBeNull();
      const stored = await db.query(
        `SELECT source_kind, source_gateway_ref FROM mpcb.parameters WHERE parameter_id = 'TMP'`,
      );
      expect(stored.rows[0]).toEqual({ source_kind: null, source_gateway_ref: null });
    });

    it.each([
      [
        'an unknown gateway',
        { source: { kind: 'sensor', gatewayId: UNKNOWN, channel: 'p1ch0' } },
        /^source\.gatewayId: no gateway 00000000-0000-4000-8000-000000000000$/,
      ],
      [
        'a G13 gateway for a sensor',
        { source: { kind: 'sensor', gatewayId: 'G13', channel: 'p1ch0' } },
        /^source\.gatewayId: gateway feeder-g13 has driver ABB_G13, which cannot be a sensor source \(it has no readSensors;/,
      ],
      [
        'an iServer 2 gateway for a meter',
        {
          source: { kind: 'meter', gatewayId: 'ISERVER', deviceSerial: '3100001001', quantity: 'frequency' },
        },
        /^source\.gatewayId: gateway stack-iserver has driver OMEGA_ISERVER2, which cannot be a meter source \(it has no readInstantaneous;/,
      ],
      [
        'a malformed channel',
        { source: { kind: 'sensor', gatewayId: 'ISERVER', channel: 'probe1' } },
        /^source\.channel must look like p1ch0/,
      ],
      [
        'a meter source without quantity',
        { source: { kind: 'meter', gatewayId: 'G13', deviceSerial: '3100001001' } },
        /^source\.quantity must be a UDIL column name/,
      ],
      [
        'a channel on a meter source',
        {
          source: {
            kind: 'meter',
            gatewayId: 'G13',
            deviceSerial: '3100001001',
            quantity: 'frequency',
            channel: 'p1ch0',
          },
        },
        /^source\.channel is only for a sensor source$/,
      ],
      ['an unknown kind', { source: { kind: 'modem', gatewayId: 'G13' } }, /^source\.kind must be one of/],
      [
        'a gatewayId that is no UUID',
        { source: { kind: 'sensor', gatewayId: 'g13', channel: 'p1ch0' } },
        /^source\.gatewayId must be a UUID/,
      ],
      ['a unit with a comma', { unit: 'mg,Nm3' }, /^unit must not be empty nor contain ,/],
      ['a coefficient that is text', { coefficientA: 'two' }, /^coefficientA must be a number/],
    ])('refuses a parameter with %s with 400 naming the field', async (_what, change, message) => {
      const body: Record<string, unknown> = { parameterName: 'NOX', unit: 'ppm', ...change };
      const source = body.source as Record<string, unknown> | undefined;
      if (source?.gatewayId === 'G13') source.gatewayId = g13Id;
      if (source?.gatewayId === 'ISERVER') source.gatewayId = iserverId;
      const response = await call(
        'put',
        `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/parameters/NOX`,
        body,
      );
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, message: expect.stringMatching(message) });
      expect((await db.query(`SELECT 1 FROM mpcb.parameters WHERE parameter_id = 'NOX'`)).rowCount).toBe(0);
    });

    it('refuses bad identifiers with 400, unknown ids with 404 and duplicates with 409', async () => {
      const badUnit = await call('post', `/admin/mpcb-sites/${siteRef}/monitoring-units`, {
        monitoringId: ' stack',
      });
      expect(badUnit.status).toBe(400);
      expect(badUnit.body.message).toMatch(/^monitoringId must be 1 to 100 letters/);
      const badAnalyser = await call(
        'post',
        `/admin/mpcb-sites/${siteRef}/monitoring-units/${unitRef}/analysers`,
        {
          analyzerId: 'analyser,2',
        },
      );
      expect(badAnalyser.status).toBe(400);
      expect(badAnalyser.body.message).toMatch(/^analyzerId must be 1 to 100 letters/);
      const badParameter = await call(
        'put',
        `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/parameters/${encodeURIComponent('SO2;x')}`,
        { parameterName: 'x', unit: 'y' },
      );
      expect(badParameter.status).toBe(400);
      expect(badParameter.body.message).toMatch(/^parameterId must be 1 to 100 letters/);
      const badId = await call('get', '/admin/mpcb-sites/not-a-uuid');
      expect(badId.body).toEqual({ statusCode: 400, message: 'id must be a UUID' });
      const badAnalyserId = await call('post', `/admin/mpcb-sites/${siteRef}/analysers/nope/maintenance`, {
        maintenance: true,
      });
      expect(badAnalyserId.body).toEqual({ statusCode: 400, message: 'analyserId must be a UUID' });

      const noSite = await call('get', `/admin/mpcb-sites/${UNKNOWN}`);
      expect(noSite.body).toEqual({ statusCode: 404, message: `id: no MPCB site ${UNKNOWN}` });
      const noSiteUnit = await call('post', `/admin/mpcb-sites/${UNKNOWN}/monitoring-units`, {
        monitoringId: 'x',
      });
      expect(noSiteUnit.status).toBe(404);
      const noUnit = await call(
        'post',
        `/admin/mpcb-sites/${siteRef}/monitoring-units/${UNKNOWN}/analysers`,
        {
          analyzerId: 'analyser_2',
        },
      );
      expect(noUnit.body).toEqual({
        statusCode: 404,
        message: `monitoringUnitId: no monitoring unit ${UNKNOWN} in site ${siteRef}`,
      });
      const noAnalyser = await call(
        'put',
        `/admin/mpcb-sites/${siteRef}/analysers/${UNKNOWN}/parameters/SO2`,
        {
          parameterName: 'SO2',
          unit: 'ppm',
        },
      );
      expect(noAnalyser.body).toEqual({
        statusCode: 404,
        message: `analyserId: no analyser ${UNKNOWN} in site ${siteRef}`,
      });
      // An analyser of another site is unknown in this one.
      const other = await call('post', '/admin/mpcb-sites', {
        siteId: 'site_other',
        softwareVersionId: 'v1',
        siteKey: SITE_KEY,
      });
      expect(other.status).toBe(201);
      const elsewhere = await call(
        'post',
        `/admin/mpcb-sites/${other.body.id}/analysers/${analyserRef}/maintenance`,
        {
          maintenance: true,
        },
      );
      expect(elsewhere.status).toBe(404);

      const dupUnit = await call('post', `/admin/mpcb-sites/${siteRef}/monitoring-units`, {
        monitoringId: 'stack_1',
      });
      expect(dupUnit.body).toEqual({
        statusCode: 409,
        message: 'monitoringId: site site_1001 already has a monitoring unit stack_1',
      });
      const dupAnalyser = await call(
        'post',
        `/admin/mpcb-sites/${siteRef}/monitoring-units/${unitRef}/analysers`,
        {
          analyzerId: 'analyser_1',
        },
      );
      expect(dupAnalyser.body).toEqual({
        statusCode: 409,
        message: 'analyzerId: monitoring unit stack_1 already has an analyser analyser_1',
      });
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM mpcb.monitoring_units) AS units,
                (SELECT count(*)::int FROM mpcb.analysers) AS analysers,
                (SELECT bool_or(maintenance) FROM mpcb.analysers) AS maintenance`,
      );
      expect(rows[0]).toEqual({ units: 1, analysers: 1, maintenance: false });
    });

    it("sets and clears an analyser's maintenance flag", async () => {
      const path = `/admin/mpcb-sites/${siteRef}/analysers/${analyserRef}/maintenance`;
      const on = await call('post', path, { maintenance: true });
      expect(on.status).toBe(200);
      expect(on.body).toMatchObject({ id: analyserRef, maintenance: true });
      const stored = async () =>
        (
          await db.query<{ maintenance: boolean }>(`SELECT maintenance FROM mpcb.analysers WHERE id = $1`, [
            analyserRef,
          ])
        ).rows[0].maintenance;
      expect(await stored()).toBe(true);
      const bad = await call('post', path, { maintenance: 'yes' });
      expect(bad.body).toEqual({ statusCode: 400, message: 'maintenance must be a boolean value' });
      expect(await stored()).toBe(true);
      await call('post', path, { maintenance: false });
      expect(await stored()).toBe(false);
    });
  });

  describe('poll schedules', () => {
    it('lists schedules, filtered by device, data type and enabled, paged', async () => {
      const all = await call('get', '/admin/poll-schedules', undefined, BASIC);
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ total: 6, page: 1, pageSize: 50 });
      expect(all.body.items[0]).toEqual({
        globalDeviceId: 'pm1',
        dataType: 'EVNT',
        intervalMinutes: 1440,
        enabled: true,
        nextDueAt: expect.any(String),
        lastPolledAt: null,
        lastOutcome: null,
        consecutiveFailures: 0,
      });
      const lpro = await call('get', '/admin/poll-schedules?dataType=LPRO');
      expect((lpro.body.items as { globalDeviceId: string }[]).map((s) => s.globalDeviceId)).toEqual([
        'pm1',
        'pm2',
      ]);
      const device = await call('get', '/admin/poll-schedules?globalDeviceId=pm2&pageSize=2&page=2');
      expect(device.body).toMatchObject({ total: 3, page: 2, pageSize: 2 });
      expect((device.body.items as { dataType: string }[]).map((s) => s.dataType)).toEqual(['LPRO']);
      const disabled = await call('get', '/admin/poll-schedules?enabled=false');
      expect(disabled.body).toMatchObject({ total: 0, items: [] });
      const badType = await call('get', '/admin/poll-schedules?dataType=XXXX');
      expect(badType.body).toEqual({
        statusCode: 400,
        message: expect.stringMatching(
          /^dataType must be one of the following values: INST, BILL, MBIL, LPRO, EVNT/,
        ),
      });
    });

    it("changes a schedule's interval, bringing its next read forward, and its enabled flag", async () => {
      const before = await schedule('pm1', 'LPRO');
      const response = await call('patch', '/admin/poll-schedules/pm1/LPRO', { intervalMinutes: 15 });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        globalDeviceId: 'pm1',
        dataType: 'LPRO',
        intervalMinutes: 15,
        enabled: true,
      });
      const after = await schedule('pm1', 'LPRO');
      expect(after.interval_minutes).toBe(15);
      expect(after.next_due_at.getTime()).toBeLessThan(before.next_due_at.getTime());
      expect(after.next_due_at.getTime()).toBeLessThanOrEqual(Date.now() + 15 * 60_000 + 5_000);

      const disabled = await call('patch', '/admin/poll-schedules/pm1/EVNT', { enabled: false });
      expect(disabled.body).toMatchObject({ intervalMinutes: 1440, enabled: false });
      expect(await schedule('pm1', 'EVNT')).toMatchObject({ interval_minutes: 1440, enabled: false });
      const list = await call('get', '/admin/poll-schedules?enabled=false');
      expect(list.body.items).toEqual([expect.objectContaining({ globalDeviceId: 'pm1', dataType: 'EVNT' })]);
      // The other schedules are untouched.
      expect(await schedule('pm2', 'LPRO')).toMatchObject({ interval_minutes: 1440, enabled: true });
    });

    it.each([
      [{ intervalMinutes: 0 }, /^intervalMinutes must not be less than 1$/],
      [{ intervalMinutes: 44641 }, /^intervalMinutes must not be greater than 44640$/],
      [{ intervalMinutes: 1.5 }, /^intervalMinutes must be an integer number$/],
      [{ intervalMinutes: '15' }, /intervalMinutes must be an integer number/],
      [{ enabled: 'no' }, /^enabled must be a boolean value$/],
      [{}, /^intervalMinutes or enabled is required$/],
      [{ intervalMinutes: 5, nextDueAt: '2026-01-01' }, /^property nextDueAt should not exist$/],
    ])('refuses the change %j with 400 naming the field', async (body, message) => {
      const response = await call('patch', '/admin/poll-schedules/pm2/INST', body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, message: expect.stringMatching(message) });
      expect(await schedule('pm2', 'INST')).toMatchObject({ interval_minutes: 1440, enabled: true });
    });

    it('answers 404 for an unknown device or type and 400 for an unknown data type', async () => {
      const noDevice = await call('patch', '/admin/poll-schedules/nobody/LPRO', { intervalMinutes: 15 });
      expect(noDevice.body).toEqual({
        statusCode: 404,
        message: 'globalDeviceId, dataType: no poll schedule LPRO for device nobody',
      });
      const noType = await call('post', '/admin/poll-schedules/pm1/BILL/poll-now');
      expect(noType.status).toBe(404);
      const badType = await call('post', '/admin/poll-schedules/pm1/DAILY/poll-now');
      expect(badType.status).toBe(400);
      expect(badType.body.message).toMatch(/^dataType must be one of the following values/);
      expect((await db.query(`SELECT 1 FROM public.poll_schedules WHERE data_type = 'BILL'`)).rowCount).toBe(
        0,
      );
    });

    it('polls now: the schedule is due at once', async () => {
      expect((await schedule('pm2', 'EVNT')).next_due_at.getTime()).toBeGreaterThan(Date.now() + 3_600_000);
      const response = await call('post', '/admin/poll-schedules/pm2/EVNT/poll-now');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        globalDeviceId: 'pm2',
        dataType: 'EVNT',
        message: 'pm2 EVNT is due now: the next polling tick reads it',
      });
      const { rows } = await db.query<{ due: boolean }>(
        `SELECT next_due_at <= now() AS due FROM public.poll_schedules WHERE global_device_id = 'pm2' AND data_type = 'EVNT'`,
      );
      expect(rows[0].due).toBe(true);
      const { rows: others } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM public.poll_schedules WHERE next_due_at <= now()`,
      );
      expect(others[0].n).toBe(1);
    });
  });

  describe('audit and secrets', () => {
    it('records the changing calls, with results, and not the reads', async () => {
      const { rows } = await db.query<AuditEntry>(
        `SELECT actor, auth_method, action, target_type, target_id, request, result, status_code, detail
           FROM public.admin_audit_log ORDER BY id`,
      );
      const of = (action: string) => rows.filter((row) => row.action === action);
      expect(new Set(rows.map((row) => row.action))).toEqual(
        new Set([
          'mpcb-site.create',
          'mpcb-site.add-monitoring-unit',
          'mpcb-site.add-analyser',
          'mpcb-site.put-parameter',
          'mpcb-site.set-maintenance',
          'poll-schedule.update',
          'poll-schedule.poll-now',
        ]),
      );
      expect(of('mpcb-site.create')[0]).toMatchObject({
        actor: 'token',
        auth_method: 'token',
        target_type: 'mpcb-site',
        target_id: siteRef,
        result: 'success',
        status_code: 201,
        request: { siteId: 'site_1001', softwareVersionId: 'ver_2.1', siteKey: '[redacted]' },
      });
      expect(of('mpcb-site.create').find((row) => row.status_code === 409)).toMatchObject({
        result: 'failure',
        detail: 'siteId: a site site_1001 already exists',
      });
      expect(of('mpcb-site.create').find((row) => row.status_code === 400)).toMatchObject({
        result: 'failure',
        request: expect.objectContaining({ siteKey: '[redacted]' }),
      });
      expect(of('mpcb-site.put-parameter')).toContainEqual(
        expect.objectContaining({
          target_id: siteRef,
          result: 'success',
          status_code: 200,
          request: expect.objectContaining({
            source: { kind: 'sensor', gatewayId: iserverId, channel: 'p1ch0' },
          }),
        }),
      );
      expect(of('mpcb-site.put-parameter')).toContainEqual(
        expect.objectContaining({
          result: 'failure',
          status_code: 400,
          detail: `source.gatewayId: no gateway ${UNKNOWN}`,
        }),
      );
      expect(of('mpcb-site.set-maintenance').filter((row) => row.result === 'success')).toHaveLength(2);
      expect(of('poll-schedule.update')).toContainEqual(
        expect.objectContaining({
          target_type: 'poll-schedule',
          target_id: 'pm1',
          request: { intervalMinutes: 15 },
          result: 'success',
          status_code: 200,
        }),
      );
      expect(of('poll-schedule.update')).toContainEqual(
        expect.objectContaining({ target_id: 'pm2', result: 'failure', status_code: 400 }),
      );
      expect(of('poll-schedule.poll-now')).toContainEqual(
        expect.objectContaining({ target_id: 'pm2', result: 'success', status_code: 200 }),
      );

      const before = await auditCount();
      await call('get', '/admin/mpcb-sites');
      await call('get', `/admin/mpcb-sites/${siteRef}`);
      await call('get', '/admin/poll-schedules');
      expect(await auditCount()).toBe(before);
    });

    it('never answers the site key, nor stores it in the audit log', async () => {
      const audit = await call('get', '/admin/audit?targetType=mpcb-site&pageSize=500');
      expect(audit.status).toBe(200);
      expect(audit.body.total).toBeGreaterThan(0);
      const docs = await call('get', '/docs-json');
      expect(docs.status).toBe(200);
      expect(answers.length).toBeGreaterThan(40);
      for (const answer of answers) expect(answer).not.toContain(SITE_KEY);
      expect(answers.join('\n')).not.toContain('siteKey":"Zx9');
      const stored = await db.query<{ request: string | null }>(
        `SELECT request::text FROM public.admin_audit_log`,
      );
      for (const row of stored.rows) expect(row.request ?? '').not.toContain(SITE_KEY);
      expect(stored.rows.some((row) => (row.request ?? '').includes('"siteKey": "[redacted]"'))).toBe(true);
    });

    it('documents both groups in Swagger with the admin security schemes', async () => {
      const docs = await call('get', '/docs-json');
      const paths = docs.body.paths as Record<
        string,
        Record<string, { summary?: string; security?: unknown[] }>
      >;
      for (const [path, method] of [
        ['/admin/mpcb-sites', 'post'],
        ['/admin/mpcb-sites/{id}', 'get'],
        ['/admin/mpcb-sites/{id}/monitoring-units', 'post'],
        ['/admin/mpcb-sites/{id}/monitoring-units/{monitoringUnitId}/analysers', 'post'],
        ['/admin/mpcb-sites/{id}/analysers/{analyserId}/parameters/{parameterId}', 'put'],
        ['/admin/mpcb-sites/{id}/analysers/{analyserId}/maintenance', 'post'],
        ['/admin/poll-schedules', 'get'],
        ['/admin/poll-schedules/{globalDeviceId}/{dataType}', 'patch'],
        ['/admin/poll-schedules/{globalDeviceId}/{dataType}/poll-now', 'post'],
      ]) {
        const operation = paths[path]?.[method];
        expect({ path, method, summary: typeof operation?.summary }).toEqual({
          path,
          method,
          summary: 'string',
        });
        expect(operation?.security).toEqual(
          expect.arrayContaining([{ 'admin-token': [] }, { 'admin-basic': [] }]),
        );
      }
    });
  });
});
