import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import {
  DeviceDriver,
  OperationContext,
  ThresholdFunction,
  UDIL_EVENT_DESCRIPTIONS,
  UnsupportedOperationError,
} from '@hes/drivers';
import {
  APMS_FUNCTIONS,
  ApmsType,
  CancellationType,
  MajorAlarm,
  UdilCommand,
  parseUdilDatetime,
} from '@hes/udil';
import { ResolvedDevice } from './device-directory';
import { PollScheduleRepository } from './poll-schedule.repository';
import { VisualsValue } from './meter-visuals.repository';
import { LoadSheddingSchedules } from './load-shedding-schedules';

export interface CommandOutcome {
  /** TRANSACTION_STATUS.response_data: what happened, in words. */
  response: string;
  /** METER_VISUALS columns this command changed. */
  visuals: Record<string, VisualsValue>;
}

/**
 * The command takes effect at a time still to come (meter_data_sampling's activation_datetime): the
 * executor holds the row until then instead of carrying it out now.
 */
export class NotYetDueError extends Error {
  constructor(readonly dueAt: Date) {
    super(`held by the head-end until ${dueAt.toISOString()}`);
    this.name = 'NotYetDueError';
  }
}

/**
 * A time synchronisation sent again (at-least-once delivery) first reads the meter clock; within this
 * much of the head-end's time, beyond what the exchange itself cannot tell apart (resendClockDrift), it
 * is not set a second time.
 */
const RESEND_CLOCK_TOLERANCE_MS = 2000;
const WHOLE_SECOND_MS = 1000;

/**
 * How far a meter clock read between `sentAt` and `receivedAt` (epoch ms) is from head-end time, beyond
 * the exchange's own uncertainty. A meter in step answers with a time of the interval [sentAt, receivedAt]
 * (the round trip and any queueing, however long under load), in whole seconds (up to 1 s early), and a
 * clock an earlier attempt set was set in whole seconds too (up to 1 s behind): anything in
 * [sentAt − 2 s, receivedAt] is no drift at all. Comparing with the time after the answer alone made a
 * just-set clock look more than 2 s off under load, and the resend set it a second time.
 */
export function resendClockDrift(meterClock: Date, sentAt: number, receivedAt: number): number {
  const clock = meterClock.getTime();
  const earliest = sentAt - 2 * WHOLE_SECOND_MS;
  if (clock < earliest) return earliest - clock;
  return Math.max(0, clock - receivedAt);
}

/** type_parameters as stored at acceptance (UDIL text; datetimes in the configured zone). */
export type StoredParameters = Record<string, unknown>;

/**
 * Carries out one UDIL write command for one device, through its driver and/or the head-end registry
 * (UDIL_COMMANDS' plan). Throws DriverError for device faults; the executor decides between retry and failure.
 */
