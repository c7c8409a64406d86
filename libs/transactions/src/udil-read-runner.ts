import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DateRange, DeviceDriver, OperationContext, UdilRow, UnsupportedOperationError } from '@hes/drivers';
import { ReadingTable, UdilReadingsRepository } from '@hes/readings';
import { OnDemandType, UdilRecord, formatUdilRecord, parseUdilDatetime } from '@hes/udil';
import { ResolvedDevice } from './device-directory';
import { MeterVisualsRepository, VisualsValue } from './meter-visuals.repository';

export interface ReadOutcome {
  /** TRANSACTION_STATUS.response_data: the rows read, as UDIL strings (spec 4.14). */
  response: string;
  rows: number;
  /** What the device could not provide (its fields are empty), when the read succeeded with less. */
  remarks?: string;
}

const TABLE_OF: Record<Exclude<OnDemandType, OnDemandType.Visuals>, ReadingTable> = {
  [OnDemandType.Instantaneous]: 'instantaneous_data',
  [OnDemandType.Billing]: 'billing_data',
  [OnDemandType.MonthlyBilling]: 'monthly_billing_data',
  [OnDemandType.LoadProfile]: 'load_profile_data',
  [OnDemandType.Events]: 'events',
};

/** Instantaneous values that METER_VISUALS keeps with the datetime they were reported at. */
const DATED_POWERS = [
  'aggregate_active_pwr_pos',
  'aggregate_active_pwr_neg',
  'aggregate_reactive_pwr_pos',
  'aggregate_reactive_pwr_neg',
];
const PLAIN_INSTANT = [
  'current_phase_a',
  'current_phase_b',
  'current_phase_c',
  'voltage_phase_a',
  'voltage_phase_b',
  'voltage_phase_c',
  'frequency',
  'average_pf',
];
/**
 * Billing totals → their METER_VISUALS names of UDIL 3.2 (the repository also fills the 2019 names,
 * `last_…`, from GENERATION_ALIASES).
 */
const ENERGY_TOTALS: [string, string][] = [
  ['active_energy_pos_tl', 'active_energy_pos_tl'],
  ['active_energy_neg_tl', 'active_energy_neg_tl'],
  ['reactive_energy_pos_tl', 'reactive_energy_pos_tl'],
  ['reactive_energy_neg_tl', 'reactive_energy_neg_tl'],
  ['active_energy_abs_tl', 'aggregate_active_energy_abs_tl'],
  ['reactive_energy_abs_tl', 'aggregate_reactive_energy_abs_tl'],
];

/**
 * Carries out one on-demand read for one device: the driver reads, the rows land in their UDIL table
 * (idempotent upsert), METER_VISUALS takes the latest values, and the rows are the response_data.
 */
