import { DateTime } from 'luxon';
import {
  BillingReading,
  DriverError,
  InstantaneousReading,
  LoadProfileReading,
  MeterEventReading,
  MonthlyBillingReading,
  UdilRow,
} from '../driver.contract';
import { G13AlarmDefinition, mapG13LogId } from './g13-event-codes';

/**
 * G13 JSON answers (manual chapter 6) → UDIL rows (migrations/1763700000000-udil-schema.ts).
 * Energies in kWh / kvarh, powers in kW / kvar, as UDIL; the G13 reports "value", "unit" pairs
 * whose unit decides the scale. G13 date-times carry no offset: they are read and written in the
 * gateway's clock zone (GatewayEndpoint.clockTimeZone, UTC when absent).
 */

export type G13ValuePair = [string, string];
export type G13LineBlock = Partial<Record<string, G13ValuePair>>;

export interface G13DateTimeAnswer {
  datetime: string;
  status?: string;
}
export interface G13EnergyAnswer {
  importenergy?: G13LineBlock;
  exportenergy?: G13LineBlock;
  netenergy?: G13LineBlock;
}
export interface G13PowerAnswer {
  active?: G13LineBlock;
  reactive?: G13LineBlock;
  apparent?: G13LineBlock;
}
export type G13InstrumentAnswer = Partial<Record<string, Partial<Record<string, G13ValuePair>>>>;
export interface G13TariffAnswer {
  tariff?: number;
  source?: number;
  daytype?: number;
  season?: number;
}
export interface G13EventEntry {
  datetime: string;
  duration?: number;
  category?: number;
  logid: number;
}
export interface G13EventsAnswer {
  system?: G13EventEntry[];
  quality?: G13EventEntry[];
  event?: G13EventEntry[];
}
export interface G13PreviousValuesAnswer {
  mapping: Array<[string, string]>;
  interval?: string;
  items: Array<Array<[string, string] | { time: string }>>;
}
export interface G13DemandConfigAnswer {
  dmc: Array<[number, number]>;
  interval?: [number, number];
  period?: string;
}
export interface G13DemandAnswer {
  mapping: Array<[string, string]>;
  items: Array<Array<[string, string, string, string] | { time: string }>>;
}
export interface G13LoadProfileAnswer {
  mapping: [string, string];
  items: Array<[number, string, number | string]>;
}
export interface G13LoadProfileConfigAnswer {
  lpconfig: Array<[number, number, number]>;
}

/** A G13 date-time (no offset, meter local time in `zone`) → the instant it names. */
export function parseG13DateTime(text: string, field = 'datetime', zone = 'UTC'): Date {
  const match = /^(\d{4})[-:](\d{2})[-:](\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(
    String(text).replace(/\s+/g, ''),
  );
  if (!match) throw new DriverError('protocol', `G13 ${field} "${text}" is not a date-time`, false);
  const [, year, month, day, hour, minute, second] = match.map(Number);
  if (zone === 'UTC') return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const local = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone });
  if (!local.isValid)
    throw new DriverError(
      'protocol',
      `G13 ${field} "${text}" in zone ${zone}: ${local.invalidReason}`,
      false,
    );
  return local.toJSDate();
}