@Injectable()
export class UdilCommandRunner {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly polls: PollScheduleRepository,
    private readonly loadShedding: LoadSheddingSchedules,
  ) {}

  async run(
    command: UdilCommand,
    parameters: StoredParameters,
    target: ResolvedDevice,
    /** Undefined when the device's driver is not installed: only registry commands can run then. */
    driver: DeviceDriver | undefined,
    ctx: OperationContext,
  ): Promise<CommandOutcome> {
    const device = target.address;
    const now = new Date();
    const require = <K extends keyof DeviceDriver>(operation: K): NonNullable<DeviceDriver[K]> => {
      const fn = driver?.[operation];
      if (!driver || typeof fn !== 'function') {
        throw new UnsupportedOperationError(driver?.name ?? target.device.driver, String(operation));
      }
      return (fn as (...args: unknown[]) => unknown).bind(driver) as NonNullable<DeviceDriver[K]>;
    };
    /**
     * What the head-end carries out itself passes levels 2–4 at the real steps: taken up (2), its
     * registry or queue reached (3), the change written (4). A cancel that won the race stops it at 2.
     */
    const headEnd = async (what: string, act: () => Promise<void>) => {
      await ctx.progress(2, `head-end takes up ${what}`);
      await ctx.progress(3, `head-end writes ${what}`);
      await act();
      await ctx.progress(4, `head-end applied ${what}`);
    };

    switch (command) {
      case UdilCommand.AuxRelayOperations: {
        const connect = Number(parameters.relay_operate) === 1;
        await require('operateRelay')(device, connect, ctx);
        return {
          response: connect ? 'relay connected' : 'relay disconnected',
          visuals: {
            auxr_status: connect ? 1 : 0,
            auxr_datetime: now,
            [connect ? 'last_contactor_on_datetime' : 'last_contactor_off_datetime']: now,
          },
        };
      }
      case UdilCommand.TimeSynchronization: {
        if (ctx.resend && driver?.readClock) {
          // An earlier attempt may have set it: a clock already within tolerance is not set again.
          const sentAt = Date.now();
          const meterClock = await driver.readClock(device, ctx);
          const drift = resendClockDrift(meterClock, sentAt, Date.now());
          if (drift <= RESEND_CLOCK_TOLERANCE_MS)
            return {
              response: `meter clock already within ${RESEND_CLOCK_TOLERANCE_MS / 1000} s of head-end time (${meterClock.toISOString()}): not set again`,
              visuals: { dvtm_datetime: now, dvtm_meter_clock: meterClock },
            };
        }
        const time = new Date();
        await require('setClock')(device, time, ctx);
        return {
          response: `meter clock set to head-end time ${time.toISOString()}`,
          visuals: { dvtm_datetime: now, dvtm_meter_clock: time },
        };
      }
      case UdilCommand.SanctionedLoadControl: {
        const limit = {
          loadLimit: Number(parameters.load_limit),
          maximumRetries: Number(parameters.maximum_retries),
          retryIntervalSeconds: Number(parameters.retry_interval),
          thresholdDurationSeconds: Number(parameters.threshold_duration),
          retryClearIntervalSeconds: Number(parameters.retry_clear_interval),
        };
        await require('setLoadLimit')(device, limit, ctx);
        return {
          response: `load limit ${limit.loadLimit} kW set`,
          visuals: {
            meter_load_limit_set: limit.loadLimit,
            sanc_datetime: now,
            sanc_load_limit: String(limit.loadLimit),
            sanc_maximum_retries: String(limit.maximumRetries),
            sanc_retry_interval: String(limit.retryIntervalSeconds),
            sanc_threshold_duration: String(limit.thresholdDurationSeconds),
            sanc_retry_clear_interval: String(limit.retryClearIntervalSeconds),
          },
        };
      }
      case UdilCommand.TimeOfUseChange: {
        const activation = this.datetime(parameters.activation_datetime);
        const calendar = Array.isArray(parameters.day_profile) ? calendarOf(parameters) : undefined;
        await require('setTimeOfUse')(
          device,
          {
            season: parameters.season,
            days: parameters.days,
            timeSlabs: parameters.time_slab,
            tariffIdentification: parameters.tariff_identification,
            activationDatetime: activation,
            ...calendar,
          },
          ctx,
        );
        const profiles: Record<string, VisualsValue> = calendar
          ? {
              tiou_day_profile: JSON.stringify(parameters.day_profile),
              tiou_week_profile: JSON.stringify(parameters.week_profile),
              tiou_season_profile: JSON.stringify(parameters.season_profile),
              tiou_holiday_profile: JSON.stringify(parameters.holiday_profile ?? []),
            }
          : {};
        return {
          response: calendar
            ? `time of use programmed: ${calendar.dayProfiles.length} day, ${calendar.weekProfiles.length} week, ${calendar.seasonProfiles.length} season profile(s), ${calendar.holidayProfiles.length} holiday(s)`
            : `tariff ${String(parameters.tariff_identification)} programmed`,
          visuals: {
            meter_tariff_identification: JSON.stringify(
              calendar
                ? { day_profile: parameters.day_profile }
                : {
                    tariff_identification: parameters.tariff_identification,
                    time_slab: parameters.time_slab,
                    season: parameters.season,
                    days: parameters.days,
                  },
            ),
            ...profiles,
            tiou_datetime: now,
            tiou_activation_datetime: activation,
          },
        };
      }
      case UdilCommand.MeterDataSampling: {
        const sampling = {
          dataType: parameters.data_type as 'INST' | 'BILL' | 'LPRO',
          intervalMinutes: Number(parameters.sampling_interval),
          initialMinute: Number(parameters.sampling_initial_time),
          activationDatetime: this.datetime(parameters.activation_datetime),
        };
        // It takes effect at activation_datetime, not at once (3.2 §3.3.8).
        if (sampling.activationDatetime.getTime() > Date.now())
          throw new NotYetDueError(sampling.activationDatetime);
        await require('configureSampling')(device, sampling, ctx);
        // The meter now records this data every intervalMinutes: read it as often.
        await this.polls.setInterval(device.globalDeviceId, sampling.dataType, sampling.intervalMinutes);
        return {
          response: `${sampling.dataType} sampled every ${sampling.intervalMinutes} min from minute ${sampling.initialMinute}`,
          visuals: {
            mdsm_datetime: now,
            mdsm_activation_datetime: sampling.activationDatetime,
            mdsm_data_type: sampling.dataType,
            mdsm_sampling_interval: String(sampling.intervalMinutes),
            mdsm_sampling_initial_time: String(sampling.initialMinute),
          },
        };
      }
      case UdilCommand.UpdateIpPort: {
        const address = {
          primaryIpAddress: String(parameters.primary_ip_address),
          secondaryIpAddress: String(parameters.secondary_ip_address),
          primaryPort: Number(parameters.primary_port),
          secondaryPort: Number(parameters.secondary_port),
        };
        await require('setCommunicationAddress')(device, address, ctx);
        await this.updateRegistry(device.globalDeviceId, {
          primary_ip_address: address.primaryIpAddress,
          secondary_ip_address: address.secondaryIpAddress,
          primary_port: address.primaryPort,
          secondary_port: address.secondaryPort,
        });
        return {
          response: `meter connects to ${address.primaryIpAddress}:${address.primaryPort} (secondary ${address.secondaryIpAddress}:${address.secondaryPort})`,
          visuals: {
            ippo_datetime: now,
            ippo_primary_ip_address: address.primaryIpAddress,
            ippo_secondary_ip_address: address.secondaryIpAddress,
            ippo_primary_port: String(address.primaryPort),
            ippo_secondary_port: String(address.secondaryPort),
          },
        };
      }
      case UdilCommand.WakeUpSimNumberUpdate: {
        const numbers = [parameters.wakeup_number_1, parameters.wakeup_number_2, parameters.wakeup_number_3];
        await require('setWakeUpNumbers')(
          device,
          numbers.filter((n): n is string => typeof n === 'string'),
          ctx,
        );
        await this.updateRegistry(device.globalDeviceId, {
          wakeup_number_1: numbers[0],
          wakeup_number_2: numbers[1] ?? null,
          wakeup_number_3: numbers[2] ?? null,
        });
        return {
          response: 'wake-up numbers programmed',
          visuals: {
            wsim_datetime: now,
            wsim_wakeup_number_1: String(numbers[0]),
            wsim_wakeup_number_2: (numbers[1] as string | undefined) ?? null,
            wsim_wakeup_number_3: (numbers[2] as string | undefined) ?? null,
          },
        };
      }
      case UdilCommand.ActivateMeterOpticalPort: {
        const on = this.datetime(parameters.optical_port_on_datetime);
        const off = this.datetime(parameters.optical_port_off_datetime);
        await require('activateOpticalPort')(device, on, off, ctx);
        await this.updateRegistry(device.globalDeviceId, {
          optical_port_on_datetime: on,
          optical_port_off_datetime: off,
        });
        return {
          response: `optical port open from ${String(parameters.optical_port_on_datetime)} to ${String(parameters.optical_port_off_datetime)}`,
          visuals: {
            oppo_datetime: now,
            oppo_optical_port_on_datetime: on,
            oppo_optical_port_off_datetime: off,
          },
        };
      }
      case UdilCommand.MeterStatusUpdate: {
        const status = Number(parameters.meter_activation_status);
        await headEnd('the meter status', () =>
          this.updateRegistry(device.globalDeviceId, { activation_status: status }),
        );
        return {
          response:
            status === 1
              ? 'meter activated: it is read and commanded'
              : 'meter deactivated: it is neither read nor commanded',
          visuals: {
            meter_activation_status: status,
            mtst_datetime: now,
            mtst_meter_activation_status: String(status),
          },
        };
      }
      case UdilCommand.LoadSheddingScheduling: {
        // No meter behind the drivers of this version keeps a schedule itself: the head-end operates
        // the relay at each slab's action time, every day from start_datetime to end_datetime.
        const start = this.datetime(parameters.start_datetime);
        const end = this.datetime(parameters.end_datetime);
        const slabs = parameters.load_shedding_slabs as { action_time: string; relay_operate: number }[];
        if (!driver?.operateRelay)
          throw new UnsupportedOperationError(driver?.name ?? target.device.driver, 'operateRelay');
        // Stored in PostgreSQL first, then fired by job schedulers that are rebuilt from it if the queue loses them.
        await headEnd('the load-shedding schedule', () =>
          this.loadShedding.schedule(device.globalDeviceId, start, end, slabs),
        );
        const slabsText = JSON.stringify(slabs);
        return {
          response: `${slabs.length} slab(s) scheduled by the head-end from ${String(parameters.start_datetime)} to ${String(parameters.end_datetime)}`,
          visuals: {
            meter_ls_schedule_startdatetime: start,
            meter_ls_schedule_enddatetime: end,
            meter_ls_schedule_slabs: slabsText,
            lsch_datetime: now,
            lsch_start_datetime: start,
            lsch_end_datetime: end,
            lsch_load_shedding_slabs: slabsText,
          },
        };
      }
      case UdilCommand.UpdateDeviceMetadata: {
        const metadata = {
          communication_mode: Number(parameters.communication_mode),
          bidirectional_device: Number(parameters.bidirectional_device) === 1,
          communication_type: Number(parameters.communication_type),
          initial_communication_time: String(parameters.initial_communication_time),
          communication_interval: Number(parameters.communication_interval),
          phase: Number(parameters.phase),
          meter_type: Number(parameters.meter_type),
        };
        await headEnd('the device metadata', () => this.updateRegistry(device.globalDeviceId, metadata));
        return {
          response: 'device metadata recorded in the head-end registry',
          visuals: {
            dmdt_datetime: now,
            dmdt_communication_mode: String(metadata.communication_mode),
            dmdt_bidirectional_device: metadata.bidirectional_device ? '1' : '0',
            dmdt_communication_type: String(metadata.communication_type),
            dmdt_communication_interval: String(metadata.communication_interval),
            dmdt_initial_communication_time: metadata.initial_communication_time,
            dmdt_phase: String(metadata.phase),
            dmdt_meter_type: String(metadata.meter_type),
          },
        };
      }
      case UdilCommand.UpdateMdiResetDate: {
        const reset = {
          dayOfMonth: Number(parameters.mdi_reset_date),
          time: String(parameters.mdi_reset_time),
        };
        await require('setBillingReset')(device, reset, ctx);
        await this.updateRegistry(device.globalDeviceId, {
          mdi_reset_date: reset.dayOfMonth,
          mdi_reset_time: reset.time,
        });
        return {
          response: `MDI reset on day ${reset.dayOfMonth} at ${reset.time}`,
          visuals: { mdi_reset_date: reset.dayOfMonth, mdi_reset_time: reset.time },
        };
      }
      case UdilCommand.ApmsTrippingEvents: {
        const type = parameters.type as ApmsType;
        const alarm = {
          function: APMS_FUNCTIONS[type],
          critical: {
            threshold: Number(parameters.critical_event_threshold_limit),
            delaySeconds: Number(parameters.critical_event_log_time),
          },
          tripping: {
            threshold: Number(parameters.tripping_event_threshold_limit),
            delaySeconds: Number(parameters.tripping_event_log_time),
          },
          trippingEnabled: Number(parameters.enable_tripping) === 1,
        };
        await require('setThresholdAlarm')(device, alarm, ctx);
        const prefix = type.toLowerCase();
        return {
          response: `${type} (${alarm.function}) thresholds set, tripping ${alarm.trippingEnabled ? 'enabled' : 'disabled'}`,
          visuals: {
            [`${prefix}_datetime`]: now,
            [`${prefix}_critical_event_threshold_limit`]: String(parameters.critical_event_threshold_limit),
            [`${prefix}_critical_event_log_time`]: String(parameters.critical_event_log_time),
            [`${prefix}_tripping_event_threshold_limit`]: String(parameters.tripping_event_threshold_limit),
            [`${prefix}_tripping_event_log_time`]: String(parameters.tripping_event_log_time),
            [`${prefix}_enable_tripping`]: String(parameters.enable_tripping),
          },
        };
      }
      case UdilCommand.ParameterizationCancellation:
        return this.cancelParameterization(
          parameters.type as CancellationType,
          target,
          require,
          headEnd,
          ctx,
        );
      case UdilCommand.UpdateMajorAlarms: {
        const alarms = (parameters.major_alarms_list as MajorAlarm[]).map((alarm) => ({
          event_code: alarm.event_code,
          event_description:
            alarm.event_description || (UDIL_EVENT_DESCRIPTIONS[Number(alarm.event_code)] ?? ''),
        }));
        return {
          response: `major alarms: ${alarms.map((a) => a.event_code).join(', ')}`,
          visuals: { pmal_datetime: now, pmal_major_alarms_list: JSON.stringify(alarms) },
        };
      }
      case UdilCommand.DeviceCreation:
        // The executor hands device_creation to DeviceCreationService (the device is not registered yet).
        throw new Error('device_creation is carried out by DeviceCreationService, not the command runner');
    }
  }

  /** parameterization_cancellation (3.2 §3.3.15): the function back to its default, its visuals cleared. */
  private async cancelParameterization(
    type: CancellationType,
    target: ResolvedDevice,
    require: <K extends keyof DeviceDriver>(operation: K) => NonNullable<DeviceDriver[K]>,
    headEnd: (what: string, act: () => Promise<void>) => Promise<void>,
    ctx: OperationContext,
  ): Promise<CommandOutcome> {
    const device = target.address;
    const now = new Date();
    switch (type) {
      case 'SANC':
        await require('setLoadLimit')(
          device,
          {
            loadLimit: 0,
            maximumRetries: 0,
            retryIntervalSeconds: 0,
            thresholdDurationSeconds: 0,
            retryClearIntervalSeconds: 0,
          },
          ctx,
        );
        return {
          response: 'sanctioned load limit removed (device default)',
          visuals: {
            meter_load_limit_set: null,
            ...cleared('sanc', [
              'load_limit',
              'maximum_retries',
              'retry_interval',
              'threshold_duration',
              'retry_clear_interval',
            ]),
            sanc_datetime: now,
          },
        };
      case 'LSCH':
        await headEnd('the removal of the load-shedding schedule', () =>
          this.loadShedding.remove(device.globalDeviceId),
        );
        return {
          response: 'load-shedding schedule removed',
          visuals: {
            meter_ls_schedule_startdatetime: null,
            meter_ls_schedule_enddatetime: null,
            meter_ls_schedule_slabs: null,
            ...cleared('lsch', ['start_datetime', 'end_datetime', 'load_shedding_slabs']),
            lsch_datetime: now,
          },
        };
      case 'TIOU':
        await require('resetTimeOfUse')(device, ctx);
        return {
          response: 'time of use back to the device default (single tariff)',
          visuals: {
            meter_tariff_identification: null,
            ...cleared('tiou', [
              'day_profile',
              'week_profile',
              'season_profile',
              'holiday_profile',
              'activation_datetime',
            ]),
            tiou_datetime: now,
          },
        };
      default: {
        const fn: ThresholdFunction = APMS_FUNCTIONS[type];
        await require('clearThresholdAlarm')(device, fn, ctx);
        const prefix = type.toLowerCase();
        return {
          response: `${type} (${fn}) thresholds removed (device default)`,
          visuals: {
            ...cleared(prefix, [
              'critical_event_threshold_limit',
              'critical_event_log_time',
              'tripping_event_threshold_limit',
              'tripping_event_log_time',
              'enable_tripping',
            ]),
            [`${prefix}_datetime`]: now,
          },
        };
      }
    }
  }

  private datetime(value: unknown): Date {
    const parsed = typeof value === 'string' ? parseUdilDatetime(value, this.config.TIME_ZONE) : undefined;
    if (!parsed) throw new Error(`stored parameter is not a UDIL datetime: ${String(value)}`);
    return parsed;
  }

  private async updateRegistry(globalDeviceId: string, columns: Record<string, unknown>): Promise<void> {
    const names = Object.keys(columns);
    await this.dataSource.query(
      `UPDATE public.devices SET ${names.map((n, i) => `${n} = $${i + 2}`).join(', ')}, updated_at = now() WHERE global_device_id = $1`,
      [globalDeviceId, ...names.map((n) => columns[n])],
    );
  }
}

