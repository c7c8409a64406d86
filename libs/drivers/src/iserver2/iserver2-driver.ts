/**
 * The Omega iServer 2 driver (issue #4): sensor readings, calibration (gain/offset), alarms, logging
 * interval, probe and unit metadata over the unit's JSON WebSocket; logged history over its CGI extract.
 * The iServer 2 is an environmental-sensor gateway, not an energy meter: it implements no meter
 * operation, so it carries out no UDIL command and serves no UDIL on-demand table
 * (ISERVER2_UNSUPPORTED gives the remark per operation).
 */
import { Logger } from '@nestjs/common';
import axios, { AxiosError } from 'axios';
import {
  DateRange,
  DeviceDriver,
  DriverCapabilities,
  DriverError,
  GatewayEndpoint,
  MeterOperation,
  OperationContext,
  ProgressLevel,
  SensorCalibration,
  SensorReading,
  UnsupportedOperationError,
} from '../driver.contract';
import { ExchangeObserver, IServer2Client, certificateRefused } from './iserver2-client';
import { ExtractColumn, buildExtractQuery, readExtract } from './iserver2-extract';
import { ClientCache, ProgressTracker, tlsAgentFor } from '../kit';
import {
  AlarmInfoAnswer,
  AlarmTriggerAnswer,
  ContactClosureAnswer,
  IServer2ProtocolError,
  IServer2Requests,
  NotiTriggerAnswer,
  ProbeMetaAnswer,
  RelaySettingWrite,
  SensorAddress,
  SensorMetaAnswer,
  SystemMetaAnswer,
  channelId,
  parseChannelId,
  probeDate,
  readAnswer,
  versionString,
} from './iserver2-messages';

export const ISERVER2_DRIVER_NAME = 'OMEGA_ISERVER2';

const NOT_A_METER =
  'the iServer 2 is an environmental sensor gateway (temperature, humidity, pressure), not a meter';

/** Why each energy-meter operation is missing on an iServer 2 device (docs/iserver2.md, docs/udil.md). */
export const ISERVER2_UNSUPPORTED: Readonly<Record<MeterOperation, string>> = {
  discoverMeters: 'probes are discovered by the unit itself (probeList), not meters',
  discoverResources: `${NOT_A_METER}; its probes and sensors are listed by readDiagnostics`,
  registerMeter: 'probes are discovered by the unit itself (probeList), not created',
  readClock: `${NOT_A_METER}; its unit metadata carries no meter clock`,
  setClock: 'the unit has no clock-setting command in its WebSocket interface',
  readInstantaneous: `${NOT_A_METER}; read its sensors with readSensors`,
  readBilling: `${NOT_A_METER}; there is no billing data`,
  readMonthlyBilling: `${NOT_A_METER}; there is no billing data`,
  readLoadProfile: `${NOT_A_METER}; its logged sensor data is read with readHistory`,
  readEvents: 'the unit keeps no event log reachable over its WebSocket or CGI interface',
  operateRelay: `${NOT_A_METER}; its alarm relays follow sensor alarms and are configured with relayTrigger`,
  setLoadLimit: `${NOT_A_METER}; there is no load to limit`,
  setTimeOfUse: `${NOT_A_METER}; there are no tariffs`,
  configureSampling: 'use the logging interval (logConfig) through the driver, not UDIL sampling',
  resetTimeOfUse: `${NOT_A_METER}; there are no tariffs`,
  setThresholdAlarm: `${NOT_A_METER}; its sensor alarms (alarmInfo) watch temperature, humidity and pressure, not supply quantities`,
  clearThresholdAlarm: `${NOT_A_METER}; its sensor alarms (alarmInfo) watch temperature, humidity and pressure, not supply quantities`,
  setBillingReset: `${NOT_A_METER}; there is no billing period`,
  setCommunicationAddress: 'the unit has no network-settings command in its WebSocket interface',
  activateOpticalPort: 'the unit has no optical port',
  setWakeUpNumbers: 'the unit has no SIM',
  readSupplyRelay: `${NOT_A_METER}; its alarm relays follow sensor alarms (relayTrigger), there is no supply relay`,
  readLoadLimit: `${NOT_A_METER}; there is no load limit`,
  readSampling: 'its logging interval (logConfig) is not UDIL meter data sampling',
  readTimeOfUse: `${NOT_A_METER}; there are no tariffs`,
  readThresholdAlarm: `${NOT_A_METER}; its sensor alarms (alarmInfo) watch temperature, humidity and pressure, not supply quantities`,
};

