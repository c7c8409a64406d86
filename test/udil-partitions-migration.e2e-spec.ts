import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations';
import { UdilPartitions1764500000000 } from '../migrations/1764500000000-udil-partitions';
import { grantMdmReader } from '../scripts/mdm-reader-role';
import { TestDatabase, connectWithMigrations, createTestDatabase } from './support/test-database';

/** Each table's rows in a stable order, every column as JSON (what "contents equal" compares). */
const ORDER: Record<string, string> = {
  instantaneous_data: 'global_device_id, meter_datetime',
  load_profile_data: 'global_device_id, meter_datetime, channel_id',
  events: 'global_device_id, event_datetime, event_code',
  device_communication_history: 'id',
  transaction_status: 'transactionid, global_device_id',
};
const TABLES = Object.keys(ORDER);
/** Rows of 1999 and 2099 (one, two or three per time and table). */
const DEFAULT_ROWS: Record<string, number> = {
  instantaneous_data: 2,
  load_profile_data: 6,
  events: 4,
  device_communication_history: 2,
  transaction_status: 4,
};

/** The migration that turns the tables growing for years into monthly partitions, over rows stored before it. */
describe('migration UdilPartitions1764500000000', () => {
  let database: TestDatabase;
  const mine = MIGRATIONS.indexOf(UdilPartitions1764500000000);
  const role = `hes_mdm_${randomBytes(4).toString('hex')}`;

  const connect = (count: number) => connectWithMigrations(database, count);

  const snapshot = async (dataSource: DataSource) => {
    const tables: Record<string, unknown[]> = {};
    for (const table of TABLES) {
      const rows = await dataSource.query<{ row: unknown }[]>(
        `SELECT to_jsonb(t) AS row FROM udil.${table} t ORDER BY ${ORDER[table]}`,
      );
      tables[table] = rows.map((r) => r.row);
    }
    tables.deferred = (
      await dataSource.query<{ row: Record<string, unknown> }[]>(
        `SELECT to_jsonb(d) - 'command_receiving_datetime' AS row FROM public.udil_deferred_rows d ORDER BY 1`,
      )
    ).map((r) => r.row);
    return tables;
  };

  const relkinds = async (dataSource: DataSource) =>
    Object.fromEntries(
      (
        await dataSource.query<{ name: string; kind: string }[]>(
          `SELECT relname AS name, relkind AS kind FROM pg_class
            WHERE relnamespace = 'udil'::regnamespace AND relname = ANY($1)`,
          [TABLES],
        )
      ).map((r) => [r.name, r.kind]),
    );

  beforeAll(async () => {
    database = await createTestDatabase('partitions_migration');
  });

  afterAll(async () => {
    await database?.drop();
    const client = new Client({ connectionString: database.url.replace(/\/[^/]+$/, '/postgres') });
    await client.connect();
    await client.query(`DROP ROLE IF EXISTS ${role}`).finally(() => client.end());
  });

  it('converts every row of several months and odd clocks, keeps ids, views and grants, and reverts', async () => {
    expect(mine).toBeGreaterThan(0);
    const before = await connect(mine);
    await before.runMigrations();
    const months = ['2026-08-15T10:00:00Z', '2026-09-30T23:59:59.999Z', '2026-10-01T00:00:00Z'];
    // A meter whose clock says 1999 or 2099, and this month.
    const odd = ['1999-01-01T00:00:00Z', '2099-05-01T12:00:00Z', new Date().toISOString()];
    const times = [...months, ...odd];
    for (const [i, time] of times.entries()) {
      await before.query(
        `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, channel_id, interval, active_energy_pos_tl)
         VALUES ('m1', 1, $1, 0, 15, $2), ('m1', 1, $1, 2, 15, NULL), ('m2', 2, $1, 0, 15, 7)`,
        [time, i + 0.125],
      );
      await before.query(
        `INSERT INTO udil.instantaneous_data (global_device_id, msn, meter_datetime, frequency) VALUES ('m1', 1, $1, 50.01)`,
        [time],
      );
      await before.query(
        `INSERT INTO udil.events (global_device_id, msn, event_datetime, event_code, event_description)
         VALUES ('m1', 1, $1, 101, 'Power Fail Start'), ('m1', 1, $1, 102, NULL)`,
        [time],
      );
      await before.query(
        `INSERT INTO udil.device_communication_history (global_device_id, msn, meter_datetime, communication_status,
           message_log, mdc_read_datetime) VALUES ('m1', 1, $1, 1, 'GET /x 200', $2)`,
        [time, i === 0 ? null : time],
      );
      await before.query(
        `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, created_at)
         VALUES ($1, 'aux_relay_operations', repeat('0', 64), $2)`,
        [`t${i}`, time],
      );
      await before.query(
        `INSERT INTO udil.transaction_status (transactionid, global_device_id, msn, type, command_receiving_datetime,
           status_level, status_1_datetime)
         VALUES ($1, 'm1', 1, 'AUXR', $2, 1, $2), ($1, 'm2', 2, 'AUXR', $2, 0, NULL)`,
        [`t${i}`, time],
      );
    }
    await before.query(
      `INSERT INTO public.udil_deferred_rows (transactionid, global_device_id, due_at) VALUES ('t2', 'm2', now())`,
    );
    // Ids with a gap (a rolled-back insert): the identity goes on after the largest.
    await before.query(`UPDATE udil.events SET id = id + 1000 WHERE event_code = 102`);
    await grantMdmReader(database.url, role, 'a-long-enough-password');
    const stored = await snapshot(before);
    const [{ n: auditRows }] = await before.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM public.device_command_audit`,
    );
    expect(Object.values(await relkinds(before))).toEqual(['r', 'r', 'r', 'r', 'r']);
    await before.destroy();

    const after = await connect(mine + 1);
    await after.runMigrations();
    expect(Object.values(await relkinds(after))).toEqual(['p', 'p', 'p', 'p', 'p']);
    const converted = await snapshot(after);
    // A communication without mdc_read_datetime takes the time it was stored: nothing else changed.
    const history = stored.device_communication_history as Record<string, unknown>[];
    expect(history[0].mdc_read_datetime).toBeNull();
    expect(converted).toEqual({
      ...stored,
      device_communication_history: history.map((row) => ({
        ...row,
        mdc_read_datetime: row.mdc_read_datetime ?? row.db_datetime,
      })),
    });
    expect(converted.load_profile_data).toHaveLength(18);

    // Each month of rows is a partition; 1999 and 2099 wait in DEFAULT.
    const placed = await after.query<{ partition: string; n: number }[]>(
      `SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM udil.load_profile_data GROUP BY 1 ORDER BY 1`,
    );
    const current = new Date().toISOString().slice(0, 7).replace('-', '');
    expect(placed).toEqual(
      expect.arrayContaining([
        { partition: 'udil.load_profile_data_default', n: 6 },
        { partition: 'udil.load_profile_data_p202608', n: 3 },
        { partition: 'udil.load_profile_data_p202609', n: 3 },
        { partition: 'udil.load_profile_data_p202610', n: 3 },
        { partition: `udil.load_profile_data_p${current}`, n: 3 },
      ]),
    );
    for (const table of TABLES) {
      const [{ n }] = await after.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM udil.${table}_default`,
      );
      expect({ table, n }).toEqual({ table, n: DEFAULT_ROWS[table] });
    }

    // The identity goes on after the largest id; the unique key of id now holds the partition key.
    const [{ id: maxId }] = await after.query<{ id: string }[]>(
      `SELECT max(id)::text AS id FROM udil.events`,
    );
    const [inserted] = await after.query<{ id: string }[]>(
      `INSERT INTO udil.events (global_device_id, msn, event_datetime, event_code) VALUES ('m9', 9, now(), 1)
       RETURNING id::text AS id`,
    );
    expect(BigInt(inserted.id)).toBeGreaterThan(BigInt(maxId));
    await after.query(`DELETE FROM udil.events WHERE global_device_id = 'm9'`);

    // The audit view reads the new table; the MDM role keeps what it was granted.
    const [{ n: auditAfter }] = await after.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM public.device_command_audit`,
    );
    expect(auditAfter).toBe(auditRows);
    const [privileges] = await after.query<{ reads: boolean; syncs: boolean }[]>(
      `SELECT has_table_privilege($1, 'udil.load_profile_data', 'SELECT') AS reads,
              has_column_privilege($1, 'udil.load_profile_data', 'is_synced', 'UPDATE') AS syncs`,
      [role],
    );
    expect(privileges).toEqual({ reads: true, syncs: true });

    // A deferred row refers to its transaction row by the whole key, and goes with it.
    const [deferred] = await after.query<{ command_receiving_datetime: Date }[]>(
      `SELECT command_receiving_datetime FROM public.udil_deferred_rows`,
    );
    expect(deferred.command_receiving_datetime.toISOString()).toBe(new Date(times[2]).toISOString());

    // Down: plain tables again, with every row (the filled mdc_read_datetime stays filled).
    await after.undoLastMigration();
    expect(Object.values(await relkinds(after))).toEqual(['r', 'r', 'r', 'r', 'r']);
    expect(await snapshot(after)).toEqual(converted);
    const [{ n: functions }] = await after.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'create_month_partition'`,
    );
    expect(functions).toBe(0);
    await after.runMigrations();
    expect(await snapshot(after)).toEqual(converted);
    await after.destroy();
  });
});
