import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import {
  DeviceDriver,
  MeterOperation,
  OperationContext,
  TimeOfUseCalendar,
  UnsupportedOperationError,
  implementsOperation,
  operationRefusal,
} from '@hes/drivers';
import {
  APMS_FUNCTIONS,
  ApmsType,
  PARAMETER_COLUMNS,
  PARAMETER_DESCRIPTIONS,
  ParameterType,
  UdilValue,
  formatUdilDatetime,
  apmsTypeOf,
} from '@hes/udil';
import { ResolvedDevice } from './device-directory';
import { MeterVisualsRepository, VisualsValue } from './meter-visuals.repository';

/** One device's answer to a parameter read: global_device_id, msn, indv_status, remarks and the type's columns. */
export type ParameterItem = Record<string, UdilValue>;

export interface ParameterOutcome {
  /** TRANSACTION_STATUS.response_data: `[item]` as JSON. */
  response: string;
  item: ParameterItem;
  /** METER_VISUALS columns read from the device (none when everything came from the record). */
  visuals: Record<string, VisualsValue>;
  /** One line for METER_VISUALS.last_command_resp and the communication log. */
  summary: string;
}

/** What the device answered: the columns it gave, or why it was not asked. */
type DeviceAnswer =
  | {
      columns: Record<string, VisualsValue>;
      /** Other METER_VISUALS columns the same values fill (the UDIL 2019 names). */
      alsoVisuals?: Record<string, VisualsValue>;
      note?: string;
      missing?: string;
    }
  | { unavailable: string };

/** Why a type is never read from a device: what the head-end itself keeps. */
const HEAD_END_STATE: Partial<Record<ParameterType, string>> = {
  [ParameterType.LoadShedding]: 'the head-end keeps the load-shedding schedule and operates the relay itself',
  [ParameterType.MeterStatus]:
    'meter status is head-end state (inactive meters are neither read nor commanded)',
  [ParameterType.DeviceMetadata]: 'device metadata is the head-end registry',
  [ParameterType.MajorAlarms]: 'the major alarms list is kept by the head-end (update_major_alarms)',
};

/** The driver operation that reads a type from the device; the other types are the head-end's record. */
const DEVICE_READS: Partial<Record<ParameterType, MeterOperation>> = {
  [ParameterType.AuxRelay]: 'readSupplyRelay',
  [ParameterType.DeviceTime]: 'readClock',
  [ParameterType.SanctionedLoad]: 'readLoadLimit',
  [ParameterType.DataSampling]: 'readSampling',
  [ParameterType.TimeOfUse]: 'readTimeOfUse',
};

const deviceReadOf = (type: ParameterType): MeterOperation | undefined =>
  DEVICE_READS[type] ?? (apmsTypeOf(type) ? 'readThresholdAlarm' : undefined);

const SAMPLED_TYPES = ['INST', 'BILL', 'LPRO'] as const;

const text = (value: number | undefined): VisualsValue => (value === undefined ? null : String(value));

/**
 * Carries out one parameter read (§3.4.2, PMAL of 3.3) for one device: the driver reads what the device
 * holds (relay state, clock, load limit, sampling interval, tariff calendar, protection thresholds);
 * every other column is the head-end's record in METER_VISUALS of what it last programmed. The remark
 * says which column came from where; values read from the device also update METER_VISUALS.
 */
