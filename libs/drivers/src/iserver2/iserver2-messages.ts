/**
 * The JSON messages of the Omega iServer 2 WebSocket interface (JSON Websocket Guide M-5807/0225,
 * chapter 3), typed in both directions, with the readers that check an answer's shape at run time.
 *
 * Every message is one JSON object with one key, the command name ("sensorData", "adjustInfo", …); the
 * unit answers under the same key, except writes of the trigger/contact/latch commands, which are
 * answered with a "dbupdate" object, and systemMeta, whose answer carries both "dbupdate" and "systemMeta".
 */

/** The status string the unit sends when a command succeeded. */
export const STATUS_SUCCESS = 'success';
/**
 * The status the unit sends for a refused login or a wrong, missing or expired token. The guide only
 * says "an authentication error will return"; the simulator sends exactly this text and the client
 * recognises any status that mentions authentication or the token (see docs/iserver2.md).
 */
export const STATUS_AUTHENTICATION_ERROR = 'authentication error';
/** Unit answers for a probe/channel that does not exist and for writes refused to the "user" account. */
export const STATUS_ERROR = 'error';
export const STATUS_PERMISSION_DENIED = 'permission denied';

export function isAuthenticationStatus(status: string): boolean {
  return /auth|token|login/i.test(status);
}

/** 0 = thermocouple inputs (meaningless on probe models), 1 = probe 1, 2 = probe 2. */
export type ProbeNumber = number;
/** Sensor number on a probe, 0–3. */
export type ChannelNumber = number;
/** 0/1 flags as the unit sends them. */
export type Flag = 0 | 1;
export type ApiAction = 'read' | 'write';

/** Triggers shared by the buzzer, relay and notification settings (a, c, e reserved). */
export interface TriggerFlags {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
  g: number;
}

export interface BuzzerTriggerEntry {
  probeInfo: { probe: ProbeNumber; channel: ChannelNumber; buzzer: number };
}
export interface RelayTriggerEntry {
  probeInfo: { probe: ProbeNumber; channel: ChannelNumber; relay: number };
}
export interface NotificationTriggerEntry {
  probeInfo: { probe: ProbeNumber; channel: ChannelNumber; isSend: number };
}

export interface RelaySettingWrite extends TriggerFlags {
  istate: number;
  name: string;
  isLog: number;
  isDisplay: number;
  isLatch: number;
}
export interface ContactInputWrite {
  isContactEnabled: number;
  initiateState: number;
  contactName: string;
  isDisplay: number;
  isLog: number;
}
export interface ContactOutputWrite {
  isDisplay: number;
  isLog: number;
  outputType: number;
  isLatch: number;
}

/** Command parameters, by command name (the body under the command key). */
export interface IServer2Requests {
  login: { username: string; password: string };
  probeList: { token: string };
  sensorData: { probe: ProbeNumber; channel: ChannelNumber; token: string };
  sensorMeta: { probe: ProbeNumber; channel: ChannelNumber; token: string };
  probeMeta: { probe: ProbeNumber; token: string };
  systemMeta: { token: string };
  /** A read without gain and offset, a write with either. */
  adjustInfo: { probe: ProbeNumber; channel: ChannelNumber; gain?: number; offset?: number; token: string };
  /** A read without settings, a write with any of them. */
  alarmInfo: {
    probe: ProbeNumber;
    channel: ChannelNumber;
    type?: number;
    lowThreshold?: number;
    highThreshold?: number;
    latch?: number;
    deadband?: number;
    token: string;
  };
  alarmStatus: { probe: ProbeNumber; channel: ChannelNumber; token: string };
  logConfig: { interval?: number; enable?: number; token: string };
  probeConfig: { probe: ProbeNumber; deviceName?: string; token: string };
  alarmTrigger: {
    apiaction: ApiAction;
    alarm?: TriggerFlags & { isAlarmEnabled: number };
    probeEventList?: BuzzerTriggerEntry[];
    token: string;
  };
  relayTrigger: {
    apiaction: ApiAction;
    /** Read: which relay. */
    relayId?: number;
    /** Write: the relay and its settings. */
    relayInfo?: { relayId: number; setting: RelaySettingWrite };
    probeEventList?: RelayTriggerEntry[];
    token: string;
  };
  notiTrigger: {
    apiaction: ApiAction;
    notiInfo?: { emailList: string; heartbeatInterval: number; nextAlarmInterval: number };
    trigger?: TriggerFlags;
    probeEventList?: NotificationTriggerEntry[];
    token: string;
  };
  contactClosure: {
    apiaction: ApiAction;
    contact1?: ContactInputWrite;
    contact2?: ContactInputWrite;
    contactOutput?: ContactOutputWrite;
    token: string;
  };
  /** 3.16 Relay clear latch. */
  relayInfo: { relayId: number; setting: { clearLatch: number }; apiaction: ApiAction; token: string };
  /** 3.17 Contact output clear latch. */
  contactOutput: { apiaction: ApiAction; clearLatch: number; token: string };
}

