import { formatUdilDatetime } from './udil-datetime';
import { UDIL_2019_FIELDS, UDIL_3_2_FIELDS, UDIL_3_3_FIELDS } from './udil-spec-fields';

/** The UDIL records the head-end answers with (tables of UDIL 3.2 §3.1 and TRANSACTION_STATUS of §3.4.3). */
export const UDIL_RECORDS = [
  'instantaneous_data',
  'billing_data',
  'monthly_billing_data',
  'load_profile_data',
  'events',
  'meter_visuals',
  'transaction_status',
  'device_communication_history',
] as const;

export type UdilRecord = (typeof UDIL_RECORDS)[number];

/**
 * The keys every data item of a record carries, a value or an empty string: the record's fields as UDIL 3.2
 * prints them (without the table's surrogate `id`, which no example answer carries), then the UDIL 2019 names
 * 3.2 does not have (both generations are served, docs/udil.md), then what revision 3.3 adds.
 */
export const UDIL_RECORD_KEYS = Object.fromEntries(
  UDIL_RECORDS.map((record) => [
    record,
    [
      ...new Set([
        ...UDIL_3_2_FIELDS[record].filter((field) => field !== 'id'),
        ...(UDIL_2019_FIELDS[record] ?? []),
        ...(UDIL_3_3_FIELDS[record] ?? []),
      ]),
    ],
  ]),
) as unknown as Readonly<Record<UdilRecord, readonly string[]>>;

const TARIFF_SUFFIXES = ['t1', 't2', 't3', 't4', 'tl'];

/**
 * The same quantity under its UDIL 2019 name and its UDIL 3.2 name, per table: `[2019, 3.2]`. Both are
 * filled when either is written ({@link withBothGenerations}), so a client of either generation reads it.
 * - LOAD_PROFILE_DATA: 2019's registers have no direction and are the import registers of 3.2.
 * - METER_VISUALS: 2019's `last_…_tl` totals and `meter_…` command state, 3.2's unprefixed totals and the
 *   state of the command's type code (SANC, LSCH, MTST).
 */
export const GENERATION_ALIASES: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  load_profile_data: ['active_energy', 'reactive_energy', 'active_mdi', 'cumulative_mdi'].flatMap((base) =>
    TARIFF_SUFFIXES.map(
      (t) => [`${base}_${t}`, `${base.replace(/_(energy|mdi)$/, '_$1_pos')}_${t}`] as const,
    ),
  ),
  meter_visuals: [
    ...[
      'active_energy_pos_tl',
      'active_energy_neg_tl',
      'reactive_energy_pos_tl',
      'reactive_energy_neg_tl',
    ].flatMap((total) => [
      [`last_${total}`, total] as const,
      [`last_${total}_datetime`, `${total}_datetime`] as const,
    ]),
    // 2019: "Meter Date & Time of last communication"; 3.2: "Meter Date & Time".
    ['meter_last_comm_datetime', 'meter_datetime'],
    ['meter_load_limit_set', 'sanc_load_limit'],
    ['meter_ls_schedule_startdatetime', 'lsch_start_datetime'],
    ['meter_ls_schedule_enddatetime', 'lsch_end_datetime'],
    ['meter_ls_schedule_slabs', 'lsch_load_shedding_slabs'],
    ['meter_activation_status', 'mtst_meter_activation_status'],
  ],
};

/**
 * `row` with each quantity of the table under both generations' names: a name the row does not carry takes
 * the value of its counterpart. A name the row carries is never overwritten.
 */
export function withBothGenerations<V>(table: string, row: Record<string, V>): Record<string, V> {
  const counterparts = COUNTERPARTS[table];
  if (!counterparts) return row;
  // Through the row's few names rather than the table's many aliases (every job writes METER_VISUALS).
  let completed: Record<string, V> | undefined;
  for (const name in row) {
    if (row[name] === undefined) continue;
    const other = counterparts.get(name);
    if (other === undefined || row[other] !== undefined) continue;
    completed ??= { ...row };
    completed[other] = row[name];
  }
  return completed ?? row;
}

/** Per table, each aliased name → its other generation's name (both directions). */
const COUNTERPARTS: Readonly<Record<string, ReadonlyMap<string, string>>> = Object.fromEntries(
  Object.entries(GENERATION_ALIASES).map(([table, pairs]) => [
    table,
    new Map(pairs.flatMap(([old, current]) => [[old, current] as const, [current, old] as const])),
  ]),
);

/** One value as UDIL text: datetimes in the configured zone, binary as base64, nothing as an empty string. */
export function udilText(value: unknown, zone: string): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return formatUdilDatetime(value, zone);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A stored row as a UDIL data item: every key of its record, in the spec's order, a value or "". */
export function formatUdilRecord(
  record: UdilRecord,
  row: Record<string, unknown>,
  zone: string,
): Record<string, string> {
  const item: Record<string, string> = {};
  for (const key of UDIL_RECORD_KEYS[record]) item[key] = udilText(row[key], zone);
  return item;
}
