import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows, StatementBatcher } from '@hes/database';
import {
  CommunicationRecord,
  historyArrays,
  historyInsertFromArrays,
} from './communication-history.repository';
import { VisualsValue, visualsColumns, visualsJson, visualsUpsertFromJson } from './meter-visuals.repository';
import {
  ColumnTypes,
  ROW_VERSION_SQL,
  RowSetVersion,
  UdilJsonMember,
  UdilJsonSql,
  postgresFormatsZoneAsUdil,
  rowSetVersion,
  udilColumnTypes,
  udilJsonItemSql,
  udilJsonPiecesSql,
} from '@hes/udil';

export type StatusLevel = 0 | 1 | 2 | 3 | 4 | 5;

/** A live row the reconciler may have to queue again. */
export interface PendingRow {
  transactionid: string;
  global_device_id: string;
  command_receiving_datetime: Date;
}

/** Where a page of {@link TransactionStatusRepository.pending} rows ended: the next page starts after it. */
export interface PendingPosition {
  /** The row's command_receiving_datetime, ISO text to the microsecond. */
  receivedAt: string;
  transactionid: string;
  globalDeviceId: string;
}

/** A page of pending rows, in (datetime, transaction, device) order, and the position of its last row. */
export interface PendingPage {
  rows: PendingRow[];
  last?: PendingPosition;
}

/**
 * A row of `udil.transaction_status t` still to be carried out: accepted, neither finished nor cancelled,
 * and not held until a time still to come ({@link TransactionStatusRepository.defer}).
 */
const PENDING = `t.indv_status = 0 AND t.request_cancelled = 0 AND t.status_level < 5
          AND NOT EXISTS (SELECT 1 FROM public.udil_deferred_rows d
                           WHERE d.transactionid = t.transactionid AND d.global_device_id = t.global_device_id
                             AND d.due_at > now())`;

/** A status row as {@link TransactionStatusRepository.findByTransactionsAsUdilJsonRows} gives it. */
export interface StatusRowRendering {
  /** The row's version (ROW_VERSION_SQL), as text. */
  version: string;
  /** Its item's JSON text, U+0001 in place of a response_data holding JSON; null when its version was known. */
  item: string | null;
  /** The stored response_data that holds JSON, when `item` has its place. */
  structured: string | null;
}

/** One row of udil.transaction_status, as stored. */
export interface TransactionStatusRow {
  transactionid: string;
  msn: string | null;
  global_device_id: string;
  type: string;
  type_parameters: string | null;
  command_receiving_datetime: Date;
  status_level: StatusLevel;
  status_1_datetime: Date | null;
  status_2_datetime: Date | null;
  status_3_datetime: Date | null;
  status_4_datetime: Date | null;
  status_5_datetime: Date | null;
  indv_status: 0 | 1 | 2;
  request_cancelled: 0 | 1;
  request_cancel_reason: string | null;
  request_cancel_datetime: Date | null;
  response_data: string | null;
  db_datetime: Date;
}

export interface NewStatusRow {
  globalDeviceId: string;
  msn: string | null;
  /** Set when the head-end refuses the device at acceptance (unknown, inactive, unsupported). */
  refusal?: string;
}

/** New rows as columns (see TransactionStatusRepository.insertColumns): entry i of each is row i's. */
export interface NewStatusColumns {
  globalDeviceIds: string[];
  msns: (string | null)[];
  /** A refusal, or null for a device accepted. */
  refusals: (string | null)[];
}

/** A registered device, as an acceptance checks it (TransactionStatusRepository.registeredDevices). */
export interface RegisteredDevice {
  global_device_id: string;
  msn: string;
  driver: string;
  activation_status: number;
}

interface RowKey {
  transactionid: string;
  global_device_id: string;
}

interface RowKeyAt extends RowKey {
  receivedAt?: ReceivedAt;
}

interface RowUpdate<V> {
  transactionid: string;
  globalDeviceId: string;
  value: V;
  receivedAt?: ReceivedAt;
}

/**
 * What a device's command leaves besides its row: the METER_VISUALS columns it changed and the
 * DEVICE_COMMUNICATION_HISTORY record of its exchange, written together with level 5 (see
 * TransactionStatusRepository.complete).
 */
export interface CompletionTraces {
  msn: string | null;
  visuals: Record<string, VisualsValue>;
  communication: CommunicationRecord;
}

interface Completion {
  responseData: string;
  traces?: CompletionTraces;
  /** Levels reached and not written yet: the completion stamps them with these times. */
  reached?: LevelTimes;
}

/** A row's command_receiving_datetime, as the caller knows it (a Date, or an ISO text). */
export type ReceivedAt = Date | string;

/**
 * TRANSACTION_STATUS is partitioned by month on command_receiving_datetime (docs/partitions.md): a
 * statement that names the row's datetime is planned on one partition instead of all of them. A JS Date
 * holds milliseconds and PostgreSQL microseconds, so the bound is the millisecond around it, as constants
 * (the planner prunes on constants). Answers [from, to] as ISO texts, or undefined when not known.
 */
export function receivedWindow(receivedAt: ReceivedAt | undefined): readonly [string, string] | undefined {
  if (receivedAt === undefined) return undefined;
  const time = receivedAt instanceof Date ? receivedAt.getTime() : new Date(receivedAt).getTime();
  if (Number.isNaN(time)) return undefined;
  // Every row of a transaction has the same datetime: its window is computed once, not per statement item.
  if (time !== lastWindow.time)
    lastWindow = { time, window: [new Date(time - 1).toISOString(), new Date(time + 1).toISOString()] };
  return lastWindow.window;
}

