/**
 * Unit maintenance of an Omega iServer 2: sensor alarm settings and status, the logging interval, alarm
 * relays (triggers, latch), contact closure, probe names, buzzer and e-mail notification triggers,
 * probe and unit metadata. No product path (UDIL, MPCB, admin API) calls these, so they are not part of
 * the production driver (IServer2Driver); the simulator's tests and tools use them, on the driver's own
 * connections: `new IServer2Maintenance(driver.units)`.
 */
import { DriverError, GatewayEndpoint, OperationContext } from '../driver.contract';
import {
  AlarmInfoAnswer,
  AlarmTriggerAnswer,
  CommandParams,
  ContactClosureAnswer,
  IServer2ProtocolError,
  IServer2Requests,
  NotiTriggerAnswer,
  RelaySettingWrite,
  SensorAddress,
  channelId,
  readAnswer,
} from './iserver2-messages';
import { IServer2Units, ProbeMetadata, RelayState, UnitMetadata, observerFor } from './iserver2-units';

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

export class IServer2Maintenance {
  constructor(readonly units: IServer2Units) {}

  async readAlarmSettings(
    gateway: GatewayEndpoint,
    channel: string,
    ctx: OperationContext,
  ): Promise<AlarmSettings> {
    const observer = observerFor(ctx);
    const address = this.units.address(channel);
    return this.units.guard(async () => {
      const answer = readAnswer.alarmInfo(
        await this.units.client(gateway).command('alarmInfo', address, [], observer),
      );
      this.units.checkEcho(gateway, answer, address, 'alarmInfo', observer);
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
    const address = this.units.address(settings.channel);
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
    await this.units.guard(async () => {
      const message = await this.units
        .client(gateway)
        .command('alarmInfo', { ...address, ...params }, [], observer);
      this.units.checkEcho(
        gateway,
        readAnswer.channelWrite(message, 'alarmInfo'),
        address,
        'alarmInfo',
        observer,
      );
    });
  }

  async readAlarmStatus(
    gateway: GatewayEndpoint,
    channel: string,
    ctx: OperationContext,
  ): Promise<AlarmState> {
    const observer = observerFor(ctx);
    const address = this.units.address(channel);
    return this.units.guard(async () => {
      const answer = readAnswer.alarmStatus(
        await this.units.client(gateway).command('alarmStatus', address, [], observer),
      );
      this.units.checkEcho(gateway, answer, address, 'alarmStatus', observer);
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
    return this.units.guard(async () => {
      const answer = readAnswer.logConfig(
        await this.units.client(gateway).command('logConfig', {}, [], observer),
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
    await this.units.guard(async () => {
      readAnswer.status(
        await this.units.client(gateway).command('logConfig', params, [], observer),
        'logConfig',
      );
    });
  }

  async readRelay(gateway: GatewayEndpoint, relayId: number, ctx: OperationContext): Promise<RelayState> {
    const observer = observerFor(ctx);
    this.units.checkRelayId(relayId);
    return this.units.guard(() => this.units.readRelay(this.units.client(gateway), relayId, observer));
  }

  /** relayTrigger write: the relay's settings and which channels' alarms operate it. */
  async writeRelayTrigger(
    gateway: GatewayEndpoint,
    relay: RelayConfiguration,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    this.units.checkRelayId(relay.relayId);
    const triggeredBy = new Set(
      relay.triggeredBy.map((channel) => this.units.key(this.units.address(channel))),
    );
    await this.units.guard(async () => {
      const client = this.units.client(gateway);
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
    this.units.checkRelayId(relayId);
    await this.writeSetting(
      gateway,
      'relayInfo',
      { relayId, setting: { clearLatch: 1 }, apiaction: 'write' },
      ctx,
    );
  }

  async readContactClosure(gateway: GatewayEndpoint, ctx: OperationContext): Promise<ContactClosureAnswer> {
    const observer = observerFor(ctx);
    return this.units.guard(async () =>
      readAnswer.contactClosure(
        await this.units.client(gateway).command('contactClosure', { apiaction: 'read' }, [], observer),
      ),
    );
  }

  async clearContactOutputLatch(gateway: GatewayEndpoint, ctx: OperationContext): Promise<void> {
    await this.writeSetting(gateway, 'contactOutput', { apiaction: 'write', clearLatch: 1 }, ctx);
  }

  /** contactClosure write: the settings of the two inputs and the output (the unit keeps what is left out). */
  async writeContactClosure(
    gateway: GatewayEndpoint,
    settings: Pick<IServer2Requests['contactClosure'], 'contact1' | 'contact2' | 'contactOutput'>,
    ctx: OperationContext,
  ): Promise<void> {
    await this.writeSetting(gateway, 'contactClosure', { apiaction: 'write', ...settings }, ctx);
  }

  /** probeConfig: the probe's name (deviceName, at most 16 characters). */
  async readProbeName(gateway: GatewayEndpoint, probe: number, ctx: OperationContext): Promise<string> {
    const observer = observerFor(ctx);
    this.units.checkProbe(probe);
    return this.units.guard(async () => {
      const answer = readAnswer.probeConfig(
        await this.units.client(gateway).command('probeConfig', { probe }, [], observer),
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
    this.units.checkProbe(probe);
    if (name.trim() === '' || name.length > 16)
      throw new DriverError('refused', 'a probe name has 1 to 16 characters', false);
    await this.units.guard(async () => {
      const answer = readAnswer.probeConfigWrite(
        await this.units.client(gateway).command('probeConfig', { probe, deviceName: name }, [], observer),
      );
      if (answer.probe !== probe)
        this.units.reportMismatchedEcho(
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
    return this.units.guard(async () =>
      readAnswer.alarmTrigger(
        await this.units.client(gateway).command('alarmTrigger', { apiaction: 'read' }, [], observer),
      ),
    );
  }

  async writeBuzzerTriggers(
    gateway: GatewayEndpoint,
    triggers: Pick<IServer2Requests['alarmTrigger'], 'alarm' | 'probeEventList'>,
    ctx: OperationContext,
  ): Promise<void> {
    await this.writeSetting(gateway, 'alarmTrigger', { apiaction: 'write', ...triggers }, ctx);
  }

  /** notiTrigger read: e-mail list, intervals, system triggers and which sensors' alarms send mail. */
  async readNotificationTriggers(
    gateway: GatewayEndpoint,
    ctx: OperationContext,
  ): Promise<NotiTriggerAnswer> {
    const observer = observerFor(ctx);
    return this.units.guard(async () =>
      readAnswer.notiTrigger(
        await this.units.client(gateway).command('notiTrigger', { apiaction: 'read' }, [], observer),
      ),
    );
  }

  async writeNotificationTriggers(
    gateway: GatewayEndpoint,
    triggers: Pick<IServer2Requests['notiTrigger'], 'notiInfo' | 'trigger' | 'probeEventList'>,
    ctx: OperationContext,
  ): Promise<void> {
    await this.writeSetting(gateway, 'notiTrigger', { apiaction: 'write', ...triggers }, ctx);
  }

  async readProbeMetadata(
    gateway: GatewayEndpoint,
    probe: number,
    ctx: OperationContext,
  ): Promise<ProbeMetadata> {
    const observer = observerFor(ctx);
    this.units.checkProbe(probe);
    return this.units.guard(() => this.units.probeMeta(this.units.client(gateway), probe, observer));
  }

  async readUnitMetadata(gateway: GatewayEndpoint, ctx: OperationContext): Promise<UnitMetadata> {
    const observer = observerFor(ctx);
    return this.units.guard(() => this.units.systemMeta(this.units.client(gateway), observer));
  }

  /** A settings write the unit confirms with `dbupdate`. */
  private async writeSetting<
    K extends 'relayInfo' | 'contactOutput' | 'contactClosure' | 'alarmTrigger' | 'notiTrigger',
  >(gateway: GatewayEndpoint, command: K, params: CommandParams<K>, ctx: OperationContext): Promise<void> {
    const observer = observerFor(ctx);
    await this.units.guard(async () => {
      readAnswer.dbupdate(await this.units.client(gateway).command(command, params, ['dbupdate'], observer));
    });
  }

  private alarmSettings(answer: AlarmInfoAnswer, address: SensorAddress): AlarmSettings {
    const type = ALARM_TYPES[answer.type];
    if (!type) throw new IServer2ProtocolError(`alarmInfo.type ${answer.type} is not 0–3`);
    return {
      channel: this.units.key(address),
      type,
      lowThreshold: answer.lowThreshold,
      highThreshold: answer.highThreshold,
      deadband: answer.deadband,
      latch: answer.latch === 1,
    };
  }
}
