import { INestApplication } from '@nestjs/common';
import { XMLParser } from 'fast-xml-parser';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { UdilAuthService } from '@hes/udil';
import { createApiApp } from '../apps/api/src/bootstrap';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';
import { MDM_USER, authorizedKey } from './support/udil-client';

describe('UDIL API: authorization, validation, acceptance, status and cancel', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;
  let db: Client;
  let key: string;
  let sequence = 0;
  const nextId = () => `tx-${Date.now()}-${(sequence += 1)}`;

  beforeAll(async () => {
    database = await createMigratedDatabase('udil_api');
    applyEnvironment(testEnvironment(database.url, { UDIL_AUTH_MAX_FAILURES: '3' }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
    await db.query(`INSERT INTO public.devices (global_device_id, msn, driver, activation_status) VALUES
      ('m-known', 4096541254, 'VENDOR_WITHOUT_DRIVER', 1), ('m-inactive', 4097524158, 'VENDOR_WITHOUT_DRIVER', 0)`);
    key = await authorizedKey(app);
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await database?.drop();
  });

  const post = (path: string) => request(app.getHttpServer()).post(path);
  const relay = (transactionid: string, fields: Record<string, string> = {}) =>
    post('/aux_relay_operations')
      .set('privatekey', key)
      .set('transactionid', transactionid)
      .type('form')
      .send({
        global_device_id: '["m-known","m-unknown"]',
        request_datetime: '2026-11-21 10:00:00',
        relay_operate: '0',
        ...fields,
      });

  describe('authorization_service', () => {
    it('issues a privatekey valid at least 30 minutes, stored only as a hash', async () => {
      const response = await post('/authorization_service')
        .set('username', MDM_USER.username)
        .set('password', MDM_USER.password)
        .set('code', MDM_USER.code)
        .expect(200);
      expect(response.body).toMatchObject({
        status: '1',
        message: expect.stringContaining('valid for 30 minutes'),
      });
      const { rows } = await db.query<{ key_hash: string; minutes: number }>(
        `SELECT key_hash, extract(epoch from expires_at - issued_at) / 60 AS minutes FROM public.udil_private_keys`,
      );
      expect(rows.some((r) => r.key_hash === response.body.privatekey)).toBe(false);
      expect(Math.min(...rows.map((r) => Number(r.minutes)))).toBeGreaterThanOrEqual(29.9);
      const clients = await db.query(`SELECT password_hash, code_hash FROM public.udil_clients`);
      expect(JSON.stringify(clients.rows)).not.toContain(MDM_USER.password);
    });

    it('answers 401 for wrong credentials and 429 once failures repeat', async () => {
      const attempt = () =>
        post('/authorization_service').set('username', 'intruder').set('password', 'x').set('code', '1');
      for (let i = 0; i < 3; i += 1) {
        const response = await attempt().expect(401);
        expect(response.body).toEqual({ status: '0', message: 'username, password or code is not valid' });
      }
      const throttled = await attempt().expect(429);
      expect(throttled.body.message).toMatch(/too many failed authorizations/);
    });

    it('names a missing header', async () => {
      const response = await post('/authorization_service')
        .set('username', 'u')
        .set('password', 'p')
        .expect(401);
      expect(response.body.message).toBe('code: header is required');
    });
  });

  describe('privatekey', () => {
    it('401 when missing, unknown or expired', async () => {
      expect(
        (await post('/time_synchronization').set('transactionid', nextId()).expect(401)).body.message,
      ).toMatch(/^privatekey: header is required/);
      expect(
        (
          await post('/time_synchronization')
            .set('privatekey', 'nope')
            .set('transactionid', nextId())
            .expect(401)
        ).body,
      ).toEqual({
        status: '0',
        message: expect.stringMatching(/privatekey is not valid or has expired/),
      });
      const expired = await authorizedKey(app);
      await db.query(
        `UPDATE public.udil_private_keys SET expires_at = now() - interval '1 second' WHERE issued_at = (SELECT max(issued_at) FROM public.udil_private_keys)`,
      );
      await post('/time_synchronization')
        .set('privatekey', expired)
        .set('transactionid', nextId())
        .expect(401);
    });
  });

  describe('write commands', () => {
    it('accepts a known device, refuses the unknown one with a remark, and records both rows', async () => {
      const transactionid = nextId();
      const response = await relay(transactionid).expect(200);
      expect(response.body.transactionid).toBe(transactionid);
      const data = response.body.data as { global_device_id: string }[];
      const unknown = data.find((d) => d.global_device_id === 'm-unknown');
      expect(unknown).toEqual({
        global_device_id: 'm-unknown',
        msn: '',
        indv_status: '0',
        remarks: 'global_device_id m-unknown is not registered (create it with device_creation)',
      });
      const known = data.find((d) => d.global_device_id === 'm-known');
      // No driver named VENDOR_WITHOUT_DRIVER is installed: refused per device, never "succeeded".
      expect(known).toMatchObject({
        msn: '4096541254',
        indv_status: '0',
        remarks: 'no driver VENDOR_WITHOUT_DRIVER is installed for m-known',
      });
      expect(response.body.status).toBe('0');
      const { rows } = await db.query(
        `SELECT global_device_id, type, status_level, indv_status, request_cancelled, request_cancel_reason
           FROM udil.transaction_status WHERE transactionid = $1 ORDER BY global_device_id`,
        [transactionid],
      );
      expect(rows).toEqual([
        expect.objectContaining({
          global_device_id: 'm-known',
          type: 'AUX_RELAY_OPERATIONS',
          status_level: 0,
          request_cancelled: 1,
        }),
        expect.objectContaining({
          global_device_id: 'm-unknown',
          indv_status: 0,
          request_cancelled: 1,
          request_cancel_reason: expect.stringContaining('not registered'),
        }),
      ]);
    });

    it('refuses commands to an inactive meter, but not meter_status_update', async () => {
      const refused = await post('/time_synchronization')
        .set('privatekey', key)
        .set('transactionid', nextId())
        .send({ global_device_id: 'm-inactive', request_datetime: '2026-11-21 10:00:00' })
        .expect(200);
      expect(refused.body.data[0].remarks).toBe(
        'meter m-inactive is inactive (meter_status_update 1 activates it)',
      );
      const activation = await post('/meter_status_update')
        .set('privatekey', key)
        .set('transactionid', nextId())
        .send({
          global_device_id: ['m-inactive'],
          request_datetime: '2026-11-21 10:00:00',
          meter_activation_status: '1',
        })
        .expect(200);
      expect(activation.body.data[0].remarks).not.toMatch(/inactive/);
    });

    it('returns the first answer for a reused transactionid with the same request, 400 with another', async () => {
      const transactionid = nextId();
      const first = await relay(transactionid).expect(200);
      const again = await relay(transactionid).expect(200);
      expect(again.body).toEqual(first.body);
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM udil.transaction_status WHERE transactionid = $1`,
        [transactionid],
      );
      expect(rows[0].n).toBe(2);
      const other = await relay(transactionid, { relay_operate: '1' }).expect(400);
      expect(other.body).toEqual({
        status: '0',
        transactionid,
        message: `transactionid: ${transactionid} was already used for another request (aux_relay_operations); use a new transactionid`,
      });
    });

    it("says nothing about another client's transaction when its transactionid is reused", async () => {
      const transactionid = nextId();
      await relay(transactionid).expect(200);
      await app.get(UdilAuthService).createClient('other_mdm', 'other-secret-1', '77');
      const other = await post('/authorization_service')
        .set('username', 'other_mdm')
        .set('password', 'other-secret-1')
        .set('code', '77')
        .expect(200);
      for (const path of ['/aux_relay_operations', '/time_synchronization']) {
        const reused = await post(path)
          .set('privatekey', other.body.privatekey as string)
          .set('transactionid', transactionid)
          .type('form')
          .send({
            global_device_id: '["m-known","m-unknown"]',
            request_datetime: '2026-11-21 10:00:00',
            relay_operate: '0',
          })
          .expect(400);
        expect(reused.body).toEqual({
          status: '0',
          transactionid,
          message: `transactionid: ${transactionid} was already used for another request; use a new transactionid`,
        });
        expect(JSON.stringify(reused.body)).not.toMatch(/aux_relay|AUX_RELAY/);
      }
    });

    it.each([
      ['relay_operate', { relay_operate: '5' }, 'relay_operate: must be 0 (disconnect) or 1 (connect)'],
      [
        'request_datetime',
        { request_datetime: '2026/11/21' },
        'request_datetime: must be a datetime yyyy-MM-dd HH:mm:ss',
      ],
      [
        'global_device_id',
        { global_device_id: '[' },
        'global_device_id: must be a JSON array of global_device_id (or a single value)',
      ],
    ])('answers 400 naming %s', async (_field, fields, message) => {
      const transactionid = nextId();
      const response = await relay(transactionid, fields).expect(400);
      expect(response.body).toEqual({ status: '0', transactionid, message });
    });

    it('answers 400 for a missing transactionid and for malformed JSON', async () => {
      const missing = await post('/time_synchronization')
        .set('privatekey', key)
        .send({ global_device_id: 'm-known' })
        .expect(400);
      expect(missing.body.message).toBe('transactionid: header is required');
      const malformed = await post('/time_synchronization')
        .set('privatekey', key)
        .set('transactionid', nextId())
        .set('Content-Type', 'application/json')
        .send('{"global_device_id": [')
        .expect(400);
      expect(malformed.body.status).toBe('0');
    });

    it('accepts JSON and multipart bodies, sloppy values and unknown fields', async () => {
      const json = await post('/aux_relay_operations')
        .set('privatekey', key)
        .set('transactionid', nextId())
        .send({
          global_device_id: 'm-known',
          request_datetime: ' "2026-11-21 10:00:00" ',
          relay_operate: 1,
          vendor_note: 'x',
        })
        .expect(200);
      expect(json.body.data).toHaveLength(1);
      const multipart = await post('/meter_data_sampling')
        .set('privatekey', key)
        .set('transactionid', nextId())
        .field('global_device_id', '["m-known"]')
        .field('request_datetime', '2026-11-21 10:00:00')
        .field('activation_datetime', '2026-11-22 00:00:00')
        .field('data_type', 'lpro')
        .field('sampling_interval', '15')
        .field('sampling_initial_time', '0')
        .expect(200);
      expect(multipart.body.data[0].global_device_id).toBe('m-known');
    });

    it('answers in XML with <root> and <element> when asked', async () => {
      const response = await relay(nextId()).set('Accept', 'application/xml').expect(200);
      expect(response.headers['content-type']).toMatch(/application\/xml/);
      expect(response.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
      const parsed = new XMLParser({ parseTagValue: false }).parse(response.text);
      expect(parsed.root.data.element).toHaveLength(2);
      expect(parsed.root.data.element[0]).toHaveProperty('indv_status');
      const error = await relay(nextId(), { relay_operate: 'x' }).set('Accept', 'text/xml').expect(400);
      expect(new XMLParser().parse(error.text).root.status).toBe(0);
    });
  });

  describe('transaction_status and transaction_cancel', () => {
    it('returns every device row as UDIL strings, for one id in the header or a set in the body', async () => {
      const a = nextId();
      const b = nextId();
      await relay(a).expect(200);
      await relay(b).expect(200);
      const one = await post('/transaction_status')
        .set('privatekey', key)
        .set('transactionid', a)
        .expect(200);
      expect(one.body.status).toBe('1');
      expect(one.body.data).toHaveLength(2);
      expect(one.body.data[0]).toMatchObject({
        transactionid: a,
        type: 'AUX_RELAY_OPERATIONS',
        status_level: '0',
        indv_status: '0',
        request_cancelled: '1',
        command_receiving_datetime: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
        status_5_datetime: '',
      });
      const both = await post('/transaction_status')
        .set('privatekey', key)
        .send({ transactionid: [a, b] })
        .expect(200);
      expect(both.body.data).toHaveLength(4);
      // A string, as every UDIL output value: the set as the JSON text clients send it as.
      expect(both.body.transactionid).toBe(JSON.stringify([a, b]));
      const none = await post('/transaction_status')
        .set('privatekey', key)
        .set('transactionid', 'never-sent')
        .expect(200);
      expect(none.body).toMatchObject({ status: '0', data: [] });
    });

    it('cancels only live rows at levels 0–2 and says why for the others', async () => {
      const transactionid = nextId();
      await relay(transactionid).expect(200);
      // Make m-known a live row at level 2 and add one at level 3 to see both outcomes.
      await db.query(
        `UPDATE udil.transaction_status SET request_cancelled = 0, request_cancel_reason = NULL, status_level = 2 WHERE transactionid = $1 AND global_device_id = 'm-known'`,
        [transactionid],
      );
      await db.query(
        `UPDATE udil.transaction_status SET request_cancelled = 0, status_level = 3 WHERE transactionid = $1 AND global_device_id = 'm-unknown'`,
        [transactionid],
      );
      const response = await post('/transaction_cancel')
        .set('privatekey', key)
        .set('transactionid', transactionid)
        .send({
          global_device_id: '["m-known","m-unknown","m-other"]',
          request_datetime: '2026-11-21 10:00:00',
        })
        .expect(200);
      expect(response.body.data).toEqual([
        { global_device_id: 'm-known', msn: '4096541254', indv_status: '1', remarks: 'cancelled' },
        {
          global_device_id: 'm-unknown',
          msn: '',
          indv_status: '0',
          remarks: 'status_level is 3: only levels 0, 1 and 2 can be cancelled',
        },
        {
          global_device_id: 'm-other',
          msn: '',
          indv_status: '0',
          remarks: `not part of transaction ${transactionid}`,
        },
      ]);
      const { rows } = await db.query(
        `SELECT request_cancelled, request_cancel_reason, request_cancel_datetime FROM udil.transaction_status WHERE transactionid = $1 AND global_device_id = 'm-known'`,
        [transactionid],
      );
      expect(rows[0]).toMatchObject({
        request_cancelled: 1,
        request_cancel_reason: 'cancelled by MDM (transaction_cancel)',
      });
      expect(rows[0].request_cancel_datetime).toBeInstanceOf(Date);
    });
  });

  describe('API reads of the UDIL tables (§3.3)', () => {
    beforeAll(async () => {
      // Three days of half-hourly load profile for two meters, one event, one visuals row.
      await db.query(`INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, interval, active_energy_pos_tl)
        SELECT d, 4096541254, t, 30, extract(epoch from t)::numeric / 3600000
          FROM unnest(ARRAY['m-known', 'm-other']) AS d,
               generate_series('2026-11-01 00:00:00+05'::timestamptz, '2026-11-03 23:30:00+05', interval '30 minutes') AS t`);
      await db.query(`INSERT INTO udil.events (global_device_id, msn, event_datetime, event_code, event_description)
        VALUES ('m-known', 4096541254, '2026-11-02 10:15:00+05', 111, 'Power Fail Start')`);
      await db.query(
        `INSERT INTO udil.meter_visuals (global_device_id, msn, auxr_status) VALUES ('m-known', 4096541254, 1)`,
      );
    });

    const read = (path: string, fields: Record<string, string>) =>
      post(path).set('privatekey', key).type('form').send(fields);

    it('answers a day of one meter with the table fields as strings, in the configured zone', async () => {
      const response = await read('/load_profile_data', {
        global_device_id: 'm-known',
        start_datetime: '2026-11-02 00:00:00',
        end_datetime: '2026-11-02 23:59:59',
      }).expect(200);
      expect(response.body).toMatchObject({ status: '1', page: '1', more: '0' });
      expect(response.body.data).toHaveLength(48);
      expect(response.body.data[0]).toMatchObject({
        global_device_id: 'm-known',
        msn: '4096541254',
        meter_datetime: '2026-11-02 00:00:00',
        interval: '30',
        is_synced: '0',
        voltage_phase_a: '',
      });
    });

    it('pages through a large range and a device set', async () => {
      const fields = {
        global_device_id: '["m-known","m-other"]',
        start_datetime: '2026-11-01 00:00:00',
        end_datetime: '2026-11-03 23:59:59',
        page_size: '100',
      };
      const seen: string[] = [];
      for (let page = 1; ; page += 1) {
        const response = await read('/load_profile_data', { ...fields, page: String(page) }).expect(200);
        for (const row of response.body.data as Record<string, string>[])
          seen.push(`${row.global_device_id} ${row.meter_datetime}`);
        if (response.body.more === '0') break;
      }
      expect(seen).toHaveLength(2 * 144);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('reads events and meter visuals, and answers XML on request', async () => {
      const events = await read('/events', {
        global_device_id: 'm-known',
        start_datetime: '2026-11-02 00:00:00',
        end_datetime: '2026-11-02 23:59:59',
      }).expect(200);
      expect(events.body.data).toEqual([
        expect.objectContaining({ event_code: '111', event_datetime: '2026-11-02 10:15:00' }),
      ]);
      const visuals = await read('/meter_visuals', { global_device_id: 'm-known' })
        .set('Accept', 'application/xml')
        .expect(200);
      const parsed = new XMLParser({ parseTagValue: false }).parse(visuals.text);
      expect(parsed.root.data.element).toMatchObject({ global_device_id: 'm-known', auxr_status: '1' });
    });

    it.each([
      [{ global_device_id: 'm-known', start_datetime: '2026-11-02 00:00:00' }, 'end_datetime: is required'],
      [
        { global_device_id: 'm-known', start_datetime: '2026-11-02', end_datetime: '2026-11-02 01:00:00' },
        'start_datetime: must be a datetime yyyy-MM-dd HH:mm:ss',
      ],
      [
        {
          global_device_id: 'm-known',
          start_datetime: '2026-11-02 00:00:00',
          end_datetime: '2026-11-02 01:00:00',
          page_size: '100000',
        },
        'page_size: must be a page size from 1 to 5000',
      ],
    ])('answers 400 for %j', async (fields, message) => {
      const response = await read('/billing_data', fields).expect(400);
      expect(response.body).toEqual({ status: '0', message });
    });

    it('answers 401 without a privatekey', async () => {
      await post('/load_profile_data').send({ global_device_id: 'm-known' }).expect(401);
    });
  });
});
