import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { DataSource } from 'typeorm';
import { TransactionAcceptanceService } from '@hes/transactions';
import { createApiApp } from '../apps/api/src/bootstrap';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';
import { authorizedKey, insertTransaction, mdmClientId } from './support/udil-client';

/**
 * Reads answered again from what was rendered before (UDIL_READ_CACHE_MB): only while the rows they show
 * are the same rows at the same versions. Every change made beside the api (another process's statements,
 * here straight in SQL) shows in the next answer: a level, a response, a cancel, a reading corrected, rows
 * that join or leave a page.
 */
describe('UDIL reads kept by version (UDIL_READ_CACHE_MB)', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;
  let db: Client;
  let key: string;
  let clientId: string;
  /** The statements that render items (the costly ones) since the last call. */
  let renders: () => number;
  /** The statements asking for the version of a set of status rows alone, since the last call. */
  let versionChecks: () => number;
  /** The transaction_status rows rendered (not answered from their kept item) since the last call. */
  let renderedRows: () => Promise<number>;

  beforeAll(async () => {
    database = await createMigratedDatabase('udil_read_cache');
    applyEnvironment(testEnvironment(database.url, { TIME_ZONE: 'Asia/Karachi' }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
    key = await authorizedKey(app);
    clientId = await mdmClientId(db);
    const dataSource = app.get(DataSource);
    const query = jest.spyOn(dataSource, 'query');
    const renderingStatement = (sql: unknown) =>
      String(sql).includes('string_agg(item') || String(sql).includes('AS status_version');
    let seen = 0;
    renders = () => {
      const rendering = query.mock.calls.filter(([sql]) => renderingStatement(sql)).length;
      const since = rendering - seen;
      seen = rendering;
      return since;
    };
    let seenChecks = 0;
    versionChecks = () => {
      const checks = query.mock.calls.filter(([sql]) =>
        /sum\(hashtextextended\(.*\)::text AS version\s+FROM udil\.transaction_status/s.test(String(sql)),
      ).length;
      const since = checks - seenChecks;
      seenChecks = checks;
      return since;
    };
    let seenRows = 0;
    renderedRows = async () => {
      const from = seenRows;
      seenRows = query.mock.calls.length;
      let rows = 0;
      for (let call = from; call < seenRows; call++) {
        if (!String(query.mock.calls[call][0]).includes('AS status_version')) continue;
        const answer = (await query.mock.results[call].value) as { item: string | null }[];
        rows += answer.filter((row) => row.item !== null).length;
      }
      return rows;
    };
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await db?.end();
    await app?.close();
    await database?.drop();
  });

  const post = (path: string) => request(app.getHttpServer()).post(path).set('privatekey', key);
  const status = async (transactionid: string) =>
    (await post('/transaction_status').set('transactionid', transactionid).expect(200)).text;
  const formatted = async (transactionid: string) =>
    JSON.stringify({
      status: '1',
      transactionid,
      data: await app.get(TransactionAcceptanceService).status([transactionid], clientId),
      message: '200 device row(s)',
    });

  it('transaction_status: the same rows are answered without rendering them again; any change is answered at once, rendering only the rows that changed', async () => {
    const transactionid = `tx-kept-${Date.now()}`;
    await insertTransaction(db, transactionid, clientId);
    await db.query(
      `INSERT INTO udil.transaction_status (transactionid, msn, global_device_id, type, type_parameters,
          command_receiving_datetime, status_level, indv_status, status_1_datetime)
       SELECT $1, 3300000000 + i, 'dev-' || lpad(i::text, 4, '0'), 'AUXR', 'relay_operate=0',
              now() - interval '30 minutes', 1, 0, now() - interval '29 minutes'
         FROM generate_series(1, 200) AS i`,
      [transactionid],
    );
    renders();
    await renderedRows();
    const first = await status(transactionid);
    // A first read: joined into pieces by PostgreSQL (not row by row).
    expect(renders()).toBe(1);
    expect(await renderedRows()).toBe(0);
    expect(first).toBe(await formatted(transactionid));
    expect(await status(transactionid)).toBe(first);
    expect(await status(transactionid)).toBe(first);
    expect(renders()).toBe(0);

    // A worker moves one row on (another process: straight in the database).
    await db.query(
      `UPDATE udil.transaction_status SET status_level = 5, indv_status = 1, status_5_datetime = now(),
              response_data = 'relay opened'
        WHERE transactionid = $1 AND global_device_id = 'dev-0007'`,
      [transactionid],
    );
    const second = await status(transactionid);
    // Read row by row with their versions: all 200 this once (the first answer holds no versions).
    expect(renders()).toBe(1);
    expect(await renderedRows()).toBe(200);
    expect(second).not.toBe(first);
    expect(second).toContain('"response_data":"relay opened"');
    expect(second).toBe(await formatted(transactionid));
    // The transaction moved: the next read asks for its rows at once (no version first), renders none of
    // them, and the one after asks for the version again.
    versionChecks();
    expect(await status(transactionid)).toBe(second);
    expect(versionChecks()).toBe(0);
    expect(renders()).toBe(1);
    expect(await renderedRows()).toBe(0);
    expect(await status(transactionid)).toBe(second);
    expect(versionChecks()).toBe(1);
    expect(renders()).toBe(0);

    // Another row moves on: only it is rendered.
    await db.query(
      `UPDATE udil.transaction_status SET status_level = 2, status_2_datetime = now()
        WHERE transactionid = $1 AND global_device_id = 'dev-0008'`,
      [transactionid],
    );
    const third = await status(transactionid);
    expect(await renderedRows()).toBe(1);
    expect(third).toContain('"status_level":"2"');
    expect(third).toBe(await formatted(transactionid));

    // A cancel of the rest, in one statement; then a note written to a row already changed once.
    await db.query(
      `UPDATE udil.transaction_status SET request_cancelled = 1, request_cancel_reason = 'operator',
              request_cancel_datetime = now()
        WHERE transactionid = $1 AND status_level < 5`,
      [transactionid],
    );
    const cancelled = await status(transactionid);
    expect(await renderedRows()).toBe(199);
    expect(cancelled).toBe(await formatted(transactionid));
    expect(cancelled.match(/"request_cancelled":"1"/g)).toHaveLength(199);
    await db.query(
      `UPDATE udil.transaction_status SET response_data = 'relay opened (checked)'
        WHERE transactionid = $1 AND global_device_id = 'dev-0007'`,
      [transactionid],
    );
    versionChecks();
    const noted = await status(transactionid);
    expect(versionChecks()).toBe(0);
    expect(noted).toContain('"response_data":"relay opened (checked)"');
    expect(noted).toBe(await formatted(transactionid));
    expect(renders()).toBe(3);
    expect(await renderedRows()).toBe(1);
  });

  it('a table page: a corrected reading, rows that join before it and rows that leave it show in the next answer', async () => {
    await db.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, "interval", active_energy_pos_tl)
       SELECT 'lp-kept', 4096541254, t, 900, 100
         FROM generate_series('2026-11-20T00:00:00Z'::timestamptz, '2026-11-20T23:45:00Z', interval '15 minutes') AS t`,
    );
    const page2 = () =>
      post('/load_profile_data')
        .type('form')
        .send({
          global_device_id: 'lp-kept',
          start_datetime: '2026-11-20 00:00:00',
          end_datetime: '2026-11-21 23:59:59',
          page_size: '10',
          page: '2',
        })
        .expect(200)
        .then((response) => JSON.parse(response.text) as { data: Record<string, string>[]; more: string });
    const datetimes = (page: { data: Record<string, string>[] }) =>
      page.data.map((row) => row.meter_datetime);
    renders();
    const first = await page2();
    expect(first.data).toHaveLength(10);
    expect(await page2()).toEqual(first);
    expect(renders()).toBe(1);

    // A reading of the page corrected (an upsert of the ingestion).
    await db.query(
      `UPDATE udil.load_profile_data SET active_energy_pos_tl = 123.5
        WHERE global_device_id = 'lp-kept' AND meter_datetime = '2026-11-20T02:45:00Z'`,
    );
    const corrected = await page2();
    expect(corrected.data.map((row) => row.active_energy_pos_tl)).toContain('123.500');
    expect(renders()).toBe(1);

    // Two readings of the day before the page (late data from the meter): the page's rows move on by two.
    await db.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, "interval", active_energy_pos_tl)
       VALUES ('lp-kept', 4096541254, '2026-11-19T19:00:00Z', 900, 1), ('lp-kept', 4096541254, '2026-11-19T19:05:00Z', 900, 2)`,
    );
    const moved = await page2();
    expect(datetimes(moved).slice(2)).toEqual(datetimes(corrected).slice(0, 8));
    // And leave again: the answer is the one of the rows as they were (rendered again: not the same tuples).
    await db.query(
      `DELETE FROM udil.load_profile_data WHERE global_device_id = 'lp-kept'
          AND meter_datetime IN ('2026-11-19T19:00:00Z', '2026-11-19T19:05:00Z')`,
    );
    expect(await page2()).toEqual(corrected);
    expect(renders()).toBe(2);
  });
});