let lastWindow: { time: number; window: readonly [string, string] } = { time: NaN, window: ['', ''] };

/**
 * The time bound of a single-row statement: `AND <column> BETWEEN $n AND $n+1`, its values appended to
 * `parameters`; nothing when the datetime is not known.
 */
function receivedBound(parameters: unknown[], receivedAt: ReceivedAt | undefined, column: string): string {
  const window = receivedWindow(receivedAt);
  if (!window) return '';
  parameters.push(...window);
  return ` AND ${column} BETWEEN $${parameters.length - 1}::timestamptz AND $${parameters.length}::timestamptz`;
}

/** `AND command_receiving_datetime >= $n` (a millisecond early: see {@link receivedWindow}); nothing when unknown. */
function sinceBound(parameters: unknown[], since: ReceivedAt | undefined): string {
  const window = receivedWindow(since);
  if (!window) return '';
  parameters.push(window[0]);
  return ` AND command_receiving_datetime >= $${parameters.length}::timestamptz`;
}

/**
 * The time bound of a set statement over rows `v` (columns received_from, received_to): each row in its
 * own window, and the whole set within the earliest and latest as constants so that the planner keeps only
 * their partitions. Nothing when a row's datetime is not known.
 */
interface SetBounds {
  /** The unnest arguments of the rows' windows (received_from, received_to). */
  from: string;
  to: string;
  /** The WHERE condition to append. */
  bound: string;
}

function receivedBounds(
  parameters: unknown[],
  receivedAts: (ReceivedAt | undefined)[],
  column: string,
): SetBounds {
  const windows = receivedAts.map(receivedWindow);
  if (windows.some((w) => w === undefined))
    return { bound: '', from: 'NULL::timestamptz[]', to: 'NULL::timestamptz[]' };
  const known = windows as [string, string][];
  parameters.push(
    known.map((w) => w[0]),
    known.map((w) => w[1]),
    known.reduce((min, w) => (w[0] < min ? w[0] : min), known[0][0]),
    known.reduce((max, w) => (w[1] > max ? w[1] : max), known[0][1]),
  );
  const n = parameters.length;
  return {
    from: `$${n - 3}::timestamptz[]`,
    to: `$${n - 2}::timestamptz[]`,
    bound: ` AND ${column} BETWEEN v.received_from AND v.received_to AND ${column} BETWEEN $${n - 1}::timestamptz AND $${n}::timestamptz`,
  };
}

const keyOf = (transactionid: string, globalDeviceId: string) => `${transactionid}\u0000${globalDeviceId}`;

/**
 * A conditional single-row update sent in sets (see {@link StatementBatcher}): every row keeps its own
 * WHERE clause, and each caller learns whether its own row was updated (RETURNING the keys). `columns`:
 * the parameters a value gives, in order ($3 on).
 */
function rowUpdates<V>(
  columns: (value: V) => unknown[],
  single: (statement: { parameters: unknown[]; bound: string }) => Promise<boolean>,
  many: (statement: { parameters: unknown[]; times: SetBounds }) => Promise<RowKey[]>,
): StatementBatcher<RowUpdate<V>, boolean> {
  return new StatementBatcher<RowUpdate<V>, boolean>({
    key: (u) => keyOf(u.transactionid, u.globalDeviceId),
    // $1 transactionid, $2 global_device_id, $3… the value's columns, then the time bound's.
    single: (u) => {
      const parameters: unknown[] = [u.transactionid, u.globalDeviceId, ...columns(u.value)];
      return single({
        parameters,
        bound: receivedBound(parameters, u.receivedAt, 'command_receiving_datetime'),
      });
    },
    async many(updates) {
      // The same as arrays (unnest), then the set's time bounds.
      const values = updates.map((u) => columns(u.value));
      const parameters: unknown[] = [
        updates.map((u) => u.transactionid),
        updates.map((u) => u.globalDeviceId),
        ...values[0].map((_, column) => values.map((row) => row[column])),
      ];
      const times = receivedBounds(
        parameters,
        updates.map((u) => u.receivedAt),
        't.command_receiving_datetime',
      );
      const updated = new Set(
        (await many({ parameters, times })).map((r) => keyOf(r.transactionid, r.global_device_id)),
      );
      return updates.map((u) => updated.has(keyOf(u.transactionid, u.globalDeviceId)));
    },
  });
}

/**
 * A statement that answers one row by its key (and datetime, when known), sent in sets like
 * {@link rowUpdates}: $1 transactionid and $2 global_device_id (arrays for the set), then the time bound's.
 */
