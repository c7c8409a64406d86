/**
 * Omega iServer 2 simulator: the JSON WebSocket interface of the JSON Websocket Guide (chapter 3, every
 * command) and the CGI extract (4.1), over a simulated unit (iserver2-unit.ts), with fault injection for
 * tests: latency, dropped sockets, refused logins, expired tokens. Choices where the guide is silent are
 * listed in docs/iserver2.md.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, RawData } from 'ws';
import {
  IServer2Unit,
  IServer2UnitOptions,
  SimulatedSensor,
  TriggerFlags,
  defaultProbes,
} from './iserver2-unit';

export interface IServer2SimulatorOptions extends IServer2UnitOptions {
  /** WebSocket port (the unit's is 8081; 0 = any free port). */
  port?: number;
  /** Port of the CGI extract (the unit serves it on its web port 80; default 0 = any free port). */
  httpPort?: number;
  host?: string;
  /** Number of probes when `probes` is not given (1 or 2, default 2). */
  probeCount?: number;
  /** Delay before every answer (WebSocket and CGI). */
  latencyMs?: number;
  /** Passwords of the unit's two accounts (default "00000000", the guide's example). */
  adminPassword?: string;
  userPassword?: string;
  /** Tokens stop being accepted this long after login (default 3600 s; 0 = never). */
  tokenTtlSeconds?: number;
  /** Alarm/relay evaluation period (default 1000 ms, the unit's sampling time). */
  tickMs?: number;
  /**
   * The unit's clock (default the system's): sensor times, the log and the extract follow it. A test
   * shares its fake clock, or gives one that is off to model a unit whose clock stopped or was never set.
   */
  now?: () => Date;
}

export interface IServer2SimulatorStats {
  /** WebSocket connections accepted since start. */
  connections: number;
  /** Connections open now. */
  openConnections: number;
  /** Successful logins. */
  logins: number;
  /** Commands received, by name (logins included). */
  commands: Record<string, number>;
  /** CGI extract requests. */
  extracts: number;
  /** Most commands ever waiting for their answer on one connection at once. */
  maxPendingPerConnection: number;
}

export interface IServer2SimulatorHandle {
  /** ws://host:port/ */
  url: string;
  /** http://host:httpPort (base of /cgi-bin/query). */
  httpUrl: string;
  /** The WebSocket URL with the CGI port, as the driver's gateway endpoint: ws://host:port/?cgiPort=… */
  endpoint: string;
  port: number;
  httpPort: number;
  credentials: { username: 'admin' | 'user'; password: string }[];
  unit: IServer2Unit;
  stop(): Promise<void>;
  /** Physical value of a sensor now ("p1ch0"), before gain and offset. */
  trueValue(channel: string): number;
  /** The value the unit reports now: true value × gain + offset. */
  reportedValue(channel: string): number;
  /** Pins a sensor's physical value (null returns it to its simulated curve). */
  setTrueValue(channel: string, value: number | null): void;
  setLatency(ms: number): void;
  /** Closes every open WebSocket at once. */
  dropConnections(): void;
  /** The next `count` commands other than login are received and the socket is dropped without answer. */
  dropNextCommands(count?: number): void;
  /** While on, every login is answered with the authentication error. */
  refuseLogins(refuse: boolean): void;
  /** Every token issued so far stops being accepted. */
  expireTokens(): void;
  setContactInput(contact: 1 | 2, changed: boolean): void;
  setProbeConnected(probe: number, connected: boolean): void;
  /** While set, the sensor's `sensorData` carries `"value": null` (as a unit whose sensor glitched might). */
  garbleSensor(channel: string, garbled: boolean): void;
  stats(): IServer2SimulatorStats;
}

const AUTHENTICATION_ERROR = 'authentication error';
const SUCCESS = 'success';
const ERROR = 'error';
const PERMISSION_DENIED = 'permission denied';
/** At most this many rows per extract. */
export const EXTRACT_ROW_LIMIT = 100_000;
const PROBE_FIRMWARE = 0x02060400;
const PROBE_CORE = 54793475; // 0x03441503, the guide example
/** 2002-09-09 (seconds since 2000-01-01), the guide example date. */
const PROBE_DATE = 84871141;

