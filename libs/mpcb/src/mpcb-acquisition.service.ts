import { Inject, Injectable, Logger } from '@nestjs/common';
import { GatewayRepository } from '@hes/database';
import { gatewayEndpointOf } from '@hes/transactions';
import {
  DeviceDriver,
  DriverError,
  DriverRegistry,
  GatewayEndpoint,
  OperationContext,
  UnsupportedOperationError,
} from '@hes/drivers';
import { MpcbCalibrationRepository, CalibrationWindow, inCalibration } from './mpcb-calibration.repository';
import { MPCB_CLOCK, MpcbClock } from './mpcb-clock';
import { MpcbReadingRepository, NewReading } from './mpcb-reading.repository';
import { MPCB_SETTINGS, MpcbSettings } from './mpcb-settings';
import { AcquisitionTarget, MPCB_SOURCE_OPERATIONS, MpcbSiteRepository } from './mpcb-site.repository';

/** Data quality codes written in DATA_QUALITY_CODE (docs/mpcb.md). */
export enum QualityCode {
  /** Valid reading (the document's sample code). */
  Valid = 'U',
  /** Taken while the analyser was being calibrated. */
  Calibration = 'C',
  /** Taken while the analyser was in maintenance. */
  Maintenance = 'M',
  /** Outside the parameter's gauge range. */
  OutOfRange = 'O',
  /**
   * Suspect: the device's own timestamp of the reading is further than MPCB_CLOCK_TOLERANCE_SECONDS from
   * the time it was captured (a unit whose clock stopped or was never set), so the value may not be the
   * current one. The document lists no codes (its sample shows only U): see docs/mpcb.md for the choice.
   */
  Suspect = 'S',
}

/** The conditions a reading's quality code is decided from. */
export interface ReadingCondition {
  validated: number;
  gaugeMinimum: number | null;
  gaugeMaximum: number | null;
  calibrating: boolean;
  maintenance: boolean;
  /** The device's timestamp of the value (null when the device gives none). */
  deviceTime: Date | null;
  /** When the head-end captured it. */
  captureTime: Date;
  clockToleranceSeconds: number;
}

/** True when the device's timestamp is further from the capture time than the tolerance. */
export function clockSuspect(
  deviceTime: Date | null,
  captureTime: Date,
  clockToleranceSeconds: number,
): boolean {
  if (deviceTime === null) return false;
  return Math.abs(deviceTime.getTime() - captureTime.getTime()) > clockToleranceSeconds * 1000;
}

export interface AcquisitionFailure {
  gateway: string;
  parameters: string[];
  error: string;
}

export interface AcquisitionResult {
  readingTime: Date;
  stored: number;
  failures: AcquisitionFailure[];
}

/** validated = A × raw + B, without binary-float noise such as 3.3000000000000003. */
export function linearise(raw: number, coefficientA: number, coefficientB: number): number {
  return Number((coefficientA * raw + coefficientB).toPrecision(12));
}

/**
 * Precedence M > C > S > O > U: maintenance and calibration are declared states that explain the value;
 * a suspect clock means the value may not be the current one at all, so its range says little.
 */
export function qualityOf(reading: ReadingCondition): QualityCode {
  const { validated, gaugeMinimum, gaugeMaximum } = reading;
  if (reading.maintenance) return QualityCode.Maintenance;
  if (reading.calibrating) return QualityCode.Calibration;
  if (clockSuspect(reading.deviceTime, reading.captureTime, reading.clockToleranceSeconds))
    return QualityCode.Suspect;
  if (
    (gaugeMinimum !== null && validated < gaugeMinimum) ||
    (gaugeMaximum !== null && validated > gaugeMaximum)
  )
    return QualityCode.OutOfRange;
  return QualityCode.Valid;
}

const quietContext: OperationContext = { progress: () => undefined };

/**
 * One acquisition cycle: reads every configured parameter from its driver (one readSensors per iServer 2,
 * one readInstantaneous per G13 meter), linearises it, flags calibration and maintenance, and stores the
 * readings before anything is sent. A gateway that fails does not stop the others.
 */
@Injectable()
export class MpcbAcquisitionService {
  private readonly logger = new Logger('MpcbAcquisition');

  constructor(
    private readonly sites: MpcbSiteRepository,
    private readonly readings: MpcbReadingRepository,
    private readonly calibrations: MpcbCalibrationRepository,
    private readonly gateways: GatewayRepository,
    private readonly drivers: DriverRegistry,
    @Inject(MPCB_SETTINGS) private readonly settings: Pick<MpcbSettings, 'clockToleranceSeconds'>,
    @Inject(MPCB_CLOCK) private readonly clock: MpcbClock,
  ) {}

