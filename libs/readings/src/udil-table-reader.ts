import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import {
  ROW_VERSION_SQL,
  RenderedReadCache,
  RowSetVersion,
  UDIL_RECORD_KEYS,
  UdilJsonSql,
  formatUdilRecord,
  postgresFormatsZoneAsUdil,
  udilColumnTypes,
  udilJsonItemSql,
  udilJsonPiecesSql,
  renderedReadCache,
  rowSetVersion,
} from '@hes/udil';

/**
 * The tables UDIL §3.3 serves through the API, with the datetime their range applies to
 * (DEVICE_COMMUNICATION_HISTORY, UDIL 3.2 §3.1.7: when the communication took place).
 */
export const READABLE_TABLES = {
  instantaneous_data: 'meter_datetime',
  billing_data: 'meter_datetime',
  monthly_billing_data: 'meter_datetime',
  load_profile_data: 'meter_datetime',
  events: 'event_datetime',
  meter_visuals: 'db_datetime',
  device_communication_history: 'mdc_read_datetime',
} as const;

export type ReadableTable = keyof typeof READABLE_TABLES;

/** The zone is the first parameter of a query of data items rendered in SQL. */
const ZONE_PARAMETER = '$1';

export interface TableQuery {
  globalDeviceIds: string[];
  from?: Date;
  to?: Date;
  /** LOAD_PROFILE_DATA: one load-profile channel's rows. */
  channelId?: number;
  page: number;
  pageSize: number;
}

export interface TablePage {
  rows: Record<string, unknown>[];
  /** True when rows beyond this page exist. */
  more: boolean;
}

/**
 * A page of a UDIL table as the JSON text of its data items (the array of formatUdilRecord's items): the
 * array is `[`, the pieces joined by commas, `]` (jsonArrayText), each piece one or more items.
 */
export interface UdilJsonPage {
  items: string[];
  count: number;
  /** True when rows beyond this page exist. */
  more: boolean;
}

/** Reads one page of a UDIL table for a device set and a range, in a stable order. */
@Injectable()
export class UdilTableReader {
  /** The SQL of a data item, per table and zone. */
  private readonly items = new Map<string, Promise<UdilJsonSql | undefined>>();

