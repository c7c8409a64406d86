import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { isDatabaseUnavailable } from '@hes/database';
import { DeviceDriver, DriverError, DriverRegistry, GatewayEndpoint, OperationContext } from '@hes/drivers';
import { GatewayLease } from '@hes/queue';
import { UdilReadingsRepository } from '@hes/readings';
import { GatewayGate, MeterVisualsRepository, ResolvedDevice } from '@hes/transactions';
import { McsCollectionError } from './mcs-error';
import { McsMeterResolver } from './mcs-meter-resolver';
import { registerValuesOf, surveyDataOf } from './mcs-readings';
import { McsCollectionRequest, parseSurveyDate } from './mcs-request';
import {
  McsCollectionOutcome,
  McsTimeAdjustmentResult,
  clockOffsetSeconds,
  decideTimeAdjustment,
  formatMcsTime,
  formatMeterTime,
} from './mcs-result';

/** The meter could not be reached on this attempt and a later attempt may succeed: retry the collection. */
export class McsRetryableFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McsRetryableFailure';
  }
}

export interface McsCollectionRun {
  outcome: McsCollectionOutcome;
  /** Steps that failed (the reason for a PARTIAL SUCCESS), also logged. */
  failures: string[];
  /** Exchange log of the attempt. */
  log: string[];
}

const DAY_MS = 86_400_000;

type ClockReader = DeviceDriver & Required<Pick<DeviceDriver, 'readClock'>>;
const readsClock = (driver: DeviceDriver): driver is ClockReader => typeof driver.readClock === 'function';

/**
 * Enters the meter's gateway before any exchange with it (GatewayGate.admit with the job's context): a
 * lease, or it throws, a DelayedError putting the job back (gateway busy, or marked down and deferred),
 * or a non-retryable DriverError when the gateway is down past GATEWAY_DEFER_LIMIT_SECONDS.
 */
export type McsGatewayAdmission = (gateway: GatewayEndpoint) => Promise<GatewayLease>;

export function describeError(error: unknown): string {
  if (error instanceof DriverError) return `${error.kind}: ${error.message}`;
  return (error as Error)?.message ?? String(error);
}

/**
 * Carries out one collection through the meter's driver: serial number check and meter time, time
 * adjustment within the configured thresholds, status events, register values, survey data. Every
 * reading is also written to the UDIL tables (events, billing_data, load_profile_data, meter_visuals).
 * A failure to reach the meter at all is retried (McsRetryableFailure) until the last attempt; a later
 * step that fails makes the result a PARTIAL SUCCESS naming the step, unless what failed is the database
 * storing its readings: that ends the run with the error, for the collection to be run again.
 */
