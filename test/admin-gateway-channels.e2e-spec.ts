/**
 * /admin/gateways/:id/channels/:channel/…: an operator reads and sets a sensor's gain and offset
 * (calibration) and reads its logged values (history) on an iServer 2 (the simulator, in-process),
 * audited; bad input is a 400 naming the field.
 */
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const TOKEN = `Bearer ${ADMIN_TOKEN}`;

describe('admin API: sensor channels', () => {
  let database: TestDatabase;
  let sim: IServer2SimulatorHandle;
  let app: INestApplication<App>;
  let db: Client;
  let iserverId: string;
  let userLoginId: string;
  let g13Id: string;

  const http = () => request(app.getHttpServer());
  const createGateway = async (body: object): Promise<string> =>
    String((await http().post('/admin/gateways').set('authorization', TOKEN).send(body).expect(201)).body.id);

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_calibration');
    sim = await startIServer2Simulator({
      port: 0,
      adminPassword: 'unit-admin-pw',
      userPassword: 'unit-user-pw',
      loggingIntervalSeconds: 30,
      historySeconds: 7200,
    });
    applyEnvironment(testEnvironment(database.url, { ADMIN_TOKEN }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
    iserverId = await createGateway({
      name: 'stack-1-iserver',
      driver: 'OMEGA_ISERVER2',
      endpoint: sim.endpoint,
      username: 'admin',
      password: 'unit-admin-pw',
      // The simulator's extract writes its times in UTC (the test environment's TIME_ZONE is not).
      clockTimeZone: 'UTC',
    });
    userLoginId = await createGateway({
      name: 'stack-1-iserver-user',
      driver: 'OMEGA_ISERVER2',
      endpoint: sim.endpoint,
      username: 'user',
      password: 'unit-user-pw',
    });
    g13Id = await createGateway({ name: 'feeder-1', driver: 'ABB_G13', endpoint: 'https://127.0.0.1:1' });
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await sim?.stop();
    await database?.drop();
  });

  const path = (id: string, channel: string) => `/admin/gateways/${id}/channels/${channel}/calibration`;

  it('writes gain and offset to the unit, answers what it holds, and the readings follow', async () => {
    sim.setTrueValue('p1ch0', 20);
    const before = await http().get(path(iserverId, 'p1ch0')).set('authorization', TOKEN).expect(200);
    expect(before.body).toMatchObject({ id: iserverId, channel: 'p1ch0', gain: 1, offset: 0 });
    expect(before.body.log.length).toBeGreaterThan(0);

    const written = await http()
      .put(path(iserverId, 'p1ch0'))
      .set('authorization', TOKEN)
      .send({ gain: 1.5, offset: -2 })
      .expect(200);
    expect(written.body).toMatchObject({ id: iserverId, channel: 'p1ch0', gain: 1.5, offset: -2 });
    expect(sim.reportedValue('p1ch0')).toBeCloseTo(28, 6);

    const after = await http().get(path(iserverId, 'p1ch0')).set('authorization', TOKEN).expect(200);
    expect(after.body).toMatchObject({ gain: 1.5, offset: -2 });
    // Another channel keeps its own calibration.
    const other = await http().get(path(iserverId, 'p1ch1')).set('authorization', TOKEN).expect(200);
    expect(other.body).toMatchObject({ channel: 'p1ch1', gain: 1, offset: 0 });
  });

  it('audits the write and the read with the gateway as target', async () => {
    const rows = await db.query<{ action: string; target_id: string; result: string }>(
      `SELECT action, target_id, result FROM public.admin_audit_log
        WHERE action LIKE 'gateway.%-calibration' AND target_id = $1 ORDER BY id`,
      [iserverId],
    );
    expect(rows.rows.map((row) => row.action)).toEqual([
      'gateway.read-calibration',
      'gateway.write-calibration',
      'gateway.read-calibration',
      'gateway.read-calibration',
    ]);
    expect(rows.rows.every((row) => row.result === 'success')).toBe(true);
  });

  it('answers 400 naming the field for a bad gain, offset or channel, and changes nothing', async () => {
    const gain = await http()
      .put(path(iserverId, 'p1ch0'))
      .set('authorization', TOKEN)
      .send({ gain: 'twice', offset: 0 })
      .expect(400);
    expect(gain.body.message).toMatch(/^gain must be a number/);
    const offset = await http()
      .put(path(iserverId, 'p1ch0'))
      .set('authorization', TOKEN)
      .send({ gain: 1 })
      .expect(400);
    expect(offset.body.message).toMatch(/^offset must be a number/);
    const channel = await http()
      .put(path(iserverId, 'p9ch0'))
      .set('authorization', TOKEN)
      .send({ gain: 1, offset: 0 })
      .expect(400);
    expect(channel.body.message).toMatch(/^channel: "p9ch0" is not an iServer 2 channel/);
    const read = await http().get(path(iserverId, 'temperature')).set('authorization', TOKEN).expect(400);
    expect(read.body.message).toMatch(/^channel: /);
    const id = await http().get(path('not-a-uuid', 'p1ch0')).set('authorization', TOKEN).expect(400);
    expect(id.body.message).toBe('id must be a UUID');
    const held = await http().get(path(iserverId, 'p1ch0')).set('authorization', TOKEN).expect(200);
    expect(held.body).toMatchObject({ gain: 1.5, offset: -2 });
  });

  it('answers 422 when the unit refuses the login role, and for a driver without sensor channels', async () => {
    const refused = await http()
      .put(path(userLoginId, 'p1ch0'))
      .set('authorization', TOKEN)
      .send({ gain: 3, offset: 3 })
      .expect(422);
    expect(refused.body.message).toMatch(/^stack-1-iserver-user: /);
    const held = await http().get(path(iserverId, 'p1ch0')).set('authorization', TOKEN).expect(200);
    expect(held.body).toMatchObject({ gain: 1.5, offset: -2 });

    const g13 = await http().get(path(g13Id, 'p1ch0')).set('authorization', TOKEN).expect(422);
    expect(g13.body.message).toBe(
      'ABB_G13 driver does not support readCalibration: the G13 gateway reads energy meters, not analyser sensors',
    );
  });

  it("reads a channel's logged values in a range, oldest first, with the sensor's name and unit", async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 3600_000);
    const response = await http()
      .get(`/admin/gateways/${iserverId}/channels/p1ch0/history`)
      .query({ from: from.toISOString(), to: to.toISOString() })
      .set('authorization', TOKEN)
      .expect(200);
    expect(response.body).toMatchObject({ id: iserverId, channel: 'p1ch0', name: 'Temperature', unit: 'C' });
    const values = response.body.values as { timestamp: string; value: number }[];
    expect(values.length).toBeGreaterThanOrEqual(119);
    expect(values.length).toBeLessThanOrEqual(121);
    const times = values.map((v) => Date.parse(v.timestamp));
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(30_000);
    expect(times[0]).toBeGreaterThanOrEqual(from.getTime() - 1000);
    expect(times[times.length - 1]).toBeLessThanOrEqual(to.getTime() + 1000);
    expect(values.every((v) => Number.isFinite(v.value))).toBe(true);
    const log = response.body.log as string[];
    expect(log.some((line) => /^GET \/cgi-bin\/query\?.*p1ch0=p1ch0 200/.test(line))).toBe(true);
  });

  it('answers 400 naming the field for a bad history range or channel', async () => {
    const history = (query: Record<string, string>, channel = 'p1ch0') =>
      http()
        .get(`/admin/gateways/${iserverId}/channels/${channel}/history`)
        .query(query)
        .set('authorization', TOKEN);
    const from = '2026-11-30T08:00:00Z';
    expect((await history({ to: from }).expect(400)).body.message).toMatch(
      /from must be an ISO 8601 date-time/,
    );
    expect((await history({ from, to: 'yesterday' }).expect(400)).body.message).toMatch(
      /to must be an ISO 8601 date-time/,
    );
    expect((await history({ from: '2026-11-30T08:00:00', to: from }).expect(400)).body.message).toBe(
      'from must end with its offset (Z or ±hh:mm)',
    );
    expect((await history({ from, to: '2026-11-30T07:00:00Z' }).expect(400)).body.message).toBe(
      'to must not be before from',
    );
    expect((await history({ from, to: '2026-12-08T08:00:01Z' }).expect(400)).body.message).toBe(
      'to must be at most 7 days after from',
    );
    expect(
      (await history({ from, to: '2026-11-30T14:00:00+05:00' }, 'p3ch0').expect(400)).body.message,
    ).toMatch(/^channel: /);
  });

  it('answers 404 for an unknown gateway and 502 when the unit cannot be reached', async () => {
    await http()
      .get(path('00000000-0000-4000-8000-000000000000', 'p1ch0'))
      .set('authorization', TOKEN)
      .expect(404);
    const nowhere = await createGateway({
      name: 'stack-nowhere',
      driver: 'OMEGA_ISERVER2',
      endpoint: 'ws://127.0.0.1:1',
      requestTimeoutMs: 1000,
    });
    const down = await http().get(path(nowhere, 'p1ch0')).set('authorization', TOKEN).expect(502);
    expect(down.body.message).toMatch(/^stack-nowhere \(unreachable\): /);
  });
});
