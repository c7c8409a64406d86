import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { G13SimulatorHandle, startG13Simulator } from '../apps/simulator/src/g13';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const TOKEN = `Bearer ${ADMIN_TOKEN}`;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

interface AuditRow {
  action: string;
  target_id: string | null;
  result: string;
  status_code: number;
}

/** Issue 15, "a registry operators can use": devices registered, changed, moved, removed, in bulk and by discovery. */
describe('admin API: the device registry', () => {
  let database: TestDatabase;
  let g13: G13SimulatorHandle;
  let app: INestApplication<App>;
  let db: Client;
  let feeder1: string;
  let feeder2: string;

  const http = () => request(app.getHttpServer());
  const send = (method: 'post' | 'put' | 'patch' | 'delete', path: string, body?: object) =>
    http()[method](path).set('authorization', TOKEN).send(body);
  const csv = (document: string) =>
    http()
      .post('/admin/devices/bulk')
      .set('authorization', TOKEN)
      .set('content-type', 'text/csv')
      .send(document);
  const device = async (id: string) =>
    (
      await db.query<Record<string, unknown>>(
        `SELECT global_device_id, msn::text, driver, gateway_id, serial_on_gateway, phase, sim_number, wakeup_number_1,
                activation_status, device_type
           FROM public.devices WHERE global_device_id = $1`,
        [id],
      )
    ).rows[0];
  const count = async (sql: string, values: unknown[] = []) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values)).rows[0].n;
  const lastAudit = async (): Promise<AuditRow> =>
    (
      await db.query<AuditRow>(
        `SELECT action, target_id, result, status_code FROM public.admin_audit_log ORDER BY id DESC LIMIT 1`,
      )
    ).rows[0];

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_registry');
    g13 = await startG13Simulator({
      meters: [
        { serial: '3100001001', phases: 3 },
        { serial: '3100001002', phases: 1 },
        { serial: 'ABB_8', phases: 3 },
      ],
      users: [{ name: 'hes', password: 'gateway-secret' }],
    });
    applyEnvironment(testEnvironment(database.url, { ADMIN_TOKEN }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
    const gateway = async (name: string, endpoint: string) =>
      (
        await send('post', '/admin/gateways', {
          name,
          driver: 'ABB_G13',
          endpoint,
          tlsMode: 'insecure',
          username: 'hes',
          password: 'gateway-secret',
        }).expect(201)
      ).body.id as string;
    feeder1 = await gateway('feeder-1', g13.url);
    feeder2 = await gateway('feeder-2', 'https://127.0.0.1:1');
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await g13?.stop();
    await database?.drop();
  });

  describe('POST /admin/devices', () => {
    it('registers a meter by its serial on the gateway, in any form, with registry fields', async () => {
      const response = await send('post', '/admin/devices', {
        globalDeviceId: 'm8',
        msn: '3100000008',
        gatewayId: feeder1,
        serial: 'ABB_8',
        phase: 3,
        simNumber: '03001234567',
        initialCommunicationTime: '06:30',
      }).expect(201);
      expect(response.body).toMatchObject({
        globalDeviceId: 'm8',
        msn: '3100000008',
        driver: 'ABB_G13',
        gatewayId: feeder1,
        serialOnGateway: 'ABB_8',
        phase: 3,
        simNumber: '03001234567',
        initialCommunicationTime: '06:30:00',
        activationStatus: 1,
        gateway: { id: feeder1, name: 'feeder-1' },
      });
      expect(await lastAudit()).toEqual({
        action: 'device.create',
        target_id: 'm8',
        result: 'success',
        status_code: 201,
      });
    });

    it('takes the msn as the serial when none is given', async () => {
      await send('post', '/admin/devices', {
        globalDeviceId: 'm9',
        msn: '3100000009',
        gatewayId: feeder1,
      }).expect(201);
      expect(await device('m9')).toMatchObject({ serial_on_gateway: '3100000009', msn: '3100000009' });
    });

    it.each([
      [{ msn: '1', gatewayId: 'G' }, /^globalDeviceId must be 1 to 50 letters/],
      [{ globalDeviceId: 'x1', gatewayId: 'G' }, /^msn must be the meter serial number: 1 to 18 digits$/],
      [{ globalDeviceId: 'x1', msn: '12a', gatewayId: 'G' }, /^msn must be the meter serial number/],
      [{ globalDeviceId: 'x1', msn: 3100000001, gatewayId: 'G' }, /^msn must be the meter serial number/],
      [{ globalDeviceId: 'x1', msn: '1', gatewayId: 'feeder-1' }, /^gatewayId must be a UUID$/],
      [
        { globalDeviceId: 'x1', msn: '1', gatewayId: 'G', serial: ' padded' },
        /^serial must be 1 to 64 printable/,
      ],
      [{ globalDeviceId: 'x1', msn: '1', gatewayId: 'G', phase: 4 }, /^phase must be 1, 2 or 3$/],
      [
        { globalDeviceId: 'x1', msn: '1', gatewayId: 'G', deviceType: 6 },
        /^deviceType must be an integer from 1 to 5$/,
      ],
      [
        { globalDeviceId: 'x1', msn: '1', gatewayId: 'G', primaryPort: 70000 },
        /^primaryPort must be an integer from 1 to 65535$/,
      ],
      [
        { globalDeviceId: 'x1', msn: '1', gatewayId: 'G', mdiResetTime: '25:00' },
        /^mdiResetTime must be a time of day/,
      ],
      [
        { globalDeviceId: 'x1', msn: '1', gatewayId: 'G', colour: 'red' },
        /^property colour should not exist$/,
      ],
    ])('refuses %j with 400 naming the field', async (body, message) => {
      const withGateway = JSON.parse(JSON.stringify(body).replace('"G"', `"${feeder1}"`)) as object;
      const response = await send('post', '/admin/devices', withGateway).expect(400);
      expect(response.body).toEqual({ statusCode: 400, message: expect.stringMatching(message) });
      expect(await count(`public.devices WHERE global_device_id = 'x1'`)).toBe(0);
    });

    it('answers 404 for an unknown gateway and 409 for a taken id or serial', async () => {
      const unknown = await send('post', '/admin/devices', {
        globalDeviceId: 'x2',
        msn: '2',
        gatewayId: UNKNOWN,
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.message).toBe(`gatewayId: no gateway ${UNKNOWN}`);
      const takenId = await send('post', '/admin/devices', {
        globalDeviceId: 'm8',
        msn: '2',
        gatewayId: feeder2,
      });
      expect(takenId.status).toBe(409);
      expect(takenId.body.message).toBe('globalDeviceId: m8 is already registered');
      const takenSerial = await send('post', '/admin/devices', {
        globalDeviceId: 'x2',
        msn: '2',
        gatewayId: feeder1,
        serial: 'ABB_8',
      });
      expect(takenSerial.status).toBe(409);
      expect(takenSerial.body.message).toBe(
        'serial: gateway feeder-1 already has a device with serial ABB_8 (m8)',
      );
      // The same serial on another gateway is another meter.
      await send('post', '/admin/devices', {
        globalDeviceId: 'x2',
        msn: '2',
        gatewayId: feeder2,
        serial: 'ABB_8',
      }).expect(201);
      expect(await lastAudit()).toMatchObject({ action: 'device.create', result: 'success' });
    });
  });

  describe('PATCH, move and DELETE', () => {
    it('changes only what is given; null clears an optional field', async () => {
      // UDIL 3.2's device_creation types: 4 is a grid meter.
      await send('patch', '/admin/devices/m8', { wakeupNumber1: '03000000001', deviceType: 4 }).expect(200);
      const response = await send('patch', '/admin/devices/m8', {
        simNumber: null,
        msn: '3100000018',
      }).expect(200);
      expect(response.body).toMatchObject({
        msn: '3100000018',
        simNumber: null,
        wakeupNumber1: '03000000001',
        deviceType: 4,
        phase: 3,
        serialOnGateway: 'ABB_8',
      });
      expect(await lastAudit()).toMatchObject({
        action: 'device.update',
        target_id: 'm8',
        result: 'success',
      });
    });

    it('refuses an empty change, a null identity field, an unknown device and a taken serial', async () => {
      expect((await send('patch', '/admin/devices/m8', {}).expect(400)).body.message).toBe(
        'body: name at least one field to change',
      );
      expect((await send('patch', '/admin/devices/m8', { msn: null }).expect(400)).body.message).toMatch(
        /^msn must/,
      );
      expect(
        (await send('patch', '/admin/devices/m8', { activationStatus: null }).expect(400)).body.message,
      ).toMatch(/^activationStatus must be 0 or 1$/);
      expect((await send('patch', '/admin/devices/nope', { phase: 1 }).expect(404)).body.message).toBe(
        'globalDeviceId: no device nope',
      );
      const taken = await send('patch', '/admin/devices/m9', { serial: 'ABB_8' }).expect(409);
      expect(taken.body.message).toBe('serial: gateway feeder-1 already has a device with serial ABB_8 (m8)');
    });

    it('moves a device to another gateway, with PATCH or the move action', async () => {
      const moved = await send('post', '/admin/devices/m9/move', {
        gatewayId: feeder2,
        serial: 'ABB_9',
      }).expect(200);
      expect(moved.body).toMatchObject({
        gatewayId: feeder2,
        serialOnGateway: 'ABB_9',
        gateway: { name: 'feeder-2' },
      });
      expect(await lastAudit()).toMatchObject({ action: 'device.move', target_id: 'm9', result: 'success' });
      await send('patch', '/admin/devices/m9', { gatewayId: feeder1 }).expect(200);
      expect(await device('m9')).toMatchObject({ gateway_id: feeder1, serial_on_gateway: 'ABB_9' });
      // x2 is ABB_8 on feeder-2; feeder-1 has an ABB_8 already (m8).
      const clash = await send('post', '/admin/devices/x2/move', { gatewayId: feeder1 }).expect(409);
      expect(clash.body.message).toMatch(/^serial: gateway feeder-1 already has a device with serial ABB_8/);
      const nowhere = await send('post', '/admin/devices/x2/move', { gatewayId: UNKNOWN }).expect(404);
      expect(nowhere.body.message).toBe(`gatewayId: no gateway ${UNKNOWN}`);
    });

    it('deactivates through PATCH, in the registry and in meter_visuals', async () => {
      await db.query(
        `INSERT INTO udil.meter_visuals (global_device_id, msn, meter_activation_status) VALUES ('m9', 3100000009, 1)`,
      );
      await send('patch', '/admin/devices/m9', { activationStatus: 0 }).expect(200);
      const { rows } = await db.query(
        `SELECT meter_activation_status FROM udil.meter_visuals WHERE global_device_id = 'm9'`,
      );
      expect(rows).toEqual([{ meter_activation_status: 0 }]);
      expect(await device('m9')).toMatchObject({ activation_status: 0 });
    });

    it('removes a device and keeps its readings, transactions and communication history', async () => {
      await db.query(
        `INSERT INTO udil.transaction_status (transactionid, global_device_id, msn, type, status_level, indv_status)
         VALUES ('tx-done', 'm9', 3100000009, 'INST', 5, 1), ('tx-running', 'm9', 3100000009, 'INST', 2, 0)`,
      );
      await db.query(
        `INSERT INTO udil.device_communication_history (global_device_id, msn, communication_status, mdc_read_datetime)
         VALUES ('m9', 3100000009, 1, now())`,
      );
      await db.query(
        `INSERT INTO udil.instantaneous_data (global_device_id, msn, meter_datetime, frequency) VALUES ('m9', 3100000009, now(), 50)`,
      );
      await db.query(
        `INSERT INTO public.poll_schedules (global_device_id, data_type, interval_minutes) VALUES ('m9', 'INST', 15)`,
      );

      const running = await send('delete', '/admin/devices/m9').expect(409);
      expect(running.body.message).toBe(
        'globalDeviceId: m9 has 1 transaction(s) in progress; wait for them or cancel them (transaction_cancel) first',
      );
      expect(await lastAudit()).toMatchObject({
        action: 'device.delete',
        result: 'failure',
        status_code: 409,
      });
      await db.query(
        `UPDATE udil.transaction_status SET status_level = 5, indv_status = 1 WHERE transactionid = 'tx-running'`,
      );

      const removed = await send('delete', '/admin/devices/m9').expect(200);
      expect(removed.body).toEqual({
        globalDeviceId: 'm9',
        message:
          'm9 removed from the registry; its readings, transactions and communication history are kept',
      });
      expect(await device('m9')).toBeUndefined();
      expect(await count(`udil.transaction_status WHERE global_device_id = 'm9'`)).toBe(2);
      expect(await count(`udil.device_communication_history WHERE global_device_id = 'm9'`)).toBe(1);
      expect(await count(`udil.instantaneous_data WHERE global_device_id = 'm9'`)).toBe(1);
      expect(await count(`public.poll_schedules WHERE global_device_id = 'm9'`)).toBe(0);
      expect(await lastAudit()).toMatchObject({
        action: 'device.delete',
        target_id: 'm9',
        result: 'success',
      });
      await send('delete', '/admin/devices/m9').expect(404);
    });

    it('refuses to remove the meter of an MPCB parameter', async () => {
      const site = await send('post', '/admin/mpcb-sites', {
        siteId: 'site_1',
        softwareVersionId: 'v1',
        siteKey: 'k'.repeat(32),
      }).expect(201);
      const unit = await send('post', `/admin/mpcb-sites/${site.body.id}/monitoring-units`, {
        monitoringId: 'stack_1',
      }).expect(201);
      const analyser = await send(
        'post',
        `/admin/mpcb-sites/${site.body.id}/monitoring-units/${unit.body.id}/analysers`,
        {
          analyzerId: 'a1',
        },
      ).expect(201);
      await send('put', `/admin/mpcb-sites/${site.body.id}/analysers/${analyser.body.id}/parameters/I1`, {
        parameterName: 'I1',
        unit: 'A',
        source: { kind: 'meter', gatewayId: feeder1, deviceSerial: 'ABB_8', quantity: 'current_phase_a' },
      }).expect(200);
      const refused = await send('delete', '/admin/devices/m8').expect(409);
      expect(refused.body.message).toBe(
        'globalDeviceId: m8 is the source of MPCB parameter(s) I1 of site site_1; give them another source first',
      );
      expect(await device('m8')).toBeDefined();
    });
  });

  describe('bulk registration', () => {
    it('registers a JSON list, answering each row', async () => {
      const response = await send('post', '/admin/devices/bulk', {
        devices: [
          { globalDeviceId: 'b1', msn: '4100000001', gatewayId: feeder2, serial: 'S1' },
          { globalDeviceId: 'b2', msn: '4100000002', gatewayId: feeder2, phase: 1 },
        ],
      }).expect(201);
      expect(response.body).toEqual({
        message: 'registered 2 devices',
        created: 2,
        rows: [
          { row: 1, globalDeviceId: 'b1', outcome: 'created' },
          { row: 2, globalDeviceId: 'b2', outcome: 'created' },
        ],
      });
      expect(await device('b2')).toMatchObject({
        serial_on_gateway: '4100000002',
        phase: 1,
        driver: 'ABB_G13',
      });
      expect(await lastAudit()).toMatchObject({
        action: 'device.bulk-create',
        result: 'success',
        status_code: 201,
      });
    });

    it('registers nothing when a row is wrong, naming each row and field', async () => {
      const response = await send('post', '/admin/devices/bulk', [
        { globalDeviceId: 'b3', msn: '4100000003', gatewayId: feeder2 },
        { globalDeviceId: 'b4', msn: 'x', gatewayId: feeder2 },
        { globalDeviceId: 'b1', msn: '4100000005', gatewayId: feeder2 },
        { globalDeviceId: 'b6', msn: '4100000006', gatewayId: UNKNOWN },
      ]).expect(400);
      expect(response.body.message).toBe(
        'nothing was registered: 3 of 4 rows are refused: devices[1].msn: msn must be the meter serial number: 1 to 18 digits; ' +
          'devices[2].globalDeviceId: b1 is already registered; ' +
          `devices[3].gatewayId: no gateway ${UNKNOWN}`,
      );
      expect(response.body.rows).toEqual([
        { row: 1, globalDeviceId: 'b3', outcome: 'valid' },
        {
          row: 2,
          globalDeviceId: 'b4',
          outcome: 'invalid',
          errors: [{ field: 'msn', message: expect.any(String) }],
        },
        {
          row: 3,
          globalDeviceId: 'b1',
          outcome: 'duplicate',
          errors: [{ field: 'globalDeviceId', message: 'b1 is already registered' }],
        },
        {
          row: 4,
          globalDeviceId: 'b6',
          outcome: 'unknown-gateway',
          errors: [{ field: 'gatewayId', message: `no gateway ${UNKNOWN}` }],
        },
      ]);
      expect(await count(`public.devices WHERE global_device_id IN ('b3', 'b4', 'b6')`)).toBe(0);
      expect(await lastAudit()).toMatchObject({
        action: 'device.bulk-create',
        result: 'failure',
        status_code: 400,
      });
    });

    it('answers 409 for duplicates within the list, 404 for an unknown gateway alone', async () => {
      const twice = await send('post', '/admin/devices/bulk', [
        { globalDeviceId: 'b7', msn: '4100000007', gatewayId: feeder2, serial: 'T' },
        { globalDeviceId: 'b7', msn: '4100000008', gatewayId: feeder2, serial: 'T' },
      ]).expect(409);
      expect(twice.body.rows[1].errors).toEqual([
        { field: 'globalDeviceId', message: 'b7 is also in row 1' },
        { field: 'serial', message: 'serial T on the same gateway is also in row 1' },
      ]);
      await send('post', '/admin/devices/bulk', [
        { globalDeviceId: 'b9', msn: '9', gatewayId: UNKNOWN },
      ]).expect(404);
      expect(await count(`public.devices WHERE global_device_id IN ('b7', 'b9')`)).toBe(0);
    });

    it('registers a CSV document, and names the row, line and column of a wrong cell', async () => {
      const good = await csv(
        `globalDeviceId,msn,gatewayId,serial,phase,bidirectionalDevice\n` +
          `c1,5100000001,${feeder2},ABB_C1,3,true\n` +
          `c2,5100000002,${feeder2},,1,\n`,
      ).expect(201);
      expect(good.body.rows).toEqual([
        { row: 1, line: 2, globalDeviceId: 'c1', outcome: 'created' },
        { row: 2, line: 3, globalDeviceId: 'c2', outcome: 'created' },
      ]);
      expect(await device('c1')).toMatchObject({ serial_on_gateway: 'ABB_C1', phase: 3 });

      const bad = await csv(
        `globalDeviceId,msn,gatewayId,phase\nc3,5100000003,${feeder2},3\nc4,5100000004,${feeder2},three\n`,
      ).expect(400);
      expect(bad.body.message).toBe(
        'nothing was registered: 1 of 2 rows are refused: row 2 (line 3), column phase: phase must be 1, 2 or 3',
      );
      expect(await count(`public.devices WHERE global_device_id IN ('c3', 'c4')`)).toBe(0);

      const malformed = await csv(`globalDeviceId,msn,gatewayId\nc5,5100000005\n`).expect(400);
      expect(malformed.body.message).toBe('csv: Invalid Record Length: expect 3, got 2 on line 2');
      const unknownColumn = await csv(`globalDeviceId,msn,gateway\nc5,5100000005,x\n`).expect(400);
      expect(unknownColumn.body.message).toMatch(/^csv: line 1, column 3 "gateway" is not a device field/);
      const notAList = await send('post', '/admin/devices/bulk', { device: {} }).expect(400);
      expect(notAList.body.message).toMatch(/^devices: give a JSON list of devices/);
    });
  });

  describe('register discovered meters', () => {
    it('registers the meters the gateway lists that are new, and says what was known and skipped', async () => {
      await send('post', '/admin/devices', {
        globalDeviceId: 'known',
        msn: '3100001001',
        gatewayId: feeder1,
      }).expect(201);
      const response = await send('post', `/admin/gateways/${feeder1}/register-discovered-meters`, {
        globalDeviceIdPrefix: 'f1-',
      }).expect(200);
      expect(response.body).toEqual({
        id: feeder1,
        message: 'the gateway lists 3 meters: 1 registered now, 2 already known, 0 skipped',
        registered: [{ serial: '3100001002', globalDeviceId: 'f1-3100001002', msn: '3100001002' }],
        alreadyKnown: [
          { serial: '3100001001', globalDeviceId: 'known' },
          { serial: 'ABB_8', globalDeviceId: 'm8' },
        ],
        skipped: [],
      });
      expect(await device('f1-3100001002')).toMatchObject({
        gateway_id: feeder1,
        phase: 1,
        msn: '3100001002',
      });
      expect(await lastAudit()).toMatchObject({
        action: 'gateway.register-discovered-meters',
        target_id: feeder1,
        result: 'success',
      });
      const again = await send('post', `/admin/gateways/${feeder1}/register-discovered-meters`).expect(200);
      expect(again.body.registered).toEqual([]);
      expect(again.body.alreadyKnown).toHaveLength(3);
    });

    it('skips a serial that is not digits, and serials the gateway does not list', async () => {
      await send('delete', '/admin/devices/m8'); // refused: m8 feeds an MPCB parameter
      await db.query(
        `UPDATE public.devices SET serial_on_gateway = 'ABB_8_old' WHERE global_device_id = 'm8'`,
      );
      const response = await send('post', `/admin/gateways/${feeder1}/register-discovered-meters`, {
        serials: ['ABB_8', '999'],
      }).expect(200);
      expect(response.body).toMatchObject({
        registered: [],
        skipped: [
          {
            serial: 'ABB_8',
            reason:
              'serial ABB_8 is not a meter serial number (digits): register it with POST /admin/devices and its msn',
          },
          { serial: '999', reason: 'the gateway does not list a meter 999' },
        ],
      });
    });

    it('answers 404 for an unknown gateway and 502 for one that cannot be reached', async () => {
      await send('post', `/admin/gateways/${UNKNOWN}/register-discovered-meters`).expect(404);
      const unreachable = await send('post', `/admin/gateways/${feeder2}/register-discovered-meters`).expect(
        502,
      );
      expect(unreachable.body.message).toMatch(/^feeder-2 \(unreachable\)/);
    });
  });
});