export type IServer2CommandName = keyof IServer2Requests;
export const ISERVER2_COMMANDS: readonly IServer2CommandName[] = [
  'login',
  'probeList',
  'sensorData',
  'sensorMeta',
  'probeMeta',
  'systemMeta',
  'adjustInfo',
  'alarmInfo',
  'alarmStatus',
  'logConfig',
  'probeConfig',
  'alarmTrigger',
  'relayTrigger',
  'notiTrigger',
  'contactClosure',
  'relayInfo',
  'contactOutput',
];

/** Parameters the caller gives; the client adds the token. */
export type CommandParams<K extends IServer2CommandName> = K extends 'login'
  ? IServer2Requests[K]
  : Omit<IServer2Requests[K], 'token'>;

// ----------------------------------------------------------------------------------------------------
// Answers

export interface LoginAnswer {
  status: string;
  token: string;
}
export interface ProbeListEntry {
  /** Sent as "probeId" (printed "probeld" in the guide). */
  probeId: ProbeNumber;
  probe: ProbeNumber;
  sensors: ChannelNumber[];
  connected: number;
  /** UTC seconds. */
  timestamp: number;
  isLock: number;
  isExtractIP: number;
}
export interface ProbeListAnswer {
  status: string;
  probes: ProbeListEntry[];
}
export interface SensorDataAnswer {
  probe: ProbeNumber;
  channel: ChannelNumber;
  /** UTC seconds. */
  time: number;
  value: number;
  precision: number;
}
export interface SensorMetaAnswer {
  status: string;
  probe: ProbeNumber;
  channel: ChannelNumber;
  type: number;
  typestr: string;
  unit: string;
  subtype: number;
  name: string;
  precision: number;
}
export interface ProbeMetaAnswer {
  probe: ProbeNumber;
  sensor: number;
  output: number;
  firmwareVer: number;
  coreVer: number;
  /** Seconds since 2000-01-01 UTC (add 946684800 for a UTC timestamp). */
  manufacturedDate: number;
  calibratedDate: number;
  status: string;
  probeModel: string;
}
export interface SystemMetaAnswer {
  status: string;
  firmwareStr: string;
  hardware: number;
  manufacturer: string;
  model: string;
  deviceName: string;
  systemName: string;
  id: string;
  samplingTime: number;
  probeMode: number;
}
export interface AdjustInfoAnswer {
  status: string;
  probe: ProbeNumber;
  channel: ChannelNumber;
  gain: number;
  offset: number;
}
/** Answer to the adjustInfo and alarmInfo writes. */
export interface ChannelWriteAnswer {
  status: string;
  probe: ProbeNumber;
  channel: ChannelNumber;
}
export interface AlarmInfoAnswer {
  status: string;
  probe: ProbeNumber;
  channel: ChannelNumber;
  /** 0 none, 1 low triggered, 2 high triggered, 3 high and low triggered. */
  alarmStatus: number;
  /** 0 no alarm, 1 low, 2 high, 3 high-low. */
  type: number;
  latch: number;
  lowThreshold: number;
  highThreshold: number;
  deadband: number;
}
export interface AlarmStatusAnswer {
  probe: ProbeNumber;
  channel: ChannelNumber;
  value: number;
}
export interface LogConfigAnswer {
  status: string;
  /** Seconds. */
  interval: number;
  enable: number;
}
export interface StatusAnswer {
  status: string;
}
export interface ProbeConfigAnswer {
  status: string;
  probe: ProbeNumber;
  samplingTime: number;
  deviceName: string;
}
export interface ProbeConfigWriteAnswer {
  status: string;
  probe: ProbeNumber;
}
export interface AlarmTriggerAnswer {
  status: string;
  alarm: TriggerFlags & { isAlarmEnabled: number };
  probeEventList: {
    probeInfo: BuzzerTriggerEntry['probeInfo'] & { channelname: string; probename: string };
  }[];
}
export interface RelaySetting extends RelaySettingWrite {
  /** 0 closed, 1 open (see docs/iserver2.md on how the simulator reads it). */
  relayStatus: number;
}
export interface RelayTriggerAnswer {
  status: string;
  relayInfo: { relayId: number; setting: RelaySetting };
  probeEventList: RelayTriggerEntry[];
}
export interface NotiTriggerAnswer {
  status: string;
  notiInfo: {
    isEmailEnabled: number;
    emailList: string;
    heartbeatInterval: number;
    nextAlarmInterval: number;
  };
  trigger: TriggerFlags;
  probeEventList: NotificationTriggerEntry[];
}
export interface ContactInput extends ContactInputWrite {
  /** 0 initial state, 1 changed state. */
  OpenStatus: number;
}
export interface ContactOutput extends ContactOutputWrite {
  relayStatus: number;
}
export interface ContactClosureAnswer {
  status: string;
  contact1: ContactInput;
  contact2: ContactInput;
  contactOutput: ContactOutput;
}