export const ISERVER2_CAPABILITIES: DriverCapabilities = { refusals: ISERVER2_UNSUPPORTED };

export type AlarmType = 'none' | 'low' | 'high' | 'high-low';
const ALARM_TYPES: readonly AlarmType[] = ['none', 'low', 'high', 'high-low'];

export interface AlarmSettings {
  channel: string;
  type: AlarmType;
  lowThreshold: number;
  highThreshold: number;
  /** How far the value must come back past the threshold to clear the alarm. */
  deadband: number;
  latch: boolean;
}

export interface AlarmState {
  channel: string;
  low: boolean;
  high: boolean;
  /** The unit's code: 0 none, 1 low, 2 high, 3 high and low. */
  code: number;
}

export interface LoggingConfig {
  intervalSeconds: number;
  enabled: boolean;
}

export interface RelayState {
  relayId: number;
  name: string;
  /** relayStatus 1. */
  open: boolean;
  latch: boolean;
  /** istate 1: normally open. */
  normallyOpen: boolean;
  /** Channels whose alarm operates this relay. */
  triggeredBy: string[];
  /** System triggers: b probe disconnected, d out of memory, f low battery, g TTL contact. */
  triggers: { probeDisconnect: boolean; outOfMemory: boolean; lowBattery: boolean; contact: boolean };
}

export interface RelayConfiguration {
  relayId: number;
  name: string;
  normallyOpen: boolean;
  latch: boolean;
  log: boolean;
  display: boolean;
  triggers: RelayState['triggers'];
  /** Channels whose alarm operates the relay; every other channel of the unit is written as 0. */
  triggeredBy: string[];
}

export interface ProbeMetadata {
  probe: number;
  model: string;
  sensors: number;
  outputs: number;
  firmware: string;
  core: string;
  manufactured: Date;
  calibrated: Date;
}

export interface UnitMetadata {
  firmware: string;
  manufacturer: string;
  model: string;
  deviceName: string;
  systemName: string;
  serial: string;
  samplingSeconds: number;
  dualProbe: boolean;
}

export interface IServer2DriverOptions {
  connectAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  idleCloseMs?: number;
  /** Username when the gateway has none (the unit knows "admin" and "user"). */
  defaultUsername?: string;
  /**
   * Base URL of the CGI extract for a gateway. Default: the WebSocket host over http (https for wss),
   * port 80 (443), or the port given as `cgiPort` in the endpoint's query ("ws://unit:8081/?cgiPort=8080").
   */
  cgiBaseUrl?(gateway: GatewayEndpoint): string;
  /** Where field anomalies are warned (default: the Nest logger "OMEGA_ISERVER2"). */
  warn?(message: string): void;
}

/**
 * The kit's awaited, monotone progress (a rejection – the transaction was cancelled meanwhile – stops
 * the client before its next step); a level reached directly also reports the ones below it.
 */
function observerFor(ctx: OperationContext): ExchangeObserver {
  const tracker = new ProgressTracker(ctx);
  const progress = {
    async reach(level: ProgressLevel, note?: string): Promise<void> {
      for (let below = tracker.level + 1; below < level; below++) await tracker.reach(below as ProgressLevel);
      await tracker.reach(level, note);
    },
  };
  return {
    connecting: () => progress.reach(2, 'opening WebSocket'),
    ready: () => progress.reach(3, 'WebSocket open, logged in'),
    sent: (command) => progress.reach(4, command),
    log: (line) => ctx.log?.(line),
    signal: ctx.signal,
  };
}

function round(value: number, precision: number): number {
  const digits = Math.min(Math.max(Math.trunc(precision), 0), 10);
  return Number(value.toFixed(digits));
}

export class IServer2Driver implements DeviceDriver {
  readonly name = ISERVER2_DRIVER_NAME;
  readonly capabilities = ISERVER2_CAPABILITIES;
  private readonly clients = new ClientCache<IServer2Client>((gateway) => this.createClient(gateway));
  /** "<gateway id>\n<command>" already warned of a mismatched echo. */
  private readonly warnedEchoes = new Set<string>();
  private readonly warn: (message: string) => void;

  constructor(private readonly options: IServer2DriverOptions = {}) {
    const logger = new Logger(ISERVER2_DRIVER_NAME);
    this.warn = options.warn ?? ((message) => logger.warn(message));
  }

  /** The refusal, with its remark, for an energy-meter operation on an iServer 2 device. */
  unsupported(operation: MeterOperation): UnsupportedOperationError {
    return new UnsupportedOperationError(this.name, operation, ISERVER2_UNSUPPORTED[operation]);
  }

