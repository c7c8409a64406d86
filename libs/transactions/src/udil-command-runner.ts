import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DeviceDriver, OperationContext, UnsupportedOperationError } from '@hes/drivers';
import { JobName, JobQueueRepository } from '@hes/queue';
import { UdilCommand, parseUdilDatetime } from '@hes/udil';
import { ResolvedDevice } from './device-directory';
import { PollScheduleRepository } from './poll-schedule.repository';
import { VisualsValue } from './meter-visuals.repository';

export interface CommandOutcome {
  /** TRANSACTION_STATUS.response_data: what happened, in words. */
  response: string;
  /** METER_VISUALS columns this command changed. */
  visuals: Record<string, VisualsValue>;
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
    private readonly queues: JobQueueRepository,
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
        await require('setTimeOfUse')(
          device,
          {
            season: parameters.season,
            days: parameters.days,
            timeSlabs: parameters.time_slab,
            tariffIdentification: parameters.tariff_identification,
            activationDatetime: activation,
          },
          ctx,
        );
        return {
          response: `tariff ${String(parameters.tariff_identification)} programmed`,
          visuals: {
            meter_tariff_identification: JSON.stringify({
              tariff_identification: parameters.tariff_identification,
              time_slab: parameters.time_slab,
              season: parameters.season,
              days: parameters.days,
            }),
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
      case UdilCommand.UpdateIpPort:
        await this.updateRegistry(device.globalDeviceId, {
          primary_ip_address: parameters.primary_ip_address,
          secondary_ip_address: parameters.secondary_ip_address,
          primary_port: Number(parameters.primary_port),
          secondary_port: Number(parameters.secondary_port),
        });
        return {
          response: this.registryOnly(driver, command),
          visuals: {
            ippo_datetime: now,
            ippo_primary_ip_address: String(parameters.primary_ip_address),
            ippo_secondary_ip_address: String(parameters.secondary_ip_address),
            ippo_primary_port: String(parameters.primary_port),
            ippo_secondary_port: String(parameters.secondary_port),
          },
        };
      case UdilCommand.WakeUpSimNumberUpdate:
        await this.updateRegistry(device.globalDeviceId, {
          wakeup_number_1: parameters.wakeup_number_1,
          wakeup_number_2: parameters.wakeup_number_2 ?? null,
          wakeup_number_3: parameters.wakeup_number_3 ?? null,
        });
        return {
          response: this.registryOnly(driver, command),
          visuals: {
            wsim_datetime: now,
            wsim_wakeup_number_1: String(parameters.wakeup_number_1),
            wsim_wakeup_number_2: (parameters.wakeup_number_2 as string | undefined) ?? null,
            wsim_wakeup_number_3: (parameters.wakeup_number_3 as string | undefined) ?? null,
          },
        };
      case UdilCommand.ActivateMeterOpticalPort: {
        const on = this.datetime(parameters.optical_port_on_datetime);
        const off = this.datetime(parameters.optical_port_off_datetime);
        await this.updateRegistry(device.globalDeviceId, {
          optical_port_on_datetime: on,
          optical_port_off_datetime: off,
        });
        return {
          response: this.registryOnly(driver, command),
          visuals: {
            oppo_datetime: now,
            oppo_optical_port_on_datetime: on,
            oppo_optical_port_off_datetime: off,
          },
        };
      }
      case UdilCommand.MeterStatusUpdate: {
        const status = Number(parameters.meter_activation_status);
        await this.updateRegistry(device.globalDeviceId, { activation_status: status });
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
        await this.queues.replaceCronSchedules(
          JobName.LoadSheddingAction,
          `lsch:${device.globalDeviceId}:`,
          slabs.map((slab, index) => {
            const [hours, minutes, seconds] = slab.action_time.split(':').map(Number);
            return {
              id: `lsch:${device.globalDeviceId}:${index}`,
              pattern: `${seconds} ${minutes} ${hours} * * *`,
              tz: this.config.TIME_ZONE,
              startDate: start,
              endDate: end,
              data: {
                globalDeviceId: device.globalDeviceId,
                relayOperate: slab.relay_operate === 1 ? 1 : 0,
                actionTime: slab.action_time,
              },
            };
          }),
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
      case UdilCommand.DeviceCreation:
        // The executor hands device_creation to DeviceCreationService (the device is not registered yet).
        throw new Error('device_creation is carried out by DeviceCreationService, not the command runner');
    }
  }

  private datetime(value: unknown): Date {
    const parsed = typeof value === 'string' ? parseUdilDatetime(value, this.config.TIME_ZONE) : undefined;
    if (!parsed) throw new Error(`stored parameter is not a UDIL datetime: ${String(value)}`);
    return parsed;
  }

  private registryOnly(driver: DeviceDriver | undefined, command: UdilCommand): string {
    return `stored in the head-end registry; the ${driver?.name ?? 'device'} driver has no ${command} for the meter itself`;
  }

  private async updateRegistry(globalDeviceId: string, columns: Record<string, unknown>): Promise<void> {
    const names = Object.keys(columns);
    await this.dataSource.query(
      `UPDATE public.devices SET ${names.map((n, i) => `${n} = $${i + 2}`).join(', ')}, updated_at = now() WHERE global_device_id = $1`,
      [globalDeviceId, ...names.map((n) => columns[n])],
    );
  }
}
