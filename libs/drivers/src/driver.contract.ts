/**
 * The contract every southbound driver implements (docs/architecture.md, core idea 3). A driver declares
 * what it can do; an operation it cannot do is refused per device with an UnsupportedOperationError
 * whose remark names the driver and the operation, never silently "succeeded".
 *
 * Progress: a driver reports the UDIL status levels it reaches (2 request sent towards the device,
 * 3 connection/handshake established, 4 command sent to the meter); returning normally means 5.
 */

/** A driver's name, also the `gateways.driver` value: `ABB_G13`, `OMEGA_ISERVER2`, … (the registry knows which). */
export type DriverName = string;

/**
 * What a driver can do is the set of operations (methods of MeterOperations / SensorOperations) it
 * implements: one source, nothing to keep in step. `refusals` only explains what is missing, in the
 * driver's own words, for the remark a refused request carries:
 * - by operation name, why the driver has no such method (e.g. `setCommunicationAddress`);
 * - by `operation:variant`, a variant of an implemented operation that the device refuses (e.g.
 *   `setThresholdAlarm:voltageUnbalance`).
 */
export interface DriverCapabilities {
  refusals: Readonly<Partial<Record<DriverOperation | `${DriverOperation}:${string}`, string>>>;
}

export type TlsMode = 'verify' | 'pinned' | 'insecure';

/**
 * The settings a gateway of a driver takes, as the admin API checks them when a gateway is created or
 * changed (a 400 naming the field otherwise). Every gateway has the same columns (endpoint, credentials,
 * TLS, limits, clock zone); the schema says which values this driver accepts.
 */
export interface GatewaySettingsSchema {
  /** URL schemes its endpoint may use, without the colon, e.g. `['https', 'http']`. */
  endpointSchemes: readonly string[];
  /** An endpoint as an operator writes it, for the API description: `https://10.20.0.12:443`. */
  endpointExample: string;
  /** `required`: a username and a password; `optional`; `none`: the device takes no credentials. */
  credentials: 'required' | 'optional' | 'none';
  /** Requests the device serves at once at most: a larger `maxInFlight` is refused. */
  maxInFlightLimit?: number;
}

/** What the installation shows of a driver: its label and the settings of its gateways. */
export interface DriverDescription {
  /** For people: `ABB G13 energy-meter gateway (HTTPS JSON)`. */
  label: string;
  settings: GatewaySettingsSchema;
}

/** Everything needed to reach one gateway (credentials already decrypted). */
export interface GatewayEndpoint {
  id: string;
  name: string;
  driver: DriverName;
  /** https://host:port for a G13, ws://host:port for an iServer 2. */
  endpoint: string;
  tlsMode: TlsMode;
  tlsCaPem?: string | null;
  /** SHA-256 of the certificate (DER), hex, colons optional. */
  tlsFingerprintSha256?: string | null;
  username?: string | null;
  password?: string | null;
  /** Requests kept in flight towards this gateway at most. */
  maxInFlight: number;
  requestTimeoutMs: number;
  /**
   * IANA zone the clocks behind this gateway keep (G13 meter date-times, iServer 2 timestamps carry no
   * offset). The registry defaults it to the head-end's TIME_ZONE; absent means UTC.
   */
  clockTimeZone?: string | null;
}

/** One device behind a gateway. */
export interface DeviceAddress {
  gateway: GatewayEndpoint;
  /** The device's serial as the gateway knows it (G13 meter serial, iServer 2 probe/channel). */
  serial: string;
  globalDeviceId: string;
  msn: string;
}

export type ProgressLevel = 2 | 3 | 4;

export interface OperationContext {
  /**
   * Called when the operation reaches a UDIL status level; levels only go up. It may return a promise:
   * a driver should await it before the next step, because it rejects when the transaction was
   * cancelled meanwhile (the driver must then stop without sending the command to the meter).
   */
  progress(level: ProgressLevel, note?: string): void | Promise<void>;
  /** One line of the DEVICE_COMMUNICATION_HISTORY message_log, e.g. "GET /meters/123/energy/active 200". */
  log?(line: string): void;
  /** Bytes of one exchange's request and answer bodies (DEVICE_COMMUNICATION_HISTORY bytes_sent/received). */
  traffic?(sent: number, received: number): void;
  signal?: AbortSignal;
  /**
   * A remark about a read that succeeded with less than asked: e.g. the resources the meter does not
   * provide, whose fields stay empty. The caller carries it into the read's outcome.
   */
  remark?(text: string): void;
  /**
   * Delivery is at least once (docs/reliability.md): true when an earlier attempt of this operation may
   * already have reached the device. A driver then reads the state back first where the device allows
   * it and does not write what the device already holds.
   */
  resend?: boolean;
}