  async close(): Promise<void> {
    await this.clients.closeAll();
  }

  // --------------------------------------------------------------------------------------------------
  // SensorOperations

  async readSensors(gateway: GatewayEndpoint, ctx: OperationContext): Promise<SensorReading[]> {
    const observer = observerFor(ctx);
    return this.guard(async () => {
      const client = this.clientFor(gateway);
      const list = readAnswer.probeList(await client.command('probeList', {}, [], observer));
      const readings: SensorReading[] = [];
      for (const probe of list.probes) {
        if (probe.connected !== 1) continue;
        for (const channel of probe.sensors) {
          const address = { probe: probe.probe, channel };
          const meta = await this.sensorMeta(gateway, client, address, observer);
          const data = readAnswer.sensorData(await client.command('sensorData', address, [], observer));
          readings.push({
            channel: channelId(probe.probe, channel),
            name: meta.name,
            value: round(data.value, data.precision),
            unit: meta.unit,
            precision: data.precision,
            timestamp: new Date(data.time * 1000),
          });
        }
      }
      return readings;
    });
  }

  async readCalibration(
    gateway: GatewayEndpoint,
    channel: string,
    ctx: OperationContext,
  ): Promise<SensorCalibration> {
    const observer = observerFor(ctx);
    const address = this.address(channel);
    return this.guard(async () => {
      const message = await this.clientFor(gateway).command('adjustInfo', address, [], observer);
      const answer = readAnswer.adjustInfo(message);
      this.checkEcho(gateway, answer, address, 'adjustInfo', observer);
      return { channel: channelId(address.probe, address.channel), gain: answer.gain, offset: answer.offset };
    });
  }

  async writeCalibration(
    gateway: GatewayEndpoint,
    calibration: SensorCalibration,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    const address = this.address(calibration.channel);
    if (!Number.isFinite(calibration.gain) || !Number.isFinite(calibration.offset))
      throw new DriverError('refused', 'gain and offset must be finite numbers', false);
    await this.guard(async () => {
      const message = await this.clientFor(gateway).command(
        'adjustInfo',
        { ...address, gain: calibration.gain, offset: calibration.offset },
        [],
        observer,
      );
      this.checkEcho(
        gateway,
        readAnswer.channelWrite(message, 'adjustInfo'),
        address,
        'adjustInfo',
        observer,
      );
    });
  }

  async readHistory(
    gateway: GatewayEndpoint,
    channels: string[],
    range: DateRange,
    ctx: OperationContext,
  ): Promise<SensorReading[]> {
    const observer = observerFor(ctx);
    const addresses = channels.map((channel) => this.address(channel));
    if (!(range.from.getTime() <= range.to.getTime()))
      throw new DriverError('refused', 'history range ends before it starts', false);
    if (addresses.length === 0) return [];
    return this.guard(async () => {
      const client = this.clientFor(gateway);
      const metas = new Map<string, SensorMetaAnswer>();
      for (const address of addresses)
        metas.set(
          channelId(address.probe, address.channel),
          await this.sensorMeta(gateway, client, address, observer),
        );
      // The requested header of each column is the channel id itself: unambiguous, free of commas.
      const columns: ExtractColumn[] = [...metas.keys()].map((key) => ({ key, header: key }));
      const url = `${this.cgiBaseUrl(gateway)}/cgi-bin/query?${buildExtractQuery(range, columns)}`;
      const csv = await this.httpGet(gateway, url, observer);
      // Extract times without an offset are in the unit's clock zone.
      const extract = readExtract(csv, columns, gateway.clockTimeZone || 'UTC');
      if (extract.missingColumns.length > 0)
        observer.log?.(`extract has no column for ${extract.missingColumns.join(', ')}: no samples for them`);
      const readings: SensorReading[] = [];
      for (const row of extract.rows) {
        for (const [key, meta] of metas) {
          const value = row.values[key];
          if (value === null || value === undefined) continue;
          readings.push({
            channel: key,
            name: meta.name,
            value: round(value, meta.precision),
            unit: meta.unit,
            precision: meta.precision,
            timestamp: row.time,
          });
        }
      }
      return readings;
    });
  }

