import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows, StatementBatcher } from '@hes/database';

export type StatusLevel = 0 | 1 | 2 | 3 | 4 | 5;

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

interface RowKey {
  transactionid: string;
  global_device_id: string;
}

interface RowUpdate<V> {
  transactionid: string;
  globalDeviceId: string;
  value: V;
}

const keyOf = (transactionid: string, globalDeviceId: string) => `${transactionid}\u0000${globalDeviceId}`;

/**
 * A conditional single-row update sent in sets (see {@link StatementBatcher}): every row keeps its own
 * WHERE clause, and each caller learns whether its own row was updated (RETURNING the keys).
 */
function rowUpdates<V>(
  single: (update: RowUpdate<V>) => Promise<boolean>,
  many: (updates: RowUpdate<V>[]) => Promise<RowKey[]>,
): StatementBatcher<RowUpdate<V>, boolean> {
  return new StatementBatcher<RowUpdate<V>, boolean>({
    key: (u) => keyOf(u.transactionid, u.globalDeviceId),
    single,
    async many(updates) {
      const updated = new Set((await many(updates)).map((r) => keyOf(r.transactionid, r.global_device_id)));
      return updates.map((u) => updated.has(keyOf(u.transactionid, u.globalDeviceId)));
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
 * Every level a row passes gets its own datetime, never empty and never earlier than the level below:
 * reaching `level` stamps it now and stamps now on any lower level the row passed without a report (a
 * driver that goes from 2 straight to 4). `level` is an SQL expression (a parameter or a column).
 */
function levelStamps(level: string, table = ''): string {
  return [2, 3, 4, 5]
    .map(
      (l) =>
        `${LEVEL_COLUMNS[l]} = CASE WHEN ${level} = ${l} THEN now() WHEN ${level} > ${l} THEN COALESCE(${table}${LEVEL_COLUMNS[l]}, now()) ELSE ${table}${LEVEL_COLUMNS[l]} END`,
    )
    .join(',\n       ');
}

/**
 * TRANSACTION_STATUS, written in sets. Level changes are conditional (never backwards, never on a
 * cancelled or finished row) so that a cancel racing a worker is decided by the database.
 */
@Injectable()
export class TransactionStatusRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts one row per device. Refused devices are recorded as cancelled by the MDC, with the reason
   * (whole in response_data; request_cancel_reason holds its first 255 characters, as the spec sizes it).
   */
  async insert(
    manager: EntityManager,
    transactionid: string,
    type: string,
    typeParameters: string,
    rows: NewStatusRow[],
  ): Promise<void> {
    await manager.query(
      `INSERT INTO udil.transaction_status
         (transactionid, global_device_id, msn, type, type_parameters, request_cancelled, request_cancel_reason,
          request_cancel_datetime, response_data)
       SELECT $1, d.id, d.msn, $2, $3, CASE WHEN d.refusal IS NULL THEN 0 ELSE 1 END, left(d.refusal, 255),
              CASE WHEN d.refusal IS NULL THEN NULL ELSE now() END, d.refusal
         FROM unnest($4::varchar[], $5::bigint[], $6::text[]) AS d(id, msn, refusal)`,
      [
        transactionid,
        type,
        typeParameters,
        rows.map((r) => r.globalDeviceId),
        rows.map((r) => r.msn),
        rows.map((r) => r.refusal ?? null),
      ],
    );
  }

  /**
   * Starts a device's part of a transaction: a live row (neither cancelled nor finished) moves to level 1
   * if it is at 0, and is answered as it then stands; undefined for a row that is cancelled, finished or
   * unknown. One statement instead of a read and an update; grouped across jobs like {@link advance}.
   */
  start(transactionid: string, globalDeviceId: string): Promise<TransactionStatusRow | undefined> {
    return this.starts.submit({ transactionid, global_device_id: globalDeviceId });
  }

  private readonly starts = new StatementBatcher<RowKey, TransactionStatusRow | undefined>({
    key: (k) => keyOf(k.transactionid, k.global_device_id),
    single: ({ transactionid, global_device_id }) =>
      this.dataSource
        .query(
          `UPDATE udil.transaction_status SET ${START_ASSIGNMENTS}
            WHERE transactionid = $1 AND global_device_id = $2 AND request_cancelled = 0 AND indv_status = 0
            RETURNING *`,
          [transactionid, global_device_id],
        )
        .then((result) => returnedRows<TransactionStatusRow>(result)[0]),
    many: async (keys) => {
      const rows = returnedRows<TransactionStatusRow>(
        await this.dataSource.query(
          `UPDATE udil.transaction_status AS t SET ${START_ASSIGNMENTS}
             FROM unnest($1::text[], $2::text[]) AS k(transactionid, global_device_id)
            WHERE t.transactionid = k.transactionid AND t.global_device_id = k.global_device_id
              AND t.request_cancelled = 0 AND t.indv_status = 0
            RETURNING t.*`,
          [keys.map((k) => k.transactionid), keys.map((k) => k.global_device_id)],
        ),
      );
      const byKey = new Map(rows.map((row) => [keyOf(row.transactionid, row.global_device_id), row]));
      return keys.map((k) => byKey.get(keyOf(k.transactionid, k.global_device_id)));
    },
  });

  /** One row; concurrent calls are read together in one statement (see {@link StatementBatcher}). */
  find(transactionid: string, globalDeviceId: string): Promise<TransactionStatusRow | undefined> {
    return this.rowReads.submit({ transactionid, global_device_id: globalDeviceId });
  }

  private readonly rowReads = new StatementBatcher<RowKey, TransactionStatusRow | undefined>({
    single: ({ transactionid, global_device_id }) =>
      this.dataSource
        .query<TransactionStatusRow[]>(
          `SELECT * FROM udil.transaction_status WHERE transactionid = $1 AND global_device_id = $2`,
          [transactionid, global_device_id],
        )
        .then((rows) => rows[0]),
    many: async (keys) => {
      const rows = await this.dataSource.query<TransactionStatusRow[]>(
        `SELECT t.* FROM unnest($1::text[], $2::text[]) AS k(transactionid, global_device_id)
           JOIN udil.transaction_status t
             ON t.transactionid = k.transactionid AND t.global_device_id = k.global_device_id`,
        [keys.map((k) => k.transactionid), keys.map((k) => k.global_device_id)],
      );
      const byKey = new Map(rows.map((row) => [keyOf(row.transactionid, row.global_device_id), row]));
      return keys.map((k) => byKey.get(keyOf(k.transactionid, k.global_device_id)));
    },
  });

  findByTransactions(transactionids: string[]): Promise<TransactionStatusRow[]> {
    return this.dataSource.query<TransactionStatusRow[]>(
      `SELECT * FROM udil.transaction_status WHERE transactionid = ANY($1) ORDER BY transactionid, global_device_id`,
      [transactionids],
    );
  }

  /**
   * Moves a live row up to `level`; false when it was cancelled, finished or already there.
   * Calls made while a previous statement is in flight are sent together as one set update (see
   * {@link StatementBatcher}); each row keeps its own condition, so a cancel race is still decided by
   * the database row by row.
   */
  advance(
    transactionid: string,
    globalDeviceId: string,
    level: Exclude<StatusLevel, 0 | 5>,
  ): Promise<boolean> {
    return this.advances.submit({ transactionid, globalDeviceId, value: level });
  }

  /** Level 5, complete (indv_status 1), with what the device answered. Batched like {@link advance}. */
  complete(transactionid: string, globalDeviceId: string, responseData: string): Promise<boolean> {
    return this.completions.submit({ transactionid, globalDeviceId, value: responseData });
  }

  private readonly advances = rowUpdates<number>(
    async ({ transactionid, globalDeviceId, value: level }) => {
      const rows = returnedRows(
        await this.dataSource.query(
          `UPDATE udil.transaction_status SET status_level = $3::int, ${levelStamps('$3::int')}, db_datetime = now()
            WHERE transactionid = $1 AND global_device_id = $2 AND status_level < $3::int
              AND request_cancelled = 0 AND indv_status = 0
            RETURNING 1`,
          [transactionid, globalDeviceId, level],
        ),
      );
      return rows.length === 1;
    },
    async (items) =>
      returnedRows<RowKey>(
        await this.dataSource.query(
          `UPDATE udil.transaction_status AS t
              SET status_level = v.level, ${levelStamps('v.level', 't.')}, db_datetime = now()
             FROM unnest($1::text[], $2::text[], $3::int[]) AS v(transactionid, global_device_id, level)
            WHERE t.transactionid = v.transactionid AND t.global_device_id = v.global_device_id
              AND t.status_level < v.level AND t.request_cancelled = 0 AND t.indv_status = 0
            RETURNING t.transactionid, t.global_device_id`,
          [items.map((i) => i.transactionid), items.map((i) => i.globalDeviceId), items.map((i) => i.value)],
        ),
      ),
  );

  private readonly completions = rowUpdates<string>(
    async ({ transactionid, globalDeviceId, value: responseData }) => {
      const rows = returnedRows(
        await this.dataSource.query(
          `UPDATE udil.transaction_status
              SET status_level = 5, ${levelStamps('5')}, indv_status = 1, response_data = $3, db_datetime = now()
            WHERE transactionid = $1 AND global_device_id = $2 AND request_cancelled = 0 AND indv_status = 0
            RETURNING 1`,
          [transactionid, globalDeviceId, responseData],
        ),
      );
      return rows.length === 1;
    },
    async (items) =>
      returnedRows<RowKey>(
        await this.dataSource.query(
          `UPDATE udil.transaction_status AS t
              SET status_level = 5, ${levelStamps('5', 't.')}, indv_status = 1,
                  response_data = v.response_data, db_datetime = now()
             FROM unnest($1::text[], $2::text[], $3::text[]) AS v(transactionid, global_device_id, response_data)
            WHERE t.transactionid = v.transactionid AND t.global_device_id = v.global_device_id
              AND t.request_cancelled = 0 AND t.indv_status = 0
            RETURNING t.transactionid, t.global_device_id`,
          [items.map((i) => i.transactionid), items.map((i) => i.globalDeviceId), items.map((i) => i.value)],
        ),
      ),
  );

  /** Failed (indv_status 2) at the level reached, with a reason a person can act on. */
  async fail(transactionid: string, globalDeviceId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE udil.transaction_status SET indv_status = 2, response_data = $3, db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = $2 AND indv_status = 0 AND request_cancelled = 0`,
      [transactionid, globalDeviceId, reason],
    );
  }

  /** A live row waits (e.g. its gateway is marked down): why, in response_data, until it goes on. */
  async note(transactionid: string, globalDeviceId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE udil.transaction_status SET response_data = $3, db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = $2 AND indv_status = 0 AND request_cancelled = 0`,
      [transactionid, globalDeviceId, reason],
    );
  }

  /** Cancels the live rows at level 0–2 among `globalDeviceIds`; returns those cancelled. */
  async cancel(transactionid: string, globalDeviceIds: string[], reason: string): Promise<Set<string>> {
    const rows = returnedRows<{ global_device_id: string }>(
      await this.dataSource.query(
        `UPDATE udil.transaction_status
          SET request_cancelled = 1, request_cancel_reason = $3, request_cancel_datetime = now(), db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = ANY($2) AND status_level <= 2
          AND request_cancelled = 0 AND indv_status = 0
        RETURNING global_device_id`,
        [transactionid, globalDeviceIds, reason],
      ),
    );
    return new Set(rows.map((r) => r.global_device_id));
  }

  /**
   * Accepted rows that are neither finished nor cancelled and older than `olderThan` (for the
   * reconciler); rows held until a time still to come ({@link defer}) are not pending yet.
   */
  pending(olderThan: Date, limit: number): Promise<{ transactionid: string; global_device_id: string }[]> {
    return this.dataSource.query(
      `SELECT t.transactionid, t.global_device_id FROM udil.transaction_status t
        WHERE t.indv_status = 0 AND t.request_cancelled = 0 AND t.status_level < 5 AND t.command_receiving_datetime < $1
          AND NOT EXISTS (SELECT 1 FROM public.udil_deferred_rows d
                           WHERE d.transactionid = t.transactionid AND d.global_device_id = t.global_device_id
                             AND d.due_at > now())
        ORDER BY t.command_receiving_datetime LIMIT $2`,
      [olderThan, limit],
    );
  }

  /** All jobs of an accepted transaction are queued (udil_transactions.queued_at). */
  async markQueued(transactionid: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE public.udil_transactions SET queued_at = now() WHERE transactionid = $1 AND queued_at IS NULL`,
      [transactionid],
    );
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
   * The live rows of one transaction (neither finished nor cancelled, nor held until later; see
   * {@link pending}) with the gateway of each device, for queueing them again.
   */
  liveRows(transactionid: string): Promise<{ global_device_id: string; gateway_id: string | null }[]> {
    return this.dataSource.query(
      `SELECT t.global_device_id, d.gateway_id FROM udil.transaction_status t
         LEFT JOIN public.devices d ON d.global_device_id = t.global_device_id
        WHERE t.transactionid = $1 AND t.indv_status = 0 AND t.request_cancelled = 0 AND t.status_level < 5
          AND NOT EXISTS (SELECT 1 FROM public.udil_deferred_rows r
                           WHERE r.transactionid = t.transactionid AND r.global_device_id = t.global_device_id
                             AND r.due_at > now())
        ORDER BY t.global_device_id`,
      [transactionid],
    );
  }

  /** Holds a live row until `dueAt` (kept in PostgreSQL; the row stays cancellable at its level). */
  async defer(transactionid: string, globalDeviceId: string, dueAt: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO public.udil_deferred_rows (transactionid, global_device_id, due_at) VALUES ($1, $2, $3)
       ON CONFLICT (transactionid, global_device_id) DO UPDATE SET due_at = EXCLUDED.due_at`,
      [transactionid, globalDeviceId, dueAt],
    );
  }
}