type Json = Record<string, unknown>;
type Role = 'admin' | 'user';

/** A command refused for its parameters; answered under `key` with status "error". */
class CommandRefused extends Error {
  constructor(
    readonly key: string,
    readonly status: string,
    readonly fields: Json = {},
  ) {
    super(status);
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(body: Json, key: string, answerKey: string, fields: Json = {}): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new CommandRefused(answerKey, ERROR, fields);
  return value;
}
function requiredInt(body: Json, key: string, answerKey: string, fields: Json = {}): number {
  const value = optionalNumber(body, key, answerKey, fields);
  if (value === undefined || !Number.isInteger(value)) throw new CommandRefused(answerKey, ERROR, fields);
  return value;
}
function optionalFlag(body: Json, key: string, answerKey: string): number | undefined {
  const value = optionalNumber(body, key, answerKey);
  if (value !== undefined && value !== 0 && value !== 1) throw new CommandRefused(answerKey, ERROR);
  return value;
}
function optionalString(
  body: Json,
  key: string,
  answerKey: string,
  maxLength = 64,
  fields: Json = {},
): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength)
    throw new CommandRefused(answerKey, ERROR, fields);
  return value;
}

/** "apiaction", or "apiAction" as the guide's contactClosure example spells it. */
function apiAction(body: Json, key: string): 'read' | 'write' {
  const value = body.apiaction ?? body.apiAction;
  if (value === 'read' || value === 'write') return value;
  throw new CommandRefused(key, ERROR);
}

/** probeEventList inside the command body or, as in some of the guide's examples, beside it. */
function probeEventList(body: Json, message: Json, key: string): Json[] {
  const list =
    body.probeEventList ??
    (isObject(body.relayInfo) ? body.relayInfo.probeEventList : undefined) ??
    message.probeEventList;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new CommandRefused(key, ERROR);
  return list.map((entry: unknown) => {
    if (!isObject(entry) || !isObject(entry.probeInfo)) throw new CommandRefused(key, ERROR);
    return entry.probeInfo;
  });
}

