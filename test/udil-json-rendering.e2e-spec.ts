import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfig } from '@hes/config';
import { createDataSourceOptions } from '@hes/database';
import { DriverRegistry } from '@hes/drivers';
import { JobQueueRepository } from '@hes/queue';
import { READABLE_TABLES, ReadableTable, UdilTableReader } from '@hes/readings';
import { TransactionAcceptanceService, TransactionStatusRepository } from '@hes/transactions';
import { formatUdilRecord, jsonArrayText } from '@hes/udil';
import { TestDatabase, createMigratedDatabase } from './support/test-database';

/**
 * The UDIL data items PostgreSQL renders (udil-records-sql.ts) are byte for byte the JavaScript formatter's
 * (formatUdilRecord, and the TRANSACTION_STATUS answer's), over random rows of every column type of every
 * table read through the API: nulls, text with quotes, control characters and any Unicode, extreme numbers,
 * datetimes in several zones around their DST changes; and values outside what SQL renders fall back to
 * the formatter, still the same text.
 */
interface Column {
  column_name: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
  numeric_precision: number | null;
  numeric_scale: number | null;
  character_maximum_length: number | null;
}

/** Zones with half-hour, quarter-hour and 30-minute-DST offsets, both hemispheres' DST, and none. */
const ZONES = [
  'Asia/Karachi',
  'Europe/London',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Kiritimati',
  'UTC',
];

/** Columns of small value sets (CHECK constraints) and their values. */
const CONSTRAINED: Record<string, number[]> = {
  is_synced: [0, 1],
  reading_mode: [0, 1],
  meter_activation_status: [0, 1],
  power_status: [0, 1],
  auxr_status: [0, 1],
  communication_status: [0, 1],
  indv_status: [0, 1, 2],
  request_cancelled: [0, 1],
  status_level: [0, 1, 2, 3, 4, 5],
  mdi_reset_date: [1, 14, 28],
};

/** Instants around DST changes of the zones above (UTC), and ordinary ones. */
const TRANSITIONS = [
  '2026-03-29T00:59:59.999999Z',
  '2026-03-29T01:00:00Z',
  '2026-10-25T00:59:59.5Z',
  '2026-10-25T01:00:00.000001Z',
  '2026-03-08T06:59:59Z',
  '2026-03-08T07:00:00Z',
  '2026-11-01T05:59:59.999Z',
  '2026-11-01T06:00:00Z',
  '2026-04-04T14:59:59Z',
  '2026-04-04T15:00:00Z',
  '2026-10-03T15:30:00Z',
  '1970-01-01T00:00:00Z',
  '2038-01-19T03:14:08Z',
];

