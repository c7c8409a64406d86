import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Device, MonthPartitionRepository, createDataSourceOptions } from '@hes/database';
import { UdilTableReader } from '@hes/readings';
import { PollScheduleRepository, TransactionStatusRepository } from '@hes/transactions';
import { AdminAuditRepository } from '../apps/api/src/admin/audit/admin-audit.repository';
import { AdminDevicesService } from '../apps/api/src/admin/devices/admin-devices.service';
import { grantMdmReader } from '../scripts/mdm-reader-role';
import { TEST_POSTGRES_URL } from './support/services';
import { TestDatabase, createMigratedDatabase } from './support/test-database';

interface PlanNode {
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Every table a plan reads or writes (pruned partitions do not appear). */
function relationsOf(node: PlanNode): string[] {
  return [
    ...(node['Relation Name'] ? [node['Relation Name']] : []),
    ...(node.Plans ?? []).flatMap(relationsOf),
  ];
}

/** Every index a plan scans. */
function indexesOf(node: PlanNode & { 'Index Name'?: string }): string[] {
  return [
    ...(node['Index Name'] ? [node['Index Name']] : []),
    ...(node.Plans ?? []).flatMap((child) => indexesOf(child)),
  ];
}

/**
 * A DataSource whose queries are EXPLAINed instead of run: a repository used through it shows the plan of
 * its own SQL, with its own parameters (custom plans, as node-postgres runs them). Each query answers no
 * rows, a count one row of 0.
 */
function explaining(dataSource: DataSource, plans: PlanNode[]): DataSource {
  return {
    query: async (sql: string, parameters?: unknown[]) => {
      const [row] = await dataSource.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        parameters,
      );
      plans.push(row['QUERY PLAN'][0].Plan);
      return /^SELECT count\(\*\)::int AS total/.test(sql) ? [{ total: 0 }] : [];
    },
  } as unknown as DataSource;
}

const utc = (text: string) => new Date(`${text}Z`);

