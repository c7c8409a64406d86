import { Client } from 'pg';
import { PARTITIONED_TABLES } from '@hes/database';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { UDIL_2019_FIELDS, UDIL_3_2_FIELDS, UDIL_3_3_FIELDS, UDIL_KEYS } from './support/udil-spec-fields';

/**
 * Columns the head-end adds to a UDIL table, each for a reason (README, "UDIL schema"):
 * transaction_status.db_datetime lets tabular readers pull status changes incrementally, like every other table.
 */
const HEAD_END_EXTENSIONS: Record<string, string[]> = { transaction_status: ['db_datetime'] };

/** The partition key of each table partitioned by month. */
const PARTITION_KEYS: Record<string, string> = Object.fromEntries(
  Object.entries(PARTITIONED_TABLES).map(([table, { key }]) => [table, key]),
);

interface ColumnInfo {
  column_name: string;
  data_type: string;
  numeric_scale: number | null;
  column_default: string | null;
}

describe('UDIL schema against the specifications', () => {
  let database: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    database = await createMigratedDatabase('schema');
    client = new Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  async function columnsOf(table: string): Promise<Map<string, ColumnInfo>> {
    const { rows } = await client.query<ColumnInfo>(
      `SELECT column_name, data_type, numeric_scale, column_default
         FROM information_schema.columns WHERE table_schema = 'udil' AND table_name = $1`,
      [table],
    );
    return new Map(rows.map((row) => [row.column_name, row]));
  }

  const tables = Object.keys(UDIL_3_2_FIELDS);

  it('creates every UDIL table as a real table, not a view', async () => {
    // The monthly partitions of the tables that grow for years are their storage, not tables of their own.
    const { rows } = await client.query<{ table_name: string; table_type: string }>(
      `SELECT table_name, table_type FROM information_schema.tables t WHERE table_schema = 'udil'
          AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = format('udil.%I', t.table_name)::regclass)`,
    );
    expect(rows.map((r) => r.table_name).sort()).toEqual([...tables].sort());
    expect(new Set(rows.map((r) => r.table_type))).toEqual(new Set(['BASE TABLE']));
  });

  it.each(Object.entries(UDIL_2019_FIELDS))('%s has every UDIL 2019 field', async (table, fields) => {
    const columns = await columnsOf(table);
    expect(fields.filter((field) => !columns.has(field))).toEqual([]);
  });

  it.each(Object.entries(UDIL_3_2_FIELDS))('%s has every UDIL 3.2 field', async (table, fields) => {
    const columns = await columnsOf(table);
    expect(fields.filter((field) => !columns.has(field))).toEqual([]);
  });

  it.each(Object.entries(UDIL_3_3_FIELDS))('%s has every UDIL 3.3 field', async (table, fields) => {
    const columns = await columnsOf(table);
    expect(fields.filter((field) => !columns.has(field))).toEqual([]);
  });

  it.each(tables)(
    '%s has no column that neither specification names, but the listed extensions',
    async (table) => {
      const known = new Set([
        ...(UDIL_2019_FIELDS[table] ?? []),
        ...UDIL_3_2_FIELDS[table],
        ...(UDIL_3_3_FIELDS[table] ?? []),
        ...(HEAD_END_EXTENSIONS[table] ?? []),
      ]);
      const columns = await columnsOf(table);
      expect([...columns.keys()].filter((column) => !known.has(column))).toEqual([]);
    },
  );

  it.each(Object.entries(UDIL_KEYS))(
    '%s has the primary key %j (and its partition key)',
    async (table, key) => {
      const { rows } = await client.query<{ column_name: string }>(
        `SELECT a.attname AS column_name
         FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey, a.attnum)`,
        [`udil.${table}`],
      );
      // A partitioned table's key must hold its partition key (docs/partitions.md): it comes last.
      const partitionKey = PARTITION_KEYS[table];
      expect(rows.map((r) => r.column_name)).toEqual(
        partitionKey && !key.includes(partitionKey) ? [...key, partitionKey] : key,
      );
    },
  );

  it.each(tables)(
    '%s keeps decimals with 3 fractional digits and datetimes with their time zone',
    async (table) => {
      const columns = [...(await columnsOf(table)).values()];
      const decimals = columns.filter(
        (c) => c.data_type === 'numeric' && !['longitude', 'latitude'].includes(c.column_name),
      );
      expect(decimals.filter((c) => c.numeric_scale !== 3).map((c) => c.column_name)).toEqual([]);
      const datetimes = columns.filter(
        (c) => c.column_name.endsWith('datetime') || c.column_name === 'dvtm_meter_clock',
      );
      expect(datetimes.length).toBeGreaterThan(0);
      expect(
        datetimes.filter((c) => c.data_type !== 'timestamp with time zone').map((c) => c.column_name),
      ).toEqual([]);
    },
  );

  it.each(tables)('%s defaults db_datetime to now() and indexes it for incremental pulls', async (table) => {
    const columns = await columnsOf(table);
    expect(columns.get('db_datetime')?.column_default).toBe('now()');
    const { rows } = await client.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = 'udil' AND tablename = $1`,
      [table],
    );
    expect(rows.some((r) => /\(db_datetime\)$/.test(r.indexdef))).toBe(true);
  });

  it('upserts on the composite key and stamps db_datetime, id and is_synced', async () => {
    const insert = `INSERT INTO udil.events (global_device_id, msn, event_datetime, event_code, event_description)
                    VALUES ('m1', 4096541254, '2026-11-01 10:00:00+05', 111, $1)
                    ON CONFLICT (global_device_id, event_datetime, event_code)
                    DO UPDATE SET event_description = EXCLUDED.event_description
                    RETURNING id, is_synced, db_datetime`;
    const first = await client.query<{ id: string; is_synced: number; db_datetime: Date }>(insert, [
      'Power fail start',
    ]);
    const second = await client.query<{ id: string }>(insert, ['Power Fail Start']);
    expect(first.rows[0].is_synced).toBe(0);
    expect(first.rows[0].db_datetime).toBeInstanceOf(Date);
    expect(second.rows[0].id).toBe(first.rows[0].id);
    const { rows } = await client.query(
      `SELECT event_description FROM udil.events WHERE global_device_id = 'm1'`,
    );
    expect(rows).toEqual([{ event_description: 'Power Fail Start' }]);
  });

  it('refuses a status_level outside 0–5 and an indv_status outside 0–2', async () => {
    await expect(
      client.query(
        `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, status_level) VALUES ('t1', 'm1', 'AUXR', 6)`,
      ),
    ).rejects.toThrow(/check constraint/);
    await expect(
      client.query(
        `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, indv_status) VALUES ('t1', 'm1', 'AUXR', 3)`,
      ),
    ).rejects.toThrow(/check constraint/);
  });
});