@Injectable()
export class UdilReadRunner {
  constructor(
    private readonly readings: UdilReadingsRepository,
    private readonly visuals: MeterVisualsRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * An on-demand request: the range comes from the stored request parameters (UDIL text); an LPRO request's
   * optional `channel_id` selects the channel whose rows are answered (every channel is read and stored).
   */
  run(
    type: OnDemandType,
    parameters: Record<string, unknown>,
    target: ResolvedDevice,
    driver: DeviceDriver | undefined,
    ctx: OperationContext,
  ): Promise<ReadOutcome> {
    const ranged =
      type === OnDemandType.MonthlyBilling ||
      type === OnDemandType.LoadProfile ||
      type === OnDemandType.Events;
    const channel = type === OnDemandType.LoadProfile ? parameters.channel_id : undefined;
    return this.read(type, ranged ? this.range(parameters) : undefined, target, driver, ctx, {
      channelId: channel === undefined || channel === null || channel === '' ? undefined : Number(channel),
    });
  }

  /**
   * Reads `type` (for a range where the type has one) into its UDIL table and METER_VISUALS, and answers
   * the stored rows (of one load-profile channel if `channelId` is given; none when `respond` is false).
   */
  async read(
    type: OnDemandType,
    range: DateRange | undefined,
    target: ResolvedDevice,
    driver: DeviceDriver | undefined,
    ctx: OperationContext,
    answer: { respond?: boolean; channelId?: number } = {},
  ): Promise<ReadOutcome> {
    const device = target.address;
    // A read that succeeds with less than asked says so (the resources the meter lacks).
    const remarks: string[] = [];
    const caller = ctx;
    ctx = {
      ...caller,
      remark: (text) => {
        remarks.push(text);
        caller.remark?.(text);
      },
    };
    const owner = { globalDeviceId: device.globalDeviceId, msn: target.device.msn };
    const operation = <K extends keyof DeviceDriver>(name: K): NonNullable<DeviceDriver[K]> => {
      const fn = driver?.[name];
      if (!driver || typeof fn !== 'function')
        throw new UnsupportedOperationError(driver?.name ?? target.device.driver, String(name));
      return (fn as (...args: unknown[]) => unknown).bind(driver) as NonNullable<DeviceDriver[K]>;
    };

    let rows: UdilRow[];
    switch (type) {
      case OnDemandType.Instantaneous:
      case OnDemandType.Visuals:
        rows = [await operation('readInstantaneous')(device, ctx)];
        break;
      case OnDemandType.Billing:
        rows = [await operation('readBilling')(device, ctx)];
        break;
      case OnDemandType.MonthlyBilling:
        rows = await operation('readMonthlyBilling')(device, this.required(range), ctx);
        break;
      case OnDemandType.LoadProfile:
        rows = await operation('readLoadProfile')(device, this.required(range), ctx);
        break;
      case OnDemandType.Events:
        rows = await operation('readEvents')(device, this.required(range), ctx);
        break;
    }
    const table = TABLE_OF[type === OnDemandType.Visuals ? OnDemandType.Instantaneous : type];
    const stored = await this.readings.upsert(table, owner, rows);
    await this.visuals.update(owner.globalDeviceId, owner.msn, this.visualsFrom(type, rows));

    if (type === OnDemandType.Visuals) {
      const [visuals] = await this.dataSource.query<Record<string, unknown>[]>(
        `SELECT * FROM udil.meter_visuals WHERE global_device_id = $1`,
        [owner.globalDeviceId],
      );
      return { ...this.outcome([this.format('meter_visuals', visuals)], remarks), rows: 1 };
    }
    // A poll keeps nothing of the answer: the rows are not read back.
    if (answer.respond === false)
      return {
        response: '',
        ...(remarks.length > 0 ? { remarks: remarks.join('; ') } : {}),
        rows: stored.rows.length,
      };
    // The response is the rows as the table holds them: every key of the record, a value or "".
    const held = await this.readings.stored(table, stored.rows);
    const answered =
      answer.channelId === undefined
        ? held
        : held.filter((row) => Number(row.channel_id) === answer.channelId);
    return {
      ...this.outcome(
        answered.map((row) => this.format(table, row)),
        remarks,
      ),
      rows: stored.rows.length,
    };
  }

  /**
   * response_data: the rows, each with the read's remarks when the device could not provide
   * everything; with no row, the remarks themselves (response_data holds JSON or a sentence).
   */
  private outcome(rows: Record<string, string>[], remarks: string[]): Omit<ReadOutcome, 'rows'> {
    if (remarks.length === 0) return { response: JSON.stringify(rows) };
    const text = remarks.join('; ');
    if (rows.length === 0) return { response: `no rows read: ${text}`, remarks: text };
    return { response: JSON.stringify(rows.map((row) => ({ ...row, remarks: text }))), remarks: text };
  }

  private required(range: DateRange | undefined): DateRange {
    if (!range) throw new Error('this data type is read for a range, and none was given');
    return range;
  }

  private range(parameters: Record<string, unknown>): DateRange {
    const from = parseUdilDatetime(String(parameters.start_datetime), this.config.TIME_ZONE);
    const to = parseUdilDatetime(String(parameters.end_datetime), this.config.TIME_ZONE);
    if (!from || !to) throw new Error('stored on-demand request has no valid start_datetime/end_datetime');
    return { from, to };
  }

  /** The latest values of a read, for METER_VISUALS (replaced with the next latest update). */
  private visualsFrom(type: OnDemandType, rows: UdilRow[]): Record<string, VisualsValue> {
    const now = new Date();
    const columns: Record<string, VisualsValue> = {
      last_communication_datetime: now,
      mdc_read_datetime: now,
    };
    const latest = [...rows].sort((a, b) => time(b) - time(a))[0];
    if (!latest) return columns;
    const at = (latest.meter_datetime ?? latest.event_datetime) as Date | undefined;
    if (at) {
      // And 2019's meter_last_comm_datetime (GENERATION_ALIASES).
      columns.meter_datetime = at;
    }
    if (type === OnDemandType.Instantaneous || type === OnDemandType.Visuals) {
      for (const name of DATED_POWERS) {
        if (typeof latest[name] === 'number') {
          columns[name] = latest[name];
          columns[`${name}_datetime`] = at ?? now;
        }
      }
      for (const name of PLAIN_INSTANT) if (typeof latest[name] === 'number') columns[name] = latest[name];
      if (typeof latest.signal_strength === 'number') columns.last_signal_strength = latest.signal_strength;
    }
    if (type === OnDemandType.Billing || type === OnDemandType.MonthlyBilling) {
      for (const [source, name] of ENERGY_TOTALS) {
        if (typeof latest[source] !== 'number') continue;
        columns[name] = latest[source];
        columns[`${name}_datetime`] = at ?? now;
      }
    }
    return columns;
  }

  /** A stored row as a UDIL data item: every key of its record, datetimes in the configured zone. */
  private format(record: UdilRecord, row: Record<string, unknown>): Record<string, string> {
    return formatUdilRecord(record, row, this.config.TIME_ZONE);
  }
}

function time(row: UdilRow): number {
  const at = row.meter_datetime ?? row.event_datetime;
  return at instanceof Date ? at.getTime() : 0;
}