function rowLookups(
  single: (statement: { parameters: unknown[]; bound: string }) => Promise<TransactionStatusRow | undefined>,
  many: (statement: { parameters: unknown[]; times: SetBounds }) => Promise<TransactionStatusRow[]>,
): StatementBatcher<RowKeyAt, TransactionStatusRow | undefined> {
  return new StatementBatcher<RowKeyAt, TransactionStatusRow | undefined>({
    key: (k) => keyOf(k.transactionid, k.global_device_id),
    single: (k) => {
      const parameters: unknown[] = [k.transactionid, k.global_device_id];
      return single({
        parameters,
        bound: receivedBound(parameters, k.receivedAt, 'command_receiving_datetime'),
      });
    },
    async many(keys) {
      const parameters: unknown[] = [keys.map((k) => k.transactionid), keys.map((k) => k.global_device_id)];
      const times = receivedBounds(
        parameters,
        keys.map((k) => k.receivedAt),
        't.command_receiving_datetime',
      );
      const rows = await many({ parameters, times });
      const byKey = new Map(rows.map((row) => [keyOf(row.transactionid, row.global_device_id), row]));
      return keys.map((k) => byKey.get(keyOf(k.transactionid, k.global_device_id)));
    },
  });
}

/** Level 1 for a row at 0; a row already further keeps its level, datetimes and db_datetime. */
const START_ASSIGNMENTS = `status_level = GREATEST(status_level, 1),
       status_1_datetime = COALESCE(status_1_datetime, now()),
       db_datetime = CASE WHEN status_level = 0 THEN now() ELSE db_datetime END`;

const LEVEL_COLUMNS = [
  '',
  'status_1_datetime',
  'status_2_datetime',
  'status_3_datetime',
  'status_4_datetime',
  'status_5_datetime',
];

/**
 * When a worker saw a device reach levels it writes later, with the statement of a later level
 * (docs/udil.md, "Levels written with the next one"): 2 (communication request sent) with 3, 4 (command
 * sent) with 5. The statement stamps such a level with this time instead of its own.
 */
export interface LevelTimes {
  2?: Date;
  4?: Date;
}

/**
 * Every level a row passes gets its own datetime, never empty and never earlier than the level below:
 * reaching `level` stamps it now and stamps now on any lower level the row passed without a report (a
 * driver that goes from 2 straight to 4). `level` is an SQL expression (a parameter or a column).
 * `reached`: SQL expressions (timestamptz, NULL when not known) of the times levels 2 and 4 were reached
 * ({@link LevelTimes}); such a level is stamped with that time, kept between the datetime of the level
 * below and now (the worker's clock is not the database's).
 */
function levelStamps(level: string, table = '', reached?: Readonly<Record<2 | 4, string>>): string {
  // Level 3 passed in the same statement (no statement of its own: device_creation reports 4 alone) is
  // stamped now(), and so is level 4 then.
  const floors: Record<number, string> = {
    2: `${table}status_1_datetime`,
    4: `COALESCE(${table}status_3_datetime, now()), ${table}status_2_datetime`,
  };
  return [2, 3, 4, 5]
    .map((l) => {
      const time = reached && (l === 2 || l === 4) ? reached[l] : undefined;
      const stamp = time
        ? `CASE WHEN ${time} IS NULL THEN now() ELSE LEAST(GREATEST(${time}, ${floors[l]}), now()) END`
        : 'now()';
      return `${LEVEL_COLUMNS[l]} = CASE WHEN ${level} = ${l} THEN ${stamp} WHEN ${level} > ${l} THEN COALESCE(${table}${LEVEL_COLUMNS[l]}, ${stamp}) ELSE ${table}${LEVEL_COLUMNS[l]} END`;
    })
    .join(',\n       ');
}

/**
 * Level 5 of a set of rows: transactionid, global_device_id, response_data and the times levels 2 and 4
 * were reached (or NULL: {@link LevelTimes}) as arrays from `$first` on, then the set's time bounds
 * (`times`, appended after them), answering the keys of the rows it completed.
 */
function completionSet(first: number, times: SetBounds): string {
  return `UPDATE udil.transaction_status AS t
              SET status_level = 5, ${levelStamps('5', 't.', { 2: 'v.reached_2', 4: 'v.reached_4' })}, indv_status = 1,
                  response_data = v.response_data, db_datetime = now()
             FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::timestamptz[], $${first + 4}::timestamptz[],
                         ${times.from}, ${times.to})
               AS v(transactionid, global_device_id, response_data, reached_2, reached_4, received_from, received_to)
            WHERE t.transactionid = v.transactionid AND t.global_device_id = v.global_device_id
              AND t.request_cancelled = 0 AND t.indv_status = 0${times.bound}
            RETURNING t.transactionid, t.global_device_id`;
}

/** {@link completionSet} of `updates`, its parameters appended to `parameters`. */
function completionOf(updates: readonly RowUpdate<Completion>[], parameters: unknown[]): string {
  const first = parameters.length + 1;
  parameters.push(
    updates.map((u) => u.transactionid),
    updates.map((u) => u.globalDeviceId),
    updates.map((u) => u.value.responseData),
    updates.map((u) => u.value.reached?.[2] ?? null),
    updates.map((u) => u.value.reached?.[4] ?? null),
  );
  const times = receivedBounds(
    parameters,
    updates.map((u) => u.receivedAt),
    't.command_receiving_datetime',
  );
  return completionSet(first, times);
}

/**
 * TRANSACTION_STATUS, written in sets. Level changes are conditional (never backwards, never on a
 * cancelled or finished row) so that a cancel racing a worker is decided by the database.
 */