// ----------------------------------------------------------------------------------------------------
// Reading untrusted JSON

/** A message that is not the shape the guide describes. */
export class IServer2ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IServer2ProtocolError';
  }
}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses one WebSocket text frame into its top-level object, trimming the keys: the guide's own examples
 * send " alarmStatus", " logConfig" and " notiTrigger" with a leading space.
 */
export function parseMessage(text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IServer2ProtocolError(`not JSON: ${text.slice(0, 80)}`);
  }
  if (!isJsonObject(parsed)) throw new IServer2ProtocolError(`not a JSON object: ${text.slice(0, 80)}`);
  const message: JsonObject = {};
  for (const [key, value] of Object.entries(parsed)) message[key.trim()] = value;
  return message;
}

function object(value: unknown, path: string): JsonObject {
  if (!isJsonObject(value)) throw new IServer2ProtocolError(`${path} is not an object`);
  return value;
}
function num(body: JsonObject, key: string, path: string): number {
  const value = body[key];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new IServer2ProtocolError(`${path}.${key} is not a number (${JSON.stringify(value)})`);
  return value;
}
function str(body: JsonObject, key: string, path: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw new IServer2ProtocolError(`${path}.${key} is not a string`);
  return value;
}
function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new IServer2ProtocolError(`${path} is not an array`);
  return value;
}
function flags(body: JsonObject, path: string): TriggerFlags {
  return {
    a: num(body, 'a', path),
    b: num(body, 'b', path),
    c: num(body, 'c', path),
    d: num(body, 'd', path),
    e: num(body, 'e', path),
    f: num(body, 'f', path),
    g: num(body, 'g', path),
  };
}
function status(body: JsonObject, path: string): string {
  return str(body, 'status', path);
}

/** The body under `key`, e.g. message.sensorData. */
export function bodyOf(message: JsonObject, key: string): JsonObject {
  return object(message[key], key);
}

/**
 * probeEventList belongs inside the command body, but the guide's alarmTrigger read example prints it
 * beside the body: both places are accepted.
 */