/** Optional resources of one meter as discovered: name → the meter provides it. */
export type MeterResources = Record<string, boolean>;

/** A meter's resources as catalogued, with when they were discovered. */
export interface CataloguedResources {
  resources: MeterResources;
  discoveredAt: Date;
}

/**
 * Where a driver keeps what it discovered about each meter's resources (PostgreSQL in the
 * applications, memory in a bare driver), so that a read skips what a meter lacks instead of asking
 * every time.
 */
export interface MeterResourceCatalogue {
  load(gatewayId: string, serial: string): Promise<CataloguedResources | undefined>;
  save(gatewayId: string, serial: string, resources: MeterResources): Promise<void>;
}

/** A catalogue in memory (a driver used without a database). */
export class InMemoryMeterResourceCatalogue implements MeterResourceCatalogue {
  private readonly entries = new Map<string, CataloguedResources>();
  load(gatewayId: string, serial: string): Promise<CataloguedResources | undefined> {
    return Promise.resolve(this.entries.get(`${gatewayId}\n${serial}`));
  }
  save(
    gatewayId: string,
    serial: string,
    resources: MeterResources,
    discoveredAt = new Date(),
  ): Promise<void> {
    this.entries.set(`${gatewayId}\n${serial}`, { resources: { ...resources }, discoveredAt });
    return Promise.resolve();
  }
}

/** What the installation gives each driver it creates. */
export interface DriverServices {
  meterResources?: MeterResourceCatalogue;
  /** Age after which a meter's catalogued resources are discovered again (METER_RESOURCES_MAX_AGE_HOURS). */
  meterResourcesMaxAgeMs?: number;
}

export interface DateRange {
  from: Date;
  to: Date;
}

export type DriverErrorKind =
  | 'unsupported' // the driver or device cannot do this at all
  | 'unreachable' // connection refused, DNS, dropped connection
  | 'timeout'
  | 'authentication' // credentials refused
  | 'refused' // the device understood and refused (4xx with a reason)
  | 'device' // the device failed (5xx, meter offline behind the gateway)
  | 'protocol'; // an answer we cannot parse