  async readDiagnostics(gateway: GatewayEndpoint, ctx: OperationContext): Promise<Record<string, unknown>> {
    const observer = observerFor(ctx);
    return this.guard(async () => {
      const client = this.clientFor(gateway);
      const unit = await this.systemMeta(client, observer);
      const logging = readAnswer.logConfig(await client.command('logConfig', {}, [], observer));
      const list = readAnswer.probeList(await client.command('probeList', {}, [], observer));
      const probes: Record<string, unknown>[] = [];
      for (const probe of list.probes) {
        if (probe.connected !== 1) {
          probes.push({ probe: probe.probe, connected: false });
          continue;
        }
        const meta = await this.probeMeta(client, probe.probe, observer);
        const config = readAnswer.probeConfig(
          await client.command('probeConfig', { probe: probe.probe }, [], observer),
        );
        const sensors: Record<string, unknown>[] = [];
        for (const channel of probe.sensors) {
          const address = { probe: probe.probe, channel };
          const sensorMeta = await this.sensorMeta(gateway, client, address, observer);
          const alarm = readAnswer.alarmStatus(await client.command('alarmStatus', address, [], observer));
          sensors.push({
            channel: channelId(probe.probe, channel),
            name: sensorMeta.name,
            type: sensorMeta.typestr,
            unit: sensorMeta.unit,
            precision: sensorMeta.precision,
            alarm: alarm.value,
          });
        }
        probes.push({
          connected: true,
          name: config.deviceName,
          locked: probe.isLock === 1,
          extracting: probe.isExtractIP === 1,
          lastSeen: new Date(probe.timestamp * 1000),
          ...meta,
          sensors,
        });
      }
      const relays = [];
      for (const relayId of [1, 2]) relays.push(await this.readRelayWith(client, relayId, observer));
      const contacts = readAnswer.contactClosure(
        await client.command('contactClosure', { apiaction: 'read' }, [], observer),
      );
      return {
        unit,
        logging: { intervalSeconds: logging.interval, enabled: logging.enable === 1 },
        probes,
        relays,
        contacts: {
          contact1: contacts.contact1,
          contact2: contacts.contact2,
          contactOutput: contacts.contactOutput,
        },
      };
    });
  }

  // --------------------------------------------------------------------------------------------------
  // iServer 2 operations the contract does not name

  async readAlarmSettings(
    gateway: GatewayEndpoint,
    channel: string,
    ctx: OperationContext,
  ): Promise<AlarmSettings> {
    const observer = observerFor(ctx);
    const address = this.address(channel);
    return this.guard(async () => {
      const answer = readAnswer.alarmInfo(
        await this.clientFor(gateway).command('alarmInfo', address, [], observer),
      );
      this.checkEcho(gateway, answer, address, 'alarmInfo', observer);
      return this.alarmSettings(answer, address);
    });
  }

  /** Writes the settings given; the others are left as they are on the unit. */
  async writeAlarmSettings(
    gateway: GatewayEndpoint,
    settings: Partial<Omit<AlarmSettings, 'channel'>> & { channel: string },
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    const address = this.address(settings.channel);
    const params: {
      type?: number;
      lowThreshold?: number;
      highThreshold?: number;
      latch?: number;
      deadband?: number;
    } = {};
    if (settings.type !== undefined) params.type = ALARM_TYPES.indexOf(settings.type);
    if (settings.lowThreshold !== undefined) params.lowThreshold = settings.lowThreshold;
    if (settings.highThreshold !== undefined) params.highThreshold = settings.highThreshold;
    if (settings.deadband !== undefined) params.deadband = settings.deadband;
    if (settings.latch !== undefined) params.latch = settings.latch ? 1 : 0;
    if (Object.keys(params).length === 0)
      throw new DriverError('refused', 'no alarm setting to write', false);
    if (params.type === -1)
      throw new DriverError('refused', `unknown alarm type ${String(settings.type)}`, false);
    await this.guard(async () => {
      const message = await this.clientFor(gateway).command(
        'alarmInfo',
        { ...address, ...params },
        [],
        observer,
      );
      this.checkEcho(gateway, readAnswer.channelWrite(message, 'alarmInfo'), address, 'alarmInfo', observer);
    });
  }

  async readAlarmStatus(
    gateway: GatewayEndpoint,
    channel: string,
    ctx: OperationContext,
  ): Promise<AlarmState> {
    const observer = observerFor(ctx);
    const address = this.address(channel);
    return this.guard(async () => {
      const answer = readAnswer.alarmStatus(
        await this.clientFor(gateway).command('alarmStatus', address, [], observer),
      );
      this.checkEcho(gateway, answer, address, 'alarmStatus', observer);
      return {
        channel: channelId(address.probe, address.channel),
        low: (answer.value & 1) !== 0,
        high: (answer.value & 2) !== 0,
        code: answer.value,
      };
    });
  }