  /** readUdilJson's pages, with the version of the rows they show (UDIL_READ_CACHE_MB; none without a config). */
  private readonly pages: RenderedReadCache<UdilJsonPage> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() @Inject(APP_CONFIG) config?: Pick<AppConfig, 'UDIL_READ_CACHE_MB'>,
  ) {
    this.pages = renderedReadCache(config?.UDIL_READ_CACHE_MB);
  }

  async read(table: ReadableTable, query: TableQuery): Promise<TablePage> {
    const { sql, parameters } = this.pageQuery(table, query, '*');
    const rows = await this.dataSource.query<Record<string, unknown>[]>(sql, parameters);
    return { rows: rows.slice(0, query.pageSize), more: rows.length > query.pageSize };
  }

  /**
   * One page as the UDIL data items' JSON text, byte for byte `JSON.stringify` of formatUdilRecord's items
   * in `zone`: rendered and joined by PostgreSQL (udil-records-sql.ts) into pieces of a few dozen KB, so the
   * api receives a page as a few values instead of a row per item and never as one large string, when the
   * zone, the table's column types and every value of the page allow it; formatted in JavaScript from
   * {@link read} otherwise. A page asked for again whose rows have not changed since (the same rows, at the
   * same versions: ROW_VERSION_SQL) is answered as rendered then, when the api keeps answers (UDIL_READ_CACHE_MB).
   */
  async readUdilJson(table: ReadableTable, query: TableQuery, zone: string): Promise<UdilJsonPage> {
    const item = await this.itemSql(table, zone);
    if (item) {
      const key = `${table}\n${zone}\n${JSON.stringify(query)}`;
      if (this.pages?.has(key)) {
        const kept = this.pages.get(key, await this.versionOfPage(table, query));
        if (kept) return kept;
      }
      const { sql, parameters } = this.pageQuery(
        table,
        query,
        `row_number() OVER (ORDER BY ${pageOrder(table)}) AS n, ${item.exact} AS exact, ${item.item} AS item,
         ${ROW_VERSION_SQL} AS row_version`,
        [zone],
      );
      // The page's items in its order; the row beyond it (row number offset + size + 1) is only counted.
      parameters.push(query.page * query.pageSize);
      const pieces = await this.dataSource.query<({ exact: boolean; items: string } & RowSetVersion)[]>(
        udilJsonPiecesSql(
          `SELECT *, count(*) OVER () AS page_rows, sum(row_version) OVER () AS page_version FROM (${sql}) AS page`,
          'max(page_rows)::int AS rows, max(page_version)::text AS version, bool_and(exact) AS exact',
          `n <= $${parameters.length}`,
        ),
        parameters,
      );
      if (pieces.every((piece) => piece.exact)) {
        const rows = pieces[0]?.rows ?? 0;
        const page = {
          items: pieces.map((piece) => piece.items),
          count: Math.min(rows, query.pageSize),
          more: rows > query.pageSize,
        };
        this.pages?.set(
          key,
          rowSetVersion(pieces[0] ?? { rows: 0, version: null }),
          page,
          page.items.reduce((size, text) => size + text.length, 0),
        );
        return page;
      }
    }
    const page = await this.read(table, query);
    const data = page.rows.map((row) => formatUdilRecord(table, row, zone));
    // JSON.stringify of the array is its items' texts joined by commas, in brackets.
    return { items: data.map((item) => JSON.stringify(item)), count: data.length, more: page.more };
  }

  /** The version of the rows of a page (and of the one beyond it), as readUdilJson's statement gives it. */
  private async versionOfPage(table: ReadableTable, query: TableQuery): Promise<string> {
    const { sql, parameters } = this.pageQuery(table, query, `${ROW_VERSION_SQL} AS row_version`);
    const [set] = await this.dataSource.query<RowSetVersion[]>(
      `SELECT count(*)::int AS rows, sum(row_version)::text AS version FROM (${sql}) AS page`,
      parameters,
    );
    return rowSetVersion(set);
  }

  /**
   * The SQL of a data item of `table` in `zone` ($1 of the item is the zone's parameter), if it can be had:
   * built once per table and zone (the zone's check and the column types are the database's, read once).
   */
  private itemSql(table: ReadableTable, zone: string): Promise<UdilJsonSql | undefined> {
    const key = `${table} ${zone}`;
    let item = this.items.get(key);
    if (!item) {
      item = this.buildItemSql(table, zone);
      this.items.set(key, item);
      // Only SQL is kept: without it (a zone PostgreSQL formats differently, or a failed query, which the
      // zone's check does not keep either) the next read asks again.
      item.then(
        (sql) => sql ?? this.items.delete(key),
        () => this.items.delete(key),
      );
    }
    return item;
  }

  private async buildItemSql(table: ReadableTable, zone: string): Promise<UdilJsonSql | undefined> {
    const query = <T>(sql: string, parameters: unknown[]) => this.dataSource.query<T[]>(sql, parameters);
    if (!(await postgresFormatsZoneAsUdil(zone, query))) return undefined;
    const types = await udilColumnTypes(table, query);
    const members = UDIL_RECORD_KEYS[table].map((key) => ({ key, column: key }));
    return udilJsonItemSql(members, types, ZONE_PARAMETER);
  }

  /**
   * `SELECT <columns>` of one page (one row more, to know whether more follow), with `leading` parameters
   * ($1, $2…) before the query's own.
   */
  private pageQuery(
    table: ReadableTable,
    query: TableQuery,
    columns: string,
    leading: unknown[] = [],
  ): { sql: string; parameters: unknown[] } {
    const time = READABLE_TABLES[table];
    const parameters: unknown[] = [...leading, query.globalDeviceIds];
    const conditions = [`global_device_id = ANY($${parameters.length})`];
    if (query.from) {
      parameters.push(query.from);
      conditions.push(`"${time}" >= $${parameters.length}`);
    }
    if (query.to) {
      parameters.push(query.to);
      conditions.push(`"${time}" <= $${parameters.length}`);
    }
    if (query.channelId !== undefined && table === 'load_profile_data') {
      parameters.push(query.channelId);
      conditions.push(`channel_id = $${parameters.length}`);
    }
    const order = pageOrder(table);
    parameters.push(query.pageSize + 1, (query.page - 1) * query.pageSize);
    return {
      sql: `SELECT ${columns} FROM udil.${table} WHERE ${conditions.join(' AND ')} ORDER BY ${order}
        LIMIT $${parameters.length - 1} OFFSET $${parameters.length}`,
      parameters,
    };
  }
}

/** The order of a table's pages: its key, stable from one page to the next. */
function pageOrder(table: ReadableTable): string {
  const time = READABLE_TABLES[table];
  return table === 'events'
    ? `global_device_id, "${time}", event_code`
    : table === 'load_profile_data'
      ? `global_device_id, "${time}", channel_id`
      : table === 'device_communication_history'
        ? `global_device_id, "${time}", id`
        : `global_device_id, "${time}"`;
}
