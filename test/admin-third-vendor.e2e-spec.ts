/**
 * A third vendor is a folder and one line (docs/drivers.md): ACME_X1 lives only in the test tree
 * (test/support/acme/) and is installed below by the same line a vendor adds to
 * libs/drivers/src/installed-drivers.ts. Nothing else knows it, yet the admin API lists it with its
 * capabilities, creates gateways of it, checks their settings against its schema, tests the connection,
 * changes a gateway's settings (PATCH, audited) and closes the client made with the old ones at once.
 */
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { INSTALLED_DRIVERS } from '@hes/drivers';
import { createApiApp } from '../apps/api/src/bootstrap';
import { AcmeDriver, AcmeGateway, startAcmeGateway } from './support/acme';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const TOKEN = `Bearer ${ADMIN_TOKEN}`;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/** Resolves once `condition` holds (the suite's timeout bounds the wait). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('a third vendor, installed with one line', () => {
  let database: TestDatabase;
  let gatewayPassword = 'acme-secret-1';
  let acme: AcmeGateway;
  /** The ACME driver of each API process: [0] of `app`, [1] of `other`. */
  const drivers: AcmeDriver[] = [];
  let app: INestApplication<App>;
  /** A second API process on the same database: what a PATCH through `app` does to another process. */
  let other: INestApplication<App>;
  let db: Client;
  let gatewayId: string;

  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_third_vendor');
    acme = await startAcmeGateway(() => gatewayPassword);
    // The one line of a new vendor (libs/drivers/src/installed-drivers.ts), its drivers kept for the test.
    INSTALLED_DRIVERS.push(() => drivers[drivers.push(new AcmeDriver()) - 1]);
    applyEnvironment(testEnvironment(database.url, { ADMIN_TOKEN }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    other = (await createApiApp()) as INestApplication<App>;
    await other.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    INSTALLED_DRIVERS.pop();
    await db?.end();
    await other?.close();
    await app?.close();
    await acme?.stop();
    await database?.drop();
  });

  it('is listed with its label, settings, operations, refusals and MPCB source kinds', async () => {
    const answer = await http().get('/admin/drivers').set('authorization', TOKEN).expect(200);
    const names = (answer.body as { name: string }[]).map((d) => d.name);
    expect(names).toEqual(['ABB_G13', 'OMEGA_ISERVER2', 'ACME_X1']);
    expect(answer.body[2]).toEqual({
      name: 'ACME_X1',
      label: 'ACME X1 meter gateway (test vendor)',
      settings: {
        endpointSchemes: ['http', 'https'],
        endpointExample: 'http://10.20.0.99:8080',
        credentials: 'required',
        maxInFlightLimit: 2,
      },
      operations: ['discoverMeters', 'readClock', 'readInstantaneous'],
      refusals: { operateRelay: 'ACME X1 meters have no supply relay' },
      mpcbSources: ['meter'],
    });
    // The two vendors of the product, from the same registry.
    expect(answer.body[0]).toMatchObject({ name: 'ABB_G13', mpcbSources: ['meter'] });
    expect(answer.body[1]).toMatchObject({ name: 'OMEGA_ISERVER2', mpcbSources: ['sensor'] });
    expect(answer.body[1].operations).toContain('readHistory');
    expect(answer.body[1].operations).not.toContain('readClock');
  });

  it.each([
    [
      'a ws:// endpoint',
      { endpoint: 'ws://127.0.0.1:1' },
      /^endpoint must start with http:\/\/ or https:\/\/ for driver ACME_X1 /,
    ],
    ['no password', { password: undefined }, /^password is required for driver ACME_X1$/],
    [
      'no credentials',
      { username: undefined, password: undefined },
      /^username is required for driver ACME_X1$/,
    ],
    ['maxInFlight 3', { maxInFlight: 3 }, /^maxInFlight must not be greater than 2 for driver ACME_X1$/],
  ])('refuses a gateway whose settings its schema does not take: %s', async (_name, change, message) => {
    const body = {
      name: 'acme-bad',
      driver: 'ACME_X1',
      endpoint: acme.endpoint,
      username: 'hes',
      password: 'x',
    };
    const answer = await http()
      .post('/admin/gateways')
      .set('authorization', TOKEN)
      .send({ ...body, ...change })
      .expect(400);
    expect(answer.body.message).toMatch(message);
  });

  it('creates a gateway of it and tests the connection through its driver', async () => {
    const created = await http()
      .post('/admin/gateways')
      .set('authorization', TOKEN)
      .send({
        name: 'acme-1',
        driver: 'ACME_X1',
        endpoint: acme.endpoint,
        username: 'hes',
        password: gatewayPassword,
        maxInFlight: 2,
      })
      .expect(201);
    gatewayId = String(created.body.id);
    expect(created.body).toMatchObject({ driver: 'ACME_X1', hasPassword: true, maxInFlight: 2 });
    const test = await http()
      .post(`/admin/gateways/${gatewayId}/test-connection`)
      .set('authorization', TOKEN)
      .expect(200);
    expect(test.body).toMatchObject({
      ok: true,
      reachedLevel: 4,
      message: 'connected and authenticated; the gateway lists 2 meters',
      log: ['GET /meters 200'],
    });
    const meters = await http()
      .post(`/admin/gateways/${gatewayId}/discover-meters`)
      .set('authorization', TOKEN)
      .expect(200);
    expect((meters.body as { meters: { serial: string }[] }).meters.map((m) => m.serial)).toEqual([
      'X1-0001',
      'X1-0002',
    ]);
    // A sensor-channel route it lacks is refused with the registry's words.
    await http()
      .get(`/admin/gateways/${gatewayId}/channels/p1ch0/calibration`)
      .set('authorization', TOKEN)
      .expect(422, /ACME_X1 driver does not support readCalibration/);
  });

  it('PATCH changes the password; every process closes its client made with the old one at once; audited', async () => {
    await request(other.getHttpServer())
      .post(`/admin/gateways/${gatewayId}/test-connection`)
      .set('authorization', TOKEN)
      .expect(200, /"ok":true/);
    expect(drivers.map((driver) => driver.made.length)).toEqual([1, 1]);
    expect(acme.openConnections()).toBe(2); // one kept open by the client of each process
    gatewayPassword = 'acme-secret-2';
    const patched = await http()
      .patch(`/admin/gateways/${gatewayId}`)
      .set('authorization', TOKEN)
      .send({ password: gatewayPassword, clockTimeZone: 'Asia/Karachi' })
      .expect(200);
    expect(patched.body).toMatchObject({ id: gatewayId, clockTimeZone: 'Asia/Karachi', hasPassword: true });
    // Closed in both processes without any further use of the gateway (the other heard it from PostgreSQL).
    await Promise.all(drivers.map((driver) => driver.made[0].closed));
    await until(() => acme.openConnections() === 0);
    expect(drivers.map((driver) => driver.made.length)).toEqual([1, 1]);

    const test = await http()
      .post(`/admin/gateways/${gatewayId}/test-connection`)
      .set('authorization', TOKEN)
      .expect(200);
    expect(test.body).toMatchObject({ ok: true });
    expect(drivers[0].made).toHaveLength(2);
    expect(acme.authorizations.at(-1)).toBe(`Basic ${Buffer.from('hes:acme-secret-2').toString('base64')}`);

    const audit = await db.query<{ result: string; target_id: string; request: Record<string, unknown> }>(
      `SELECT result, target_id, request FROM public.admin_audit_log WHERE action = 'gateway.update' ORDER BY id`,
    );
    expect(audit.rows).toEqual([
      {
        result: 'success',
        target_id: gatewayId,
        request: { password: '[redacted]', clockTimeZone: 'Asia/Karachi' },
      },
    ]);
  });

  it('PATCH keeps the client when nothing that defines the connection changed', async () => {
    const renamed = await http()
      .patch(`/admin/gateways/${gatewayId}`)
      .set('authorization', TOKEN)
      .send({ name: 'acme-1-renamed', enabled: false })
      .expect(200);
    expect(renamed.body).toMatchObject({ name: 'acme-1-renamed', enabled: false });
    await http()
      .patch(`/admin/gateways/${gatewayId}`)
      .set('authorization', TOKEN)
      .send({ enabled: true })
      .expect(200);
    await http().post(`/admin/gateways/${gatewayId}/test-connection`).set('authorization', TOKEN).expect(200);
    expect(drivers[0].made).toHaveLength(2);
    expect(drivers.map((driver) => driver.made.filter((client) => client.isClosed).length)).toEqual([1, 1]);
  });

  it.each([
    [{ name: null }, /^name must not be null$/],
    [
      { endpoint: 'wss://127.0.0.1:1' },
      /^endpoint must start with http:\/\/ or https:\/\/ for driver ACME_X1 /,
    ],
    [{ username: null }, /^username is required when a password is given$/],
    [{ password: null }, /^password is required for driver ACME_X1$/],
    [{ maxInFlight: 5 }, /^maxInFlight must not be greater than 2 for driver ACME_X1$/],
    [{ tlsMode: 'pinned' }, /^tlsFingerprintSha256 is required when tlsMode is pinned$/],
    [{ clockTimeZone: 'Mars/Olympus' }, /^clockTimeZone must be an IANA time zone/],
    [{ enabled: 'yes' }, /^enabled must be a boolean/],
    [{ driver: 'ABB_G13' }, /^property driver should not exist$/],
    [{}, /^body must change at least one field of the gateway$/],
  ])('PATCH answers 400 naming the field and changes nothing: %j', async (body, message) => {
    const before = await db.query(`SELECT * FROM public.gateways WHERE id = $1`, [gatewayId]);
    const answer = await http()
      .patch(`/admin/gateways/${gatewayId}`)
      .set('authorization', TOKEN)
      .send(body)
      .expect(400);
    expect(answer.body.message).toMatch(message);
    const after = await db.query(`SELECT * FROM public.gateways WHERE id = $1`, [gatewayId]);
    expect(after.rows).toEqual(before.rows);
  });

  it('PATCH answers 404 for an unknown gateway and 409 for a name taken', async () => {
    await http()
      .patch(`/admin/gateways/${UNKNOWN}`)
      .set('authorization', TOKEN)
      .send({ name: 'whatever' })
      .expect(404, /no gateway/);
    await http()
      .post('/admin/gateways')
      .set('authorization', TOKEN)
      .send({ name: 'acme-2', driver: 'ACME_X1', endpoint: acme.endpoint, username: 'hes', password: 'p' })
      .expect(201);
    await http()
      .patch(`/admin/gateways/${gatewayId}`)
      .set('authorization', TOKEN)
      .send({ name: 'acme-2' })
      .expect(409, /name: a gateway named acme-2 already exists/);
  });
});
