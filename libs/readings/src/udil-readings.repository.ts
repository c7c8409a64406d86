import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { UdilRow } from '@hes/drivers';

/** The UDIL tables that hold readings, with the spec's composite keys. */
export const READING_TABLES = {
  instantaneous_data: ['global_device_id', 'meter_datetime'],
  billing_data: ['global_device_id', 'meter_datetime'],
  monthly_billing_data: ['global_device_id', 'meter_datetime'],
  load_profile_data: ['global_device_id', 'meter_datetime'],
  events: ['global_device_id', 'event_datetime', 'event_code'],
} as const;

export type ReadingTable = keyof typeof READING_TABLES;

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
 * again). A value a reading does not carry never erases one already stored (load-profile channels of
 * one timestamp merge into one row).
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
    for (const { device, reading } of items) {
      const row: Record<string, unknown> = { global_device_id: device.globalDeviceId, msn: device.msn };
      for (const [name, value] of Object.entries(reading)) {
        if (value === undefined) continue;
        if (MANAGED.has(name) && name !== 'global_device_id') continue;
        if (!known.has(name)) throw new Error(`${table} has no column ${name}`);
        row[name] = value;
      }
      for (const part of key) {
        if (row[part] === undefined || row[part] === null)
          throw new Error(`${table} reading without ${part}`);
      }
      const id = key
        .map((part) => (row[part] instanceof Date ? row[part].toISOString() : String(row[part])))
        .join('\u0000');
      // Readings of one key complete each other; where both carry a field the first one wins (a meter's
      // 15-minute channel keeps its interval when an hourly channel adds its voltages to the same row).
      merged.set(id, { ...row, ...merged.get(id) });
    }
    const rows = [...merged.values()];
    const names = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    const valueColumns = names.filter((name) => !key.includes(name));
    const types = names.map((name) => (name === 'msn' ? 'bigint[]' : known.get(name)!.arrayType));
    const parameters = names.map((name) => rows.map((row) => normalise(row[name])));
    parameters.push(rows.map(() => readAt));

    const target = `udil.${table}`;
    const sets = valueColumns.map((name) => `"${name}" = COALESCE(EXCLUDED."${name}", t."${name}")`);
    const changed = valueColumns.length
      ? `WHERE (${valueColumns.map((n) => `t."${n}"`).join(', ')}) IS DISTINCT FROM (${valueColumns.map((n) => `COALESCE(EXCLUDED."${n}", t."${n}")`).join(', ')})`
      : 'WHERE false';
    const sql = `
      INSERT INTO ${target} AS t (${names.map((n) => `"${n}"`).join(', ')}, mdc_read_datetime)
      SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}`).join(', ')}, $${names.length + 1}::timestamptz[])
      ON CONFLICT (${key.map((n) => `"${n}"`).join(', ')}) DO UPDATE
        SET ${[...sets, 'mdc_read_datetime = EXCLUDED.mdc_read_datetime', 'db_datetime = now()', 'is_synced = 0'].join(', ')}
        ${changed}
      RETURNING 1`;
    const result = await this.dataSource.query<unknown[]>(sql, parameters);
    return { written: result.length, received: rows.length, rows };
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

function normalise(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}
