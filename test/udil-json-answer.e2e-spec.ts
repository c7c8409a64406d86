import { INestApplication } from '@nestjs/common';
import express from 'express';
import type { Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { UdilTableReader } from '@hes/readings';
import { TransactionAcceptanceService } from '@hes/transactions';
import { formatUdilRecord } from '@hes/udil';
import { createApiApp } from '../apps/api/src/bootstrap';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';
import { authorizedKey, insertTransaction, mdmClientId } from './support/udil-client';

/**
 * The JSON answers of reads and transaction_status as sent (UdilResponseInterceptor): the text PostgreSQL
 * renders in pieces, written part by part, must be the formatter's JSON byte for byte with the headers
 * Express's res.send gives that text (Content-Type, Content-Length, ETag), for answers of many pieces, of
 * multi-byte characters, and of no rows; a client that goes away in the middle of one leaves the api well.
 */
describe('UDIL JSON answers written in pieces', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;
  let db: Client;
  let key: string;
  let clientId: string;
  let base: string;
  const ZONE = 'Asia/Karachi';
  /** Express's own ETag of a body (the application's default setting, weak). */
  const expressEtag = express().get('etag fn') as (body: Buffer) => string;

  beforeAll(async () => {
    database = await createMigratedDatabase('udil_json_answer');
    applyEnvironment(testEnvironment(database.url, { TIME_ZONE: ZONE }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${((app.getHttpServer() as unknown as Server).address() as AddressInfo).port}`;
    db = new Client({ connectionString: database.url });
    await db.connect();
    key = await authorizedKey(app);
    clientId = await mdmClientId(db);
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await database?.drop();
  });

  const post = (path: string) => request(app.getHttpServer()).post(path).set('privatekey', key);

  /** The headers res.send gives this text. */
  function expectSentAsBySend(response: request.Response): void {
    const bytes = Buffer.from(response.text, 'utf8');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['content-length']).toBe(String(bytes.length));
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(response.headers.etag).toBe(expressEtag(bytes));
  }

  /** A transaction of `devices` rows at level 5, with multi-byte text and response_data of both kinds. */
  async function transaction(transactionid: string, devices: number): Promise<void> {
    await insertTransaction(db, transactionid, clientId);
    await db.query(
      `INSERT INTO udil.transaction_status (transactionid, msn, global_device_id, type, type_parameters,
          command_receiving_datetime, status_level, indv_status, status_1_datetime, status_5_datetime, response_data)
       SELECT $1, 3300000000 + i, 'dev-' || lpad(i::text, 5, '0'), 'AUXR', 'relay_operate=0 «é😀»',
              now() - interval '30 minutes', 5, 1, now() - interval '29 minutes' + i * interval '10 ms',
              now() - interval '28 minutes' + i * interval '10 ms',
              CASE i % 3 WHEN 0 THEN '{"voltage":' || i || ',"ok":true,"note":"«é»"}'
                         WHEN 1 THEN 'output 1 set to 0 – “done”' ELSE NULL END
         FROM generate_series(1, $2::int) AS i`,
      [transactionid, devices],
    );
  }

  it('a 1 000-row transaction_status (many pieces, multi-byte text, JSON response_data) is the formatter’s text with res.send’s headers', async () => {
    const transactionid = `tx-json-${Date.now()}`;
    await transaction(transactionid, 1000);
    const response = await post('/transaction_status').set('transactionid', transactionid).expect(200);
    // Far more than one piece of the database's rendering (UDIL_JSON_PIECE_BYTES).
    expect(Buffer.byteLength(response.text)).toBeGreaterThan(10 * 32_768);
    const data = await app.get(TransactionAcceptanceService).status([transactionid], clientId);
    expect(response.text).toBe(
      JSON.stringify({ status: '1', transactionid, data, message: '1000 device row(s)' }),
    );
    expect(response.text).toContain('"response_data":{"voltage":"3","ok":"true","note":"«é»"}');
    expectSentAsBySend(response);
  });

  it('a read page of many pieces says "more" and is the formatter’s text with res.send’s headers', async () => {
    await db.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, "interval", active_energy_pos_tl)
       SELECT 'lp-json', 4096541254, t, 900, extract(epoch FROM t)::numeric / 3600
         FROM generate_series('2026-11-20T00:00:00Z'::timestamptz, '2026-11-22T23:45:00Z', interval '15 minutes') AS t`,
    );
    const fields = {
      global_device_id: 'lp-json',
      start_datetime: '2026-11-20 00:00:00',
      end_datetime: '2026-11-23 23:59:59',
      page_size: '250',
      page: '1',
    };
    const response = await post('/load_profile_data').type('form').send(fields).expect(200);
    expect(Buffer.byteLength(response.text)).toBeGreaterThan(3 * 32_768);
    const stored = await app.get(UdilTableReader).read('load_profile_data', {
      globalDeviceIds: ['lp-json'],
      from: new Date('2026-11-19T19:00:00Z'),
      to: new Date('2026-11-23T18:59:59Z'),
      page: 1,
      pageSize: 250,
    });
    expect(response.text).toBe(
      JSON.stringify({
        status: '1',
        message: '250 row(s), page 1; more rows: ask for page 2',
        page: '1',
        page_size: '250',
        more: '1',
        data: stored.rows.map((row) => formatUdilRecord('load_profile_data', row, ZONE)),
      }),
    );
    expectSentAsBySend(response);
  });

  it('a read of no rows answers status "1" (a valid request, not a failure) and an empty array with res.send’s headers', async () => {
    const response = await post('/load_profile_data')
      .type('form')
      .send({
        global_device_id: 'lp-none',
        start_datetime: '2026-11-20 00:00:00',
        end_datetime: '2026-11-20 23:59:59',
      })
      .expect(200);
    expect(response.text).toBe(
      '{"status":"1","message":"0 row(s), page 1","page":"1","page_size":"1000","more":"0","data":[]}',
    );
    expectSentAsBySend(response);
  });

  it('a client that goes away in the middle of an answer leaves the api answering the next one whole', async () => {
    const transactionid = `tx-gone-${Date.now()}`;
    await transaction(transactionid, 1000);
    const received = await new Promise<number>((resolve, reject) => {
      const url = new URL(base);
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST /transaction_status HTTP/1.1\r\nHost: ${url.host}\r\nprivatekey: ${key}\r\n` +
            `transactionid: ${transactionid}\r\nContent-Length: 0\r\n\r\n`,
        );
      });
      socket.once('data', (chunk: Buffer) => {
        // The headers and the first bytes of the answer, then gone.
        expect(chunk.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        socket.destroy();
        resolve(chunk.length);
      });
      socket.once('error', reject);
    });
    expect(received).toBeGreaterThan(0);
    const response = await post('/transaction_status').set('transactionid', transactionid).expect(200);
    expect(JSON.parse(response.text)).toMatchObject({ status: '1', message: '1000 device row(s)' });
    expectSentAsBySend(response);
  });
});
