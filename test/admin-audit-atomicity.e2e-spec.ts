import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const TOKEN = `Bearer ${ADMIN_TOKEN}`;
const LONE_HIGH = '\uD800';
const GATEWAY = { driver: 'ABB_G13', endpoint: 'https://10.0.0.1' };

interface AuditRow {
  action: string;
  target_id: string | null;
  request: Record<string, unknown> | null;
  result: string;
  status_code: number;
  detail: string | null;
}

/**
 * Issue 16 point 5: an admin change and its audit row commit together or not at all, whatever the
 * request carries.
 */
describe('admin audit: the change and its audit row commit together', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;
  let db: Client;

  const http = () => request(app.getHttpServer());
  const post = (path: string, body?: object | string) =>
    http()
      .post(path)
      .set('authorization', TOKEN)
      .set('content-type', 'application/json')
      .send(typeof body === 'string' ? body : JSON.stringify(body ?? {}));
  const lastAudit = async (): Promise<AuditRow> =>
    (
      await db.query<AuditRow>(
        `SELECT action, target_id, request, result, status_code, detail FROM public.admin_audit_log
          ORDER BY id DESC LIMIT 1`,
      )
    ).rows[0];
  const count = async (sql: string, values: unknown[] = []) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values)).rows[0].n;

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_audit_atomic');
    applyEnvironment(testEnvironment(database.url, { ADMIN_TOKEN }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
    // An audit log that refuses some rows, as a full disk or a broken constraint would.
    await db.query(`
      CREATE FUNCTION public.refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.request->>'name' = 'audit-refused' OR NEW.target_id = 'audit-refused-device' THEN
          RAISE EXCEPTION 'audit log refused the row';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER refuse_audit BEFORE INSERT ON public.admin_audit_log
       FOR EACH ROW EXECUTE FUNCTION public.refuse_audit()`,
    );
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await database?.drop();
  });

  it('commits a change with its audit row', async () => {
    const created = await post('/admin/gateways', { name: 'feeder-1', ...GATEWAY }).expect(201);
    expect(await lastAudit()).toMatchObject({
      action: 'gateway.create',
      target_id: created.body.id,
      result: 'success',
      status_code: 201,
    });
  });

  it('failure to audit ⇒ no change: the gateway is not created and the answer says why', async () => {
    const before = await count('public.admin_audit_log');
    const response = await post('/admin/gateways', { name: 'audit-refused', ...GATEWAY });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toEqual({
      statusCode: 503,
      message: expect.stringMatching(
        /^nothing was changed: the audit log could not be written \(error [0-9a-f-]{36}\); try again$/,
      ),
    });
    expect(await count(`public.gateways WHERE name = 'audit-refused'`)).toBe(0);
    expect(await count('public.admin_audit_log')).toBe(before);
  });

  it('failure to audit ⇒ no change, for a service that runs its own transaction too', async () => {
    const [gateway] = (await db.query<{ id: string }>(`SELECT id FROM public.gateways LIMIT 1`)).rows;
    await db.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
       VALUES ('audit-refused-device', 42, 'ABB_G13', $1, '42')`,
      [gateway.id],
    );
    await db.query(
      `INSERT INTO udil.meter_visuals (global_device_id, msn, meter_activation_status)
       VALUES ('audit-refused-device', 42, 1)`,
    );
    const response = await post('/admin/devices/audit-refused-device/deactivate');
    expect(response.status).toBe(503);
    const { rows } = await db.query<{ activation_status: number; meter_activation_status: number }>(
      `SELECT d.activation_status, v.meter_activation_status FROM public.devices d
         JOIN udil.meter_visuals v USING (global_device_id) WHERE d.global_device_id = 'audit-refused-device'`,
    );
    expect(rows).toEqual([{ activation_status: 1, meter_activation_status: 1 }]);
  });

  it('refuses an unpaired surrogate with a 400 naming the field, and records the refusal safely', async () => {
    // JSON.stringify would write a lone surrogate as an escape; the raw body carries it as JSON does.
    const body = `{"name":"feeder-\\ud800","driver":"ABB_G13","endpoint":"https://10.0.0.1"}`;
    const response = await post('/admin/gateways', body);
    expect(response.status).toBe(400);
    expect(response.body.message).toBe('name: must not contain unpaired UTF-16 surrogates');
    expect(await count(`public.gateways`)).toBe(1); // feeder-1 only
    expect(await lastAudit()).toMatchObject({
      action: 'gateway.create',
      result: 'failure',
      status_code: 400,
      request: { name: 'feeder-\uFFFD', driver: 'ABB_G13' },
      detail: 'name: must not contain unpaired UTF-16 surrogates',
    });
    const escaped = await post('/admin/gateways', { name: `x${LONE_HIGH}`, ...GATEWAY });
    expect(escaped.status).toBe(400);
  });

  it('refuses NUL characters in a field, a nested field and a field name, naming each', async () => {
    const nul = await post('/admin/gateways', { name: 'feeder\u0000-2', ...GATEWAY });
    expect(nul.status).toBe(400);
    expect(nul.body.message).toBe('name: must not contain NUL characters (\\u0000)');
    expect(await lastAudit()).toMatchObject({ result: 'failure', request: { name: 'feeder\uFFFD-2' } });

    const nested = await post('/admin/mcs-clients', { name: 'm', allowedAddresses: ['10.0.0.1', 'a\u0000'] });
    expect(nested.status).toBe(400);
    expect(nested.body.message).toBe('allowedAddresses[1]: must not contain NUL characters (\\u0000)');

    const key = await post('/admin/gateways', { name: 'k', ...GATEWAY, ['x\u0000']: 1 });
    expect(key.status).toBe(400);
    expect(key.body.message).toMatch(/^x\uFFFD: \(a field name\) must not contain NUL/);
    expect(await count(`public.gateways WHERE name IN ('feeder-2', 'k')`)).toBe(0);
  });

  it('refuses odd path parameters and query values with a 400 naming them', async () => {
    const path = await post(`/admin/devices/${encodeURIComponent('m\u0000')}/activate`);
    expect(path.status).toBe(400);
    expect(path.body.message).toMatch(/^globalDeviceId: must not contain NUL/);
    const query = await http().get('/admin/devices?search=a%00').set('authorization', TOKEN);
    expect(query.status).toBe(400);
    expect(query.body.message).toMatch(/^search: must not contain NUL/);
  });

  it('records long values cut with a marker instead of losing the row', async () => {
    const longId = 'd'.repeat(300);
    const response = await post(`/admin/devices/${longId}/activate`);
    expect(response.status).toBe(404);
    const row = await lastAudit();
    expect(row).toMatchObject({ action: 'device.activate', result: 'failure', status_code: 404 });
    expect(row.target_id).toHaveLength(100);
    expect(row.target_id).toMatch(/^d+…\[truncated, 300 characters\]$/);
    expect(row.detail).toBe(`globalDeviceId: no device ${longId}`);

    const endpoint = `https://10.0.0.1/${'p'.repeat(5000)}`;
    const long = await post('/admin/gateways', { name: 'long', driver: 'ABB_G13', endpoint });
    expect(long.status).toBe(400);
    const longRow = await lastAudit();
    expect(longRow).toMatchObject({ action: 'gateway.create', result: 'failure' });
    expect(String(longRow.request?.endpoint)).toMatch(/…\[truncated, 5017 characters\]$/);
    expect(String(longRow.request?.endpoint).length).toBe(2000);
  });

  it('keeps the success rows of ordinary requests (nothing else changed by the checks)', async () => {
    const created = await post('/admin/gateways', { name: 'feeder ✓ 😀', ...GATEWAY }).expect(201);
    expect(created.body.name).toBe('feeder ✓ 😀');
    expect(await lastAudit()).toMatchObject({ result: 'success', request: { name: 'feeder ✓ 😀' } });
  });
});