function probeEventList(message: JsonObject, key: string): unknown[] {
  const body = bodyOf(message, key);
  const list = body.probeEventList ?? message.probeEventList;
  return array(list, `${key}.probeEventList`);
}
function probeInfo(entry: unknown, path: string): JsonObject {
  return object(object(entry, path).probeInfo, `${path}.probeInfo`);
}

export const readAnswer = {
  login(message: JsonObject): LoginAnswer {
    const body = bodyOf(message, 'login');
    return { status: status(body, 'login'), token: str(body, 'token', 'login').trim() };
  },
  probeList(message: JsonObject): ProbeListAnswer {
    const body = bodyOf(message, 'probeList');
    const probes = array(body.probes, 'probeList.probes').map((entry, index) => {
      const path = `probeList.probes[${index}]`;
      const probe = object(entry, path);
      const probeId = typeof probe.probeId === 'number' ? probe.probeId : num(probe, 'probeld', path);
      return {
        probeId,
        probe: num(probe, 'probe', path),
        sensors: array(probe.sensors, `${path}.sensors`).map((sensor, i) => {
          if (typeof sensor !== 'number')
            throw new IServer2ProtocolError(`${path}.sensors[${i}] not a number`);
          return sensor;
        }),
        connected: num(probe, 'connected', path),
        timestamp: num(probe, 'timestamp', path),
        isLock: num(probe, 'isLock', path),
        isExtractIP: num(probe, 'isExtractIP', path),
      };
    });
    return { status: status(body, 'probeList'), probes };
  },
  sensorData(message: JsonObject): SensorDataAnswer {
    const body = bodyOf(message, 'sensorData');
    return {
      probe: num(body, 'probe', 'sensorData'),
      channel: num(body, 'channel', 'sensorData'),
      time: num(body, 'time', 'sensorData'),
      value: num(body, 'value', 'sensorData'),
      precision: num(body, 'precision', 'sensorData'),
    };
  },
  sensorMeta(message: JsonObject): SensorMetaAnswer {
    const p = 'sensorMeta';
    const body = bodyOf(message, p);
    return {
      status: status(body, p),
      probe: num(body, 'probe', p),
      channel: num(body, 'channel', p),
      type: num(body, 'type', p),
      typestr: str(body, 'typestr', p),
      unit: str(body, 'unit', p),
      subtype: num(body, 'subtype', p),
      name: str(body, 'name', p),
      precision: num(body, 'precision', p),
    };
  },
  probeMeta(message: JsonObject): ProbeMetaAnswer {
    const p = 'probeMeta';
    const body = bodyOf(message, p);
    return {
      probe: num(body, 'probe', p),
      sensor: num(body, 'sensor', p),
      output: num(body, 'output', p),
      firmwareVer: num(body, 'firmwareVer', p),
      coreVer: num(body, 'coreVer', p),
      manufacturedDate: num(body, 'manufacturedDate', p),
      calibratedDate: num(body, 'calibratedDate', p),
      status: status(body, p),
      probeModel: str(body, 'probeModel', p),
    };
  },
  systemMeta(message: JsonObject): SystemMetaAnswer {
    const p = 'systemMeta';
    const body = bodyOf(message, p);
    return {
      status: status(body, p),
      firmwareStr: str(body, 'firmwareStr', p),
      hardware: num(body, 'hardware', p),
      manufacturer: str(body, 'manufacturer', p),
      model: str(body, 'model', p),
      deviceName: str(body, 'deviceName', p),
      systemName: str(body, 'systemName', p),
      id: str(body, 'id', p),
      samplingTime: num(body, 'samplingTime', p),
      probeMode: num(body, 'probeMode', p),
    };
  },
  adjustInfo(message: JsonObject): AdjustInfoAnswer {
    const p = 'adjustInfo';
    const body = bodyOf(message, p);
    return {
      status: status(body, p),
      probe: num(body, 'probe', p),
      channel: num(body, 'channel', p),
      gain: num(body, 'gain', p),
      offset: num(body, 'offset', p),
    };
  },
  channelWrite(message: JsonObject, key: 'adjustInfo' | 'alarmInfo'): ChannelWriteAnswer {
    const body = bodyOf(message, key);
    return { status: status(body, key), probe: num(body, 'probe', key), channel: num(body, 'channel', key) };
  },
  alarmInfo(message: JsonObject): AlarmInfoAnswer {
    const p = 'alarmInfo';
    const body = bodyOf(message, p);
    return {
      status: status(body, p),
      probe: num(body, 'probe', p),
      channel: num(body, 'channel', p),
      alarmStatus: num(body, 'alarmStatus', p),
      type: num(body, 'type', p),
      latch: num(body, 'latch', p),
      lowThreshold: num(body, 'lowThreshold', p),
      highThreshold: num(body, 'highThreshold', p),
      deadband: num(body, 'deadband', p),
    };
  },
  alarmStatus(message: JsonObject): AlarmStatusAnswer {
    const p = 'alarmStatus';
    const body = bodyOf(message, p);
    return { probe: num(body, 'probe', p), channel: num(body, 'channel', p), value: num(body, 'value', p) };
  },
  logConfig(message: JsonObject): LogConfigAnswer {
    const p = 'logConfig';
    const body = bodyOf(message, p);
    return { status: status(body, p), interval: num(body, 'interval', p), enable: num(body, 'enable', p) };
  },
  status(message: JsonObject, key: string): StatusAnswer {
    return { status: status(bodyOf(message, key), key) };
  },
  probeConfig(message: JsonObject): ProbeConfigAnswer {
    const p = 'probeConfig';
    const body = bodyOf(message, p);
    return {
      status: status(body, p),
      probe: num(body, 'probe', p),
      samplingTime: num(body, 'samplingTime', p),
      deviceName: str(body, 'deviceName', p),
    };
  },
  probeConfigWrite(message: JsonObject): ProbeConfigWriteAnswer {
    const p = 'probeConfig';
    const body = bodyOf(message, p);
    return { status: status(body, p), probe: num(body, 'probe', p) };
  },
  alarmTrigger(message: JsonObject): AlarmTriggerAnswer {
    const p = 'alarmTrigger';
    const body = bodyOf(message, p);
    const alarm = object(body.alarm, `${p}.alarm`);
    return {
      status: status(body, p),
      alarm: { isAlarmEnabled: num(alarm, 'isAlarmEnabled', `${p}.alarm`), ...flags(alarm, `${p}.alarm`) },
      probeEventList: probeEventList(message, p).map((entry, index) => {
        const path = `${p}.probeEventList[${index}]`;
        const info = probeInfo(entry, path);
        return {
          probeInfo: {
            probe: num(info, 'probe', path),
            channel: num(info, 'channel', path),
            buzzer: num(info, 'buzzer', path),
            channelname: str(info, 'channelname', path),
            probename: str(info, 'probename', path),
          },
        };
      }),
    };
  },
  relayTrigger(message: JsonObject): RelayTriggerAnswer {
    const p = 'relayTrigger';
    const body = bodyOf(message, p);
    const relayInfo = object(body.relayInfo, `${p}.relayInfo`);
    const sp = `${p}.relayInfo.setting`;
    const setting = object(relayInfo.setting, sp);
    return {
      status: status(body, p),
      relayInfo: {
        relayId: num(relayInfo, 'relayId', `${p}.relayInfo`),
        setting: {
          istate: num(setting, 'istate', sp),
          name: str(setting, 'name', sp),
          isLog: num(setting, 'isLog', sp),
          isDisplay: num(setting, 'isDisplay', sp),
          isLatch: num(setting, 'isLatch', sp),
          relayStatus: num(setting, 'relayStatus', sp),
          ...flags(setting, sp),
        },
      },
      probeEventList: probeEventList(message, p).map((entry, index) => {
        const path = `${p}.probeEventList[${index}]`;
        const info = probeInfo(entry, path);
        return {
          probeInfo: {
            probe: num(info, 'probe', path),
            channel: num(info, 'channel', path),
            relay: num(info, 'relay', path),
          },
        };
      }),
    };
  },
  notiTrigger(message: JsonObject): NotiTriggerAnswer {
    const p = 'notiTrigger';
    const body = bodyOf(message, p);
    const noti = object(body.notiInfo, `${p}.notiInfo`);
    return {
      status: status(body, p),
      notiInfo: {
        isEmailEnabled: num(noti, 'isEmailEnabled', `${p}.notiInfo`),
        emailList: str(noti, 'emailList', `${p}.notiInfo`),
        heartbeatInterval: num(noti, 'heartbeatInterval', `${p}.notiInfo`),
        nextAlarmInterval: num(noti, 'nextAlarmInterval', `${p}.notiInfo`),
      },
      trigger: flags(object(body.trigger, `${p}.trigger`), `${p}.trigger`),
      probeEventList: probeEventList(message, p).map((entry, index) => {
        const path = `${p}.probeEventList[${index}]`;
        const info = probeInfo(entry, path);
        return {
          probeInfo: {
            probe: num(info, 'probe', path),
            channel: num(info, 'channel', path),
            isSend: num(info, 'isSend', path),
          },
        };
      }),
    };
  },
  contactClosure(message: JsonObject): ContactClosureAnswer {
    const p = 'contactClosure';
    const body = bodyOf(message, p);
    const input = (key: 'contact1' | 'contact2'): ContactInput => {
      const path = `${p}.${key}`;
      const contact = object(body[key], path);
      return {
        isContactEnabled: num(contact, 'isContactEnabled', path),
        initiateState: num(contact, 'initiateState', path),
        contactName: str(contact, 'contactName', path),
        isDisplay: num(contact, 'isDisplay', path),
        isLog: num(contact, 'isLog', path),
        OpenStatus: num(contact, 'OpenStatus', path),
      };
    };
    const op = `${p}.contactOutput`;
    const output = object(body.contactOutput, op);
    return {
      status: status(body, p),
      contact1: input('contact1'),
      contact2: input('contact2'),
      contactOutput: {
        isDisplay: num(output, 'isDisplay', op),
        isLog: num(output, 'isLog', op),
        outputType: num(output, 'outputType', op),
        relayStatus: num(output, 'relayStatus', op),
        isLatch: num(output, 'isLatch', op),
      },
    };
  },
  dbupdate(message: JsonObject): StatusAnswer {
    return { status: status(bodyOf(message, 'dbupdate'), 'dbupdate') };
  },
};

