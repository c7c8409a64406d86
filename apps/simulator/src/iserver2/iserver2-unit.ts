/**
 * The simulated state of one Omega iServer 2 unit: probes and their sensors (values that follow a slow
 * daily-like swing plus a little noise, dew point and humidex derived from temperature and humidity),
 * gain/offset, alarms with deadband and latch, the two alarm relays, the contact inputs and output, the
 * buzzer and e-mail triggers, and the data log the CGI extract reads.
 *
 * Values are a pure function of time (plus the overrides a test sets, the calibration and log settings
 * in force, each kept with the time it took effect), so the extract for any past range gives the values the
 * unit would have shown then, at the logging interval then in force.
 */

export interface SimulatedSensorOptions {
  name: string;
  /** sensorMeta.typestr: "temperature", "humidity", "barometer", "dewpoint", "humidex"… */
  typestr: string;
  /** sensorMeta.type (internal code on the unit). */
  type: number;
  subtype?: number;
  unit: string;
  precision: number;
  /** Mean value, swing amplitude, swing period and noise amplitude (physical value, before gain/offset). */
  base: number;
  amplitude: number;
  periodSeconds: number;
  noise: number;
  min?: number;
  max?: number;
  /** Computed from the probe's temperature and humidity sensors instead of its own curve. */
  derived?: 'dewpoint' | 'humidex';
}

export interface SimulatedProbeOptions {
  /** probeConfig.deviceName, at most 16 characters. */
  deviceName: string;
  probeModel: string;
  sensors: SimulatedSensorOptions[];
  outputs?: number;
  connected?: boolean;
}

const TEMPERATURE: SimulatedSensorOptions = {
  name: 'Temperature',
  typestr: 'temperature',
  type: 1,
  unit: 'C',
  precision: 1,
  base: 22,
  amplitude: 3,
  periodSeconds: 86_400,
  noise: 0.15,
  min: -40,
  max: 125,
};
const HUMIDITY: SimulatedSensorOptions = {
  name: 'Humidity',
  typestr: 'humidity',
  type: 2,
  unit: '%',
  precision: 1,
  base: 48,
  amplitude: 8,
  periodSeconds: 86_400,
  noise: 0.4,
  min: 0,
  max: 100,
};
const BAROMETER: SimulatedSensorOptions = {
  name: 'Barometer',
  typestr: 'barometer',
  type: 3,
  unit: 'mbar',
  precision: 1,
  base: 1013.2,
  amplitude: 4,
  periodSeconds: 5 * 86_400,
  noise: 0.2,
  min: 300,
  max: 1100,
};

/** The guide's example installation: a T/RH/barometer probe and a humidex/dew point/T/RH probe. */
export function defaultProbes(count = 2): SimulatedProbeOptions[] {
  const probes: SimulatedProbeOptions[] = [
    {
      deviceName: 'Device_31312FD1',
      probeModel: 'SP-003-1',
      outputs: 2,
      sensors: [TEMPERATURE, HUMIDITY, BAROMETER],
    },
    {
      deviceName: 'Device_10342FD1',
      probeModel: 'SP-004-2',
      outputs: 2,
      sensors: [
        { ...TEMPERATURE, name: 'Humidex', typestr: 'humidex', type: 5, derived: 'humidex' },
        { ...TEMPERATURE, name: 'Dewpoint', typestr: 'dewpoint', type: 4, derived: 'dewpoint' },
        { ...TEMPERATURE, base: 24, amplitude: 2.5 },
        { ...HUMIDITY, base: 40 },
      ],
    },
  ];
  return probes.slice(0, Math.max(1, Math.min(2, count)));
}

interface Timed<T> {
  /** UTC seconds from which the value holds. */
  from: number;
  value: T;
}

function at<T>(history: readonly Timed<T>[], t: number): T {
  let found = history[0].value;
  for (const entry of history) {
    if (entry.from <= t) found = entry.value;
    else break;
  }
  return found;
}

function record<T>(history: Timed<T>[], t: number, value: T): void {
  // Changes arrive in time order; a change at the same instant as the last one replaces it.
  while (history.length > 1 && history[history.length - 1].from >= t) history.pop();
  if (history[history.length - 1].from >= t) history[history.length - 1] = { from: t, value };
  else history.push({ from: t, value });
}

