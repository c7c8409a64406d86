import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * The UDIL tables partitioned by month (migration UdilPartitions1764500000000, docs/partitions.md), each
 * with its partition key, what refers to its rows from elsewhere (removed with a dropped month, and set
 * aside while a month is created) and what else belongs to a month's rows (removed with a dropped month:
 * a transaction's acceptance, whose rows all carry its acceptance time).
 */
export const PARTITIONED_TABLES = {
  load_profile_data: { key: 'meter_datetime' },
  instantaneous_data: { key: 'meter_datetime' },
  events: { key: 'event_datetime' },
  device_communication_history: { key: 'mdc_read_datetime' },
  transaction_status: {
    key: 'command_receiving_datetime',
    referencedBy: { table: 'public.udil_deferred_rows', key: 'command_receiving_datetime' },
    belongsTo: { table: 'public.udil_transactions', key: 'created_at' },
  },
} as const satisfies Record<
  string,
  {
    key: string;
    referencedBy?: { table: string; key: string };
    belongsTo?: { table: string; key: string };
  }
>;

export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

export interface MonthPartition {
  table: PartitionedTable;
  /** e.g. load_profile_data_p202611 */
  name: string;
  /** First instant of the month (UTC) and of the next one. */
  from: Date;
  to: Date;
}

const MONTH_PARTITION = /_p(\d{4})(\d{2})$/;

/** The first instant (UTC) of the month `offset` months after the one holding `at`. */
export function monthStart(at: Date, offset = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
}

/**
 * The lower bounds a newest-first read of a table partitioned by month tries in turn ({@link newestFirst}):
 * the start of the previous month, then of the month a year before the current one, then none.
 */
export function newestFirstBounds(now: Date = new Date()): (Date | undefined)[] {
  return [monthStart(now, -1), monthStart(now, -12), undefined];
}

/**
 * A read of the newest rows of a table partitioned by month (a meter's latest reading, its last
 * transactions) that does not plan and probe every month of the table's history: `read(since)` bounds the
 * partition key by `since` (`key >= since`, which keeps the months ahead and DEFAULT), and the bound widens
 * ({@link newestFirstBounds}) until `enough` accepts the answer; the last, unbounded answer is returned as it
 * is. Correct for any newest-first read: rows outside a window are older than every row inside it, so a
 * window that holds enough rows holds the newest ones.
 */
export async function newestFirst<T>(
  read: (since: Date | undefined) => Promise<T>,
  enough: (answer: T) => boolean,
  now: Date = new Date(),
): Promise<T> {
  const bounds = newestFirstBounds(now);
  for (const since of bounds.slice(0, -1)) {
    const answer = await read(since);
    if (enough(answer)) return answer;
  }
  return read(undefined);
}

/**
 * Creates and drops the monthly partitions. Months are UTC months; creating a month moves that month's
 * rows out of the DEFAULT partition (udil.create_month_partition), and two workers doing it at once are
 * serialised by the database. Dropping a month removes its rows for good: retention is opt-in per table.
 */