// ----------------------------------------------------------------------------------------------------
// Sensor identities

export interface SensorAddress {
  probe: ProbeNumber;
  channel: ChannelNumber;
}

/** "p1ch0" – the name the CGI extract uses for probe 1, channel 0; the driver uses it as channel id. */
export function channelId(probe: ProbeNumber, channel: ChannelNumber): string {
  return `p${probe}ch${channel}`;
}

export function parseChannelId(id: string): SensorAddress {
  const match = /^p([0-2])ch([0-3])$/.exec(id.trim());
  if (!match) throw new RangeError(`"${id}" is not an iServer 2 channel (p0ch0–p0ch1, p1ch0–p2ch3)`);
  const probe = Number(match[1]);
  const channel = Number(match[2]);
  if (probe === 0 && channel > 1) throw new RangeError(`"${id}": thermocouple inputs are p0ch0 and p0ch1`);
  return { probe, channel };
}

/** Probe dates count seconds from 2000-01-01 UTC (guide 3.5.2). */
export const PROBE_DATE_EPOCH_OFFSET_SECONDS = 946684800;

export function probeDate(value: number): Date {
  return new Date((value + PROBE_DATE_EPOCH_OFFSET_SECONDS) * 1000);
}

/**
 * firmwareVer/coreVer (guide 3.5.2): "Decimal representation of the … version, convert to hex to get the
 * version number (e.g. 2.6.4.0 is 0x02060400)". Each byte of the hex form is one part, written in hex:
 * the guide's coreVer 54793475 = 0x03441503 is "3.44.15.3" (not "3.68.21.3", its bytes in decimal).
 */
export function versionString(value: number): string {
  return [24, 16, 8, 0].map((shift) => ((value >>> shift) & 0xff).toString(16)).join('.');
}