  async readLoggingConfig(gateway: GatewayEndpoint, ctx: OperationContext): Promise<LoggingConfig> {
    const observer = observerFor(ctx);
    return this.guard(async () => {
      const answer = readAnswer.logConfig(
        await this.clientFor(gateway).command('logConfig', {}, [], observer),
      );
      return { intervalSeconds: answer.interval, enabled: answer.enable === 1 };
    });
  }

  async writeLoggingConfig(
    gateway: GatewayEndpoint,
    config: Partial<LoggingConfig>,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    const params: { interval?: number; enable?: number } = {};
    if (config.intervalSeconds !== undefined) {
      if (!Number.isInteger(config.intervalSeconds) || config.intervalSeconds < 1)
        throw new DriverError('refused', 'logging interval must be a whole number of seconds ≥ 1', false);
      params.interval = config.intervalSeconds;
    }
    if (config.enabled !== undefined) params.enable = config.enabled ? 1 : 0;
    if (Object.keys(params).length === 0)
      throw new DriverError('refused', 'no logging setting to write', false);
    await this.guard(async () => {
      readAnswer.status(
        await this.clientFor(gateway).command('logConfig', params, [], observer),
        'logConfig',
      );
    });
  }

  async readRelay(gateway: GatewayEndpoint, relayId: number, ctx: OperationContext): Promise<RelayState> {
    const observer = observerFor(ctx);
    this.checkRelayId(relayId);
    return this.guard(() => this.readRelayWith(this.clientFor(gateway), relayId, observer));
  }

  /** relayTrigger write: the relay's settings and which channels' alarms operate it. */
  async writeRelayTrigger(
    gateway: GatewayEndpoint,
    relay: RelayConfiguration,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    this.checkRelayId(relay.relayId);
    const triggeredBy = new Set(relay.triggeredBy.map((channel) => this.key(this.address(channel))));
    await this.guard(async () => {
      const client = this.clientFor(gateway);
      const list = readAnswer.probeList(await client.command('probeList', {}, [], observer));
      const probeEventList = list.probes.flatMap((probe) =>
        probe.sensors.map((channel) => ({
          probeInfo: {
            probe: probe.probe,
            channel,
            relay: triggeredBy.has(channelId(probe.probe, channel)) ? 1 : 0,
          },
        })),
      );
      const known = new Set(
        probeEventList.map((entry) => channelId(entry.probeInfo.probe, entry.probeInfo.channel)),
      );
      const missing = [...triggeredBy].filter((channel) => !known.has(channel));
      if (missing.length > 0)
        throw new DriverError(
          'refused',
          `the unit has no sensor ${missing.join(', ')} to trigger the relay`,
          false,
        );
      const flag = (on: boolean): number => (on ? 1 : 0);
      const setting: RelaySettingWrite = {
        istate: flag(relay.normallyOpen),
        name: relay.name,
        isLog: flag(relay.log),
        isDisplay: flag(relay.display),
        isLatch: flag(relay.latch),
        a: 0,
        b: flag(relay.triggers.probeDisconnect),
        c: 0,
        d: flag(relay.triggers.outOfMemory),
        e: 0,
        f: flag(relay.triggers.lowBattery),
        g: flag(relay.triggers.contact),
      };
      const message = await client.command(
        'relayTrigger',
        { apiaction: 'write', relayInfo: { relayId: relay.relayId, setting }, probeEventList },
        ['dbupdate'],
        observer,
      );
      readAnswer.dbupdate(message);
    });
  }

  async clearRelayLatch(gateway: GatewayEndpoint, relayId: number, ctx: OperationContext): Promise<void> {
    const observer = observerFor(ctx);
    this.checkRelayId(relayId);
    await this.guard(async () => {
      const message = await this.clientFor(gateway).command(
        'relayInfo',
        { relayId, setting: { clearLatch: 1 }, apiaction: 'write' },
        ['dbupdate'],
        observer,
      );
      readAnswer.dbupdate(message);
    });
  }

  async readContactClosure(gateway: GatewayEndpoint, ctx: OperationContext): Promise<ContactClosureAnswer> {
    const observer = observerFor(ctx);
    return this.guard(async () =>
      readAnswer.contactClosure(
        await this.clientFor(gateway).command('contactClosure', { apiaction: 'read' }, [], observer),
      ),
    );
  }