@Injectable()
export class UdilParameterRunner {
  constructor(
    private readonly visuals: MeterVisualsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Whether answering `type` for this device exchanges anything with it. When it does not (head-end
   * state, an inactive meter, a driver without the read) the head-end's record answers alone: no gateway
   * lease is taken, so a hung gateway does not delay it.
   */
  touchesDevice(type: ParameterType, target: ResolvedDevice, driver: DeviceDriver | undefined): boolean {
    if (HEAD_END_STATE[type] || target.device.activationStatus === 0) return false;
    const operation = deviceReadOf(type);
    return operation !== undefined && driver !== undefined && implementsOperation(driver, operation);
  }

  async run(
    type: ParameterType,
    target: ResolvedDevice,
    driver: DeviceDriver | undefined,
    ctx: OperationContext,
  ): Promise<ParameterOutcome> {
    const record = (await this.visuals.find(target.device.globalDeviceId)) ?? {};
    const answer = await this.readDevice(type, target, driver, ctx, record);
    if ('unavailable' in answer) {
      // The head-end's own steps, stamped at the real times it passes them (docs/architecture.md, core idea 2).
      await ctx.progress(2, `${type}: ${answer.unavailable}`);
      await ctx.progress(3, "answering from the head-end's record (METER_VISUALS)");
      await ctx.progress(4, 'record read');
    }

    const columns = PARAMETER_COLUMNS[type];
    const fromDevice = 'columns' in answer ? answer.columns : {};
    const deviceNames = columns.filter((name) => name in fromDevice);
    const recordNames = columns.filter((name) => !(name in fromDevice));
    const item: ParameterItem = {
      global_device_id: target.device.globalDeviceId,
      msn: target.device.msn,
      indv_status: '1',
      remarks: this.remarks(type, answer, driver, deviceNames, recordNames),
    };
    for (const name of columns) {
      if (name === 'major_alarms_list') item[name] = majorAlarms(record.pmal_major_alarms_list);
      else item[name] = this.format(name in fromDevice ? fromDevice[name] : record[name]);
    }
    const source =
      deviceNames.length === 0 ? 'head-end record' : recordNames.length === 0 ? 'meter' : 'meter and record';
    return {
      response: JSON.stringify([item]),
      item,
      visuals: { ...fromDevice, ...('alsoVisuals' in answer ? answer.alsoVisuals : {}) },
      summary: `${type} read (${source})`,
    };
  }

  private async readDevice(
    type: ParameterType,
    target: ResolvedDevice,
    driver: DeviceDriver | undefined,
    ctx: OperationContext,
    record: Record<string, unknown>,
  ): Promise<DeviceAnswer> {
    const headEnd = HEAD_END_STATE[type];
    if (headEnd) return { unavailable: headEnd };
    if (target.device.activationStatus === 0)
      return { unavailable: 'the meter is inactive and is not read (meter_status_update 1 activates it)' };
    const name = driver?.name ?? target.device.driver;
    // The driver has no such read: its own reason where it gives one (capabilities.refusals).
    const cannot = (operation: MeterOperation): DeviceAnswer => ({
      unavailable:
        (driver && operationRefusal(driver, operation)?.message) ??
        `the ${name} driver cannot read it from the device`,
    });
    const device = target.address;
    const now = new Date();
    try {
      switch (type) {
        case ParameterType.AuxRelay: {
          if (!driver?.readSupplyRelay) return cannot('readSupplyRelay');
          const connected = await driver.readSupplyRelay(device, ctx);
          return { columns: { auxr_datetime: now, auxr_status: connected ? 1 : 0 } };
        }
        case ParameterType.DeviceTime: {
          if (!driver?.readClock) return cannot('readClock');
          return { columns: { dvtm_datetime: now, dvtm_meter_clock: await driver.readClock(device, ctx) } };
        }
        case ParameterType.SanctionedLoad: {
          if (!driver?.readLoadLimit) return cannot('readLoadLimit');
          const limit = await driver.readLoadLimit(device, ctx);
          const columns: Record<string, VisualsValue> = {
            sanc_datetime: now,
            sanc_load_limit: text(limit.loadLimit),
          };
          const alsoVisuals = { meter_load_limit_set: limit.loadLimit ?? null };
          if (limit.loadLimit === 0) {
            // No limit on the meter: none of the other settings apply.
            for (const field of PARAMETER_COLUMNS[type].slice(2)) columns[field] = null;
            return { columns, alsoVisuals, note: 'no load limit is set on the meter' };
          }
          const fields: Array<[string, number | undefined]> = [
            ['sanc_maximum_retries', limit.maximumRetries],
            ['sanc_retry_interval', limit.retryIntervalSeconds],
            ['sanc_threshold_duration', limit.thresholdDurationSeconds],
            ['sanc_retry_clear_interval', limit.retryClearIntervalSeconds],
          ];
          for (const [field, value] of fields) if (value !== undefined) columns[field] = text(value);
          return { columns, alsoVisuals, missing: 'the meter has no such setting' };
        }
        case ParameterType.DataSampling: {
          if (!driver?.readSampling) return cannot('readSampling');
          // The data type last programmed (LPRO when none was): the meter keeps one interval per type.
          const dataType = SAMPLED_TYPES.find((t) => t === record.mdsm_data_type) ?? 'LPRO';
          const sampling = await driver.readSampling(device, dataType, ctx);
          const columns: Record<string, VisualsValue> = { mdsm_datetime: now, mdsm_data_type: dataType };
          if (sampling.intervalMinutes !== undefined)
            columns.mdsm_sampling_interval = text(sampling.intervalMinutes);
          if (sampling.initialMinute !== undefined)
            columns.mdsm_sampling_initial_time = text(sampling.initialMinute);
          if (sampling.activationDatetime) columns.mdsm_activation_datetime = sampling.activationDatetime;
          return { columns, missing: 'the meter keeps no such setting' };
        }
        case ParameterType.TimeOfUse: {
          if (!driver?.readTimeOfUse) return cannot('readTimeOfUse');
          return {
            columns: { tiou_datetime: now, ...timeOfUseColumns(await driver.readTimeOfUse(device, ctx)) },
            missing: 'the meter keeps no activation datetime',
          };
        }
        default: {
          const apms = apmsTypeOf(type);
          if (apms) return await this.readThresholdAlarm(apms, device, driver, ctx, cannot);
          return { unavailable: `the ${name} driver cannot read it from the device` };
        }
      }
    } catch (error) {
      // A function this device cannot watch at all: the record answers, with the driver's reason.
      if (error instanceof UnsupportedOperationError) return { unavailable: error.message };
      throw error;
    }
  }

  private async readThresholdAlarm(
    type: ApmsType,
    device: ResolvedDevice['address'],
    driver: DeviceDriver | undefined,
    ctx: OperationContext,
    cannot: (operation: MeterOperation) => DeviceAnswer,
  ): Promise<DeviceAnswer> {
    if (!driver?.readThresholdAlarm) return cannot('readThresholdAlarm');
    const prefix = type.toLowerCase();
    const setting = await driver.readThresholdAlarm(device, APMS_FUNCTIONS[type], ctx);
    const columns: Record<string, VisualsValue> = { [`${prefix}_datetime`]: new Date() };
    if (!setting) {
      for (const field of PARAMETER_COLUMNS[type].slice(1)) columns[field] = null;
      columns[`${prefix}_enable_tripping`] = '0';
      return { columns, note: 'the function is not configured on the meter' };
    }
    const fields: Array<[string, number | boolean | undefined]> = [
      ['critical_event_threshold_limit', setting.critical?.threshold],
      ['critical_event_log_time', setting.critical?.delaySeconds],
      ['tripping_event_threshold_limit', setting.tripping?.threshold],
      ['tripping_event_log_time', setting.tripping?.delaySeconds],
      ['enable_tripping', setting.trippingEnabled],
    ];
    for (const [field, value] of fields) {
      if (value !== undefined)
        columns[`${prefix}_${field}`] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    }
    return { columns, missing: 'the meter has no such setting' };
  }

  private remarks(
    type: ParameterType,
    answer: DeviceAnswer,
    driver: DeviceDriver | undefined,
    deviceNames: string[],
    recordNames: string[],
  ): string {
    const what = PARAMETER_DESCRIPTIONS[type];
    if ('unavailable' in answer)
      return `${what} from the head-end's record of what it last programmed (METER_VISUALS): ${answer.unavailable}`;
    const read = `read from the meter through the ${driver?.name ?? 'device'} driver`;
    const note = answer.note ? `: ${answer.note}` : '';
    if (recordNames.length === 0) return `${what} ${read}${note}`;
    return `${what}: ${deviceNames.join(', ')} ${read}${note}; ${recordNames.join(', ')} from the head-end's record (${answer.missing ?? 'not read'})`;
  }

  /** A METER_VISUALS value as UDIL text: datetimes in the configured zone, nulls empty. */
  private format(value: unknown): string {
    if (value === null || value === undefined) return '';
    if (value instanceof Date) return formatUdilDatetime(value, this.config.TIME_ZONE);
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return JSON.stringify(value);
  }
}

/** The calendar in the JSON of update_time_of_use (§3.3.5, example 4.7), one column per profile list. */
function timeOfUseColumns(calendar: TimeOfUseCalendar): Record<string, VisualsValue> {
  return {
    tiou_day_profile: JSON.stringify(
      calendar.dayProfiles.map((d) => ({ name: d.name, tariff_slabs: d.tariffSlabs })),
    ),
    tiou_week_profile: JSON.stringify(
      calendar.weekProfiles.map((w) => ({ name: w.name, weekly_day_profile: w.weeklyDayProfile })),
    ),
    tiou_season_profile: JSON.stringify(
      calendar.seasonProfiles.map((s) => ({
        name: s.name,
        week_profile_name: s.weekProfileName,
        start_date: s.startDate,
      })),
    ),
    tiou_holiday_profile: JSON.stringify(
      calendar.holidayProfiles.map((h) => ({
        name: h.name,
        date: h.date,
        day_profile_name: h.dayProfileName,
      })),
    ),
  };
}

/** pmal_major_alarms_list (JSON text) as `[{event_code, event_description}]` strings; [] when none. */
export function majorAlarms(stored: unknown): UdilValue {
  if (typeof stored !== 'string' || stored.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.map((entry: unknown) => {
    const alarm = (entry && typeof entry === 'object' ? entry : { event_code: entry }) as Record<
      string,
      unknown
    >;
    const part = (value: unknown) =>
      typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    return { event_code: part(alarm.event_code), event_description: part(alarm.event_description) };
  });
}