@Injectable()
export class TransactionStatusRepository {
  private columnTypes?: Promise<ColumnTypes>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts one row per device and answers their command_receiving_datetime. Refused devices are recorded as cancelled by the MDC, with the reason
   * (whole in response_data; request_cancel_reason holds its first 255 characters, as the spec sizes it).
   */
  async insert(
    manager: EntityManager,
    transactionid: string,
    type: string,
    typeParameters: string,
    rows: NewStatusRow[],
  ): Promise<Date> {
    await this.insertColumns(manager, transactionid, type, typeParameters, {
      globalDeviceIds: rows.map((r) => r.globalDeviceId),
      msns: rows.map((r) => r.msn),
      refusals: rows.map((r) => r.refusal ?? null),
    });
    // The rows' command_receiving_datetime (now() is the transaction's time): jobs carry it to find them.
    const [{ at }] = await manager.query<{ at: Date }[]>(`SELECT now() AS at`);
    return at;
  }

  /**
   * {@link insert}, from the rows' columns (one array per column, in the same order): a 100 000-device
   * acceptance builds no object per row. One statement; its rows go to the partition of now().
   */
  async insertColumns(
    manager: EntityManager,
    transactionid: string,
    type: string,
    typeParameters: string,
    columns: NewStatusColumns,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO udil.transaction_status
         (transactionid, global_device_id, msn, type, type_parameters, request_cancelled, request_cancel_reason,
          request_cancel_datetime, response_data)
       SELECT $1, d.id, d.msn::bigint, $2, $3, CASE WHEN d.refusal IS NULL THEN 0 ELSE 1 END, left(d.refusal, 255),
              CASE WHEN d.refusal IS NULL THEN NULL ELSE now() END, d.refusal
         FROM ROWS FROM (json_array_elements_text($4::json), json_array_elements_text($5::json),
                         json_array_elements_text($6::json)) AS d(id, msn, refusal)`,
      // As JSON arrays: one string each, where a text[] parameter costs the api an escaped string per
      // element (100 000 rows: ≈ 50 ms less of the api's CPU, the same of PostgreSQL's).
      [
        transactionid,
        type,
        typeParameters,
        JSON.stringify(columns.globalDeviceIds),
        JSON.stringify(columns.msns),
        JSON.stringify(columns.refusals),
      ],
    );
  }

  /**
   * The registry's facts an acceptance checks its devices against (public.devices), for those of these ids
   * that are registered: one hash join with the ids (`= ANY` plans 100 000 constants: the same CPU on an
   * analysed table, twice as much on a table just loaded).
   */
  async registeredDevices(manager: EntityManager, globalDeviceIds: string[]): Promise<RegisteredDevice[]> {
    return manager.query<RegisteredDevice[]>(
      `SELECT d.global_device_id, d.msn::text AS msn, d.driver, d.activation_status
         FROM unnest($1::text[]) AS r(id) JOIN public.devices d ON d.global_device_id = r.id`,
      [globalDeviceIds],
    );
  }

  /**
   * Starts a device's part of a transaction: a live row (neither cancelled nor finished) moves to level 1
   * if it is at 0, and is answered as it then stands; undefined for a row that is cancelled, finished or
   * unknown. One statement instead of a read and an update; grouped across jobs like {@link advance}.
   */
  start(
    transactionid: string,
    globalDeviceId: string,
    receivedAt?: ReceivedAt,
  ): Promise<TransactionStatusRow | undefined> {
    return this.starts.submit({ transactionid, global_device_id: globalDeviceId, receivedAt });
  }

  private readonly starts = rowLookups(
    async ({ parameters, bound }) =>
      returnedRows<TransactionStatusRow>(
        await this.dataSource.query(
          `UPDATE udil.transaction_status SET ${START_ASSIGNMENTS}
            WHERE transactionid = $1 AND global_device_id = $2 AND request_cancelled = 0 AND indv_status = 0${bound}
            RETURNING *`,
          parameters,
        ),
      )[0],
    async ({ parameters, times }) =>
      returnedRows<TransactionStatusRow>(
        await this.dataSource.query(
          `UPDATE udil.transaction_status AS t SET ${START_ASSIGNMENTS}
             FROM unnest($1::text[], $2::text[], ${times.from}, ${times.to})
               AS v(transactionid, global_device_id, received_from, received_to)
            WHERE t.transactionid = v.transactionid AND t.global_device_id = v.global_device_id
              AND t.request_cancelled = 0 AND t.indv_status = 0${times.bound}
            RETURNING t.*`,
          parameters,
        ),
      ),
  );

  /** One row; concurrent calls are read together in one statement (see {@link StatementBatcher}). */
  find(
    transactionid: string,
    globalDeviceId: string,
    receivedAt?: ReceivedAt,
  ): Promise<TransactionStatusRow | undefined> {
    return this.rowReads.submit({ transactionid, global_device_id: globalDeviceId, receivedAt });
  }

  private readonly rowReads = rowLookups(
    async ({ parameters, bound }) =>
      (
        await this.dataSource.query<TransactionStatusRow[]>(
          `SELECT * FROM udil.transaction_status WHERE transactionid = $1 AND global_device_id = $2${bound}`,
          parameters,
        )
      )[0],
    ({ parameters, times }) =>
      this.dataSource.query<TransactionStatusRow[]>(
        `SELECT t.* FROM unnest($1::text[], $2::text[], ${times.from}, ${times.to})
             AS v(transactionid, global_device_id, received_from, received_to)
           JOIN udil.transaction_status t
             ON t.transactionid = v.transactionid AND t.global_device_id = v.global_device_id${times.bound}`,
        parameters,
      ),
  );

  /**
   * Every row of the transactions. `since`, when known (the acceptance's time, public.udil_transactions
   * created_at: its rows are not older), leaves the months before it out of the plan.
   */
  findByTransactions(transactionids: string[], since?: ReceivedAt): Promise<TransactionStatusRow[]> {
    const parameters: unknown[] = [transactionids];
    return this.dataSource.query<TransactionStatusRow[]>(
      `SELECT * FROM udil.transaction_status WHERE transactionid = ANY($1)${sinceBound(parameters, since)}
        ORDER BY transactionid, global_device_id`,
      parameters,
    );
  }

  /**
   * The rows of {@link findByTransactions} as the JSON text of their UDIL data items, rendered and joined by
   * PostgreSQL (udil-records-sql.ts, datetimes in `zone`) into pieces of a few dozen KB, in order: each item
   * `members` then `response_data`. A response_data that is a sentence (or empty) is rendered as a JSON
   * string; one that holds JSON (starts with `[` or `{`) is left to the caller: its place in the piece's
   * `items` holds the character U+0001 (which rendered JSON text cannot hold: control characters are
   * escaped) and its stored text is in the piece's `structured`, in the rows' order. Undefined when
   * PostgreSQL cannot render the rows exactly (its zone rules, a column type, a datetime out of range):
   * format {@link findByTransactions}' rows instead. `version` is the rows' as {@link versionOfTransactions}
   * gives it, taken in the same statement.
   */
  async findByTransactionsAsUdilJson(
    transactionids: string[],
    members: readonly UdilJsonMember[],
    zone: string,
    since?: ReceivedAt,
  ): Promise<
    { version: string; pieces: { count: number; items: string; structured: string[] }[] } | undefined
  > {
    const rendering = await this.statusItemSql(members, zone);
    if (!rendering) return undefined;
    const { item, structured } = rendering;
    const parameters: unknown[] = [transactionids, zone];
    const pieces = await this.dataSource.query<
      ({ count: number; exact: boolean; items: string; structured: string[] | null } & RowSetVersion)[]
    >(
      udilJsonPiecesSql(
        `SELECT row_number() OVER (ORDER BY transactionid, global_device_id) AS n, ${item.exact} AS exact,
                ${item.item} AS item, response_data, ${structured} AS structured,
                count(*) OVER () AS set_rows, sum(${ROW_VERSION_SQL}) OVER () AS set_version
           FROM udil.transaction_status WHERE transactionid = ANY($1)${sinceBound(parameters, since)}`,
        `count(*)::int AS count, bool_and(exact) AS exact,
         array_agg(response_data ORDER BY n) FILTER (WHERE structured) AS structured,
         max(set_rows)::int AS rows, max(set_version)::text AS version`,
      ),
      parameters,
    );
    if (!pieces.every((piece) => piece.exact)) return undefined;
    return {
      version: rowSetVersion(pieces[0] ?? { rows: 0, version: null }),
      pieces: pieces.map((piece) => ({
        count: piece.count,
        items: piece.items,
        structured: piece.structured ?? [],
      })),
    };
  }

  /**
   * The rows of {@link findByTransactions} in the same order, each with its version ({@link ROW_VERSION_SQL}
   * as text) and, unless that version is among `known`, its item rendered as {@link findByTransactionsAsUdilJson}
   * renders it (`item` with U+0001 in place of a response_data holding JSON, whose stored text is in
   * `structured`); a row whose version is known comes with `item` null: the caller rendered that very tuple
   * before. Versions and items are read in one statement (one snapshot). Undefined when PostgreSQL cannot
   * render the rows exactly, as for findByTransactionsAsUdilJson.
   */
  async findByTransactionsAsUdilJsonRows(
    transactionids: string[],
    members: readonly UdilJsonMember[],
    zone: string,
    since: ReceivedAt | undefined,
    known: readonly string[],
  ): Promise<StatusRowRendering[] | undefined> {
    const rendering = await this.statusItemSql(members, zone);
    if (!rendering) return undefined;
    const { item, structured } = rendering;
    const fresh = 'known.known_version IS NULL';
    const parameters: unknown[] = [transactionids, zone, [...new Set(known)]];
    const rows = await this.dataSource.query<(StatusRowRendering & { exact: boolean | null })[]>(
      `SELECT r.status_version::text AS version,
              CASE WHEN ${fresh} THEN ${item.item} END AS item,
              CASE WHEN ${fresh} THEN ${item.exact} END AS exact,
              CASE WHEN ${fresh} AND ${structured} THEN response_data END AS structured
         FROM (SELECT *, ${ROW_VERSION_SQL} AS status_version FROM udil.transaction_status
                WHERE transactionid = ANY($1)${sinceBound(parameters, since)}) AS r
         LEFT JOIN unnest($3::bigint[]) AS known(known_version) ON known.known_version = r.status_version
        ORDER BY r.transactionid, r.global_device_id`,
      parameters,
    );
    return rows.some((row) => row.exact === false) ? undefined : rows;
  }

  /** The SQL of a status row's item and of "its response_data holds JSON"; undefined as for the renderings. */
  private async statusItemSql(
    members: readonly UdilJsonMember[],
    zone: string,
  ): Promise<{ item: UdilJsonSql; structured: string } | undefined> {
    const query = <T>(sql: string, parameters: unknown[]) => this.dataSource.query<T[]>(sql, parameters);
    if (!(await postgresFormatsZoneAsUdil(zone, query))) return undefined;
    if (!this.columnTypes) {
      this.columnTypes = udilColumnTypes('transaction_status', query);
      this.columnTypes.catch(() => (this.columnTypes = undefined));
    }
    const structured = `left(response_data, 1) IN ('[', '{')`;
    const item = udilJsonItemSql(members, await this.columnTypes, '$2', [
      { text: ',"response_data":' },
      {
        sql: `CASE WHEN ${structured} THEN chr(1) ELSE COALESCE(to_json(NULLIF(response_data, ''))::text, '""') END`,
      },
    ]);
    return item ? { item, structured } : undefined;
  }

  /**
   * The version of the rows of these transactions (ROW_VERSION_SQL: their count and the sum of their tuples'
   * versions), which changes with any change of one of them: an index scan, no rendering. `since` as in
   * {@link findByTransactions}.
   */
  async versionOfTransactions(transactionids: string[], since?: ReceivedAt): Promise<string> {
    const parameters: unknown[] = [transactionids];
    const [set] = await this.dataSource.query<RowSetVersion[]>(
      `SELECT count(*)::int AS rows, sum(${ROW_VERSION_SQL})::text AS version
         FROM udil.transaction_status WHERE transactionid = ANY($1)${sinceBound(parameters, since)}`,
      parameters,
    );
    return rowSetVersion(set);
  }

  /**
   * Moves a live row up to `level`; false when it was cancelled, finished or already there.
   * Calls made while a previous statement is in flight are sent together as one set update (see
   * {@link StatementBatcher}); each row keeps its own condition, so a cancel race is still decided by
   * the database row by row. `reached`: levels 2 or 4 the worker saw reached earlier and writes now.
   */
  advance(
    transactionid: string,
    globalDeviceId: string,
    level: Exclude<StatusLevel, 0 | 5>,
    receivedAt?: ReceivedAt,
    reached?: LevelTimes,
  ): Promise<boolean> {
    return this.advances.submit({ transactionid, globalDeviceId, value: { level, reached }, receivedAt });
  }

  /**
   * Level 5, complete (indv_status 1), with what the device answered. Batched like {@link advance}. With
   * `traces`, the command's METER_VISUALS columns and its DEVICE_COMMUNICATION_HISTORY row are written in
   * the same statement: an MDM that sees level 5 finds them (they are written whether or not the row was
   * still live, as the exchange took place), and a meter costs one statement instead of three.
   * `reached`: levels the worker saw reached and has not written (level 4, say), stamped with their times.
   */
  complete(
    transactionid: string,
    globalDeviceId: string,
    responseData: string,
    receivedAt?: ReceivedAt,
    traces?: CompletionTraces,
    reached?: LevelTimes,
  ): Promise<boolean> {
    const visuals = traces ? visualsColumns(traces.visuals) : undefined;
    // Untraced completions under their own key; traced ones per set of METER_VISUALS columns.
    const signature = visuals ? `visuals:${visuals.names.join(',')}` : '';
    let batcher = this.completions.get(signature);
    if (!batcher) {
      batcher = this.completionsOf(visuals?.names);
      this.completions.set(signature, batcher);
    }
    return batcher.submit({
      transactionid,
      globalDeviceId,
      value: {
        responseData,
        traces: traces && visuals && { ...traces, visuals: visuals.columns },
        reached,
      },
      receivedAt,
    });
  }

  /** Completions, one batcher per set of METER_VISUALS columns (a set upsert names them once). */
  private readonly completions = new Map<string, StatementBatcher<RowUpdate<Completion>, boolean>>();

  /** `visuals`: the METER_VISUALS columns of traced completions; none for completions without traces. */
  private completionsOf(visuals?: string[]): StatementBatcher<RowUpdate<Completion>, boolean> {
    const many = async (updates: RowUpdate<Completion>[]): Promise<boolean[]> => {
      const parameters: unknown[] = [];
      let traces = '';
      if (visuals) {
        const traced = updates.map((u) => u.value.traces as CompletionTraces);
        // $1 the METER_VISUALS rows (JSON), $2–$10 the history's columns, then the completion's.
        parameters.push(
          visualsJson(
            updates.map((u, i) => ({
              globalDeviceId: u.globalDeviceId,
              msn: traced[i].msn,
              columns: traced[i].visuals,
            })),
          ),
          ...historyArrays(traced.map((t) => t.communication)),
        );
        traces = `WITH visuals AS (${visualsUpsertFromJson(visuals, '$1')}),
                       communication AS (${historyInsertFromArrays(2)})`;
      }
      const completion = completionOf(updates, parameters);
      const updated = new Set(
        returnedRows<RowKey>(await this.dataSource.query(`${traces} ${completion}`, parameters)).map((r) =>
          keyOf(r.transactionid, r.global_device_id),
        ),
      );
      return updates.map((u) => updated.has(keyOf(u.transactionid, u.globalDeviceId)));
    };
    return new StatementBatcher<RowUpdate<Completion>, boolean>({
      // A device's METER_VISUALS row may be upserted once per statement, whatever the transaction.
      key: (u) => u.globalDeviceId,
      single: async (u) => (await many([u]))[0],
      many,
    });
  }

  private readonly advances = rowUpdates<{ level: number; reached?: LevelTimes }>(
    // $3 the level, $4 and $5 the times levels 2 and 4 were reached (LevelTimes), or NULL.
    ({ level, reached }) => [level, reached?.[2] ?? null, reached?.[4] ?? null],
    // `status_level + 0`: a level compared as it is (`status_level < 3`) lets the planner prove the predicate of
    // transaction_status_pending_idx (the reconciler's partial index on command_receiving_datetime of the live
    // rows), and on a partition not analysed yet since a transaction's rows came in it took that index for the
    // row's time window, where every live row of the transaction has the same datetime: each single-row
    // advance read all of them (18.7 ms a statement in a 100 000-meter run, against 0.06 ms by the key).
    async ({ parameters, bound }) => {
      const rows = returnedRows(
        await this.dataSource.query(
          `UPDATE udil.transaction_status
              SET status_level = $3::int, ${levelStamps('$3::int', '', { 2: '$4::timestamptz', 4: '$5::timestamptz' })},
                  db_datetime = now()
            WHERE transactionid = $1 AND global_device_id = $2 AND status_level + 0 < $3::int
              AND request_cancelled = 0 AND indv_status = 0${bound}
            RETURNING 1`,
          parameters,
        ),
      );
      return rows.length === 1;
    },
    async ({ parameters, times }) =>
      returnedRows<RowKey>(
        await this.dataSource.query(
          `UPDATE udil.transaction_status AS t
              SET status_level = v.level, ${levelStamps('v.level', 't.', { 2: 'v.reached_2', 4: 'v.reached_4' })},
                  db_datetime = now()
             FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], ${times.from}, ${times.to})
               AS v(transactionid, global_device_id, level, reached_2, reached_4, received_from, received_to)
            WHERE t.transactionid = v.transactionid AND t.global_device_id = v.global_device_id
              AND t.status_level < v.level AND t.request_cancelled = 0 AND t.indv_status = 0${times.bound}
            RETURNING t.transactionid, t.global_device_id`,
          parameters,
        ),
      ),
  );

  /** Failed (indv_status 2) at the level reached, with a reason a person can act on. */
  async fail(
    transactionid: string,
    globalDeviceId: string,
    reason: string,
    receivedAt?: ReceivedAt,
  ): Promise<void> {
    const parameters: unknown[] = [transactionid, globalDeviceId, reason];
    const bound = receivedBound(parameters, receivedAt, 'command_receiving_datetime');
    await this.dataSource.query(
      `UPDATE udil.transaction_status SET indv_status = 2, response_data = $3, db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = $2 AND indv_status = 0 AND request_cancelled = 0${bound}`,
      parameters,
    );
  }

  /** A live row waits (e.g. its gateway is marked down): why, in response_data, until it goes on. */
  async note(
    transactionid: string,
    globalDeviceId: string,
    reason: string,
    receivedAt?: ReceivedAt,
  ): Promise<void> {
    const parameters: unknown[] = [transactionid, globalDeviceId, reason];
    const bound = receivedBound(parameters, receivedAt, 'command_receiving_datetime');
    await this.dataSource.query(
      `UPDATE udil.transaction_status SET response_data = $3, db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = $2 AND indv_status = 0 AND request_cancelled = 0${bound}`,
      parameters,
    );
  }

  /**
   * Cancels the live rows at level 0–2 among `globalDeviceIds`; returns those cancelled. `since` as in
   * {@link findByTransactions}.
   */
  async cancel(
    transactionid: string,
    globalDeviceIds: string[],
    reason: string,
    since?: ReceivedAt,
  ): Promise<Set<string>> {
    const parameters: unknown[] = [transactionid, globalDeviceIds, reason];
    const rows = returnedRows<{ global_device_id: string }>(
      await this.dataSource.query(
        `UPDATE udil.transaction_status
          SET request_cancelled = 1, request_cancel_reason = $3, request_cancel_datetime = now(), db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = ANY($2) AND status_level <= 2
          AND request_cancelled = 0 AND indv_status = 0${sinceBound(parameters, since)}
        RETURNING global_device_id`,
        parameters,
      ),
    );
    return new Set(rows.map((r) => r.global_device_id));
  }

  /**
   * Accepted rows that are neither finished nor cancelled and older than `olderThan` (for the
   * reconciler), a page of `limit` at a time after `after`; rows held until a time still to come
   * ({@link defer}) are not pending yet.
   */
  pending(olderThan: Date, limit: number, after?: PendingPosition): Promise<PendingPage> {
    const parameters: unknown[] = [olderThan, limit];
    let from = '';
    if (after) {
      parameters.push(after.receivedAt, after.transactionid, after.globalDeviceId);
      from = ` AND (t.command_receiving_datetime, t.transactionid, t.global_device_id) > ($3::timestamptz, $4, $5)`;
    }
    // The position is the last row's datetime to the microsecond (a Date keeps milliseconds: the rows of
    // one transaction share their datetime, and a page cut at a millisecond would start over at them).
    return this.dataSource
      .query<(PendingRow & { received_at: string })[]>(
        `SELECT t.transactionid, t.global_device_id, t.command_receiving_datetime,
                to_char(t.command_receiving_datetime AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_at
           FROM udil.transaction_status t
          WHERE ${PENDING} AND t.command_receiving_datetime < $1${from}
          ORDER BY t.command_receiving_datetime, t.transactionid, t.global_device_id LIMIT $2`,
        parameters,
      )
      .then((found) => {
        const last = found[found.length - 1];
        return {
          rows: found.map(({ transactionid, global_device_id, command_receiving_datetime }) => ({
            transactionid,
            global_device_id,
            command_receiving_datetime,
          })),
          last: last
            ? {
                receivedAt: last.received_at,
                transactionid: last.transactionid,
                globalDeviceId: last.global_device_id,
              }
            : undefined,
        };
      });
  }

  /**
   * Those of `rows` (read by {@link pending}) that are pending still: a row whose job finished after it was
   * read is not (the job writes the row's end before the queue forgets the job).
   */
  async stillPending(rows: readonly PendingRow[]): Promise<PendingRow[]> {
    if (rows.length === 0) return [];
    // One (transactionid, device) is one row; the set's earliest and latest datetime keep its partitions.
    const times = rows.map((r) => r.command_receiving_datetime.getTime());
    const parameters = [
      rows.map((r) => r.transactionid),
      rows.map((r) => r.global_device_id),
      new Date(Math.min(...times) - 1),
      new Date(Math.max(...times) + 1),
    ];
    return this.dataSource.query(
      `SELECT t.transactionid, t.global_device_id, t.command_receiving_datetime FROM udil.transaction_status t
         JOIN unnest($1::varchar[], $2::varchar[]) AS k(transactionid, global_device_id)
           ON k.transactionid = t.transactionid AND k.global_device_id = t.global_device_id
        WHERE ${PENDING} AND t.command_receiving_datetime BETWEEN $3 AND $4`,
      parameters,
    );
  }

  /**
   * All jobs of an accepted transaction are queued (udil_transactions.queued_at), `slices` of them slices
   * (kept at the largest count a queueing of it reported: slice ids are numbered from 0).
   */
  async markQueued(transactionid: string, slices = 0): Promise<void> {
    await this.dataSource.query(
      `UPDATE public.udil_transactions
          SET queued_at = COALESCE(queued_at, now()), queued_slices = GREATEST(queued_slices, $2)
        WHERE transactionid = $1`,
      [transactionid, slices],
    );
  }

  /** How many slice jobs each of the transactions was queued with (transactions with none are left out). */
  async queuedSlices(transactionids: readonly string[]): Promise<Map<string, number>> {
    if (transactionids.length === 0) return new Map();
    const rows = await this.dataSource.query<{ transactionid: string; queued_slices: number }[]>(
      `SELECT transactionid, queued_slices FROM public.udil_transactions
        WHERE transactionid = ANY($1) AND queued_slices > 0`,
      [transactionids],
    );
    return new Map(rows.map((r) => [r.transactionid, r.queued_slices]));
  }

  /**
   * Transactions accepted before `olderThan` whose jobs were not all queued (the api stopped, or lost
   * Redis, between its answer and the end of the queueing), oldest first.
   */
  async unqueued(olderThan: Date, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ transactionid: string }[]>(
      `SELECT transactionid FROM public.udil_transactions
        WHERE queued_at IS NULL AND created_at < $1
        ORDER BY created_at LIMIT $2`,
      [olderThan, limit],
    );
    return rows.map((r) => r.transactionid);
  }

  /**
   * Every row of one transaction, by device, with the gateway of each device and whether the row is live
   * (neither finished nor cancelled, nor held until later; see {@link pending}), for queueing the live ones
   * (queueTransactionJobs cuts its slices from all of them, so that queueing again gives the same slices).
   */
  rowsToQueue(transactionid: string): Promise<
    {
      global_device_id: string;
      gateway_id: string | null;
      max_in_flight: number | null;
      command_receiving_datetime: Date;
      live: boolean;
    }[]
  > {
    // A transaction's rows are not older than its acceptance: the months before it are not read.
    return this.dataSource.query(
      `SELECT t.global_device_id, d.gateway_id, g.max_in_flight, t.command_receiving_datetime, (${PENDING}) AS live
         FROM udil.transaction_status t
         LEFT JOIN public.devices d ON d.global_device_id = t.global_device_id
         LEFT JOIN public.gateways g ON g.id = d.gateway_id
        WHERE t.transactionid = $1
          AND t.command_receiving_datetime >= (SELECT u.created_at FROM public.udil_transactions u WHERE u.transactionid = $1)
        ORDER BY t.global_device_id`,
      [transactionid],
    );
  }

  /** Holds a live row until `dueAt` (kept in PostgreSQL; the row stays cancellable at its level). */
  async defer(
    transactionid: string,
    globalDeviceId: string,
    dueAt: Date,
    receivedAt?: ReceivedAt,
  ): Promise<void> {
    const parameters: unknown[] = [transactionid, globalDeviceId, dueAt];
    const bound = receivedBound(parameters, receivedAt, 't.command_receiving_datetime');
    await this.dataSource.query(
      `INSERT INTO public.udil_deferred_rows (transactionid, global_device_id, command_receiving_datetime, due_at)
       SELECT t.transactionid, t.global_device_id, t.command_receiving_datetime, $3 FROM udil.transaction_status t
        WHERE t.transactionid = $1 AND t.global_device_id = $2${bound}
       ON CONFLICT (transactionid, global_device_id) DO UPDATE SET due_at = EXCLUDED.due_at`,
      parameters,
    );
  }
}