  async clearContactOutputLatch(gateway: GatewayEndpoint, ctx: OperationContext): Promise<void> {
    const observer = observerFor(ctx);
    await this.guard(async () => {
      const message = await this.clientFor(gateway).command(
        'contactOutput',
        { apiaction: 'write', clearLatch: 1 },
        ['dbupdate'],
        observer,
      );
      readAnswer.dbupdate(message);
    });
  }

  /** contactClosure write: the settings of the two inputs and the output (the unit keeps what is left out). */
  async writeContactClosure(
    gateway: GatewayEndpoint,
    settings: Pick<IServer2Requests['contactClosure'], 'contact1' | 'contact2' | 'contactOutput'>,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    await this.guard(async () => {
      const message = await this.clientFor(gateway).command(
        'contactClosure',
        { apiaction: 'write', ...settings },
        ['dbupdate'],
        observer,
      );
      readAnswer.dbupdate(message);
    });
  }

  /** probeConfig: the probe's name (deviceName, at most 16 characters). */
  async readProbeName(gateway: GatewayEndpoint, probe: number, ctx: OperationContext): Promise<string> {
    const observer = observerFor(ctx);
    this.checkProbe(probe);
    return this.guard(async () => {
      const answer = readAnswer.probeConfig(
        await this.clientFor(gateway).command('probeConfig', { probe }, [], observer),
      );
      return answer.deviceName;
    });
  }

  async writeProbeName(
    gateway: GatewayEndpoint,
    probe: number,
    name: string,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    this.checkProbe(probe);
    if (name.trim() === '' || name.length > 16)
      throw new DriverError('refused', 'a probe name has 1 to 16 characters', false);
    await this.guard(async () => {
      const answer = readAnswer.probeConfigWrite(
        await this.clientFor(gateway).command('probeConfig', { probe, deviceName: name }, [], observer),
      );
      if (answer.probe !== probe)
        this.reportMismatchedEcho(
          gateway,
          'probeConfig',
          `probe ${probe}`,
          `probe ${answer.probe}`,
          observer,
        );
    });
  }

  /** alarmTrigger read: buzzer enable, system triggers and which sensors' alarms sound it. */
  async readBuzzerTriggers(gateway: GatewayEndpoint, ctx: OperationContext): Promise<AlarmTriggerAnswer> {
    const observer = observerFor(ctx);
    return this.guard(async () =>
      readAnswer.alarmTrigger(
        await this.clientFor(gateway).command('alarmTrigger', { apiaction: 'read' }, [], observer),
      ),
    );
  }

  async writeBuzzerTriggers(
    gateway: GatewayEndpoint,
    triggers: Pick<IServer2Requests['alarmTrigger'], 'alarm' | 'probeEventList'>,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    await this.guard(async () => {
      readAnswer.dbupdate(
        await this.clientFor(gateway).command(
          'alarmTrigger',
          { apiaction: 'write', ...triggers },
          ['dbupdate'],
          observer,
        ),
      );
    });
  }

  /** notiTrigger read: e-mail list, intervals, system triggers and which sensors' alarms send mail. */
  async readNotificationTriggers(
    gateway: GatewayEndpoint,
    ctx: OperationContext,
  ): Promise<NotiTriggerAnswer> {
    const observer = observerFor(ctx);
    return this.guard(async () =>
      readAnswer.notiTrigger(
        await this.clientFor(gateway).command('notiTrigger', { apiaction: 'read' }, [], observer),
      ),
    );
  }

  async writeNotificationTriggers(
    gateway: GatewayEndpoint,
    triggers: Pick<IServer2Requests['notiTrigger'], 'notiInfo' | 'trigger' | 'probeEventList'>,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    await this.guard(async () => {
      readAnswer.dbupdate(
        await this.clientFor(gateway).command(
          'notiTrigger',
          { apiaction: 'write', ...triggers },
          ['dbupdate'],
          observer,
        ),
      );
    });
  }

  async readProbeMetadata(
    gateway: GatewayEndpoint,
    probe: number,
    ctx: OperationContext,
  ): Promise<ProbeMetadata> {
    const observer = observerFor(ctx);
    if (![0, 1, 2].includes(probe))
      throw new DriverError('unsupported', `probe ${probe} does not exist (0–2)`, false);
    return this.guard(() => this.probeMeta(this.clientFor(gateway), probe, observer));
  }

  async readUnitMetadata(gateway: GatewayEndpoint, ctx: OperationContext): Promise<UnitMetadata> {
    const observer = observerFor(ctx);
    return this.guard(() => this.systemMeta(this.clientFor(gateway), observer));
  }