/** An instant → a G13 date-time in the meter's clock zone. */
export function formatG13DateTime(date: Date, zone = 'UTC'): string {
  if (zone === 'UTC') return date.toISOString().slice(0, 19);
  return DateTime.fromJSDate(date, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss");
}

const SCALE: Readonly<Record<string, number>> = { k: 1, M: 1000, G: 1_000_000 };

/** A G13 energy/power pair in kilo-units (kWh, kW, kvar…): "1271.31","kWh" → 1271.31; "2000","W" → 2. */
export function kiloValue(pair: G13ValuePair | undefined): number | undefined {
  const value = plainValue(pair);
  if (value === undefined || !pair) return undefined;
  const unit = pair[1] ?? '';
  const prefix = unit.charAt(0);
  if (/^[kMG](W|var|VA)/.test(unit)) return value * SCALE[prefix];
  return value / 1000;
}

/** A pair's number as reported (V, A, Hz, power factor). */
export function plainValue(pair: G13ValuePair | undefined): number | undefined {
  if (!Array.isArray(pair)) return undefined;
  const value = Number(pair[0]);
  if (!Number.isFinite(value))
    throw new DriverError('protocol', `G13 value "${String(pair[0])}" is not a number`, false);
  return value;
}

const round = (value: number | undefined, digits = 3): number | undefined =>
  value === undefined ? undefined : Number(value.toFixed(digits));

const TARIFF_COLUMNS = ['t1', 't2', 't3', 't4'] as const;

/** importenergy / exportenergy → <base>_pos_t1..t4,_tl / <base>_neg_…, and _abs = pos + neg. */
export function mapEnergyRegisters(
  energy: G13EnergyAnswer,
  base: 'active_energy' | 'reactive_energy',
): UdilRow {
  const row: UdilRow = {};
  const blocks = [
    ['pos', energy.importenergy],
    ['neg', energy.exportenergy],
  ] as const;
  for (const [direction, block] of blocks) {
    if (!block) continue;
    for (const tariff of TARIFF_COLUMNS) {
      const value = kiloValue(block[tariff]);
      if (value !== undefined) row[`${base}_${direction}_${tariff}`] = round(value);
    }
    const total = kiloValue(block.total);
    if (total !== undefined) row[`${base}_${direction}_tl`] = round(total);
  }
  for (const suffix of [...TARIFF_COLUMNS, 'tl']) {
    const pos = row[`${base}_pos_${suffix}`];
    const neg = row[`${base}_neg_${suffix}`];
    if (typeof pos === 'number' && typeof neg === 'number') row[`${base}_abs_${suffix}`] = round(pos + neg);
  }
  return row;
}

export function mapBilling(
  clock: G13DateTimeAnswer,
  active: G13EnergyAnswer | undefined,
  reactive: G13EnergyAnswer | undefined,
  zone = 'UTC',
): BillingReading {
  return {
    meter_datetime: parseG13DateTime(clock.datetime, 'datetime', zone),
    ...(active ? mapEnergyRegisters(active, 'active_energy') : {}),
    ...(reactive ? mapEnergyRegisters(reactive, 'reactive_energy') : {}),
  };
}

/** /datetime, /instrument, /power and /tariff → instantaneous_data. */
export function mapInstantaneous(
  clock: G13DateTimeAnswer,
  instrument: G13InstrumentAnswer | undefined,
  power: G13PowerAnswer | undefined,
  tariff: G13TariffAnswer | undefined,
  zone = 'UTC',
): InstantaneousReading {
  const row: InstantaneousReading = { meter_datetime: parseG13DateTime(clock.datetime, 'datetime', zone) };
  (['a', 'b', 'c'] as const).forEach((phase, index) => {
    const line = instrument?.[`l${index + 1}`];
    if (!line) return;
    row[`current_phase_${phase}`] = round(plainValue(line.current));
    row[`voltage_phase_${phase}`] = round(plainValue(line.voltage));
  });
  row.frequency = round(plainValue(instrument?.frequency?.frequency));
  row.average_pf = round(plainValue(instrument?.total?.powerfactor));
  const active = kiloValue(power?.active?.total);
  const reactive = kiloValue(power?.reactive?.total);
  if (active !== undefined) {
    row.aggregate_active_pwr_pos = round(Math.max(active, 0));
    row.aggregate_active_pwr_neg = round(Math.max(-active, 0));
    row.aggregate_active_pwr_abs = round(Math.abs(active));
  }
  if (reactive !== undefined) {
    row.aggregate_reactive_pwr_pos = round(Math.max(reactive, 0));
    row.aggregate_reactive_pwr_neg = round(Math.max(-reactive, 0));
    row.aggregate_reactive_pwr_abs = round(Math.abs(reactive));
  }
  if (tariff?.tariff !== undefined) row.current_tariff_register = tariff.tariff;
  return row;
}

/**
 * Storable-quantity names (lower-cased /parametermapping names without "_energy") → UDIL register
 * columns. active_import_tar1 → active_energy_pos_t1, reactive_export_total → reactive_energy_neg_tl.
 */
export function registerColumn(name: string): string | undefined {
  const match = /^(active|reactive)_(import|export)_(total|tar([1-4]))$/.exec(name);
  if (!match) return undefined;
  const [, kind, direction, , tariff] = match;
  return `${kind}_energy_${direction === 'import' ? 'pos' : 'neg'}_${tariff ? `t${tariff}` : 'tl'}`;
}

/** Register value in kWh / kvarh from a mapping unit (Wh, kWh, varh, kvarh). */
function registerValue(value: number, unit: string): number {
  return /^k/.test(unit) ? value : /^M/.test(unit) ? value * 1000 : value / 1000;
}

/**
 * Previous values (6.3.69) → monthly_billing_data, one row per snapshot. Status bits: bit1 data
 * error and a clear bit0 (not available) leave the column empty; bit2 (power off) keeps the value.
 */
export function mapPreviousValues(answer: G13PreviousValuesAnswer, zone = 'UTC'): MonthlyBillingReading[] {
  const rows: MonthlyBillingReading[] = [];
  for (const item of answer.items ?? []) {
    const timeTag = item.find((entry): entry is { time: string } => !Array.isArray(entry));
    if (!timeTag) throw new DriverError('protocol', 'G13 previous-value snapshot without a time tag', false);
    const row: MonthlyBillingReading = {
      meter_datetime: parseG13DateTime(timeTag.time, 'previous-value time', zone),
    };
    item
      .filter((entry): entry is [string, string] => Array.isArray(entry))
      .forEach(([statusText, valueText], index) => {
        const mapping = answer.mapping[index];
        const column = mapping ? registerColumn(mapping[0]) : undefined;
        if (!column) return;
        const status = Number(statusText);
        if ((status & 0x02) !== 0 || (status & 0x01) === 0) {
          row[column] = null;
          return;
        }
        const value = Number(valueText);
        if (!Number.isFinite(value))
          throw new DriverError('protocol', `G13 previous value "${valueText}" is not a number`, false);
        row[column] = round(registerValue(value, mapping[1]));
      });
    for (const kind of ['active_energy', 'reactive_energy']) {
      for (const suffix of [...TARIFF_COLUMNS, 'tl']) {
        const pos = row[`${kind}_pos_${suffix}`];
        const neg = row[`${kind}_neg_${suffix}`];
        if (typeof pos === 'number' && typeof neg === 'number')
          row[`${kind}_abs_${suffix}`] = round(pos + neg);
      }
    }
    rows.push(row);
  }
  return rows;
}

/** Load-profile quantities (by /storablequantities id) → load_profile_data columns and scale. */
export const LOAD_PROFILE_COLUMNS: Readonly<
  Record<number, { column: string; kind: 'register' | 'power' | 'plain' }>
> = {
  1: { column: 'active_energy_pos_tl', kind: 'register' },
  2: { column: 'active_energy_neg_tl', kind: 'register' },
  21: { column: 'reactive_energy_pos_tl', kind: 'register' },
  22: { column: 'reactive_energy_neg_tl', kind: 'register' },
  69: { column: 'voltage_phase_a', kind: 'plain' },
  72: { column: 'voltage_phase_b', kind: 'plain' },
  75: { column: 'voltage_phase_c', kind: 'plain' },
  70: { column: 'current_phase_a', kind: 'plain' },
  73: { column: 'current_phase_b', kind: 'plain' },
  76: { column: 'current_phase_c', kind: 'plain' },
  82: { column: 'average_pf', kind: 'plain' },
};

/**
 * Items of an answer that could not be understood are left out and described in `skipped` (a remark of the
 * read), so that one garbled item does not cost a meter's other records: a poll would otherwise ask for the
 * same range again every cycle, meet the same item and read nothing more from that meter. An answer none
 * of whose items was understood is still refused as a protocol error (a format this code does not know).
 */
class ItemsUnderstood {
  private total = 0;
  private readonly refused: string[] = [];

  constructor(private readonly what: string) {}

  /** `map(item)`, or nothing when the item is not understood (noted). */
  each<T>(items: readonly unknown[], map: (item: unknown) => T | undefined): T[] {
    const rows: T[] = [];
    for (const item of items) {
      this.total += 1;
      try {
        const row = map(item);
        if (row !== undefined) rows.push(row);
      } catch (error) {
        if (!(error instanceof DriverError) || error.kind !== 'protocol') throw error;
        this.refused.push(error.message);
      }
    }
    return rows;
  }

  /** Refuses the answer when no item of it was understood; else adds what was left out to `skipped`. */
  settle(skipped: string[]): void {
    const [first, ...more] = this.refused;
    if (first !== undefined && this.refused.length === this.total)
      throw new DriverError(
        'protocol',
        `${first}${more.length > 0 ? ` (and ${more.length} more ${this.what}(s) not understood)` : ''}`,
        false,
      );
    skipped.push(...this.refused);
  }
}

/**
 * One load-profile channel (6.3.73) → partial load_profile_data rows keyed by timestamp. Items
 * with bit5 (bad value) are left empty; items without bit0 (snapshot exists) are skipped. An item that is
 * not understood is left out and described in `skipped` (see {@link ItemsUnderstood}).
 */
export function mapLoadProfileChannel(
  answer: G13LoadProfileAnswer,
  quantity: number,
  channel: number,
  intervalSeconds: number,
  zone = 'UTC',
  skipped: string[] = [],
): LoadProfileReading[] {
  const target = LOAD_PROFILE_COLUMNS[quantity];
  if (!target) return [];
  const unit = answer.mapping?.[1] ?? '';
  const items = new ItemsUnderstood('load-profile item');
  const rows = items.each(answer.items ?? [], (item) => {
    if (!Array.isArray(item) || item.length < 3)
      throw new DriverError('protocol', 'G13 load-profile item is not [status, time, value]', false);
    const [status, time, rawValue] = item as [unknown, string, unknown];
    if ((Number(status) & 0x01) === 0) return undefined;
    const at = parseG13DateTime(time, 'load-profile time', zone);
    // A bad value (bit5) is left empty, whatever the gateway put in its place.
    const bad = (Number(status) & 0x20) !== 0;
    const value = Number(rawValue);
    if (!bad && !Number.isFinite(value))
      throw new DriverError(
        'protocol',
        `G13 load-profile value "${String(rawValue)}" is not a number`,
        false,
      );
    return {
      meter_datetime: at,
      channel_id: channel,
      interval: intervalSeconds / 60,
      [target.column]: bad ? null : round(target.kind === 'register' ? registerValue(value, unit) : value),
    };
  });
  items.settle(skipped);
  return rows;
}

/**
 * One row per timestamp and load-profile channel, in time then channel order. Each of the G13's numbered
 * load profiles (channels 1–8, one quantity each) is the UDIL channel of the same number (docs/g13.md), so
 * two channels at one time are two rows, never merged.
 */
export function mergeLoadProfileRows(rows: LoadProfileReading[]): LoadProfileReading[] {
  const byKey = new Map<string, LoadProfileReading>();
  for (const row of rows) {
    const key = `${row.meter_datetime.getTime()}|${row.channel_id}`;
    const existing = byKey.get(key);
    if (!existing) byKey.set(key, { ...row });
    else Object.assign(existing, row);
  }
  return [...byKey.values()].sort(
    (a, b) =>
      a.meter_datetime.getTime() - b.meter_datetime.getTime() || Number(a.channel_id) - Number(b.channel_id),
  );
}

/**
 * Events (6.3.51) → events rows, mapped by g13-event-codes. A power failure with a duration also
 * yields its end (112) at datetime + duration. An entry that is not understood is left out and described
 * in `skipped` (see {@link ItemsUnderstood}).
 */
export function mapEvents(
  answer: G13EventsAnswer,
  alarms: readonly G13AlarmDefinition[] = [],
  zone = 'UTC',
  skipped: string[] = [],
): MeterEventReading[] {
  const rows: MeterEventReading[] = [];
  const understood = new ItemsUnderstood('log entry');
  for (const log of ['system', 'quality', 'event'] as const) {
    const entries = understood.each(answer[log] ?? [], (item) => {
      const entry = item as { logid?: unknown; datetime?: string; duration?: number } | undefined;
      if (typeof entry?.logid !== 'number')
        throw new DriverError('protocol', `G13 ${log} log entry without a logid`, false);
      return {
        at: parseG13DateTime(entry.datetime ?? '', 'event datetime', zone),
        logid: entry.logid,
        duration: entry.duration,
      };
    });
    for (const { at, logid, duration } of entries) {
      const mapped = mapG13LogId(logid, alarms);
      rows.push({ event_datetime: at, event_code: mapped.code, event_description: mapped.description });
      if (logid === 2055 && (duration ?? 0) > 0) {
        rows.push({
          event_datetime: new Date(at.getTime() + (duration ?? 0) * 1000),
          event_code: 112,
          event_description: `Power fail end (G13 POWERFAIL_INFO, ${duration} s)`,
        });
      }
    }
  }
  understood.settle(skipped);
  return rows.sort(
    (a, b) => a.event_datetime.getTime() - b.event_datetime.getTime() || a.event_code - b.event_code,
  );
}

/** Phases from a meter label (Annexure 1: third character 1/2 single phase, 3/4 three phase). */
export function phasesFromLabel(label: string | undefined): 1 | 3 | undefined {
  const z = label?.trim().charAt(2);
  if (z === '1' || z === '2') return 1;
  if (z === '3' || z === '4') return 3;
  return undefined;
}

/** Demand codes (6.3.78) of a maximum: 5–7 billing 1, 13–15 billing 2. */
const MAX_DEMAND_CODES = new Set([5, 6, 7, 13, 14, 15]);

/**
 * Demand records (6.3.77) → active_mdi_pos_tl (kW) per period end, from the channel that holds the
 * level-1 maximum of ACTIVE_POWER_TOTAL (quantity 96). Records with bit1 (data error) or without
 * bit0 (not available) give no value.
 */
export function mapDemandMaxima(
  config: G13DemandConfigAnswer,
  answer: G13DemandAnswer,
  zone = 'UTC',
): Map<number, UdilRow> {
  const maxima = new Map<number, UdilRow>();
  const index = (config.dmc ?? []).findIndex(
    ([quantity, code]) => quantity === 96 && MAX_DEMAND_CODES.has(code) && (code - 1) % 4 === 0,
  );
  if (index < 0) return maxima;
  const unit = answer.mapping?.[index]?.[1] ?? 'W';
  for (const item of answer.items ?? []) {
    const timeTag = item.find((entry): entry is { time: string } => !Array.isArray(entry));
    const record = item[index];
    if (!timeTag || !Array.isArray(record)) continue;
    const status = Number(record[0]);
    if ((status & 0x02) !== 0 || (status & 0x01) === 0) continue;
    const value = kiloValue([record[1], unit]);
    maxima.set(parseG13DateTime(timeTag.time, 'demand time', zone).getTime(), {
      active_mdi_pos_tl: round(value),
    });
  }
  return maxima;
}