/** Deterministic noise in [-1, 1] for a sensor and a whole second. */
function noiseAt(seed: number, second: number): number {
  const x = Math.sin(second * 12.9898 + seed * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

export interface Calibration {
  gain: number;
  offset: number;
}

export interface AlarmSettings {
  /** 0 none, 1 low, 2 high, 3 high-low. */
  type: number;
  latch: number;
  lowThreshold: number;
  highThreshold: number;
  deadband: number;
}

export class SimulatedSensor {
  readonly calibration: Timed<Calibration>[];
  readonly overrides: Timed<number | null>[] = [{ from: 0, value: null }];
  alarm: AlarmSettings = { type: 0, latch: 0, lowThreshold: 0, highThreshold: 0, deadband: 5 };
  alarmLow = false;
  alarmHigh = false;
  buzzer = 0;
  isSend = 0;
  readonly relay: Record<1 | 2, number> = { 1: 0, 2: 0 };

  constructor(
    readonly probe: SimulatedProbe,
    readonly channel: number,
    readonly spec: SimulatedSensorOptions,
    private readonly seed: number,
  ) {
    this.calibration = [{ from: 0, value: { gain: 1, offset: 0 } }];
  }

  get id(): string {
    return `p${this.probe.number}ch${this.channel}`;
  }

  /** The physical value at time t (UTC seconds), before gain and offset. */
  trueValue(t: number): number {
    const override = at(this.overrides, t);
    if (override !== null) return override;
    const spec = this.spec;
    if (spec.derived) {
      const temperature = this.probe.sensorOfType('temperature')?.trueValue(t) ?? 20;
      const humidity = Math.max(1, this.probe.sensorOfType('humidity')?.trueValue(t) ?? 50);
      const a = 17.62;
      const b = 243.12;
      const gamma = Math.log(humidity / 100) + (a * temperature) / (b + temperature);
      const dewpoint = (b * gamma) / (a - gamma);
      if (spec.derived === 'dewpoint') return dewpoint;
      const vapour = 6.11 * Math.exp(5417.753 * (1 / 273.16 - 1 / (273.15 + dewpoint)));
      return temperature + 0.5555 * (vapour - 10);
    }
    const swing = spec.amplitude * Math.sin((2 * Math.PI * t) / spec.periodSeconds + this.seed);
    const value = spec.base + swing + spec.noise * noiseAt(this.seed, Math.floor(t));
    return Math.min(spec.max ?? Infinity, Math.max(spec.min ?? -Infinity, value));
  }

  /** What the unit displays and logs: true value × gain + offset, with the calibration in force at t. */
  reportedValue(t: number): number {
    const { gain, offset } = at(this.calibration, t);
    return this.trueValue(t) * gain + offset;
  }

  setCalibration(t: number, calibration: Calibration): void {
    record(this.calibration, t, calibration);
  }

  currentCalibration(): Calibration {
    return this.calibration[this.calibration.length - 1].value;
  }

  setTrueValue(t: number, value: number | null): void {
    record(this.overrides, t, value);
  }

  /** 0 none, 1 low, 2 high, 3 both (a latched side and the other). */
  get alarmStatus(): number {
    return (this.alarmLow ? 1 : 0) | (this.alarmHigh ? 2 : 0);
  }

  /** Trips and clears the alarm for the value at t (deadband to clear, latch keeps it). */
  evaluateAlarm(t: number): void {
    const { type, latch, lowThreshold, highThreshold, deadband } = this.alarm;
    const value = this.reportedValue(t);
    const lowEnabled = type === 1 || type === 3;
    const highEnabled = type === 2 || type === 3;
    if (!lowEnabled) this.alarmLow = false;
    else if (value < lowThreshold) this.alarmLow = true;
    else if (this.alarmLow && latch !== 1 && value >= lowThreshold + deadband) this.alarmLow = false;
    if (!highEnabled) this.alarmHigh = false;
    else if (value > highThreshold) this.alarmHigh = true;
    else if (this.alarmHigh && latch !== 1 && value <= highThreshold - deadband) this.alarmHigh = false;
  }
}

export class SimulatedProbe {
  readonly sensors: SimulatedSensor[];
  deviceName: string;
  connected: boolean;
  /** When the probe was last (re)connected, UTC seconds. */
  connectedAt: number;

  constructor(
    readonly number: number,
    readonly spec: SimulatedProbeOptions,
    now: number,
  ) {
    this.deviceName = spec.deviceName;
    this.connected = spec.connected ?? true;
    this.connectedAt = Math.floor(now);
    this.sensors = spec.sensors.map(
      (sensor, channel) => new SimulatedSensor(this, channel, sensor, number * 7 + channel),
    );
  }

  sensorOfType(typestr: string): SimulatedSensor | undefined {
    return this.sensors.find((sensor) => sensor.spec.typestr === typestr && !sensor.spec.derived);
  }
}

export interface TriggerFlags {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
  g: number;
}

export interface RelaySettings extends TriggerFlags {
  istate: number;
  name: string;
  isLog: number;
  isDisplay: number;
  isLatch: number;
}

export class SimulatedRelay {
  latched = false;
  readonly history: Timed<number>[] = [{ from: 0, value: 0 }];
  constructor(
    readonly id: 1 | 2,
    public settings: RelaySettings,
  ) {}

  /** relayStatus: 1 while operated by a trigger (or held by the latch), else 0. */
  get status(): number {
    return this.history[this.history.length - 1].value;
  }
}

export interface ContactInputSettings {
  isContactEnabled: number;
  initiateState: number;
  contactName: string;
  isDisplay: number;
  isLog: number;
}

export interface ContactOutputSettings {
  isDisplay: number;
  isLog: number;
  /** 1 active low, 2 active high. */
  outputType: number;
  isLatch: number;
}

const NO_TRIGGERS: TriggerFlags = { a: 0, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0 };

export interface IServer2UnitOptions {
  probes?: SimulatedProbeOptions[];
  /** Logging interval in seconds (logConfig.interval; default 5 as in the guide's example). */
  loggingIntervalSeconds?: number;
  /** How far back the data log reaches when the simulator starts (default one day). */
  historySeconds?: number;
  serial?: string;
  deviceName?: string;
  model?: string;
  firmware?: string;
}

export interface LogSettings {
  interval: number;
  enable: number;
}

export class IServer2Unit {
  readonly probes: SimulatedProbe[];
  readonly relays: Record<1 | 2, SimulatedRelay>;
  readonly logSettings: Timed<LogSettings>[];
  readonly logStart: number;
  readonly contacts: Record<1 | 2, ContactInputSettings & { OpenStatus: number }>;
  contactOutput: ContactOutputSettings;
  contactOutputLatched = false;
  readonly contactHistory: Record<'contact1' | 'contact2' | 'contactout', Timed<number>[]>;
  buzzer: TriggerFlags & { isAlarmEnabled: number } = { isAlarmEnabled: 0, ...NO_TRIGGERS };
  notification = {
    emailList: 'test@test.com',
    heartbeatInterval: 0,
    nextAlarmInterval: 0,
    trigger: { ...NO_TRIGGERS },
  };
  readonly identity: {
    serial: string;
    deviceName: string;
    systemName: string;
    model: string;
    firmware: string;
  };

  constructor(options: IServer2UnitOptions = {}, now = Date.now() / 1000) {
    const specs = options.probes ?? defaultProbes();
    if (specs.length < 1 || specs.length > 2) throw new RangeError('an iServer 2 has one or two probes');
    for (const spec of specs)
      if (spec.sensors.length < 1 || spec.sensors.length > 4)
        throw new RangeError('a probe has 1 to 4 sensors');
    this.probes = specs.map((spec, index) => new SimulatedProbe(index + 1, spec, now));
    const interval = options.loggingIntervalSeconds ?? 5;
    if (!Number.isInteger(interval) || interval < 1) throw new RangeError('logging interval must be ≥ 1 s');
    this.logStart = Math.floor(now - (options.historySeconds ?? 86_400));
    this.logSettings = [{ from: 0, value: { interval, enable: 1 } }];
    const relay = (id: 1 | 2): SimulatedRelay =>
      new SimulatedRelay(id, {
        istate: 1,
        name: `Relay${id}`,
        isLog: 0,
        isDisplay: 1,
        isLatch: 0,
        ...NO_TRIGGERS,
      });
    this.relays = { 1: relay(1), 2: relay(2) };
    const contact = (n: number): ContactInputSettings & { OpenStatus: number } => ({
      isContactEnabled: 1,
      initiateState: 0,
      contactName: `Digital Input ${n}`,
      isDisplay: 1,
      isLog: 0,
      OpenStatus: 0,
    });
    this.contacts = { 1: contact(1), 2: contact(2) };
    this.contactOutput = { isDisplay: 1, isLog: 0, outputType: 2, isLatch: 0 };
    this.contactHistory = {
      contact1: [{ from: 0, value: 0 }],
      contact2: [{ from: 0, value: 0 }],
      contactout: [{ from: 0, value: 0 }],
    };
    const serial = options.serial ?? 'F2215i030123';
    this.identity = {
      serial,
      deviceName: options.deviceName ?? 'iServer2',
      systemName: `is2-omega${serial.slice(-4).toLowerCase()}`,
      model: options.model ?? (this.probes.length === 2 ? 'iS2-THB-DP' : 'iS2-THB-SP'),
      firmware: options.firmware ?? '1.0.7.1',
    };
  }

  get sensors(): SimulatedSensor[] {
    return this.probes.flatMap((probe) => probe.sensors);
  }

  probe(number: number): SimulatedProbe | undefined {
    return this.probes.find((probe) => probe.number === number);
  }

  /** A sensor of a connected probe. */
  sensor(probe: number, channel: number): SimulatedSensor | undefined {
    const found = this.probe(probe);
    return found?.connected ? found.sensors[channel] : undefined;
  }

  sensorById(id: string): SimulatedSensor {
    const match = /^p(\d)ch(\d)$/.exec(id);
    const sensor = match ? this.probe(Number(match[1]))?.sensors[Number(match[2])] : undefined;
    if (!sensor) throw new RangeError(`no sensor ${id} on the simulated unit`);
    return sensor;
  }

  currentLogSettings(): LogSettings {
    return this.logSettings[this.logSettings.length - 1].value;
  }

  setLogSettings(t: number, settings: LogSettings): void {
    record(this.logSettings, t, settings);
  }

  setContactInput(t: number, contact: 1 | 2, changed: boolean): void {
    this.contacts[contact].OpenStatus = changed ? 1 : 0;
    record(this.contactHistory[contact === 1 ? 'contact1' : 'contact2'], t, changed ? 1 : 0);
    this.evaluate(t);
  }

  setProbeConnected(t: number, probe: number, connected: boolean): void {
    const found = this.probe(probe);
    if (!found) throw new RangeError(`no probe ${probe}`);
    if (connected && !found.connected) found.connectedAt = Math.floor(t);
    found.connected = connected;
    this.evaluate(t);
  }

  /** Alarms, then relays and contact output, for time t. */
  evaluate(t: number): void {
    for (const sensor of this.sensors) {
      if (sensor.probe.connected) sensor.evaluateAlarm(t);
    }
    const anyDisconnected = this.probes.some((probe) => !probe.connected);
    const anyContact = [this.contacts[1], this.contacts[2]].some(
      (contact) => contact.isContactEnabled === 1 && contact.OpenStatus === 1,
    );
    for (const relay of [this.relays[1], this.relays[2]]) {
      const byAlarm = this.sensors.some((sensor) => sensor.relay[relay.id] === 1 && sensor.alarmStatus !== 0);
      const triggered =
        byAlarm || (relay.settings.b === 1 && anyDisconnected) || (relay.settings.g === 1 && anyContact);
      if (triggered && relay.settings.isLatch === 1) relay.latched = true;
      const active = triggered || relay.latched;
      if ((active ? 1 : 0) !== relay.status) record(relay.history, t, active ? 1 : 0);
    }
    if (anyContact && this.contactOutput.isLatch === 1) this.contactOutputLatched = true;
    const outputActive = anyContact || this.contactOutputLatched;
    const status = this.contactOutputStatus(outputActive);
    const history = this.contactHistory.contactout;
    if (history[history.length - 1].value !== status) record(history, t, status);
  }

  /** Active high (2): open (1) while active; active low (1): closed (0) while active. */
  private contactOutputStatus(active: boolean): number {
    const activeHigh = this.contactOutput.outputType !== 1;
    return active === activeHigh ? 1 : 0;
  }

  get contactOutputRelayStatus(): number {
    const history = this.contactHistory.contactout;
    return history[history.length - 1].value;
  }

  clearRelayLatch(t: number, relay: 1 | 2): void {
    this.relays[relay].latched = false;
    this.evaluate(t);
  }

  clearContactOutputLatch(t: number): void {
    this.contactOutputLatched = false;
    this.evaluate(t);
  }

  /**
   * The logged samples in [start, end] (UTC seconds, clipped to the log's start and to `now`), at the
   * interval in force at each time, skipping the time logging was disabled. At most `limit` rows.
   */
  logTimes(start: number, end: number, now: number, limit: number): number[] {
    const from = Math.max(Math.ceil(start), this.logStart);
    const to = Math.min(Math.floor(end), Math.floor(now));
    const times: number[] = [];
    for (let i = 0; i < this.logSettings.length && times.length < limit; i++) {
      const segmentStart = Math.max(from, Math.ceil(this.logSettings[i].from));
      const next = this.logSettings[i + 1];
      const segmentEnd = Math.min(to, next ? Math.ceil(next.from) - 1 : to);
      const { interval, enable } = this.logSettings[i].value;
      if (enable !== 1 || segmentStart > segmentEnd) continue;
      for (
        let t = Math.ceil(segmentStart / interval) * interval;
        t <= segmentEnd && times.length < limit;
        t += interval
      )
        times.push(t);
    }
    return times;
  }

  /** The logged value of an extract column at time t, or null when there is none. */
  loggedValue(column: string, t: number): number | null {
    const sensorMatch = /^p(\d)ch(\d)$/.exec(column);
    if (sensorMatch) {
      const probe = this.probe(Number(sensorMatch[1]));
      const sensor = probe?.sensors[Number(sensorMatch[2])];
      if (!probe?.connected || !sensor) return null;
      return Number(sensor.reportedValue(t).toFixed(sensor.spec.precision));
    }
    if (column === 'relay1' || column === 'relay2')
      return at(this.relays[column === 'relay1' ? 1 : 2].history, t);
    if (column === 'contact1' || column === 'contact2' || column === 'contactout')
      return at(this.contactHistory[column], t);
    return null;
  }
}
