/**
 * The connections to iServer 2 units and what every iServer 2 operation does with them: one WebSocket
 * client per gateway (the kit's ClientCache, TLS from the kit), awaited progress, the guard that turns
 * message-shape errors into DriverError('protocol'), the probe/channel echo check, metadata reads.
 * Shared by the production driver (IServer2Driver) and the unit-maintenance operations
 * (IServer2Maintenance): both use the same socket to a unit and warn once per unit and command.
 */
import { Logger } from '@nestjs/common';
import { DriverError, GatewayEndpoint, OperationContext } from '../driver.contract';
import { ExchangeObserver, IServer2Client } from './iserver2-client';
import { ClientCache, ProgressTracker, tlsAgentFor } from '../kit';
import {
  IServer2ProtocolError,
  ProbeMetaAnswer,
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

export interface IServer2UnitOptions {
  connectAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  idleCloseMs?: number;
  /** Username when the gateway has none (the unit knows "admin" and "user"). */
  defaultUsername?: string;
  /** Where field anomalies are warned (default: the Nest logger "OMEGA_ISERVER2"). */
  warn?(message: string): void;
}

/**
 * The kit's awaited, monotone progress (a rejection – the transaction was cancelled meanwhile – stops
 * the client before its next step); a level reached directly also reports the ones below it.
 */
export function observerFor(ctx: OperationContext): ExchangeObserver {
  // The tracker reports the levels below one reached directly (a socket already open goes from 1 to 4).
  const progress = new ProgressTracker(ctx);
  return {
    connecting: () => progress.reach(2, 'opening WebSocket'),
    ready: () => progress.reach(3, 'WebSocket open, logged in'),
    sent: (command) => progress.reach(4, command),
    log: (line) => ctx.log?.(line),
    traffic: (sent, received) => ctx.traffic?.(sent, received),
    signal: ctx.signal,
  };
}

export function round(value: number, precision: number): number {
  const digits = Math.min(Math.max(Math.trunc(precision), 0), 10);
  return Number(value.toFixed(digits));
}

export class IServer2Units {
  private readonly clients = new ClientCache<IServer2Client>((gateway) => this.createClient(gateway));
  /** "<gateway id>\n<command>" already warned of a mismatched echo. */
  private readonly warnedEchoes = new Set<string>();
  private readonly warn: (message: string) => void;

  constructor(private readonly options: IServer2UnitOptions = {}) {
    const logger = new Logger(ISERVER2_DRIVER_NAME);
    this.warn = options.warn ?? ((message) => logger.warn(message));
  }

  /** Closes at once the unit's socket if it was opened with other settings. */
  async settingsChanged(gateway: GatewayEndpoint): Promise<void> {
    await this.clients.settingsChanged(gateway);
  }

  async close(): Promise<void> {
    await this.clients.closeAll();
  }

  /** The unit's client: one per gateway, replaced (and the old one closed) when its settings change. */
  client(gateway: GatewayEndpoint): IServer2Client {
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

  async sensorMeta(
    gateway: GatewayEndpoint,
    client: IServer2Client,
    address: SensorAddress,
    observer: ExchangeObserver,
  ): Promise<SensorMetaAnswer> {
    const meta = readAnswer.sensorMeta(await client.command('sensorMeta', address, [], observer));
    this.checkEcho(gateway, meta, address, 'sensorMeta', observer);
    return meta;
  }

  async probeMeta(client: IServer2Client, probe: number, observer: ExchangeObserver): Promise<ProbeMetadata> {
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

  async systemMeta(client: IServer2Client, observer: ExchangeObserver): Promise<UnitMetadata> {
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

  async readRelay(client: IServer2Client, relayId: number, observer: ExchangeObserver): Promise<RelayState> {
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

  address(channel: string): SensorAddress {
    try {
      return parseChannelId(channel);
    } catch (error) {
      throw new DriverError('unsupported', (error as Error).message, false);
    }
  }

  key(address: SensorAddress): string {
    return channelId(address.probe, address.channel);
  }

  checkProbe(probe: number): void {
    if (![0, 1, 2].includes(probe))
      throw new DriverError('unsupported', `probe ${probe} does not exist (0–2)`, false);
  }

  checkRelayId(relayId: number): void {
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
  checkEcho(
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

  reportMismatchedEcho(
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
  async guard<T>(operation: () => Promise<T>): Promise<T> {
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