  // --------------------------------------------------------------------------------------------------

  /** The unit's client: one per gateway, replaced (and the old one closed) when its settings change. */
  private clientFor(gateway: GatewayEndpoint): IServer2Client {
    return this.clients.get(gateway);
  }

  private createClient(gateway: GatewayEndpoint): IServer2Client {
    const url = new URL(gateway.endpoint);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
      throw new DriverError(
        'unsupported',
        `iServer 2 endpoint must be ws:// or wss://, not ${gateway.endpoint}`,
        false,
      );
    return new IServer2Client({
      url: `${url.protocol}//${url.host}/`,
      username: gateway.username ?? this.options.defaultUsername ?? 'admin',
      password: gateway.password ?? '',
      timeoutMs: gateway.requestTimeoutMs,
      connectAttempts: this.options.connectAttempts,
      backoffMs: this.options.backoffMs,
      maxBackoffMs: this.options.maxBackoffMs,
      idleCloseMs: this.options.idleCloseMs,
      // verify / insecure / pinned (the connection is handed over only once the certificate matched).
      webSocket: url.protocol === 'wss:' ? { agent: tlsAgentFor(gateway) } : undefined,
    });
  }

  private cgiBaseUrl(gateway: GatewayEndpoint): string {
    if (this.options.cgiBaseUrl) return this.options.cgiBaseUrl(gateway).replace(/\/+$/, '');
    const url = new URL(gateway.endpoint);
    const secure = url.protocol === 'wss:';
    const port = url.searchParams.get('cgiPort');
    return `${secure ? 'https' : 'http'}://${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}${port ? `:${port}` : ''}`;
  }

  private async httpGet(gateway: GatewayEndpoint, url: string, observer: ExchangeObserver): Promise<string> {
    const started = Date.now();
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    try {
      const response = await axios.get<string>(url, {
        responseType: 'text',
        transformResponse: (data: string) => data,
        timeout: gateway.requestTimeoutMs,
        signal: observer.signal,
        validateStatus: () => true,
        httpsAgent: url.startsWith('https:') ? tlsAgentFor(gateway) : undefined,
      });
      observer.log?.(`GET ${path} ${response.status} (${Date.now() - started} ms)`);
      if (response.status === 401 || response.status === 403)
        throw new DriverError('authentication', `iServer 2 extract refused: HTTP ${response.status}`, false);
      if (response.status >= 500)
        throw new DriverError('device', `iServer 2 extract failed: HTTP ${response.status}`, true);
      if (response.status >= 400)
        throw new DriverError(
          'refused',
          `iServer 2 extract refused: HTTP ${response.status} ${response.data}`,
          false,
        );
      return response.data;
    } catch (error) {
      if (error instanceof DriverError) throw error;
      const code = error instanceof AxiosError ? error.code : undefined;
      observer.log?.(`GET ${path} failed: ${code ?? String(error)}`);
      if (certificateRefused(error))
        throw new DriverError(
          'authentication',
          `iServer 2 extract: TLS refused: ${(error as Error).message}`,
          false,
          error,
        );
      if (code === 'ECONNABORTED' || code === 'ETIMEDOUT')
        throw new DriverError(
          'timeout',
          `iServer 2 extract: no answer within ${gateway.requestTimeoutMs} ms`,
          true,
          error,
        );
      throw new DriverError('unreachable', `iServer 2 extract: ${(error as Error).message}`, true, error);
    }
  }

  private async sensorMeta(
    gateway: GatewayEndpoint,
    client: IServer2Client,
    address: SensorAddress,
    observer: ExchangeObserver,
  ): Promise<SensorMetaAnswer> {
    const meta = readAnswer.sensorMeta(await client.command('sensorMeta', address, [], observer));
    this.checkEcho(gateway, meta, address, 'sensorMeta', observer);
    return meta;
  }

  private async probeMeta(
    client: IServer2Client,
    probe: number,
    observer: ExchangeObserver,
  ): Promise<ProbeMetadata> {
    const meta: ProbeMetaAnswer = readAnswer.probeMeta(
      await client.command('probeMeta', { probe }, [], observer),
    );
    return {
      probe: meta.probe,
      model: meta.probeModel,
      sensors: meta.sensor,
      outputs: meta.output,
      firmware: versionString(meta.firmwareVer),
      core: versionString(meta.coreVer),
      manufactured: probeDate(meta.manufacturedDate),
      calibrated: probeDate(meta.calibratedDate),
    };
  }