@Injectable()
export class McsCollectionService {
  constructor(
    private readonly resolver: McsMeterResolver,
    private readonly drivers: DriverRegistry,
    private readonly readings: UdilReadingsRepository,
    private readonly visuals: MeterVisualsRepository,
    private readonly gate: GatewayGate,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async collect(
    request: McsCollectionRequest,
    lastAttempt: boolean,
    admit: McsGatewayAdmission,
  ): Promise<McsCollectionRun> {
    const log: string[] = [];
    const failures: string[] = [];
    const run = (outcome: McsCollectionOutcome): McsCollectionRun => ({ outcome, failures, log });

    let target: ResolvedDevice;
    try {
      target = await this.resolver.resolve(request);
    } catch (error) {
      if (error instanceof McsCollectionError || (error instanceof DriverError && !error.retryable))
        return run({ result: `ERROR: ${describeError(error)}` });
      throw error;
    }
    const driver: DeviceDriver | undefined = this.drivers.names().includes(target.device.driver)
      ? this.drivers.get(target.device.driver)
      : undefined;
    if (!driver) return run({ result: `ERROR: no driver ${target.device.driver} is installed` });
    if (!readsClock(driver))
      return run({ result: `ERROR: the ${driver.name} driver cannot read a meter's clock or serial number` });

    // One of the gateway's max_in_flight leases (shared by every worker), or the job goes back to the
    // queue without holding a worker slot; a gateway marked down for too long ends the collection.
    let lease: GatewayLease;
    try {
      lease = await admit(target.address.gateway);
    } catch (error) {
      if (error instanceof DriverError && !error.retryable)
        return run({ result: `ERROR: ${describeError(error)}` });
      throw error;
    }
    try {
      return run(await this.exchange(request, lastAttempt, target, driver, log, failures));
    } finally {
      await lease.release();
    }
  }

  /** The collection's exchanges with the meter, holding a lease of its gateway; feeds the gateway's breaker. */
  private async exchange(
    request: McsCollectionRequest,
    lastAttempt: boolean,
    target: ResolvedDevice,
    driver: ClockReader,
    log: string[],
    failures: string[],
  ): Promise<McsCollectionOutcome> {
    const address = target.address;
    const observe = (error?: unknown) => this.gate.observe(address.gateway, error).catch(() => undefined);
    const failed = async (step: string, error: unknown) => {
      // The head-end's database, not the meter, failed (storing what the meter answered): the collection is
      // run again (a retry of the job, else the reconciler), rather than reported as a PARTIAL SUCCESS without
      // data the meter gave.
      if (isDatabaseUnavailable(error)) throw error;
      failures.push(`${step}: ${describeError(error)}`);
      await observe(error);
    };
    const ctx: OperationContext = {
      progress: () => undefined,
      log: (line) => log.push(line),
    };
    const connectionStart = new Date();
    const times = () => ({
      connectionStartTime: formatMcsTime(connectionStart),
      connectionEndTime: formatMcsTime(new Date()),
    });

    // Serial number and meter time: the meter answers at its serial on the gateway.
    let meterClock: Date;
    let offset: number;
    try {
      const sentAt = Date.now();
      meterClock = await driver.readClock(address, ctx);
      offset = clockOffsetSeconds(meterClock, sentAt, Date.now());
      await observe();
    } catch (error) {
      await observe(error);
      const reason = describeError(error);
      if (error instanceof DriverError && error.retryable && !lastAttempt)
        throw new McsRetryableFailure(reason);
      return {
        result: `ERROR: the meter did not answer: ${reason}`,
        ...times(),
        serialNumber: `ERROR: ${reason}`,
        meterTime: `ERROR: ${reason}`,
      };
    }
    const meterTime = formatMeterTime(meterClock, offset);
    const serial = address.serial;
    if (request.serialNumber && request.serialNumber !== serial) {
      return {
        result: `ERROR: serial number mismatch: the meter returned ${serial}, the request gave ${request.serialNumber}`,
        ...times(),
        serialNumber: `ERROR: the meter returned serial number ${serial}, not ${request.serialNumber}`,
        meterTime,
      };
    }
    const device = { globalDeviceId: address.globalDeviceId, msn: target.device.msn };

    let timeAdjustmentResult: McsTimeAdjustmentResult | undefined;
    if (request.adjustTime) timeAdjustmentResult = await this.adjustTime(driver, target, offset, ctx);

    const now = new Date();
    let statusEvents: string[] | undefined;
    try {
      if (!driver.readEvents) throw new Error(`the ${driver.name} driver does not read events`);
      const events = await driver.readEvents(
        address,
        { from: new Date(now.getTime() - this.config.MCS_STATUS_EVENTS_HOURS * 3_600_000), to: now },
        ctx,
      );
      await this.readings.upsert('events', device, events);
      statusEvents = [...new Set(events.map((e) => e.event_description))];
    } catch (error) {
      await failed('status events', error);
    }

    let registerValues: McsCollectionOutcome['registerValues'];
    try {
      if (!driver.readBilling) throw new Error(`the ${driver.name} driver does not read registers`);
      const billing = await driver.readBilling(address, ctx);
      await this.readings.upsert('billing_data', device, [billing]);
      registerValues = registerValuesOf(billing);
    } catch (error) {
      await failed('register values', error);
    }

    let surveyData: McsCollectionOutcome['surveyData'];
    if (request.surveyDays > 0 && request.surveyDate) {
      try {
        if (!driver.readLoadProfile) throw new Error(`the ${driver.name} driver does not read survey data`);
        const from = parseSurveyDate(request.surveyDate) ?? now;
        const to = new Date(Math.min(from.getTime() + request.surveyDays * DAY_MS, Date.now()));
        const rows = from < to ? await driver.readLoadProfile(address, { from, to }, ctx) : [];
        await this.readings.upsert('load_profile_data', device, rows);
        surveyData = surveyDataOf(rows);
      } catch (error) {
        await failed('survey data', error);
      }
    }

    const connectionEnd = new Date();
    await this.visuals.update(address.globalDeviceId, target.device.msn, {
      last_communication_datetime: connectionEnd,
    });
    return {
      result: failures.length === 0 ? 'SUCCESS' : 'PARTIAL SUCCESS',
      connectionStartTime: formatMcsTime(connectionStart),
      connectionEndTime: formatMcsTime(connectionEnd),
      serialNumber: serial,
      meterTime,
      ...(statusEvents ? { statusEvents } : {}),
      ...(timeAdjustmentResult ? { timeAdjustmentResult } : {}),
      ...(registerValues ? { registerValues } : {}),
      ...(surveyData ? { surveyData } : {}),
      ...(failures.length > 0 ? { errors: failures } : {}),
    };
  }

  private async adjustTime(
    driver: DeviceDriver,
    target: ResolvedDevice,
    offset: number,
    ctx: OperationContext,
  ): Promise<McsTimeAdjustmentResult> {
    const decision = decideTimeAdjustment(
      offset,
      this.config.MCS_TIME_ADJUST_MIN_SECONDS,
      this.config.MCS_TIME_ADJUST_MAX_SECONDS,
    );
    if (!decision.adjust) return decision.result;
    if (!driver.setClock) return `ERROR: the ${driver.name} driver cannot set a meter's clock`;
    try {
      await driver.setClock(target.address, new Date(), ctx);
      return 'SUCCESS';
    } catch (error) {
      return `ERROR: ${describeError(error)}`;
    }
  }
}