export class DriverError extends Error {
  constructor(
    readonly kind: DriverErrorKind,
    message: string,
    /** True when repeating the same request may succeed (network faults, busy device). */
    readonly retryable: boolean,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

export class UnsupportedOperationError extends DriverError {
  constructor(
    readonly driver: DriverName,
    readonly operation: string,
    detail?: string,
  ) {
    super(
      'unsupported',
      `${driver} driver does not support ${operation}${detail ? `: ${detail}` : ''}`,
      false,
    );
    this.name = 'UnsupportedOperationError';
  }
}

/** A reading is a partial row of its UDIL table, keyed by the spec's column names (numbers as numbers). */
export type UdilRow = Record<string, number | string | Date | null | undefined>;

export interface InstantaneousReading extends UdilRow {
  meter_datetime: Date;
}
export interface BillingReading extends UdilRow {
  meter_datetime: Date;
}
export interface MonthlyBillingReading extends UdilRow {
  meter_datetime: Date;
}
export interface LoadProfileReading extends UdilRow {
  meter_datetime: Date;
  channel_id?: number;
  interval?: number;
}
export interface MeterEventReading extends UdilRow {
  event_datetime: Date;
  /** UDIL event code (101–121…), or the device's own id when unmapped (kept with its description). */
  event_code: number;
  event_description: string;
}

export interface DiscoveredMeter {
  serial: string;
  description?: string;
  phases?: 1 | 3;
}

export interface LoadLimit {
  /** kW; 0 removes the limit (the device's default). */
  loadLimit: number;
  maximumRetries: number;
  retryIntervalSeconds: number;
  thresholdDurationSeconds: number;
  retryClearIntervalSeconds: number;
}

export interface TimeOfUseSchedule {
  /** Raw UDIL parameters (season, days, time_slab, tariff_identification), already validated. */
  season: unknown;
  days: unknown;
  timeSlabs: unknown;
  tariffIdentification: unknown;
  activationDatetime: Date;
  /** UDIL 3.2 calendar (§3.4.5): when present, drivers program it instead of season/days/timeSlabs. */
  dayProfiles?: ReadonlyArray<{ name: string; tariffSlabs: readonly string[] }>;
  /** Monday → Sunday day-profile names. */
  weekProfiles?: ReadonlyArray<{ name: string; weeklyDayProfile: readonly string[] }>;
  /** startDate is "dd-MM". */
  seasonProfiles?: ReadonlyArray<{ name: string; weekProfileName: string; startDate: string }>;
  /** date is "dd-MM". */
  holidayProfiles?: ReadonlyArray<{ name: string; date: string; dayProfileName: string }>;
}

export interface SamplingConfiguration {
  dataType: 'INST' | 'BILL' | 'LPRO';
  intervalMinutes: number;
  initialMinute: number;
  activationDatetime: Date;
}

/** A tariff calendar as a meter holds it (the UDIL 3.2 time-of-use structure, §3.3.5). */
export type TimeOfUseCalendar = Required<
  Pick<TimeOfUseSchedule, 'dayProfiles' | 'weekProfiles' | 'seasonProfiles' | 'holidayProfiles'>
>;

/** A protection function a meter or APMS watches with threshold alarms. */
export type ThresholdFunction =
  | 'overVoltage'
  | 'underVoltage'
  | 'overCurrent'
  | 'overLoad'
  | 'voltageUnbalance'
  | 'phaseFailure'
  | 'currentUnbalance'
  | 'highApparentPower';

/**
 * Threshold alarms of one protection function. Units: V for voltage functions and phase failure, A for
 * over-current, kW for over-load, kVA for high apparent power, % for the unbalance functions.
 */
export interface ThresholdAlarm {
  function: ThresholdFunction;
  /** Recorded as an event once the value stays past `threshold` for `delaySeconds`. */
  critical: { threshold: number; delaySeconds: number };
  /** Opens the supply (when `tripping`) once the value stays past `threshold` for `delaySeconds`. */
  tripping: { threshold: number; delaySeconds: number };
  /** False: the tripping threshold is watched and logged, the supply is left alone. */
  trippingEnabled: boolean;
}

export interface CommunicationAddress {
  primaryIpAddress: string;
  secondaryIpAddress: string;
  primaryPort: number;
  secondaryPort: number;
}

/** When the meter closes its billing period (resets maximum demand): a day of the month and a time. */
export interface BillingReset {
  /** 1–28 */
  dayOfMonth: number;
  /** HH:mm:ss in the meter's clock. */
  time: string;
}

/** Energy-meter operations (G13 and future meter vendors). Absent methods are unsupported. */
export interface MeterOperations {
  discoverMeters?(gateway: GatewayEndpoint, ctx: OperationContext): Promise<DiscoveredMeter[]>;
  /** Asks the meter which optional resources it has, and keeps the answer in the driver's catalogue. */
  discoverResources?(device: DeviceAddress, ctx: OperationContext): Promise<MeterResources>;
  registerMeter?(device: DeviceAddress, ctx: OperationContext): Promise<void>;
  readClock?(device: DeviceAddress, ctx: OperationContext): Promise<Date>;
  setClock?(device: DeviceAddress, time: Date, ctx: OperationContext): Promise<void>;
  readInstantaneous?(device: DeviceAddress, ctx: OperationContext): Promise<InstantaneousReading>;
  readBilling?(device: DeviceAddress, ctx: OperationContext): Promise<BillingReading>;
  readMonthlyBilling?(
    device: DeviceAddress,
    range: DateRange,
    ctx: OperationContext,
  ): Promise<MonthlyBillingReading[]>;
  readLoadProfile?(
    device: DeviceAddress,
    range: DateRange,
    ctx: OperationContext,
  ): Promise<LoadProfileReading[]>;
  readEvents?(device: DeviceAddress, range: DateRange, ctx: OperationContext): Promise<MeterEventReading[]>;
  /** connect = true closes the supply relay (UDIL relay_operate 1). */
  operateRelay?(device: DeviceAddress, connect: boolean, ctx: OperationContext): Promise<void>;
  setLoadLimit?(device: DeviceAddress, limit: LoadLimit, ctx: OperationContext): Promise<void>;
  setTimeOfUse?(device: DeviceAddress, schedule: TimeOfUseSchedule, ctx: OperationContext): Promise<void>;
  configureSampling?(
    device: DeviceAddress,
    sampling: SamplingConfiguration,
    ctx: OperationContext,
  ): Promise<void>;
  /** Puts the tariff back to the device's default (one tariff, no calendar in force). */
  resetTimeOfUse?(device: DeviceAddress, ctx: OperationContext): Promise<void>;
  setThresholdAlarm?(device: DeviceAddress, alarm: ThresholdAlarm, ctx: OperationContext): Promise<void>;
  /** Removes the function's threshold alarms (the device's default: not watched). */
  clearThresholdAlarm?(device: DeviceAddress, fn: ThresholdFunction, ctx: OperationContext): Promise<void>;
  setBillingReset?(device: DeviceAddress, reset: BillingReset, ctx: OperationContext): Promise<void>;
  /** The addresses the meter itself connects to (meters with their own modem). */
  setCommunicationAddress?(
    device: DeviceAddress,
    address: CommunicationAddress,
    ctx: OperationContext,
  ): Promise<void>;
  /** Opens the meter's optical port to local users between two datetimes. */
  activateOpticalPort?(device: DeviceAddress, from: Date, to: Date, ctx: OperationContext): Promise<void>;
  /** The numbers whose SMS or call wakes the meter's modem up. */
  setWakeUpNumbers?(device: DeviceAddress, numbers: readonly string[], ctx: OperationContext): Promise<void>;
  /** The supply relay as the meter reports it: true = connected (UDIL auxr_status 1). */
  readSupplyRelay?(device: DeviceAddress, ctx: OperationContext): Promise<boolean>;
  /** The load limit the meter enforces; loadLimit 0 = none. Fields the meter has no setting for are left out. */
  readLoadLimit?(device: DeviceAddress, ctx: OperationContext): Promise<Partial<LoadLimit>>;
  /**
   * How often the meter stores `dataType` (intervalMinutes, initialMinute); fields it has no setting for
   * are left out. A data type the meter does not store is an UnsupportedOperationError.
   */
  readSampling?(
    device: DeviceAddress,
    dataType: SamplingConfiguration['dataType'],
    ctx: OperationContext,
  ): Promise<Partial<Omit<SamplingConfiguration, 'dataType'>>>;
  /** The tariff calendar programmed in the meter. */
  readTimeOfUse?(device: DeviceAddress, ctx: OperationContext): Promise<TimeOfUseCalendar>;
  /**
   * A protection function's alarms as the meter holds them; null when none is configured. A level the
   * meter does not hold is left out. A function the meter cannot watch is an UnsupportedOperationError.
   */
  readThresholdAlarm?(
    device: DeviceAddress,
    fn: ThresholdFunction,
    ctx: OperationContext,
  ): Promise<Partial<Omit<ThresholdAlarm, 'function'>> | null>;
}

export interface SensorReading {
  /** Sensor identity on the unit, e.g. "p1ch0" (probe 1, channel 0). */
  channel: string;
  name: string;
  value: number;
  unit: string;
  precision: number;
  timestamp: Date;
}

export interface SensorCalibration {
  channel: string;
  gain: number;
  offset: number;
}

/** Analyser/sensor operations (iServer 2 and future analyser vendors). Absent methods are unsupported. */
export interface SensorOperations {
  readSensors?(gateway: GatewayEndpoint, ctx: OperationContext): Promise<SensorReading[]>;
  readCalibration?(
    gateway: GatewayEndpoint,
    channel: string,
    ctx: OperationContext,
  ): Promise<SensorCalibration>;
  writeCalibration?(
    gateway: GatewayEndpoint,
    calibration: SensorCalibration,
    ctx: OperationContext,
  ): Promise<void>;
  readHistory?(
    gateway: GatewayEndpoint,
    channels: string[],
    range: DateRange,
    ctx: OperationContext,
  ): Promise<SensorReading[]>;
  /** Unit and probe metadata, alarm status: free-form diagnostics as the device reports them. */
  readDiagnostics?(gateway: GatewayEndpoint, ctx: OperationContext): Promise<Record<string, unknown>>;
}

export type MeterOperation = keyof MeterOperations;
export type SensorOperation = keyof SensorOperations;
export type DriverOperation = MeterOperation | SensorOperation;

export interface DeviceDriver extends MeterOperations, SensorOperations {
  readonly name: DriverName;
  readonly capabilities: DriverCapabilities;
  /** Its label and the settings its gateways take (GET /admin/drivers, gateway validation). */
  readonly description: DriverDescription;
  /** Releases sockets and agents (application shutdown). */
  close?(): Promise<void>;
  /**
   * The gateway's settings changed: close at once any connection
   * to it made with other settings, so that neither old credentials nor an old endpoint stay in use.
   * Drivers on the kit's ClientCache answer with `clients.settingsChanged(gateway)`.
   */
  gatewayChanged?(gateway: GatewayEndpoint): Promise<void>;
}

/** True when the driver implements the operation. */
export function implementsOperation(driver: DeviceDriver, operation: DriverOperation): boolean {
  return typeof driver[operation] === 'function';
}

/**
 * Why the driver cannot carry out `operation` (or its `variant`), as an UnsupportedOperationError whose
 * message names the driver; undefined when it can.
 */
export function operationRefusal(
  driver: DeviceDriver,
  operation: DriverOperation,
  variant?: string,
): UnsupportedOperationError | undefined {
  if (!implementsOperation(driver, operation))
    return new UnsupportedOperationError(driver.name, operation, driver.capabilities.refusals[operation]);
  const variantReason =
    variant === undefined ? undefined : driver.capabilities.refusals[`${operation}:${variant}`];
  return variantReason === undefined
    ? undefined
    : new UnsupportedOperationError(driver.name, `${operation} (${variant})`, variantReason);
}