const isoOf = (seconds: number, micros: number) =>
  `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;

/** A datetime within what SQL renders: 1970 to 2100 with microseconds, or one of the transitions. */
const instant = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 4_102_444_800 }), fc.integer({ min: 0, max: 999_999 }))
    .map(([s, us]) => isoOf(s, us)),
  fc.constantFrom(...TRANSITIONS),
);

/** Text: quotes, backslashes, control characters (no NUL: PostgreSQL text cannot hold it), any Unicode. */
const text = (max: number) =>
  fc
    .oneof(
      fc.string({ maxLength: Math.min(max, 40), unit: 'binary' }),
      fc.string({
        maxLength: Math.min(max, 20),
        unit: fc.constantFrom('"', '\\', '\n', '\t', '\u0001', '\u001f', '\u007f', '\u2028', 'é', '😀', "'"),
      }),
    )
    .map((s) => s.replaceAll('\u0000', ''));

function numeric(precision: number, scale: number): fc.Arbitrary<string> {
  const digits = precision - scale;
  return fc.oneof(
    fc
      .tuple(
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 10n ** BigInt(digits) - 1n }),
        fc.bigInt({ min: 0n, max: 10n ** BigInt(scale) - 1n }),
      )
      .map(
        ([negative, whole, fraction]) =>
          `${negative ? '-' : ''}${whole}${scale > 0 ? `.${String(fraction).padStart(scale, '0')}` : ''}`,
      ),
    fc.constantFrom('0', 'NaN', `${'9'.repeat(digits)}${scale > 0 ? `.${'9'.repeat(scale)}` : ''}`),
  );
}

function valueOf(column: Column): fc.Arbitrary<unknown> {
  const constrained = CONSTRAINED[column.column_name];
  let value: fc.Arbitrary<unknown>;
  if (constrained) value = fc.constantFrom(...constrained);
  else if (column.data_type === 'integer') value = fc.integer();
  else if (column.data_type === 'bigint')
    value = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
  else if (column.data_type === 'numeric')
    value = numeric(column.numeric_precision ?? 20, column.numeric_scale ?? 6);
  else if (column.data_type === 'timestamp with time zone') value = instant;
  else if (column.data_type === 'bytea') value = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b));
  else value = text(column.character_maximum_length ?? 200);
  return column.is_nullable === 'YES' ? fc.option(value, { nil: null, freq: 3 }) : value;
}

/** A rendered page or status answer with its array as one text (the pieces joined), to compare. */
function asText<T extends { items: string[] }>({ items, ...rest }: T): Omit<T, 'items'> & { json: string } {
  return { json: jsonArrayText(items), ...rest };
}

/** Tables whose rows are one per device (of a transaction): each random row gets a device of its own. */
const ROW_PER_DEVICE = new Set(['meter_visuals', 'transaction_status']);

describe('UDIL data items rendered by PostgreSQL = the JavaScript formatter, byte for byte', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let reader: UdilTableReader;
  const columns = new Map<string, Column[]>();

  beforeAll(async () => {
    database = await createMigratedDatabase('json_rendering');
    dataSource = new DataSource(createDataSourceOptions(database.url));
    await dataSource.initialize();
    reader = new UdilTableReader(dataSource);
    const all = await dataSource.query<(Column & { table_name: string })[]>(
      `SELECT table_name, column_name, data_type, is_nullable, numeric_precision, numeric_scale, character_maximum_length
         FROM information_schema.columns WHERE table_schema = 'udil' ORDER BY ordinal_position`,
    );
    for (const column of all) {
      if (column.column_name === 'id') continue;
      columns.set(column.table_name, [...(columns.get(column.table_name) ?? []), column]);
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  /** `count` random rows of `table`. */
  function rowsOf(table: string, count: number): fc.Arbitrary<Record<string, unknown>[]> {
    const record = Object.fromEntries(
      (columns.get(table) ?? []).map((column) => [column.column_name, valueOf(column)]),
    );
    return fc.array(fc.record(record), { minLength: count, maxLength: count });
  }

  /**
   * Inserts the rows for `device` (with `fixed` values), distinct in their primary key: a datetime of their
   * own, or a device of their own where a device has one row; returns the devices.
   */
  async function insert(
    table: string,
    device: string,
    rows: Record<string, unknown>[],
    fixed: Record<string, unknown>,
  ): Promise<string[]> {
    const devices = new Set<string>();
    for (const [index, row] of rows.entries()) {
      const values: Record<string, unknown> = { ...row, global_device_id: device, ...fixed };
      if (ROW_PER_DEVICE.has(table)) values.global_device_id = `${device}-${index}`;
      else values[READABLE_TABLES[table as ReadableTable]] = isoOf(1_780_000_000 + index * 900, index);
      devices.add(values.global_device_id as string);
      const names = Object.keys(values);
      await dataSource.query(
        `INSERT INTO udil.${table} (${names.map((n) => `"${n}"`).join(', ')})
         VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
        names.map((n) => values[n]),
      );
    }
    return [...devices];
  }

  const readableTables = Object.keys(READABLE_TABLES) as ReadableTable[];

  it.each(readableTables)('%s: random rows in every zone', async (table) => {
    const jsPath = jest.spyOn(reader, 'read');
    await fc.assert(
      fc.asyncProperty(rowsOf(table, 6), fc.constantFrom(...ZONES), async (rows, zone) => {
        const devices = await insert(table, `json-${randomUUID()}`, rows, {});
        const query = { globalDeviceIds: devices, page: 1, pageSize: 100 };
        jsPath.mockClear();
        const rendered = asText(await reader.readUdilJson(table, query, zone));
        // Rendered by PostgreSQL, not by the fallback…
        expect(jsPath).not.toHaveBeenCalled();
        // …and the same text as the formatter's.
        const stored = await reader.read(table, query);
        const expected = JSON.stringify(stored.rows.map((row) => formatUdilRecord(table, row, zone)));
        expect(rendered).toEqual({ json: expected, count: rows.length, more: false });
      }),
      { numRuns: 12 },
    );
    jsPath.mockRestore();
  });

  it('pages: the row beyond the page says "more" and is not in the page', async () => {
    const device = `json-page-${randomUUID()}`;
    await insert('events', device, fc.sample(rowsOf('events', 1), 5).flat(), { event_code: 7 });
    const query = { globalDeviceIds: [device], page: 2, pageSize: 2 };
    const rendered = asText(await reader.readUdilJson('events', query, 'Asia/Karachi'));
    const stored = await reader.read('events', query);
    expect(rendered).toEqual({
      json: JSON.stringify(stored.rows.map((row) => formatUdilRecord('events', row, 'Asia/Karachi'))),
      count: 2,
      more: true,
    });
  });

  it.each([
    ['before 1970', '1969-12-31T23:59:59Z'],
    ['a fifth digit of year in the zone', '9999-12-31T23:30:00Z'],
    ['infinity', 'infinity'],
  ])('a datetime out of what SQL renders (%s) is formatted by the formatter, same text', async (_, at) => {
    const device = `json-out-${randomUUID()}`;
    await insert('load_profile_data', device, fc.sample(rowsOf('load_profile_data', 1), 3).flat(), {});
    await dataSource.query(
      `UPDATE udil.load_profile_data SET mdc_read_datetime = $2
        WHERE global_device_id = $1 AND meter_datetime = (SELECT max(meter_datetime) FROM udil.load_profile_data WHERE global_device_id = $1)`,
      [device, at],
    );
    const jsPath = jest.spyOn(reader, 'read');
    const query = { globalDeviceIds: [device], page: 1, pageSize: 10 };
    const rendered = asText(await reader.readUdilJson('load_profile_data', query, 'Asia/Kolkata'));
    expect(jsPath).toHaveBeenCalledTimes(1);
    jsPath.mockRestore();
    const stored = await reader.read('load_profile_data', query);
    expect(rendered.json).toBe(
      JSON.stringify(stored.rows.map((row) => formatUdilRecord('load_profile_data', row, 'Asia/Kolkata'))),
    );
    expect(rendered.count).toBe(3);
  });

  it('a zone PostgreSQL does not know is formatted by the formatter', async () => {
    const device = `json-zone-${randomUUID()}`;
    await insert('events', device, fc.sample(rowsOf('events', 1), 2).flat(), { event_code: 1 });
    const jsPath = jest.spyOn(reader, 'read');
    // luxon (ICU) knows this fixed-offset zone; PostgreSQL reads "UTC+5" as POSIX, five hours west.
    const rendered = asText(
      await reader.readUdilJson('events', { globalDeviceIds: [device], page: 1, pageSize: 10 }, 'UTC+5'),
    );
    expect(jsPath).toHaveBeenCalledTimes(1);
    jsPath.mockRestore();
    expect(rendered.count).toBe(2);
    expect(rendered.json).toContain('"event_datetime":"');
  });

  describe('transaction_status', () => {
    let statuses: TransactionStatusRepository;

    /** With `keptMb`, the service keeps its answers (UDIL_READ_CACHE_MB) and renders only rows that changed. */
    function service(zone: string, keptMb?: number): TransactionAcceptanceService {
      // statusJson and status use the database, the status rows and the zone only: no queue, no driver.
      return new TransactionAcceptanceService(
        dataSource,
        statuses,
        undefined as unknown as JobQueueRepository,
        undefined as unknown as DriverRegistry,
        { TIME_ZONE: zone, UDIL_READ_CACHE_MB: keptMb } as AppConfig,
      );
    }

    beforeAll(() => {
      statuses = new TransactionStatusRepository(dataSource);
    });

    /** A UDIL client of its own. */
    const newClient = async () =>
      (
        await dataSource.query<{ id: string }[]>(
          `INSERT INTO public.udil_clients (username, password_hash, code_hash) VALUES ($1, 'x', 'x') RETURNING id`,
          [`json-${randomUUID()}`],
        )
      )[0].id;

    /** response_data as the worker stores it: a sentence, read results as JSON, or text that only looks like JSON. */
    const responseData = fc.oneof(
      text(200),
      fc.jsonValue().map((value) => JSON.stringify(Array.isArray(value) ? value : { value })),
      fc.constantFrom(
        '{not json',
        '[1, 2',
        '{}',
        '[]',
        '{"a":null,"b":true,"c":1.5e+300,"d":[{"e":"\\u0000"}]}',
      ),
    );

    it.each([
      ['every row rendered (UDIL_READ_CACHE_MB=0)', undefined],
      ['answers kept, rows that changed rendered again', 1],
    ])('random rows of several transactions in every zone: %s', async (_name, keptMb) => {
      const jsPath = jest.spyOn(statuses, 'findByTransactions');
      const clientId = await newClient();
      await fc.assert(
        fc.asyncProperty(
          rowsOf('transaction_status', 5),
          fc.array(fc.option(responseData, { nil: null }), { minLength: 5, maxLength: 5 }),
          // Two rounds of changes, each read after: the second read renders every row with its version (the
          // first read's answer keeps none), the third takes the unchanged rows' items out of the second's.
          fc.array(
            fc.array(fc.option(fc.option(responseData, { nil: null }), { nil: undefined }), {
              minLength: 10,
              maxLength: 10,
            }),
            { minLength: 2, maxLength: 2 },
          ),
          fc.constantFrom(...ZONES),
          async (rows, data, rounds, zone) => {
            const transactionids = [`tx-${randomUUID()}`, `tx-${randomUUID()}`];
            for (const [index, transactionid] of transactionids.entries()) {
              // Accepted in 1970: the random rows are never older than their transaction (reads are bounded by it).
              await dataSource.query(
                `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, client_id, created_at)
                 VALUES ($1, 'aux_relay_operations', $2, $3, '1970-01-01T00:00:00Z')`,
                [transactionid, 'f'.repeat(64), clientId],
              );
              await insert(
                'transaction_status',
                `m${index}`,
                rows.map((row, i) => ({ ...row, response_data: data[i] })),
                { transactionid },
              );
            }
            const reader = service(zone, keptMb);
            const expectFormatted = async () => {
              jsPath.mockClear();
              const rendered = asText(await reader.statusJson(transactionids, clientId));
              expect(jsPath).not.toHaveBeenCalled();
              const expected = JSON.stringify(await reader.status(transactionids, clientId));
              expect(rendered).toEqual({ json: expected, count: 10 });
            };
            await expectFormatted();
            // Some rows get another response (undefined: left as they are), then the same reader reads again; twice.
            const ids = await dataSource.query<{ transactionid: string; global_device_id: string }[]>(
              `SELECT transactionid, global_device_id FROM udil.transaction_status
                WHERE transactionid = ANY($1) ORDER BY transactionid, global_device_id`,
              [transactionids],
            );
            for (const changes of rounds) {
              for (const [index, change] of changes.entries()) {
                if (change === undefined) continue;
                await dataSource.query(
                  `UPDATE udil.transaction_status SET response_data = $3 WHERE transactionid = $1 AND global_device_id = $2`,
                  [ids[index].transactionid, ids[index].global_device_id, change],
                );
              }
              await expectFormatted();
            }
          },
        ),
        { numRuns: 12 },
      );
      jsPath.mockRestore();
    });

    it('an answer too large to keep is joined into pieces by PostgreSQL, never read row by row, however its rows change', async () => {
      const clientId = await newClient();
      const transactionid = `tx-${randomUUID()}`;
      await dataSource.query(
        `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, client_id, created_at)
         VALUES ($1, 'aux_relay_operations', $2, $3, now() - interval '1 hour')`,
        [transactionid, 'f'.repeat(64), clientId],
      );
      // 600 rows of about 600 characters: 360 KB, over a quarter of a 1 MB UDIL_READ_CACHE_MB.
      await dataSource.query(
        `INSERT INTO udil.transaction_status (transactionid, msn, global_device_id, type, type_parameters,
            command_receiving_datetime, status_level, indv_status, status_1_datetime, response_data)
         SELECT $1, 3300000000 + i, 'big-' || lpad(i::text, 4, '0'), 'AUXR', 'relay_operate=0',
                now() - interval '30 minutes', 1, 0, now() - interval '29 minutes', repeat('x', 200)
           FROM generate_series(1, 600) AS i`,
        [transactionid],
      );
      const reader = service('Asia/Karachi', 1);
      const rows = jest.spyOn(statuses, 'findByTransactionsAsUdilJsonRows');
      const pieces = jest.spyOn(statuses, 'findByTransactionsAsUdilJson');
      const expected = JSON.stringify(await reader.status([transactionid], clientId));
      try {
        const read = async () => asText(await reader.statusJson([transactionid], clientId));
        expect(await read()).toEqual({ json: expected, count: 600 });
        await dataSource.query(
          `UPDATE udil.transaction_status SET status_level = 2 WHERE transactionid = $1 AND global_device_id = 'big-0001'`,
          [transactionid],
        );
        const changed = JSON.stringify(await reader.status([transactionid], clientId));
        expect(changed).not.toBe(expected);
        expect(await read()).toEqual({ json: changed, count: 600 });
        expect(await read()).toEqual({ json: changed, count: 600 });
        expect([rows.mock.calls.length, pieces.mock.calls.length]).toEqual([0, 3]);
      } finally {
        rows.mockRestore();
        pieces.mockRestore();
      }
    });

    it('a datetime out of what SQL renders is formatted by the formatter; another client sees nothing', async () => {
      const clientId = await newClient();
      const transactionid = `tx-${randomUUID()}`;
      await dataSource.query(
        `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, client_id, created_at)
         VALUES ($1, 'aux_relay_operations', $2, $3, '1970-01-01T00:00:00Z')`,
        [transactionid, 'f'.repeat(64), clientId],
      );
      await insert('transaction_status', 'old', fc.sample(rowsOf('transaction_status', 1), 3).flat(), {
        transactionid,
        status_1_datetime: '1960-05-01T10:00:00Z',
      });
      const jsPath = jest.spyOn(statuses, 'findByTransactions');
      const rendered = asText(await service('Asia/Karachi').statusJson([transactionid], clientId));
      expect(jsPath).toHaveBeenCalledTimes(1);
      jsPath.mockRestore();
      expect(rendered).toEqual({
        json: JSON.stringify(await service('Asia/Karachi').status([transactionid], clientId)),
        count: 3,
      });
      expect(rendered.json).toContain('"status_1_datetime":"1960-05-01 15:00:00"');
      expect(asText(await service('Asia/Karachi').statusJson([transactionid], await newClient()))).toEqual({
        count: 0,
        json: '[]',
      });
    });
  });
});