function flagsFrom(source: Json, target: TriggerFlags, key: string): void {
  for (const flag of ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const) {
    const value = optionalFlag(source, flag, key);
    if (value !== undefined) target[flag] = value;
  }
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function startIServer2Simulator(
  options: IServer2SimulatorOptions = {},
): Promise<IServer2SimulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  /** The unit's clock, UTC seconds. */
  const now = (): number => (options.now ? options.now().getTime() : Date.now()) / 1000;
  const unit = new IServer2Unit(
    {
      ...options,
      probes: options.probes ?? defaultProbes(options.probeCount ?? 2),
    },
    now(),
  );
  const passwords: Record<Role, string> = {
    admin: options.adminPassword ?? '00000000',
    user: options.userPassword ?? '00000000',
  };
  const tokenTtlMs = (options.tokenTtlSeconds ?? 3600) * 1000;
  const tokens = new Map<string, { role: Role; expiresAt: number }>();
  let latencyMs = options.latencyMs ?? 0;
  let dropNext = 0;
  let refusingLogins = false;
  /** Sensors ("p1ch0") whose sensorData carries a null value (garbleSensor). */
  const garbledSensors = new Set<string>();
  const stats: IServer2SimulatorStats = {
    connections: 0,
    openConnections: 0,
    logins: 0,
    commands: {},
    extracts: 0,
    maxPendingPerConnection: 0,
  };

  const sensorOf = (body: Json, key: string): SimulatedSensor => {
    const probe = requiredInt(body, 'probe', key);
    const channel = requiredInt(body, 'channel', key, { probe });
    const sensor = unit.sensor(probe, channel);
    if (!sensor) throw new CommandRefused(key, ERROR, { probe, channel });
    return sensor;
  };
  const denyUser = (role: Role, key: string, fields: Json = {}): void => {
    if (role !== 'admin') throw new CommandRefused(key, PERMISSION_DENIED, fields);
  };
  const dbupdate = (): Json => ({ dbupdate: { status: SUCCESS } });
  const sensorsOfConnectedProbes = (): SimulatedSensor[] => unit.sensors.filter((s) => s.probe.connected);
  const findListed = (entry: Json, key: string): SimulatedSensor => {
    const sensor =
      typeof entry.probe === 'number' && typeof entry.channel === 'number'
        ? unit.sensor(entry.probe, entry.channel)
        : undefined;
    if (!sensor) throw new CommandRefused(key, ERROR);
    return sensor;
  };

  type Handler = (body: Json, role: Role, message: Json) => Json;
  const handlers: Record<string, Handler> = {
    probeList: () => {
      const t = Math.floor(now());
      const entry = (number: number): Json => {
        const probe = unit.probe(number);
        const connected = probe?.connected ?? false;
        return {
          probeId: number,
          probe: number,
          sensors: connected && probe ? probe.sensors.map((s) => s.channel) : [],
          connected: connected ? 1 : 0,
          timestamp: connected ? t : 0,
          isLock: 0,
          isExtractIP: 0,
        };
      };
      return { probeList: { status: SUCCESS, probes: [0, 1, 2].map(entry) } };
    },
    sensorData: (body) => {
      const sensor = sensorOf(body, 'sensorData');
      const t = now();
      const precision = sensor.spec.precision;
      return {
        sensorData: {
          probe: sensor.probe.number,
          channel: sensor.channel,
          time: Math.floor(t),
          // The unit keeps single-precision floats: 52.9 goes out as 52.900001525878906.
          value: garbledSensors.has(`p${sensor.probe.number}ch${sensor.channel}`)
            ? null
            : Math.fround(Number(sensor.reportedValue(t).toFixed(precision))),
          precision,
        },
      };
    },
    sensorMeta: (body) => {
      const sensor = sensorOf(body, 'sensorMeta');
      return {
        sensorMeta: {
          status: SUCCESS,
          probe: sensor.probe.number,
          channel: sensor.channel,
          type: sensor.spec.type,
          typestr: sensor.spec.typestr,
          unit: sensor.spec.unit,
          subtype: sensor.spec.subtype ?? 0,
          name: sensor.spec.name,
          precision: sensor.spec.precision,
        },
      };
    },
    probeMeta: (body) => {
      const number = requiredInt(body, 'probe', 'probeMeta');
      const probe = unit.probe(number);
      if (!probe?.connected) throw new CommandRefused('probeMeta', ERROR, { probe: number });
      return {
        probeMeta: {
          probe: number,
          sensor: probe.sensors.length,
          output: probe.spec.outputs ?? 2,
          firmwareVer: PROBE_FIRMWARE,
          coreVer: PROBE_CORE,
          manufacturedDate: PROBE_DATE,
          calibratedDate: PROBE_DATE,
          status: SUCCESS,
          probeModel: probe.spec.probeModel,
        },
      };
    },
    systemMeta: () => ({
      dbupdate: { status: SUCCESS },
      systemMeta: {
        status: SUCCESS,
        firmwareStr: unit.identity.firmware,
        hardware: 16843266,
        manufacturer: 'Omega',
        model: unit.identity.model,
        deviceName: unit.identity.deviceName,
        systemName: unit.identity.systemName,
        id: unit.identity.serial,
        samplingTime: 1,
        probeMode: unit.probes.length === 2 ? 1 : 0,
      },
    }),
    adjustInfo: (body, role) => {
      const key = 'adjustInfo';
      const sensor = sensorOf(body, key);
      const fields = { probe: sensor.probe.number, channel: sensor.channel };
      const gain = optionalNumber(body, 'gain', key, fields);
      const offset = optionalNumber(body, 'offset', key, fields);
      if (gain === undefined && offset === undefined) {
        const calibration = sensor.currentCalibration();
        return {
          adjustInfo: { status: SUCCESS, ...fields, gain: calibration.gain, offset: calibration.offset },
        };
      }
      denyUser(role, key, fields);
      const current = sensor.currentCalibration();
      sensor.setCalibration(now(), { gain: gain ?? current.gain, offset: offset ?? current.offset });
      unit.evaluate(now());
      return { adjustInfo: { status: SUCCESS, ...fields } };
    },
    alarmInfo: (body, role) => {
      const key = 'alarmInfo';
      const sensor = sensorOf(body, key);
      const fields = { probe: sensor.probe.number, channel: sensor.channel };
      const type = optionalNumber(body, 'type', key, fields);
      const low = optionalNumber(body, 'lowThreshold', key, fields);
      const high = optionalNumber(body, 'highThreshold', key, fields);
      const latch = optionalNumber(body, 'latch', key, fields);
      const deadband = optionalNumber(body, 'deadband', key, fields);
      if ([type, low, high, latch, deadband].every((value) => value === undefined)) {
        return {
          alarmInfo: { status: SUCCESS, ...fields, alarmStatus: sensor.alarmStatus, ...sensor.alarm },
        };
      }
      denyUser(role, key, fields);
      if (type !== undefined && ![0, 1, 2, 3].includes(type)) throw new CommandRefused(key, ERROR, fields);
      if (latch !== undefined && latch !== 0 && latch !== 1) throw new CommandRefused(key, ERROR, fields);
      if (deadband !== undefined && deadband < 0) throw new CommandRefused(key, ERROR, fields);
      const alarm = { ...sensor.alarm };
      if (type !== undefined) alarm.type = type;
      if (low !== undefined) alarm.lowThreshold = low;
      if (high !== undefined) alarm.highThreshold = high;
      if (latch !== undefined) alarm.latch = latch;
      if (deadband !== undefined) alarm.deadband = deadband;
      sensor.alarm = alarm;
      // New settings start from a clear alarm (this is also how a latched sensor alarm is reset).
      sensor.alarmLow = false;
      sensor.alarmHigh = false;
      unit.evaluate(now());
      return { alarmInfo: { status: SUCCESS, ...fields } };
    },
    alarmStatus: (body) => {
      const sensor = sensorOf(body, 'alarmStatus');
      return {
        alarmStatus: { probe: sensor.probe.number, channel: sensor.channel, value: sensor.alarmStatus },
      };
    },
    logConfig: (body, role) => {
      const key = 'logConfig';
      const interval = optionalNumber(body, 'interval', key);
      const enable = optionalFlag(body, 'enable', key);
      const current = unit.currentLogSettings();
      if (interval === undefined && enable === undefined)
        return { logConfig: { status: SUCCESS, interval: current.interval, enable: current.enable } };
      denyUser(role, key);
      if (interval !== undefined && (!Number.isInteger(interval) || interval < 1 || interval > 86_400))
        throw new CommandRefused(key, ERROR);
      unit.setLogSettings(now(), {
        interval: interval ?? current.interval,
        enable: enable ?? current.enable,
      });
      return { logConfig: { status: SUCCESS } };
    },
    probeConfig: (body, role) => {
      const key = 'probeConfig';
      const number = requiredInt(body, 'probe', key);
      const probe = unit.probe(number);
      if (!probe?.connected) throw new CommandRefused(key, ERROR, { probe: number });
      const deviceName = optionalString(body, 'deviceName', key, 16, { probe: number });
      if (deviceName === undefined)
        return {
          probeConfig: { status: SUCCESS, probe: number, samplingTime: 1, deviceName: probe.deviceName },
        };
      denyUser(role, key, { probe: number });
      if (deviceName.trim() === '') throw new CommandRefused(key, ERROR, { probe: number });
      probe.deviceName = deviceName;
      return { probeConfig: { status: SUCCESS, probe: number } };
    },
    alarmTrigger: (body, role, message) => {
      const key = 'alarmTrigger';
      if (apiAction(body, key) === 'read') {
        return {
          alarmTrigger: {
            status: SUCCESS,
            alarm: { ...unit.buzzer },
            probeEventList: sensorsOfConnectedProbes().map((sensor) => ({
              probeInfo: {
                probe: sensor.probe.number,
                channel: sensor.channel,
                buzzer: sensor.buzzer,
                channelname: sensor.spec.name,
                probename: sensor.probe.deviceName,
              },
            })),
          },
        };
      }
      denyUser(role, 'dbupdate');
      const alarm = body.alarm ?? message.alarm;
      const buzzer = { ...unit.buzzer };
      if (alarm !== undefined) {
        if (!isObject(alarm)) throw new CommandRefused('dbupdate', ERROR);
        const enabled = optionalFlag(alarm, 'isAlarmEnabled', 'dbupdate');
        if (enabled !== undefined) buzzer.isAlarmEnabled = enabled;
        flagsFrom(alarm, buzzer, 'dbupdate');
      }
      const changes = probeEventList(body, message, 'dbupdate').map((entry) => ({
        sensor: findListed(entry, 'dbupdate'),
        buzzer: optionalFlag(entry, 'buzzer', 'dbupdate'),
      }));
      unit.buzzer = buzzer;
      for (const change of changes) if (change.buzzer !== undefined) change.sensor.buzzer = change.buzzer;
      return dbupdate();
    },
    relayTrigger: (body, role, message) => {
      const key = 'relayTrigger';
      if (apiAction(body, key) === 'read') {
        const relayId = requiredInt(body, 'relayId', key);
        if (relayId !== 1 && relayId !== 2) throw new CommandRefused(key, ERROR);
        const relay = unit.relays[relayId];
        return {
          relayTrigger: {
            status: SUCCESS,
            relayInfo: {
              relayId,
              setting: {
                istate: relay.settings.istate,
                name: relay.settings.name,
                isLog: relay.settings.isLog,
                isDisplay: relay.settings.isDisplay,
                isLatch: relay.settings.isLatch,
                relayStatus: relay.status,
                a: relay.settings.a,
                b: relay.settings.b,
                c: relay.settings.c,
                d: relay.settings.d,
                e: relay.settings.e,
                f: relay.settings.f,
                g: relay.settings.g,
              },
            },
            probeEventList: sensorsOfConnectedProbes().map((sensor) => ({
              probeInfo: {
                probe: sensor.probe.number,
                channel: sensor.channel,
                relay: sensor.relay[relayId],
              },
            })),
          },
        };
      }
      denyUser(role, 'dbupdate');
      const relayInfo = body.relayInfo ?? message.relayInfo;
      if (!isObject(relayInfo)) throw new CommandRefused('dbupdate', ERROR);
      const relayId = requiredInt(relayInfo, 'relayId', 'dbupdate');
      if (relayId !== 1 && relayId !== 2) throw new CommandRefused('dbupdate', ERROR);
      const relay = unit.relays[relayId];
      const settings = { ...relay.settings };
      if (relayInfo.setting !== undefined) {
        if (!isObject(relayInfo.setting)) throw new CommandRefused('dbupdate', ERROR);
        const setting = relayInfo.setting;
        for (const flag of ['istate', 'isLog', 'isDisplay', 'isLatch'] as const) {
          const value = optionalFlag(setting, flag, 'dbupdate');
          if (value !== undefined) settings[flag] = value;
        }
        const name = optionalString(setting, 'name', 'dbupdate', 16);
        if (name !== undefined) settings.name = name;
        flagsFrom(setting, settings, 'dbupdate');
      }
      const changes = probeEventList(body, message, 'dbupdate').map((entry) => ({
        sensor: findListed(entry, 'dbupdate'),
        relay: optionalFlag(entry, 'relay', 'dbupdate'),
      }));
      relay.settings = settings;
      if (settings.isLatch !== 1) relay.latched = false;
      for (const change of changes)
        if (change.relay !== undefined) change.sensor.relay[relayId] = change.relay;
      unit.evaluate(now());
      return dbupdate();
    },
    notiTrigger: (body, role, message) => {
      const key = 'notiTrigger';
      if (apiAction(body, key) === 'read') {
        const noti = unit.notification;
        return {
          notiTrigger: {
            status: SUCCESS,
            notiInfo: {
              isEmailEnabled: 1,
              emailList: noti.emailList,
              heartbeatInterval: noti.heartbeatInterval,
              nextAlarmInterval: noti.nextAlarmInterval,
            },
            trigger: { ...noti.trigger },
            probeEventList: sensorsOfConnectedProbes().map((sensor) => ({
              probeInfo: { probe: sensor.probe.number, channel: sensor.channel, isSend: sensor.isSend },
            })),
          },
        };
      }
      denyUser(role, 'dbupdate');
      const next = { ...unit.notification, trigger: { ...unit.notification.trigger } };
      const notiInfo = body.notiInfo ?? message.notiInfo;
      if (notiInfo !== undefined) {
        if (!isObject(notiInfo)) throw new CommandRefused('dbupdate', ERROR);
        const emailList = optionalString(notiInfo, 'emailList', 'dbupdate', 256);
        if (emailList !== undefined) next.emailList = emailList;
        for (const field of ['heartbeatInterval', 'nextAlarmInterval'] as const) {
          const value = optionalNumber(notiInfo, field, 'dbupdate');
          if (value !== undefined) {
            if (!Number.isInteger(value) || value < 0) throw new CommandRefused('dbupdate', ERROR);
            next[field] = value;
          }
        }
      }
      const trigger = body.trigger ?? message.trigger;
      if (trigger !== undefined) {
        if (!isObject(trigger)) throw new CommandRefused('dbupdate', ERROR);
        flagsFrom(trigger, next.trigger, 'dbupdate');
      }
      const changes = probeEventList(body, message, 'dbupdate').map((entry) => ({
        sensor: findListed(entry, 'dbupdate'),
        isSend: optionalFlag(entry, 'isSend', 'dbupdate'),
      }));
      unit.notification = next;
      for (const change of changes) if (change.isSend !== undefined) change.sensor.isSend = change.isSend;
      return dbupdate();
    },
    contactClosure: (body, role, message) => {
      const key = 'contactClosure';
      if (apiAction(body, key) === 'read') {
        return {
          contactClosure: {
            status: SUCCESS,
            contact1: { ...unit.contacts[1] },
            contact2: { ...unit.contacts[2] },
            contactOutput: {
              isDisplay: unit.contactOutput.isDisplay,
              isLog: unit.contactOutput.isLog,
              outputType: unit.contactOutput.outputType,
              relayStatus: unit.contactOutputRelayStatus,
              isLatch: unit.contactOutput.isLatch,
            },
          },
        };
      }
      denyUser(role, 'dbupdate');
      const inputs = ([1, 2] as const).map((n) => {
        const source = body[`contact${n}`] ?? message[`contact${n}`];
        const next = { ...unit.contacts[n] };
        if (source === undefined) return next;
        if (!isObject(source)) throw new CommandRefused('dbupdate', ERROR);
        for (const flag of ['isContactEnabled', 'initiateState', 'isDisplay', 'isLog'] as const) {
          const value = optionalFlag(source, flag, 'dbupdate');
          if (value !== undefined) next[flag] = value;
        }
        const name = optionalString(source, 'contactName', 'dbupdate', 32);
        if (name !== undefined) next.contactName = name;
        return next;
      });
      const output = { ...unit.contactOutput };
      const outputSource = body.contactOutput ?? message.contactOutput;
      if (outputSource !== undefined) {
        if (!isObject(outputSource)) throw new CommandRefused('dbupdate', ERROR);
        for (const flag of ['isDisplay', 'isLog', 'isLatch'] as const) {
          const value = optionalFlag(outputSource, flag, 'dbupdate');
          if (value !== undefined) output[flag] = value;
        }
        const outputType = optionalNumber(outputSource, 'outputType', 'dbupdate');
        if (outputType !== undefined) {
          if (outputType !== 1 && outputType !== 2) throw new CommandRefused('dbupdate', ERROR);
          output.outputType = outputType;
        }
      }
      unit.contacts[1] = inputs[0];
      unit.contacts[2] = inputs[1];
      unit.contactOutput = output;
      if (output.isLatch !== 1) unit.contactOutputLatched = false;
      unit.evaluate(now());
      return dbupdate();
    },
    /** 3.16 Relay clear latch. */
    relayInfo: (body, role) => {
      const relayId = requiredInt(body, 'relayId', 'dbupdate');
      if ((relayId !== 1 && relayId !== 2) || apiAction(body, 'dbupdate') !== 'write')
        throw new CommandRefused('dbupdate', ERROR);
      if (!isObject(body.setting) || body.setting.clearLatch !== 1)
        throw new CommandRefused('dbupdate', ERROR);
      denyUser(role, 'dbupdate');
      unit.clearRelayLatch(now(), relayId);
      return dbupdate();
    },
    /** 3.17 Contact output clear latch. */
    contactOutput: (body, role) => {
      if (apiAction(body, 'dbupdate') !== 'write' || body.clearLatch !== 1)
        throw new CommandRefused('dbupdate', ERROR);
      denyUser(role, 'dbupdate');
      unit.clearContactOutputLatch(now());
      return dbupdate();
    },
  };

  const login = (body: Json): Json => {
    const username = typeof body.username === 'string' ? body.username.trim() : '';
    const password = typeof body.password === 'string' ? body.password : undefined;
    if (refusingLogins || (username !== 'admin' && username !== 'user') || password !== passwords[username])
      return { login: { status: AUTHENTICATION_ERROR } };
    const token = randomUUID();
    tokens.set(token, { role: username, expiresAt: tokenTtlMs > 0 ? Date.now() + tokenTtlMs : Infinity });
    stats.logins++;
    return { login: { status: SUCCESS, token } };
  };

  /** The answer to one frame; 'drop' closes the socket without answering. */
  const answer = (text: string): Json | 'drop' => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { error: { status: 'invalid json' } };
    }
    if (!isObject(parsed)) return { error: { status: 'invalid json' } };
    const entries = Object.entries(parsed).map(([key, value]) => [key.trim(), value] as const);
    const message: Json = Object.fromEntries(entries);
    const known = entries.find(([key]) => key === 'login' || key in handlers);
    if (!known) return { [entries[0]?.[0] ?? 'error']: { status: 'unknown command' } };
    const [command, body] = known;
    stats.commands[command] = (stats.commands[command] ?? 0) + 1;
    if (!isObject(body)) return { [command]: { status: ERROR } };
    if (command === 'login') return login(body);
    if (dropNext > 0) {
      dropNext--;
      return 'drop';
    }
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const session = tokens.get(token);
    if (!session || session.expiresAt <= Date.now()) {
      if (session) tokens.delete(token);
      return { [command]: { status: AUTHENTICATION_ERROR } };
    }
    unit.evaluate(now());
    try {
      return handlers[command](body, session.role, message);
    } catch (error) {
      if (error instanceof CommandRefused) return { [error.key]: { status: error.status, ...error.fields } };
      throw error;
    }
  };

  const later = (fn: () => void): void => {
    if (latencyMs > 0) setTimeout(fn, latencyMs);
    else fn();
  };

  // ---- WebSocket server
  const wsHttp = http.createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain' }).end('WebSocket only\n');
  });
  const wss = new WebSocketServer({ server: wsHttp });
  wss.on('connection', (socket: WebSocket) => {
    stats.connections++;
    stats.openConnections++;
    socket.on('close', () => stats.openConnections--);
    socket.on('error', () => undefined);
    let pending = 0;
    socket.on('message', (data: RawData) => {
      pending++;
      stats.maxPendingPerConnection = Math.max(stats.maxPendingPerConnection, pending);
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as Uint8Array).toString('utf8');
      const reply = answer(text);
      if (reply === 'drop') {
        socket.terminate();
        return;
      }
      later(() => {
        pending--;
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(reply));
      });
    });
  });

  // ---- CGI extract
  const cgi = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://unit');
    if (request.method !== 'GET' || url.pathname !== '/cgi-bin/query') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
      return;
    }
    stats.extracts++;
    const start = Number(url.searchParams.get('startTime'));
    const end = Number(url.searchParams.get('endTime'));
    if (
      !url.searchParams.has('startTime') ||
      !url.searchParams.has('endTime') ||
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      end < start
    ) {
      response
        .writeHead(400, { 'Content-Type': 'text/plain' })
        .end('startTime and endTime must be UTC seconds\n');
      return;
    }
    const columns = [...url.searchParams.entries()].filter(([key]) =>
      /^(p0ch[01]|p[12]ch[0-3]|relay[12]|contact[12]|contactout)$/.test(key),
    );
    const t = now();
    unit.evaluate(t);
    const lines = [['Time', ...columns.map(([, header]) => header)].map(csvCell).join(',')];
    for (const time of unit.logTimes(start, end, t, EXTRACT_ROW_LIMIT)) {
      const cells = columns.map(([key]) => {
        const value = unit.loggedValue(key, time);
        return value === null ? '' : String(value);
      });
      lines.push([new Date(time * 1000).toISOString().slice(0, 19).replace('T', ' '), ...cells].join(','));
    }
    later(() => response.writeHead(200, { 'Content-Type': 'text/csv' }).end(`${lines.join('\r\n')}\r\n`));
  });

  const listen = (server: http.Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(wsHttp, options.port ?? 8081);
  let httpPort: number;
  try {
    httpPort = await listen(cgi, options.httpPort ?? 0);
  } catch (error) {
    wsHttp.close();
    throw error;
  }

  const tick = setInterval(() => unit.evaluate(now()), options.tickMs ?? 1000);
  tick.unref();

  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `ws://${urlHost}:${port}/`,
    httpUrl: `http://${urlHost}:${httpPort}`,
    endpoint: `ws://${urlHost}:${port}/?cgiPort=${httpPort}`,
    port,
    httpPort,
    credentials: [
      { username: 'admin', password: passwords.admin },
      { username: 'user', password: passwords.user },
    ],
    unit,
    async stop() {
      clearInterval(tick);
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      cgi.closeAllConnections();
      wsHttp.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => wsHttp.close(() => resolve())),
        new Promise<void>((resolve) => cgi.close(() => resolve())),
      ]);
    },
    trueValue: (channel) => unit.sensorById(channel).trueValue(now()),
    reportedValue: (channel) => unit.sensorById(channel).reportedValue(now()),
    setTrueValue: (channel, value) => {
      unit.sensorById(channel).setTrueValue(now(), value);
      unit.evaluate(now());
    },
    setLatency: (ms) => {
      latencyMs = Math.max(0, ms);
    },
    dropConnections: () => {
      for (const client of wss.clients) client.terminate();
    },
    dropNextCommands: (count = 1) => {
      dropNext = count;
    },
    refuseLogins: (refuse) => {
      refusingLogins = refuse;
    },
    expireTokens: () => tokens.clear(),
    setContactInput: (contact, changed) => unit.setContactInput(now(), contact, changed),
    setProbeConnected: (probe, connected) => unit.setProbeConnected(now(), probe, connected),
    garbleSensor: (channel, garbled) => {
      if (garbled) garbledSensors.add(channel);
      else garbledSensors.delete(channel);
    },
    stats: () => ({ ...stats, commands: { ...stats.commands } }),
  };
}