@Injectable()
export class MonthPartitionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The monthly partitions of `table` (not its DEFAULT partition), oldest first. */
  async list(table: PartitionedTable): Promise<MonthPartition[]> {
    const rows = await this.dataSource.query<{ name: string }[]>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
      [`udil.${table}`],
    );
    return rows.flatMap(({ name }) => {
      const month = MONTH_PARTITION.exec(name);
      if (!month || name !== `${table}${month[0]}`) return [];
      const from = new Date(Date.UTC(Number(month[1]), Number(month[2]) - 1, 1));
      return [{ table, name, from, to: monthStart(from, 1) }];
    });
  }

  /** Creates the partitions of the month holding `now` and of the `ahead` months after it; answers those created. */
  async ensureAhead(table: PartitionedTable, ahead: number, now = new Date()): Promise<string[]> {
    const created: string[] = [];
    for (let offset = 0; offset <= ahead; offset++) {
      const month = monthStart(now, offset);
      const name = `${table}_p${month.toISOString().slice(0, 7).replace('-', '')}`;
      if (await this.createMonth(table, name, month)) created.push(name);
    }
    return created;
  }

  /**
   * One month (udil.create_month_partition). The month's rows waiting in DEFAULT move to it, which detaches
   * DEFAULT for a moment, and PostgreSQL refuses to detach a partition whose rows are referenced ("removing
   * partition … violates foreign key constraint"): a table's month missing while deferred rows referred to
   * its rows in DEFAULT could never be created, and every later row of the table went to DEFAULT too. So the
   * rows that refer to that month (`referencedBy`) are set aside and put back, in the same transaction.
   */
  private async createMonth(table: PartitionedTable, name: string, month: Date): Promise<boolean> {
    const spec = PARTITIONED_TABLES[table];
    const referencedBy = 'referencedBy' in spec ? spec.referencedBy : undefined;
    const create = async (manager: EntityManager) => {
      const [{ created }] = await manager.query<{ created: boolean }[]>(
        `SELECT udil.create_month_partition($1, $2) AS created`,
        [table, month],
      );
      return created;
    };
    if (!referencedBy) return create(this.dataSource.manager);
    // Only a missing month is worth the transaction below (the function answers an existing one at once).
    const [{ exists }] = await this.dataSource.query<{ exists: boolean }[]>(
      `SELECT to_regclass($1) IS NOT NULL AS exists`,
      [`udil.${name}`],
    );
    if (exists) return false;
    return this.dataSource.transaction(async (manager) => {
      // The lock the function serialises its callers with, taken before the referring rows are touched:
      // creating a partition of a referenced table locks the referring table too, and two creators that
      // had each deleted referring rows first would wait for each other (a deadlock, seen at a worker's
      // start, whose start-up pass and first scheduled pass run at once).
      await manager.query(`LOCK TABLE udil.${table} IN SHARE UPDATE EXCLUSIVE MODE`);
      const [{ rows }] = await manager.query<{ rows: unknown[] | null }[]>(
        `WITH aside AS (DELETE FROM ${referencedBy.table} WHERE ${referencedBy.key} >= $1 AND ${referencedBy.key} < $2
                        RETURNING *)
         SELECT json_agg(aside) AS rows FROM aside`,
        [month, monthStart(month, 1)],
      );
      const created = await create(manager);
      if (rows)
        await manager.query(
          `INSERT INTO ${referencedBy.table} SELECT * FROM json_populate_recordset(NULL::${referencedBy.table}, $1)`,
          [JSON.stringify(rows)],
        );
      return created;
    });
  }

  /**
   * Drops the months of `table` that ended more than `retentionMonths` whole months before the current
   * one (12 on 2026-11-30 keeps 2025-11 onwards); 0 keeps everything. Rows elsewhere that refer to the
   * dropped rows go with them (as ON DELETE CASCADE would), and so do the acceptances of the transactions
   * whose rows they were. Answers the partitions dropped.
   */
  async dropExpired(table: PartitionedTable, retentionMonths: number, now = new Date()): Promise<string[]> {
    if (retentionMonths <= 0) return [];
    const cutoff = monthStart(now, -retentionMonths);
    const expired = (await this.list(table)).filter((p) => p.to <= cutoff);
    const spec = PARTITIONED_TABLES[table];
    const alongside = [
      ...('referencedBy' in spec ? [spec.referencedBy] : []),
      ...('belongsTo' in spec ? [spec.belongsTo] : []),
    ];
    for (const partition of expired) {
      await this.dataSource.transaction(async (manager) => {
        for (const other of alongside)
          await manager.query(`DELETE FROM ${other.table} WHERE ${other.key} >= $1 AND ${other.key} < $2`, [
            partition.from,
            partition.to,
          ]);
        await manager.query(`ALTER TABLE udil.${table} DETACH PARTITION udil.${partition.name}`);
        await manager.query(`DROP TABLE udil.${partition.name}`);
      });
    }
    return expired.map((p) => p.name);
  }
}