  async acquire(): Promise<AcquisitionResult> {
    // Whole seconds: UNIX_TIMESTAMP is in seconds and (parameter, time) identifies a reading.
    const readingTime = new Date(Math.floor(this.clock.now().getTime() / 1000) * 1000);
    const targets = await this.sites.acquisitionTargets();
    const failures: AcquisitionFailure[] = [];
    const values = new Map<string, { value: number; deviceTime: Date | null }>();

    const groups = new Map<string, AcquisitionTarget[]>();
    for (const target of targets) {
      const source = target.parameter.source;
      const key =
        source.kind === 'sensor' ? `${source.gatewayId}` : `${source.gatewayId}\u0000${source.deviceSerial}`;
      groups.set(key, [...(groups.get(key) ?? []), target]);
    }
    for (const group of groups.values()) {
      const source = group[0].parameter.source;
      try {
        const { endpoint, driver } = await this.resolve(source.gatewayId);
        if (source.kind === 'sensor') {
          if (!driver.readSensors)
            throw new UnsupportedOperationError(driver.name, MPCB_SOURCE_OPERATIONS.sensor);
          const sensors = await driver.readSensors(endpoint, quietContext);
          for (const target of group) {
            const wanted = target.parameter.source;
            const sensor = sensors.find((s) => wanted.kind === 'sensor' && s.channel === wanted.channel);
            if (!sensor) {
              failures.push({
                gateway: endpoint.name,
                parameters: [target.parameter.parameterId],
                error: `channel ${wanted.kind === 'sensor' ? wanted.channel : ''} not reported (probe disconnected?)`,
              });
              continue;
            }
            values.set(target.parameter.id, { value: sensor.value, deviceTime: sensor.timestamp });
          }
        } else {
          if (!driver.readInstantaneous)
            throw new UnsupportedOperationError(driver.name, MPCB_SOURCE_OPERATIONS.meter);
          const reading = await driver.readInstantaneous(
            {
              gateway: endpoint,
              serial: source.deviceSerial,
              globalDeviceId: source.deviceSerial,
              msn: source.deviceSerial,
            },
            quietContext,
          );
          for (const target of group) {
            const wanted = target.parameter.source;
            const value = wanted.kind === 'meter' ? reading[wanted.quantity] : undefined;
            if (typeof value !== 'number' || !Number.isFinite(value)) {
              failures.push({
                gateway: endpoint.name,
                parameters: [target.parameter.parameterId],
                error: `meter ${source.deviceSerial} reported no number for ${wanted.kind === 'meter' ? wanted.quantity : ''}`,
              });
              continue;
            }
            values.set(target.parameter.id, { value, deviceTime: reading.meter_datetime ?? null });
          }
        }
      } catch (error) {
        failures.push({
          gateway: source.gatewayId,
          parameters: group.map((t) => t.parameter.parameterId),
          error: (error as Error).message,
        });
      }
    }

    const windowsByUnit = new Map<string, CalibrationWindow[]>();
    const rows: NewReading[] = [];
    for (const target of targets) {
      const acquired = values.get(target.parameter.id);
      if (!acquired) continue;
      const unitRef = target.monitoringUnit.id;
      if (!windowsByUnit.has(unitRef))
        windowsByUnit.set(unitRef, await this.calibrations.windows(unitRef, readingTime, readingTime));
      const { parameter, analyser } = target;
      const calibrating = inCalibration(
        windowsByUnit.get(unitRef) ?? [],
        analyser.analyzerId,
        parameter.parameterId,
        readingTime,
      );
      const validated = linearise(acquired.value, parameter.coefficientA, parameter.coefficientB);
      rows.push({
        parameterRef: parameter.id,
        monitoringUnitRef: unitRef,
        readingTime,
        analyzerId: analyser.analyzerId,
        parameterId: parameter.parameterId,
        parameterName: parameter.parameterName,
        readingUnit: parameter.unit,
        rawReading: acquired.value,
        validatedReading: validated,
        qualityCode: qualityOf({
          validated,
          gaugeMinimum: parameter.gaugeMinimum,
          gaugeMaximum: parameter.gaugeMaximum,
          calibrating,
          maintenance: analyser.maintenance,
          deviceTime: acquired.deviceTime,
          captureTime: readingTime,
          clockToleranceSeconds: this.settings.clockToleranceSeconds,
        }),
        calibrationFlag: calibrating ? 1 : 0,
        maintenanceFlag: analyser.maintenance ? 1 : 0,
        deviceTime: acquired.deviceTime,
      });
    }
    const stored = await this.readings.insert(rows);
    for (const failure of failures)
      this.logger.warn({ ...failure, readingTime: readingTime.toISOString() }, 'MPCB acquisition failed');
    return { readingTime, stored, failures };
  }

  private async resolve(gatewayId: string): Promise<{ endpoint: GatewayEndpoint; driver: DeviceDriver }> {
    const gateway = await this.gateways.findById(gatewayId);
    if (!gateway) throw new DriverError('refused', `gateway ${gatewayId} is no longer registered`, false);
    if (!gateway.enabled) throw new DriverError('refused', `gateway ${gateway.name} is disabled`, false);
    return {
      driver: this.drivers.get(gateway.driver),
      endpoint: gatewayEndpointOf(
        gateway,
        this.gateways.credentialsOf(gateway),
        this.gateways.clockZoneOf(gateway),
      ),
    };
  }

  /** The endpoint and driver of a gateway (diagnostics use it too). */
  gatewayFor(gatewayId: string): Promise<{ endpoint: GatewayEndpoint; driver: DeviceDriver }> {
    return this.resolve(gatewayId);
  }
}
