import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The UDIL tables that grow for years become declarative partitions by month (docs/partitions.md):
 * LOAD_PROFILE_DATA, INSTANTANEOUS_DATA and EVENTS on the meter's time of the reading, and
 * DEVICE_COMMUNICATION_HISTORY and TRANSACTION_STATUS on the head-end's time of the exchange and of the
 * request (mdc_read_datetime, command_receiving_datetime): never NULL, never from a wrong meter clock.
 *
 * Each table gets a DEFAULT partition: a row of a month that has no partition (a meter whose clock is
 * years off, a month already dropped by retention, a month not created yet) is stored there, never
 * refused. `udil.create_month_partition` creates a month and moves that month's rows out of the DEFAULT
 * partition in the same transaction; the worker calls it ahead of time (PartitionMaintenance).
 *
 * A primary key or unique constraint of a partitioned table must contain the partition key: the readings'
 * keys already do; `id` (unique on its own before) is unique with the key; DEVICE_COMMUNICATION_HISTORY's
 * key is (id, mdc_read_datetime) and TRANSACTION_STATUS's (transactionid, global_device_id,
 * command_receiving_datetime). One (transactionid, device) stays one row: a transactionid is accepted once
 * (public.udil_transactions' key) and its rows are written in that one transaction, with one now().
 * public.udil_deferred_rows refers to a row by its three key columns.
 *
 * The existing rows are copied into the new tables (every column, ids kept; a NULL mdc_read_datetime of a
 * communication takes its db_datetime), the identity goes on after the largest id, and the privileges
 * granted on the tables (the MDM reader role) and the views over them come back as they were.
 *
 * Down: the same tables unpartitioned, with every row and the earlier keys.
 * (Everything is written out here rather than imported: a migration keeps doing what it did when it ran.)
 */

interface Shape {
  /** Primary key columns. */
  primaryKey: string[];
  /** Columns of the unique constraint on `id`, when `id` is not the primary key. */
  idUnique?: string[];
}

interface PartitionedTable {
  name: string;
  key: string;
  before: Shape;
  after: Shape;
}

const TABLES: PartitionedTable[] = [
  {
    name: 'instantaneous_data',
    key: 'meter_datetime',
    before: { primaryKey: ['global_device_id', 'meter_datetime'], idUnique: ['id'] },
    after: { primaryKey: ['global_device_id', 'meter_datetime'], idUnique: ['id', 'meter_datetime'] },
  },
  {
    name: 'load_profile_data',
    key: 'meter_datetime',
    before: { primaryKey: ['global_device_id', 'meter_datetime', 'channel_id'], idUnique: ['id'] },
    after: {
      primaryKey: ['global_device_id', 'meter_datetime', 'channel_id'],
      idUnique: ['id', 'meter_datetime'],
    },
  },
  {
    name: 'events',
    key: 'event_datetime',
    before: { primaryKey: ['global_device_id', 'event_datetime', 'event_code'], idUnique: ['id'] },
    after: {
      primaryKey: ['global_device_id', 'event_datetime', 'event_code'],
      idUnique: ['id', 'event_datetime'],
    },
  },
  {
    name: 'device_communication_history',
    key: 'mdc_read_datetime',
    before: { primaryKey: ['id'] },
    after: { primaryKey: ['id', 'mdc_read_datetime'] },
  },
  {
    name: 'transaction_status',
    key: 'command_receiving_datetime',
    before: { primaryKey: ['transactionid', 'global_device_id'] },
    after: { primaryKey: ['transactionid', 'global_device_id', 'command_receiving_datetime'] },
  },
];

/** Months of existing rows further back than this get no partition of their own (DEFAULT keeps them). */
const HISTORY_MONTHS = 120;
/** Months after the current one created at once (the worker keeps creating ahead). */
const AHEAD_MONTHS = 1;

/** The rows a query answers (QueryRunner.query is untyped). */
const select = <T>(queryRunner: QueryRunner, sql: string, parameters?: unknown[]) =>
  queryRunner.query(sql, parameters) as Promise<T[]>;

const list = (columns: string[]) => columns.map((c) => `"${c}"`).join(', ');

/**
 * Creates the partition of `parent` (a table of schema udil) for the month holding `month`, unless it
 * exists; rows of that month waiting in the DEFAULT partition move into it, in the caller's transaction.
 * Months are UTC months, whatever the session's or the configured time zone (one set of bounds for all).
 * Concurrent callers (two workers) are serialised per table. Answers whether it created the partition.
 */
const CREATE_MONTH_PARTITION = `
CREATE FUNCTION udil.create_month_partition(parent text, month timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
  first timestamptz := date_trunc('month', month, 'UTC');
  next timestamptz := (date_trunc('month', month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
  partition text := parent || '_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM');
  fallback text := parent || '_default';
  key text;
  waiting boolean;
BEGIN
  IF to_regclass(format('udil.%I', partition)) IS NOT NULL THEN RETURN false; END IF;
  PERFORM pg_advisory_xact_lock(hashtext('udil.create_month_partition'), hashtext(parent));
  IF to_regclass(format('udil.%I', partition)) IS NOT NULL THEN RETURN false; END IF;
  SELECT a.attname INTO STRICT key
    FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
   WHERE p.partrelid = format('udil.%I', parent)::regclass;
  waiting := false;
  IF to_regclass(format('udil.%I', fallback)) IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM udil.%I WHERE %I >= $1 AND %I < $2)', fallback, key, key)
      INTO waiting USING first, next;
  END IF;
  IF waiting THEN
    -- The month's rows leave DEFAULT for the new partition; meanwhile writers wait on the table's lock.
    EXECUTE format('ALTER TABLE udil.%I DETACH PARTITION udil.%I', parent, fallback);
    EXECUTE format('CREATE TABLE udil.%I PARTITION OF udil.%I FOR VALUES FROM (%L) TO (%L)',
                   partition, parent, first, next);
    EXECUTE format('INSERT INTO udil.%I SELECT * FROM udil.%I WHERE %I >= $1 AND %I < $2',
                   parent, fallback, key, key) USING first, next;
    EXECUTE format('DELETE FROM udil.%I WHERE %I >= $1 AND %I < $2', fallback, key, key) USING first, next;
    EXECUTE format('ALTER TABLE udil.%I ATTACH PARTITION udil.%I DEFAULT', parent, fallback);
  ELSE
    EXECUTE format('CREATE TABLE udil.%I PARTITION OF udil.%I FOR VALUES FROM (%L) TO (%L)',
                   partition, parent, first, next);
  END IF;
  RETURN true;
END
$fn$`;

export class UdilPartitions1764500000000 implements MigrationInterface {
  name = 'UdilPartitions1764500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(CREATE_MONTH_PARTITION);
    await queryRunner.query(
      `REVOKE EXECUTE ON FUNCTION udil.create_month_partition(text, timestamptz) FROM PUBLIC`,
    );
    for (const table of TABLES) await this.rebuild(queryRunner, table, true);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await this.rebuild(queryRunner, table, false);
    await queryRunner.query(`DROP FUNCTION udil.create_month_partition(text, timestamptz)`);
  }

  /** Replaces udil.<table> by a partitioned (or, down, a plain) table with the same columns and rows. */
  private async rebuild(
    queryRunner: QueryRunner,
    table: PartitionedTable,
    partitioned: boolean,
  ): Promise<void> {
    const { name, key } = table;
    const shape = partitioned ? table.after : table.before;
    const qualified = `udil.${name}`;
    const old = `${name}_old`;

    const views = await select<{ name: string; definition: string }>(
      queryRunner,
      `SELECT DISTINCT v.oid::regclass::text AS name, pg_get_viewdef(v.oid) AS definition
         FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
        WHERE d.refobjid = $1::regclass AND v.oid <> d.refobjid AND v.relkind = 'v'`,
      [qualified],
    );
    const grants = [
      ...(await this.grantsOn(queryRunner, qualified)),
      ...(await Promise.all(views.map((v) => this.grantsOn(queryRunner, v.name)))).flat(),
    ];
    // Every index of the table: those of the keys are made again below, the others (db_datetime, device,
    // pending) from their definitions, under their names.
    const indexes = await select<{ name: string; definition: string; constraint: boolean }>(
      queryRunner,
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
              EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) AS constraint
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass`,
      [qualified],
    );
    const [identity] = await select<{ sequence: string }>(
      queryRunner,
      `SELECT pg_get_serial_sequence($1, 'id') AS sequence FROM pg_attribute
        WHERE attrelid = $1::regclass AND attname = 'id' AND attidentity <> ''`,
      [qualified],
    );
    const sequence = identity?.sequence;

    if (name === 'device_communication_history' && partitioned) {
      // The partition key is never NULL: a communication without a recorded time took place when stored.
      await queryRunner.query(
        `UPDATE ${qualified} SET mdc_read_datetime = db_datetime WHERE mdc_read_datetime IS NULL`,
      );
    }

    // The old table steps aside with its indexes and identity sequence, so the new one takes every name.
    await queryRunner.query(`ALTER TABLE ${qualified} RENAME TO ${old}`);
    for (const index of indexes)
      await queryRunner.query(`ALTER INDEX udil."${index.name}" RENAME TO "${index.name}_old"`);
    if (sequence) await queryRunner.query(`ALTER SEQUENCE ${sequence} RENAME TO ${old}_id_seq`);

    await queryRunner.query(
      `CREATE TABLE ${qualified} (LIKE udil.${old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY
         INCLUDING STORAGE INCLUDING COMMENTS)${partitioned ? ` PARTITION BY RANGE ("${key}")` : ''}`,
    );
    if (name === 'device_communication_history')
      await queryRunner.query(
        partitioned
          ? `ALTER TABLE ${qualified} ALTER COLUMN "${key}" SET NOT NULL, ALTER COLUMN "${key}" SET DEFAULT now()`
          : `ALTER TABLE ${qualified} ALTER COLUMN "${key}" DROP NOT NULL, ALTER COLUMN "${key}" DROP DEFAULT`,
      );
    if (partitioned) {
      await queryRunner.query(`CREATE TABLE udil.${name}_default PARTITION OF ${qualified} DEFAULT`);
      // A month of its own for every month that holds rows (within HISTORY_MONTHS), the current and the next.
      await queryRunner.query(
        `SELECT udil.create_month_partition($1::text, month) FROM (
           SELECT DISTINCT date_trunc('month', "${key}", 'UTC') AS month FROM udil.${old}
            WHERE "${key}" >= now() - make_interval(months => $2::int)
              AND "${key}" < now() + make_interval(months => $3::int + 1)
           UNION SELECT now() + make_interval(months => m) FROM generate_series(0, $3::int) m
         ) months ORDER BY month`,
        [name, HISTORY_MONTHS, AHEAD_MONTHS],
      );
    }
    await queryRunner.query(`INSERT INTO ${qualified} SELECT * FROM udil.${old}`);
    if (sequence)
      await queryRunner.query(
        `SELECT setval(pg_get_serial_sequence($1, 'id'), coalesce((SELECT max(id) FROM ${qualified}), 0) + 1, false)`,
        [qualified],
      );

    for (const view of views) await queryRunner.query(`DROP VIEW ${view.name}`);
    if (name === 'transaction_status') {
      const [fk] = await select<{ name: string }>(
        queryRunner,
        `SELECT conname AS name FROM pg_constraint WHERE conrelid = 'public.udil_deferred_rows'::regclass AND contype = 'f'`,
      );
      if (fk) await queryRunner.query(`ALTER TABLE public.udil_deferred_rows DROP CONSTRAINT "${fk.name}"`);
    }
    await queryRunner.query(`DROP TABLE udil.${old}`);

    await queryRunner.query(
      `ALTER TABLE ${qualified} ADD CONSTRAINT ${name}_pkey PRIMARY KEY (${list(shape.primaryKey)})`,
    );
    if (shape.idUnique)
      await queryRunner.query(
        `ALTER TABLE ${qualified} ADD CONSTRAINT ${name}_id_key UNIQUE (${list(shape.idUnique)})`,
      );
    for (const index of indexes.filter((i) => !i.constraint))
      await queryRunner.query(index.definition.replace(' ON ONLY ', ' ON '));
    if (name === 'transaction_status') await this.deferredRowsReference(queryRunner, partitioned);
    for (const view of views) await queryRunner.query(`CREATE VIEW ${view.name} AS ${view.definition}`);
    for (const grant of grants) await queryRunner.query(grant);
  }

  /** public.udil_deferred_rows refers to its transaction row by the row's whole key. */
  private async deferredRowsReference(queryRunner: QueryRunner, partitioned: boolean): Promise<void> {
    const columns = ['transactionid', 'global_device_id'];
    if (partitioned) {
      columns.push('command_receiving_datetime');
      await queryRunner.query(
        `ALTER TABLE public.udil_deferred_rows ADD COLUMN command_receiving_datetime timestamptz`,
      );
      await queryRunner.query(`UPDATE public.udil_deferred_rows d SET command_receiving_datetime = t.command_receiving_datetime
          FROM udil.transaction_status t
         WHERE t.transactionid = d.transactionid AND t.global_device_id = d.global_device_id`);
      // A deferred row whose transaction row is gone would have gone with it (ON DELETE CASCADE).
      await queryRunner.query(
        `DELETE FROM public.udil_deferred_rows WHERE command_receiving_datetime IS NULL`,
      );
      await queryRunner.query(
        `ALTER TABLE public.udil_deferred_rows ALTER COLUMN command_receiving_datetime SET NOT NULL`,
      );
    } else {
      await queryRunner.query(`ALTER TABLE public.udil_deferred_rows DROP COLUMN command_receiving_datetime`);
    }
    await queryRunner.query(`ALTER TABLE public.udil_deferred_rows
      ADD CONSTRAINT udil_deferred_rows_transaction_fkey FOREIGN KEY (${list(columns)})
        REFERENCES udil.transaction_status (${list(columns)}) ON DELETE CASCADE`);
  }

  /** The GRANTs that give every role other than the owner what it holds on `relation` and its columns. */
  private async grantsOn(queryRunner: QueryRunner, relation: string): Promise<string[]> {
    const rows = await select<{ grantee: string; privilege: string; column: string | null }>(
      queryRunner,
      `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
              a.privilege_type AS privilege, NULL AS column
         FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = $1::regclass AND a.grantee <> c.relowner
       UNION ALL
       SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
              a.privilege_type, quote_ident(att.attname)
         FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid, aclexplode(att.attacl) a
        WHERE c.oid = $1::regclass AND a.grantee <> c.relowner AND att.attacl IS NOT NULL`,
      [relation],
    );
    return rows.map(
      (r) => `GRANT ${r.privilege}${r.column ? ` (${r.column})` : ''} ON ${relation} TO ${r.grantee}`,
    );
  }
}
