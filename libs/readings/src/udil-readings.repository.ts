import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { UdilRow } from '@hes/drivers';
import { withBothGenerations } from '@hes/udil';

/** The UDIL tables that hold readings, with the spec's composite keys (udil-spec-fields.ts UDIL_KEYS). */
export const READING_TABLES = {
  instantaneous_data: ['global_device_id', 'meter_datetime'],
  billing_data: ['global_device_id', 'meter_datetime'],
  monthly_billing_data: ['global_device_id', 'meter_datetime'],
  load_profile_data: ['global_device_id', 'meter_datetime', 'channel_id'],
  events: ['global_device_id', 'event_datetime', 'event_code'],
} as const;

export type ReadingTable = keyof typeof READING_TABLES;

/** Key parts a reading may leave out: a load profile of a meter with one channel is channel 0. */
const KEY_DEFAULTS: Partial<Record<ReadingTable, Record<string, number>>> = {
  load_profile_data: { channel_id: 0 },
};

export interface ReadingDevice {
  globalDeviceId: string;
  msn: string | null;
}

/** Columns the head-end maintains itself; a reading cannot set them. */
const MANAGED = new Set(['global_device_id', 'msn', 'mdc_read_datetime', 'db_datetime', 'is_synced', 'id']);

interface ColumnType {
  name: string;
  /** PostgreSQL array type used to pass the column's values, e.g. numeric[]. */
  arrayType: string;
}

export interface UpsertOutcome {
  /** Rows written (new, or changed values). */
  written: number;
  /** Rows received (after merging duplicates of one key). */
  received: number;
  /** The rows as merged on the table's key (what the table holds for them). */
  rows: Record<string, unknown>[];
}

/**
 * Writes readings into the UDIL tables in sets: one INSERT … SELECT FROM unnest(…) per batch, upserting
 * on the spec's composite key. Idempotent: reading the same data twice leaves one row, and a row whose
 * values did not change is not rewritten (its db_datetime stays, so incremental pulls do not see it
 * again). A value a reading does not carry never erases one already stored. Both generations' names of
 * one quantity are filled (udil-records.ts GENERATION_ALIASES).
 */
@Injectable()
export class UdilReadingsRepository {
  private readonly columns = new Map<ReadingTable, Map<string, ColumnType>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async upsert(
    table: ReadingTable,
    device: ReadingDevice,
    readings: UdilRow[],
    readAt = new Date(),
  ): Promise<UpsertOutcome> {
    if (readings.length === 0) return { written: 0, received: 0, rows: [] };
    return this.upsertMany(
      table,
      readings.map((reading) => ({ device, reading })),
      readAt,
    );
  }