/** The UDIL tables partitioned by month (docs/partitions.md): pruning, maintenance, retention, the MDM role. */
describe('monthly partitions of the UDIL tables', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let partitions: MonthPartitionRepository;
  const role = `mdm_reader_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await createMigratedDatabase('partitions');
    dataSource = new DataSource(createDataSourceOptions(database.url, 'hes-test-partitions'));
    await dataSource.initialize();
    partitions = new MonthPartitionRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
    const cleanup = new Client({ connectionString: TEST_POSTGRES_URL });
    await cleanup.connect();
    await cleanup.query(`DROP ROLE IF EXISTS ${role}`);
    await cleanup.end();
  });

  const partitionOf = async (table: string, where: string, parameters: unknown[]) => {
    const rows = await dataSource.query<{ partition: string }[]>(
      `SELECT tableoid::regclass::text AS partition FROM udil.${table} WHERE ${where}`,
      parameters,
    );
    return rows.map((r) => r.partition);
  };

  it('has the current and the next month of every table from the migration, and a DEFAULT partition', async () => {
    const now = new Date();
    const expected = [0, 1].map(
      (offset) =>
        `_p${new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString().slice(0, 7).replace('-', '')}`,
    );
    for (const table of [
      'load_profile_data',
      'instantaneous_data',
      'events',
      'device_communication_history',
      'transaction_status',
    ] as const) {
      const names = (await partitions.list(table)).map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(expected.map((suffix) => `${table}${suffix}`)));
      const [{ n }] = await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_partitioned_table p JOIN pg_class d ON d.oid = p.partdefid
          WHERE p.partrelid = $1::regclass AND d.relname = $2`,
        [`udil.${table}`, `${table}_default`],
      );
      expect(n).toBe(1);
    }
  });

  it('creates months ahead, moving the rows a fast meter clock had put in DEFAULT, and never refuses a row', async () => {
    // A meter whose clock runs years ahead, and one stuck in 1999: stored, in DEFAULT.
    await dataSource.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, active_energy_pos_tl)
       VALUES ('fast', 1, '2041-04-10T10:00:00Z', 1), ('fast', 1, '2041-05-31T23:45:00Z', 2), ('slow', 2, '1999-01-01', 3)`,
    );
    expect(await partitionOf('load_profile_data', `global_device_id IN ('fast', 'slow')`, [])).toEqual([
      'udil.load_profile_data_default',
      'udil.load_profile_data_default',
      'udil.load_profile_data_default',
    ]);
    const created = await partitions.ensureAhead('load_profile_data', 2, utc('2041-03-15T12:00:00'));
    expect(created).toEqual([
      'load_profile_data_p204103',
      'load_profile_data_p204104',
      'load_profile_data_p204105',
    ]);
    expect(await partitions.ensureAhead('load_profile_data', 2, utc('2041-03-15T12:00:00'))).toEqual([]);
    const placed = await dataSource.query<{ partition: string; meter_datetime: Date }[]>(
      `SELECT tableoid::regclass::text AS partition, meter_datetime FROM udil.load_profile_data
        WHERE global_device_id IN ('fast', 'slow') ORDER BY meter_datetime`,
    );
    expect(placed).toEqual([
      { partition: 'udil.load_profile_data_default', meter_datetime: utc('1999-01-01T00:00:00') },
      { partition: 'udil.load_profile_data_p204104', meter_datetime: utc('2041-04-10T10:00:00') },
      { partition: 'udil.load_profile_data_p204105', meter_datetime: utc('2041-05-31T23:45:00') },
    ]);
  });

  it('reads one meter’s day of load profile from that month’s partition only (EXPLAIN of the reader’s SQL)', async () => {
    const plans: PlanNode[] = [];
    const reader = new UdilTableReader(explaining(dataSource, plans));
    await reader.read('load_profile_data', {
      globalDeviceIds: ['fast'],
      from: utc('2041-04-10T00:00:00'),
      to: utc('2041-04-10T23:59:59'),
      page: 1,
      pageSize: 100,
    });
    expect(relationsOf(plans[0])).toEqual(['load_profile_data_p204104']);
    // Across the end of a month: both months, nothing else (not DEFAULT, not the other months).
    await reader.read('load_profile_data', {
      globalDeviceIds: ['fast'],
      from: utc('2041-04-30T12:00:00'),
      to: utc('2041-05-01T12:00:00'),
      page: 1,
      pageSize: 100,
    });
    expect(relationsOf(plans[1]).sort()).toEqual(['load_profile_data_p204104', 'load_profile_data_p204105']);
    // Without a range every month is read: what the bounds above saved.
    await reader.read('load_profile_data', { globalDeviceIds: ['fast'], page: 1, pageSize: 100 });
    expect(relationsOf(plans[2]).length).toBeGreaterThan(4);
  });

  it('updates a transaction row in its month’s partition only when the worker passes its datetime', async () => {
    await partitions.ensureAhead('transaction_status', 0, utc('2041-04-01T00:00:00'));
    const plans: PlanNode[] = [];
    const statuses = new TransactionStatusRepository(explaining(dataSource, plans));
    // Microseconds in the row, milliseconds in the job: the bound still finds it (see receivedWindow).
    await statuses.advance('tx', 'm1', 2, '2041-04-10T10:00:00.123Z');
    // The parent is the UPDATE's target; the one partition is what it reads and writes.
    expect([...new Set(relationsOf(plans[0]))].sort()).toEqual([
      'transaction_status',
      'transaction_status_p204104',
    ]);
    await statuses.advance('tx', 'm1', 2);
    expect(new Set(relationsOf(plans[1])).size).toBeGreaterThan(3);
    // Concurrent updates go as one set statement: bounded the same way.
    await Promise.all(
      ['m1', 'm2', 'm3'].map((m, i) => statuses.advance('tx', m, 3, `2041-04-1${i}T10:00:00.123Z`)),
    );
    expect(plans.slice(2).some((plan) => JSON.stringify(plan).includes('"Node Type":"Function Scan"'))).toBe(
      true,
    );
    for (const plan of plans.slice(2))
      expect([...new Set(relationsOf(plan))].sort()).toEqual([
        'transaction_status',
        'transaction_status_p204104',
      ]);

    const real = new TransactionStatusRepository(dataSource);
    await dataSource.query(
      `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime)
       VALUES ('tx-2041', 'm1', 'AUXR', '2041-04-10T10:00:00.123456Z')`,
    );
    expect(await real.start('tx-2041', 'm1', '2041-04-10T10:00:00.123Z')).toMatchObject({ status_level: 1 });
    expect(await real.advance('tx-2041', 'm1', 3, new Date('2041-04-10T10:00:00.123Z'))).toBe(true);
    expect(await real.complete('tx-2041', 'm1', 'done', new Date('2041-04-10T10:00:00.123Z'))).toBe(true);
    expect(await real.find('tx-2041', 'm1')).toMatchObject({ status_level: 5, indv_status: 1 });
    // The set statement finds its rows too.
    await dataSource.query(
      `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime)
       SELECT 'tx-set', 'm' || i, 'AUXR', '2041-04-10T10:00:00.123456Z'::timestamptz + i * interval '1 day'
         FROM generate_series(1, 3) i`,
    );
    const set = await Promise.all(
      [1, 2, 3].map((i) =>
        real.advance('tx-set', `m${i}`, 2, new Date(Date.UTC(2041, 3, 10 + i, 10, 0, 0, 123))),
      ),
    );
    expect(set).toEqual([true, true, true]);
    // A wrong datetime finds no row (the bound is real).
    await dataSource.query(
      `UPDATE udil.transaction_status SET indv_status = 0, status_level = 0 WHERE transactionid = 'tx-2041'`,
    );
    expect(await real.start('tx-2041', 'm1', '2041-04-10T10:00:01Z')).toBeUndefined();
    expect(await real.start('tx-2041', 'm1', '2041-04-10T10:00:00.123Z')).toMatchObject({ status_level: 1 });
  });

  it('advances a row of a large transaction by its key, not by the time its rows share (EXPLAIN, month not analysed)', async () => {
    // 5 000 live rows of one transaction, all with the same datetime, in a month PostgreSQL has no statistics of
    // yet (autovacuum analyses a partition a while after rows came in): the reconciler's partial index on the
    // datetime of the live rows must not be the way to one of them.
    await partitions.ensureAhead('transaction_status', 0, utc('2042-07-01T00:00:00'));
    await dataSource.query(
      `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime)
       SELECT 'tx-large', 'm' || i, 'AUXR', '2042-07-10T10:00:00.123456Z' FROM generate_series(1, 5000) i`,
    );
    await dataSource.query(
      `DELETE FROM pg_statistic WHERE starelid = 'udil.transaction_status_p204207'::regclass`,
    );
    try {
      const plans: PlanNode[] = [];
      const statuses = new TransactionStatusRepository(explaining(dataSource, plans));
      await statuses.advance('tx-large', 'm4711', 2, '2042-07-10T10:00:00.123Z');
      expect(plans).toHaveLength(1);
      const indexes = indexesOf(plans[0]);
      expect(indexes.length).toBeGreaterThan(0);
      for (const index of indexes) expect(index).not.toMatch(/command_receiving_datetime/);
      // And it is the row of the key.
      const real = new TransactionStatusRepository(dataSource);
      expect(await real.advance('tx-large', 'm4711', 2, '2042-07-10T10:00:00.123Z')).toBe(true);
      expect(await real.advance('tx-large', 'm4711', 2, '2042-07-10T10:00:00.123Z')).toBe(false);
      const [{ advanced }] = await dataSource.query<{ advanced: number }[]>(
        `SELECT count(*)::int AS advanced FROM udil.transaction_status WHERE transactionid = 'tx-large' AND status_level = 2`,
      );
      expect(advanced).toBe(1);
    } finally {
      // The month goes again (the retention test lists the months left).
      await dataSource.query(
        `ALTER TABLE udil.transaction_status DETACH PARTITION udil.transaction_status_p204207`,
      );
      await dataSource.query(`DROP TABLE udil.transaction_status_p204207`);
    }
  });

  it('creates a month once when several workers ask for it at the same moment, and fails none of them', async () => {
    // Four callers on four connections of the pool, for months nobody created yet: each month is created by
    // exactly one, and the others answer that it exists (they used to fail with "already exists").
    for (const month of ['2044-01-15', '2044-02-15', '2044-03-15']) {
      const outcomes = await Promise.all(
        [1, 2, 3, 4].map(() => partitions.ensureAhead('events', 0, utc(`${month}T00:00:00`))),
      );
      expect(outcomes.flat()).toEqual([`events_p${month.slice(0, 7).replace('-', '')}`]);
    }
    // The same for transaction_status, whose creator sets the deferred rows of its month aside: they
    // deadlocked when each had touched those rows before the table's lock.
    for (const month of ['2045-01-15', '2045-02-15']) {
      const outcomes = await Promise.all(
        [1, 2, 3, 4].map(() => partitions.ensureAhead('transaction_status', 0, utc(`${month}T00:00:00`))),
      );
      expect(outcomes.flat()).toEqual([`transaction_status_p${month.slice(0, 7).replace('-', '')}`]);
    }
    for (const month of ['204501', '204502'])
      await dataSource.query(
        `ALTER TABLE udil.transaction_status DETACH PARTITION udil.transaction_status_p${month};
         DROP TABLE udil.transaction_status_p${month}`,
      );
  });

  it('creates a missing month whose rows in DEFAULT deferred rows refer to, and keeps them referring', async () => {
    // A month no worker created in time (2044-02): a transaction row went to DEFAULT and was held until later.
    await dataSource.query(
      `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime)
       VALUES ('tx-held', 'm1', 'MDSM', '2044-02-03T00:00:00Z')`,
    );
    await dataSource.query(
      `INSERT INTO public.udil_deferred_rows (transactionid, global_device_id, command_receiving_datetime, due_at)
       VALUES ('tx-held', 'm1', '2044-02-03T00:00:00Z', '2044-02-04T00:00:00Z')`,
    );
    expect(await partitionOf('transaction_status', `transactionid = 'tx-held'`, [])).toEqual([
      'udil.transaction_status_default',
    ]);
    expect(await partitions.ensureAhead('transaction_status', 0, utc('2044-02-10T00:00:00'))).toEqual([
      'transaction_status_p204402',
    ]);
    expect(await partitionOf('transaction_status', `transactionid = 'tx-held'`, [])).toEqual([
      'udil.transaction_status_p204402',
    ]);
    const held = `SELECT transactionid, due_at FROM public.udil_deferred_rows WHERE transactionid = 'tx-held'`;
    expect(await dataSource.query(held)).toEqual([
      { transactionid: 'tx-held', due_at: utc('2044-02-04T00:00:00') },
    ]);
    // Still a reference: the transaction row's removal takes the deferred row with it.
    await dataSource.query(`DELETE FROM udil.transaction_status WHERE transactionid = 'tx-held'`);
    expect(await dataSource.query(held)).toEqual([]);
    // The month goes again, so that the months the next cases count are theirs.
    await dataSource.query(
      `ALTER TABLE udil.transaction_status DETACH PARTITION udil.transaction_status_p204402`,
    );
    await dataSource.query(`DROP TABLE udil.transaction_status_p204402`);
  });

  it('drops the months older than the retention, with what refers to their rows, and keeps DEFAULT', async () => {
    await partitions.ensureAhead('transaction_status', 0, utc('2041-05-01T00:00:00'));
    await dataSource.query(
      `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime)
       VALUES ('tx-may', 'm1', 'MDSM', '2041-05-02T00:00:00Z')`,
    );
    await dataSource.query(
      `INSERT INTO public.udil_deferred_rows (transactionid, global_device_id, command_receiving_datetime, due_at)
       VALUES ('tx-2041', 'm1', '2041-04-10T10:00:00.123456Z', now()), ('tx-may', 'm1', '2041-05-02T00:00:00Z', now())`,
    );
    // Their acceptances, at the time their rows carry.
    await dataSource.query(
      `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, created_at)
       VALUES ('tx-2041', 'meter_data_sampling', repeat('0', 64), '2041-04-10T10:00:00.123456Z'),
              ('tx-may', 'meter_data_sampling', repeat('0', 64), '2041-05-02T00:00:00Z')`,
    );
    expect(await partitions.dropExpired('transaction_status', 0, utc('2041-06-15T00:00:00'))).toEqual([]);
    // Retention 1 on 2041-06-15: May is kept, April and everything before goes.
    const dropped = await partitions.dropExpired('transaction_status', 1, utc('2041-06-15T00:00:00'));
    expect(dropped).toEqual(expect.arrayContaining(['transaction_status_p204104']));
    expect(dropped).not.toContain('transaction_status_p204105');
    expect((await partitions.list('transaction_status')).map((p) => p.name)).toEqual([
      'transaction_status_p204105',
    ]);
    const rows = await dataSource.query<{ transactionid: string }[]>(
      `SELECT transactionid FROM udil.transaction_status WHERE transactionid LIKE 'tx-%' ORDER BY 1`,
    );
    expect(rows).toEqual([{ transactionid: 'tx-may' }]);
    const deferred = await dataSource.query<{ transactionid: string }[]>(
      `SELECT transactionid FROM public.udil_deferred_rows ORDER BY 1`,
    );
    expect(deferred).toEqual([{ transactionid: 'tx-may' }]);
    const accepted = await dataSource.query<{ transactionid: string }[]>(
      `SELECT transactionid FROM public.udil_transactions WHERE transactionid LIKE 'tx-%' ORDER BY 1`,
    );
    expect(accepted).toEqual([{ transactionid: 'tx-may' }]);
    // DEFAULT is not a month: its rows (wrong clocks) stay until someone looks at them.
    await partitions.dropExpired('load_profile_data', 1, utc('2041-06-15T00:00:00'));
    expect(await partitionOf('load_profile_data', `global_device_id = 'slow'`, [])).toEqual([
      'udil.load_profile_data_default',
    ]);
    expect(await partitionOf('load_profile_data', `global_device_id = 'fast'`, [])).toEqual([
      'udil.load_profile_data_p204105',
    ]);
  });

  it('lets the MDM reader role read and mark rows of a partition created after the role', async () => {
    await grantMdmReader(database.url, role, 'a-long-enough-password');
    expect(await partitions.ensureAhead('events', 0, utc('2042-02-01T00:00:00'))).toEqual(['events_p204202']);
    await dataSource.query(
      `INSERT INTO udil.events (global_device_id, msn, event_datetime, event_code) VALUES ('m1', 1, '2042-02-03', 101)`,
    );
    const url = new URL(database.url);
    url.username = role;
    url.password = 'a-long-enough-password';
    const reader = new Client({ connectionString: url.toString() });
    await reader.connect();
    try {
      const { rows } = await reader.query(
        `SELECT global_device_id, event_code FROM events WHERE event_datetime >= '2042-02-01' AND event_datetime < '2042-03-01'`,
      );
      expect(rows).toEqual([{ global_device_id: 'm1', event_code: 101 }]);
      // Straight from the partition too (default privileges of the tables' owner).
      const direct = await reader.query(`SELECT count(*)::int AS n FROM udil.events_p204202`);
      expect(direct.rows).toEqual([{ n: 1 }]);
      await expect(
        reader.query(`UPDATE events SET is_synced = 1 WHERE event_datetime = '2042-02-03'`),
      ).resolves.toMatchObject({ rowCount: 1 });
      await expect(reader.query(`UPDATE events SET event_code = 1`)).rejects.toThrow(/permission denied/);
      await expect(reader.query(`SELECT udil.create_month_partition('events', now())`)).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await reader.end();
    }
  });
  /** The tables a plan reads among `table`'s partitions, sorted. */
  const partitionsIn = (plan: PlanNode, table: string) =>
    [...new Set(relationsOf(plan).filter((name) => name.startsWith(`${table}_`)))].sort();

  it('starts a poll from the meter’s latest reading asking its latest months first, every month only when they hold none', async () => {
    await partitions.ensureAhead('load_profile_data', 5, utc('2043-01-15T00:00:00'));
    const now = utc('2043-05-10T00:00:00');
    const plans: PlanNode[] = [];
    // Through EXPLAIN no row comes back: every window is tried, the widest last.
    expect(
      await new PollScheduleRepository(explaining(dataSource, plans)).lastStored('lp-none', 'LPRO', now),
    ).toBe(undefined);
    expect(plans).toHaveLength(3);
    // From the start of the previous month to now: that month and this one (DEFAULT holds no date of theirs;
    // the months ahead are after now, where a poll does not start).
    expect(partitionsIn(plans[0], 'load_profile_data')).toEqual([
      'load_profile_data_p204304',
      'load_profile_data_p204305',
    ]);
    // From the month a year back: DEFAULT too (2042-05 to 2042-12 have no partition).
    expect(partitionsIn(plans[1], 'load_profile_data')).toEqual([
      'load_profile_data_default',
      ...[1, 2, 3, 4, 5].map((month) => `load_profile_data_p20430${month}`),
    ]);
    // Without a lower bound: every month up to now (the earlier ones the migration made, too).
    const everyMonth = partitionsIn(plans[2], 'load_profile_data');
    expect(everyMonth).toEqual(expect.arrayContaining(partitionsIn(plans[1], 'load_profile_data')));
    expect(everyMonth.length).toBeGreaterThan(partitionsIn(plans[1], 'load_profile_data').length);
    expect(everyMonth).not.toContain('load_profile_data_p204306');

    await dataSource.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, active_energy_pos_tl)
       VALUES ('lp-recent', 1, '2043-01-10T00:00:00Z', 1), ('lp-recent', 1, '2043-05-09T23:45:00Z', 2),
              ('lp-quiet', 2, '2043-01-20T00:00:00Z', 3), ('lp-ancient', 3, '2030-03-01T00:00:00Z', 4),
              ('lp-fast', 4, '2043-05-09T00:00:00Z', 5), ('lp-fast', 4, '2099-01-01T00:00:00Z', 6)`,
    );
    const polls = new PollScheduleRepository(dataSource);
    expect(await polls.lastStored('lp-recent', 'LPRO', now)).toEqual(utc('2043-05-09T23:45:00'));
    expect(await polls.lastStored('lp-quiet', 'LPRO', now)).toEqual(utc('2043-01-20T00:00:00'));
    expect(await polls.lastStored('lp-ancient', 'LPRO', now)).toEqual(utc('2030-03-01T00:00:00'));
    // A clock that jumped to 2099 left a row there: the poll starts from the latest row not in the future.
    expect(await polls.lastStored('lp-fast', 'LPRO', now)).toEqual(utc('2043-05-09T00:00:00'));
    expect(await polls.lastStored('lp-none', 'LPRO', now)).toBeUndefined();
  });

  it('pages the device-command audit over the last 30 days, or from a transaction’s acceptance (EXPLAIN)', async () => {
    await partitions.ensureAhead('transaction_status', 5, utc('2043-01-15T00:00:00'));
    const now = utc('2043-05-10T00:00:00');
    const plans: PlanNode[] = [];
    const explained = new AdminAuditRepository(explaining(dataSource, plans));
    await explained.deviceCommands({}, 0, 50, now);
    // The page and its count: 30 days back reach April, not before.
    expect(plans).toHaveLength(2);
    for (const plan of plans)
      expect(partitionsIn(plan, 'transaction_status')).toEqual([
        'transaction_status_default',
        'transaction_status_p204304',
        'transaction_status_p204305',
        'transaction_status_p204306',
      ]);

    await dataSource.query(
      `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, created_at)
       VALUES ('tx-feb', 'AUX_RELAY_OPERATIONS', repeat('0', 64), '2043-02-01T00:00:00Z')`,
    );
    await dataSource.query(
      `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime)
       VALUES ('tx-feb', 'a1', 'AUXR', '2043-02-01T00:00:00Z'), ('tx-feb', 'a2', 'AUXR', '2043-02-01T00:00:00Z'),
              ('tx-recent', 'a1', 'AUXR', '2043-05-01T00:00:00Z')`,
    );
    const audit = new AdminAuditRepository(dataSource);
    const recent = await audit.deviceCommands({ globalDeviceId: 'a1' }, 0, 50, now);
    expect(recent).toMatchObject({ total: 1, from: utc('2043-04-10T00:00:00'), to: null });
    expect(recent.items.map((row) => row.transactionid)).toEqual(['tx-recent']);
    const all = await audit.deviceCommands(
      { globalDeviceId: 'a1', from: utc('2043-01-01T00:00:00') },
      0,
      50,
      now,
    );
    expect(all.items.map((row) => row.transactionid)).toEqual(['tx-recent', 'tx-feb']);
    const upTo = await audit.deviceCommands(
      { globalDeviceId: 'a1', from: utc('2043-01-01T00:00:00'), to: utc('2043-04-30T00:00:00') },
      0,
      50,
      now,
    );
    expect(upTo.items.map((row) => row.transactionid)).toEqual(['tx-feb']);
    // `to` alone: the 30 days before it.
    const before = await audit.deviceCommands(
      { globalDeviceId: 'a1', to: utc('2043-02-15T00:00:00') },
      0,
      50,
      now,
    );
    expect(before).toMatchObject({ from: utc('2043-01-16T00:00:00'), to: utc('2043-02-15T00:00:00') });
    expect(before.items.map((row) => row.transactionid)).toEqual(['tx-feb']);
    const byTransaction = await audit.deviceCommands({ transactionid: 'tx-feb' }, 0, 50, now);
    expect(byTransaction).toMatchObject({ total: 2, from: utc('2043-02-01T00:00:00') });

    // By transactionid: from its acceptance on, whatever the default window.
    const bounded: PlanNode[] = [];
    const acceptance = {
      query: (sql: string, parameters?: unknown[]) =>
        sql.includes('udil_transactions WHERE transactionid')
          ? dataSource.query<unknown[]>(sql, parameters)
          : explaining(dataSource, bounded).query<unknown[]>(sql, parameters),
    } as unknown as DataSource;
    await new AdminAuditRepository(acceptance).deviceCommands({ transactionid: 'tx-feb' }, 0, 50, now);
    expect(bounded).toHaveLength(2);
    for (const plan of bounded)
      expect(partitionsIn(plan, 'transaction_status')).toEqual([
        'transaction_status_default',
        ...[2, 3, 4, 5, 6].map((month) => `transaction_status_p20430${month}`),
      ]);
  });
  it('reads again which of the reconciler’s rows are pending still, in their months only', async () => {
    await partitions.ensureAhead('transaction_status', 1, utc('2045-03-01T00:00:00'));
    await dataSource.query(
      `INSERT INTO udil.transaction_status (transactionid, global_device_id, type, command_receiving_datetime, status_level, indv_status)
       VALUES ('tx-r', 'live', 'AUXR', '2045-03-10T10:00:00.123456Z', 2, 0),
              ('tx-r', 'done', 'AUXR', '2045-03-10T10:00:00.123456Z', 5, 1),
              ('tx-r2', 'live', 'AUXR', '2045-04-02T00:00:00Z', 0, 0)`,
    );
    const rows = [
      {
        transactionid: 'tx-r',
        global_device_id: 'live',
        command_receiving_datetime: utc('2045-03-10T10:00:00.123'),
      },
      {
        transactionid: 'tx-r',
        global_device_id: 'done',
        command_receiving_datetime: utc('2045-03-10T10:00:00.123'),
      },
      {
        transactionid: 'tx-r2',
        global_device_id: 'live',
        command_receiving_datetime: utc('2045-04-02T00:00:00'),
      },
      {
        transactionid: 'tx-r',
        global_device_id: 'unknown',
        command_receiving_datetime: utc('2045-03-10T10:00:00.123'),
      },
    ];
    const still = await new TransactionStatusRepository(dataSource).stillPending(rows);
    expect(still.map((row) => `${row.transactionid}/${row.global_device_id}`).sort()).toEqual([
      'tx-r/live',
      'tx-r2/live',
    ]);
    const plans: PlanNode[] = [];
    await new TransactionStatusRepository(explaining(dataSource, plans)).stillPending(rows);
    expect(partitionsIn(plans[0], 'transaction_status')).toEqual([
      'transaction_status_p204503',
      'transaction_status_p204504',
    ]);
  });
  it('shows a device’s latest transactions and communications asking its latest months first (EXPLAIN)', async () => {
    await dataSource.query(
      `INSERT INTO public.devices (global_device_id, msn, driver) VALUES ('detail-meter', 3100009999, 'ABB_G13')`,
    );
    for (const table of ['transaction_status', 'device_communication_history'] as const)
      await partitions.ensureAhead(table, 0, utc('2020-01-15T00:00:00'));
    const plans: PlanNode[] = [];
    // The device from the registry as it is; the UDIL tables' reads EXPLAINed (no rows: every window is tried).
    const explained = explaining(dataSource, plans);
    const devices = new AdminDevicesService(dataSource.getRepository(Device), explained);
    const detail = await devices.detail('detail-meter');
    expect(detail).toMatchObject({ recentTransactions: [], recentCommunications: [] });
    const reads = (table: string) =>
      plans.filter((plan) => partitionsIn(plan, table).length > 0).map((plan) => partitionsIn(plan, table));
    const now = new Date();
    const previousMonth = `_p${new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7).replace('-', '')}`;
    for (const table of ['transaction_status', 'device_communication_history']) {
      const windows = reads(table);
      expect(windows).toHaveLength(3);
      // The first window: DEFAULT and months from the previous one on, none before it.
      for (const partition of windows[0])
        expect(partition === `${table}_default` || partition.slice(table.length) >= previousMonth).toBe(true);
      // A month of 2020 is read only by the last, unbounded window.
      expect(windows[0]).not.toContain(`${table}_p202001`);
      expect(windows[1]).not.toContain(`${table}_p202001`);
      expect(windows[2]).toContain(`${table}_p202001`);
    }
  });
});