  private async systemMeta(client: IServer2Client, observer: ExchangeObserver): Promise<UnitMetadata> {
    const meta: SystemMetaAnswer = readAnswer.systemMeta(
      await client.command('systemMeta', {}, [], observer),
    );
    return {
      firmware: meta.firmwareStr,
      manufacturer: meta.manufacturer,
      model: meta.model,
      deviceName: meta.deviceName,
      systemName: meta.systemName,
      serial: meta.id,
      samplingSeconds: meta.samplingTime,
      dualProbe: meta.probeMode === 1,
    };
  }

  private async readRelayWith(
    client: IServer2Client,
    relayId: number,
    observer: ExchangeObserver,
  ): Promise<RelayState> {
    const answer = readAnswer.relayTrigger(
      await client.command('relayTrigger', { apiaction: 'read', relayId }, [], observer),
    );
    const setting = answer.relayInfo.setting;
    return {
      relayId: answer.relayInfo.relayId,
      name: setting.name,
      open: setting.relayStatus === 1,
      latch: setting.isLatch === 1,
      normallyOpen: setting.istate === 1,
      triggeredBy: answer.probeEventList
        .filter((entry) => entry.probeInfo.relay === 1)
        .map((entry) => channelId(entry.probeInfo.probe, entry.probeInfo.channel)),
      triggers: {
        probeDisconnect: setting.b === 1,
        outOfMemory: setting.d === 1,
        lowBattery: setting.f === 1,
        contact: setting.g === 1,
      },
    };
  }

  private alarmSettings(answer: AlarmInfoAnswer, address: SensorAddress): AlarmSettings {
    const type = ALARM_TYPES[answer.type];
    if (!type) throw new IServer2ProtocolError(`alarmInfo.type ${answer.type} is not 0–3`);
    return {
      channel: this.key(address),
      type,
      lowThreshold: answer.lowThreshold,
      highThreshold: answer.highThreshold,
      deadband: answer.deadband,
      latch: answer.latch === 1,
    };
  }

  private address(channel: string): SensorAddress {
    try {
      return parseChannelId(channel);
    } catch (error) {
      throw new DriverError('unsupported', (error as Error).message, false);
    }
  }

  private key(address: SensorAddress): string {
    return channelId(address.probe, address.channel);
  }

  private checkProbe(probe: number): void {
    if (![0, 1, 2].includes(probe))
      throw new DriverError('unsupported', `probe ${probe} does not exist (0–2)`, false);
  }

  private checkRelayId(relayId: number): void {
    if (relayId !== 1 && relayId !== 2)
      throw new DriverError(
        'unsupported',
        `relay ${relayId} does not exist (the unit has relays 1 and 2)`,
        false,
      );
  }

  /**
   * The unit echoes probe and channel. With one command in flight per socket the answer belongs to the
   * request whatever it echoes: the guide's own adjustInfo and alarmInfo read examples (3.7.3, 3.8.3)
   * answer channel 0 to a request for channel 1. A mismatch is logged with the exchange and warned once
   * per unit and command.
   */
  private checkEcho(
    gateway: GatewayEndpoint,
    answer: { probe: number; channel: number },
    address: SensorAddress,
    command: string,
    observer: ExchangeObserver,
  ): void {
    if (answer.probe !== address.probe || answer.channel !== address.channel)
      this.reportMismatchedEcho(
        gateway,
        command,
        this.key(address),
        channelId(answer.probe, answer.channel),
        observer,
      );
  }

  private reportMismatchedEcho(
    gateway: GatewayEndpoint,
    command: string,
    asked: string,
    echoed: string,
    observer: ExchangeObserver,
  ): void {
    observer.log?.(`${command} for ${asked} answered as ${echoed}: taken as the answer to ${asked}`);
    const once = `${gateway.id}\n${command}`;
    if (this.warnedEchoes.has(once)) return;
    this.warnedEchoes.add(once);
    this.warn(
      `iServer 2 ${gateway.name} (${gateway.id}) answers ${command} for ${asked} as ${echoed}; the answer is ` +
        'taken for the request (one command in flight per socket). Warned once per unit and command.',
    );
  }

  /** Turns message-shape errors into DriverError('protocol'); DriverErrors pass through. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof DriverError) throw error;
      if (error instanceof IServer2ProtocolError)
        throw new DriverError('protocol', `iServer 2 answer not understood: ${error.message}`, false, error);
      throw error;
    }
  }
}