  /** Readings of many devices at once (a poll over a gateway, an ingestion batch). */
  async upsertMany(
    table: ReadingTable,
    items: { device: ReadingDevice; reading: UdilRow }[],
    readAt = new Date(),
  ): Promise<UpsertOutcome> {
    if (items.length === 0) return { written: 0, received: 0, rows: [] };
    const known = await this.columnsOf(table);
    const key = READING_TABLES[table] as readonly string[];

    // Merge duplicates of one key (the same statement cannot touch a row twice).
    const merged = new Map<string, Record<string, unknown>>();
    const defaults = KEY_DEFAULTS[table] ?? {};
    for (const { device, reading } of items) {
      const row: Record<string, unknown> = {
        ...defaults,
        global_device_id: device.globalDeviceId,
        msn: device.msn,
      };
      // Both generations' names of a quantity are written (2019 active_energy_tl = 3.2 active_energy_pos_tl).
      const named = withBothGenerations<unknown>(table, reading);
      for (const name in named) {
        const value = named[name];
        if (value === undefined) continue;
        if (MANAGED.has(name) && name !== 'global_device_id') continue;
        if (!known.has(name)) throw new Error(`${table} has no column ${name}`);
        row[name] = value;
      }
      let id = '';
      for (const part of key) {
        const value = row[part];
        if (value === undefined || value === null) throw new Error(`${table} reading without ${part}`);
        // Key parts are ids, codes and datetimes.
        id += `${value instanceof Date ? value.getTime() : (value as string | number)}\u0000`;
      }
      // Readings of one key complete each other; where both carry a field the first one wins.
      const previous = merged.get(id);
      merged.set(id, previous ? { ...row, ...previous } : row);
    }
    const rows = [...merged.values()];
    const nameSet = new Set<string>();
    for (const row of rows) for (const name in row) nameSet.add(name);
    const names = [...nameSet];
    const valueColumns = names.filter((name) => !key.includes(name));
    const types = names.map((name) => (name === 'msn' ? 'bigint[]' : known.get(name)!.arrayType));
    const parameters = names.map((name) => arrayParameter(rows, name));
    parameters.push(readAt);

    const target = `udil.${table}`;
    const sets = valueColumns.map((name) => `"${name}" = COALESCE(EXCLUDED."${name}", t."${name}")`);
    const changed = valueColumns.length
      ? `WHERE (${valueColumns.map((n) => `t."${n}"`).join(', ')}) IS DISTINCT FROM (${valueColumns.map((n) => `COALESCE(EXCLUDED."${n}", t."${n}")`).join(', ')})`
      : 'WHERE false';
    // mdc_read_datetime is one value for the whole batch: a scalar, not an array of copies.
    const sql = `
      INSERT INTO ${target} AS t (${names.map((n) => `"${n}"`).join(', ')}, mdc_read_datetime)
      SELECT *, $${names.length + 1}::timestamptz FROM unnest(${types.map((type, i) => `$${i + 1}::${type}`).join(', ')})
      ON CONFLICT (${key.map((n) => `"${n}"`).join(', ')}) DO UPDATE
        SET ${[...sets, 'mdc_read_datetime = EXCLUDED.mdc_read_datetime', 'db_datetime = now()', 'is_synced = 0'].join(', ')}
        ${changed}`;
    // The row count of INSERT … ON CONFLICT DO UPDATE … WHERE is what was inserted or changed.
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(sql, parameters, true);
      return { written: result.affected ?? 0, received: rows.length, rows };
    } finally {
      await runner.release();
    }
  }

  /**
   * The rows of `table` as stored for the keys of `rows` (as {@link upsert} answered them), in the table's
   * key order: every column, including those the head-end maintains (mdc_read_datetime, db_datetime, …).
   */
  async stored(table: ReadingTable, rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    if (rows.length === 0) return [];
    const known = await this.columnsOf(table);
    const key = READING_TABLES[table] as readonly string[];
    const parameters: unknown[] = key.map((name) => rows.map((row) => normalise(row[name])));
    // The rows' time range as constants: the planner keeps only the months (partitions) that hold them.
    const time = key[1];
    const times = rows.map((row) => new Date(row[time] as Date | string | number).getTime());
    const range = times.some(Number.isNaN)
      ? ''
      : ` AND t."${time}" BETWEEN $${key.length + 1} AND $${key.length + 2}`;
    if (range)
      parameters.push(
        new Date(times.reduce((a, b) => Math.min(a, b))),
        new Date(times.reduce((a, b) => Math.max(a, b))),
      );
    return this.dataSource.query<Record<string, unknown>[]>(
      `SELECT t.* FROM unnest(${key.map((name, i) => `$${i + 1}::${known.get(name)!.arrayType}`).join(', ')})
          AS k(${key.map((n) => `"${n}"`).join(', ')})
        JOIN udil.${table} t ON ${key.map((n) => `t."${n}" = k."${n}"`).join(' AND ')}${range}
       ORDER BY ${key.map((n) => `t."${n}"`).join(', ')}`,
      parameters,
    );
  }

  private async columnsOf(table: ReadingTable): Promise<Map<string, ColumnType>> {
    let columns = this.columns.get(table);
    if (!columns) {
      const rows = await this.dataSource.query<{ column_name: string; udt_name: string }[]>(
        `SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = 'udil' AND table_name = $1`,
        [table],
      );
      columns = new Map(
        rows.map((r) => [r.column_name, { name: r.column_name, arrayType: `${r.udt_name}[]` }]),
      );
      this.columns.set(table, columns);
    }
    return columns;
  }
}

/**
 * One column as a parameter. Numbers, dates and strings are written straight into a PostgreSQL array
 * literal (what node-postgres would build, without its per-element conversion work: the hot path of a
 * large batch); a column holding anything else (Buffers, booleans) is left to node-postgres.
 */
function arrayParameter(rows: Record<string, unknown>[], name: string): unknown {
  const parts: string[] = new Array<string>(rows.length);
  // Rows of one batch share their timestamps (every meter's quarter-hours): each is formatted once.
  const dates = new Map<number, string>();
  for (let i = 0; i < rows.length; i++) {
    const value = normalise(rows[i][name]);
    if (value === null) parts[i] = 'NULL';
    else if (typeof value === 'number') parts[i] = String(value);
    else if (value instanceof Date) {
      const time = value.getTime();
      if (Number.isNaN(time)) return rows.map((row) => normalise(row[name]));
      let text = dates.get(time);
      if (text === undefined) dates.set(time, (text = value.toISOString()));
      parts[i] = text;
    } else if (typeof value === 'string') parts[i] = `"${value.replace(/[\\"]/g, '\\$&')}"`;
    else return rows.map((row) => normalise(row[name]));
  }
  return `{${parts.join(',')}}`;
}

function normalise(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}