/** METER_VISUALS columns `<prefix>_<field>` set to NULL. */
function cleared(prefix: string, fields: string[]): Record<string, VisualsValue> {
  return Object.fromEntries(fields.map((field) => [`${prefix}_${field}`, null]));
}

/** The UDIL 3.2 calendar of update_time_of_use, in the drivers' terms. */
function calendarOf(parameters: StoredParameters) {
  const days = parameters.day_profile as { name: string; tariff_slabs: string[] }[];
  const weeks = parameters.week_profile as { name: string; weekly_day_profile: string[] }[];
  const seasons = parameters.season_profile as {
    name: string;
    week_profile_name: string;
    start_date: string;
  }[];
  const holidays = (parameters.holiday_profile ?? []) as {
    name: string;
    date: string;
    day_profile_name: string;
  }[];
  return {
    dayProfiles: days.map((d) => ({ name: d.name, tariffSlabs: d.tariff_slabs })),
    weekProfiles: weeks.map((w) => ({ name: w.name, weeklyDayProfile: w.weekly_day_profile })),
    seasonProfiles: seasons.map((s) => ({
      name: s.name,
      weekProfileName: s.week_profile_name,
      startDate: s.start_date,
    })),
    holidayProfiles: holidays.map((h) => ({
      name: h.name,
      date: h.date,
      dayProfileName: h.day_profile_name,
    })),
  };
}
