import { G13_PARAMETER_MAP, G13_STORABLE_QUANTITIES, quantityName, quantityUnit } from './g13-quantities';

/**
 * One simulated ABB meter behind a G13 gateway. State evolves from the meter's own clock: energy
 * registers integrate a deterministic load curve, the tariff registers follow the tariff active at
 * each moment (clock calendar, communication or input source), load-profile channels and
 * previous-value / demand snapshots are taken at their interval boundaries, and alarms drive
 * outputs and log events. Meter time is UTC.
 */

export type G13IoChannel =
  'input' | 'communication_out' | 'alarm_out' | 'pulse_out' | 'tariff_out' | 'always_on' | 'always_off';

/** POST /io/configuration codes (manual 6.3.67); 0xff = don't change. */
export const IO_CHANNEL_CODES: Readonly<Record<number, G13IoChannel>> = {
  0: 'input',
  1: 'communication_out',
  2: 'alarm_out',
  3: 'pulse_out',
  4: 'tariff_out',
  5: 'always_on',
  6: 'always_off',
};

export interface G13MeterOptions {
  serial: string;
  phases: 1 | 3;
  /** Registered with the gateway at start (PUT /meters registers the others). Default true. */
  registered?: boolean;
  alias?: string;
  location?: string;
  /** Output port wired to the supply contactor (default 1). */
  supplyRelayPort?: number;
  /**
   * Days of history (load profile, previous values, demand) to build at start, from the start of that UTC
   * day; 0: none, the registers start at their opening reading now. Default 35.
   */
  historyDays?: number;
  /**
   * simulated (default): every resource, from the live model. manual-only: exactly the manual's example
   * answers and 404 for the rest (g13-manual-only-meter.ts).
   */
  model?: 'simulated' | 'manual-only';
}

export interface G13AlarmConfig {
  id: number;
  quantity: number;
  onthreshold: number;
  offthreshold: number;
  ondelay: number;
  offdelay: number;
  log: boolean;
  output: number;
}

export interface G13LogEntry {
  datetime: number;
  duration: number;
  category: 1 | 2 | 3 | 8;
  logid: number;
}

export type G13LogName = 'system' | 'quality' | 'event';
export type G13PreviousValueInterval = 'daily' | 'weekly' | 'monthly';

export interface G13DayProfile {
  profile: number;
  actions: Array<[number, string]>;
}
export interface G13WeekProfile {
  profile: string;
  dayid: number[];
}
export interface G13SeasonProfile {
  day: number;
  month: number;
  profile: string;
  weekprofile: string;
}
export interface G13SpecialDay {
  profile: number;
  dayprofile: number;
  date: { year: number; month: number; week: number; day: number };
}

interface LoadProfileItem {
  status: number;
  time: number;
  value: number;
}
interface PreviousValueSnapshot {
  time: number;
  status: number;
  values: number[];
  quantities: number[];
}
interface DemandRecord {
  time: number;
  channels: Array<{ quantity: number; code: number; value: number; at: number }>;
}

const PHASE_SHARE = [0.36, 0.33, 0.31];
const LOG_CAPACITY = 500;
const PV_CAPACITY = 400;
const MAX_STEP_MS = 300_000;
export const LP_INTERVALS = [60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
export const LP_TOTAL_ITEMS = 40_000;

/** Small deterministic hash so every meter has its own, repeatable load curve. */
function seedOf(text: string): number {
  let hash = 2166136261;
  for (const char of text) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return hash / 0xffffffff;
}

function startOfUtcDay(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

export class G13MeterModel {
  readonly serial: string;
  readonly phases: 1 | 3;
  registered: boolean;
  alias: string;
  location: string;
  readonly supplyRelayPort: number;
  readonly label: string;
  readonly manufacturingSerial: string;

  clockOffsetMs = 0;
  dstEnable = false;
  dstStart = { month: 3, day: 7, week: 5, hour: 2 };
  dstEnd = { month: 10, day: 7, week: 5, hour: 3 };

  /** Registers in Wh / varh / VAh, per phase. */
  readonly activeImport = [0, 0, 0];
  readonly activeExport = [0, 0, 0];
  readonly reactiveImport = [0, 0, 0];
  readonly reactiveExport = [0, 0, 0];
  readonly apparentImport = [0, 0, 0];
  readonly apparentExport = [0, 0, 0];
  /** Tariff registers T1..T4. */
  readonly activeImportTariff = [0, 0, 0, 0];
  readonly activeExportTariff = [0, 0, 0, 0];
  readonly reactiveImportTariff = [0, 0, 0, 0];
  readonly reactiveExportTariff = [0, 0, 0, 0];

  readonly ioConfig: G13IoChannel[] = ['communication_out', 'alarm_out', 'input', 'input'];
  readonly ioState = [1, 0, 0, 0];
  readonly ioStored = [0, 0, 0, 0];
  readonly ioCounter = [0, 0, 0, 0];

  readonly alarms: Array<G13AlarmConfig | { id: number }> = Array.from({ length: 25 }, (_, i) => ({
    id: i + 1,
  }));
  private readonly alarmRuntime = new Map<
    number,
    { active: boolean; since?: number; activeSince?: number }
  >();

  tariffSource: 0 | 1 | 2 = 0;
  communicationTariff = 1;
  inputConfig = [1, 2, 3, 4];
  readonly dayProfiles = new Map<number, G13DayProfile>([
    [
      1,
      {
        profile: 1,
        actions: [
          [1, '00:00'],
          [2, '17:00'],
          [1, '22:00'],
        ],
      },
    ],
    [2, { profile: 2, actions: [[1, '00:00']] }],
  ]);
  readonly weekProfiles: G13WeekProfile[] = [{ profile: 'Week1', dayid: [1, 1, 1, 1, 1, 2, 2] }];
  readonly seasonProfiles: G13SeasonProfile[] = [{ day: 1, month: 1, profile: 'Year', weekprofile: 'Week1' }];
  readonly specialDays: G13SpecialDay[] = [];

  /**
   * The load-profile channels (at most 8, manual 6.3.75), by default the quantities a head-end survey
   * wants that the meter measures: energies both ways, then the phase quantities it has. A 3-phase meter
   * fills its 8 channels (voltages L2/L3 hourly); a 1-phase meter has no L2/L3 and records its power factor.
   */
  lpConfig: Array<[number, number, number]>;
  private lpStore: LoadProfileItem[][];

  pvInterval: G13PreviousValueInterval = 'monthly';
  pvWeekday = 1;
  pvConfig = [1, 2, 9, 10, 11, 12, 85, 86, 87, 88, 21, 22, 17, 18, 19, 20, 89, 90, 91, 92];
  private pvStore: PreviousValueSnapshot[] = [];

  demandConfig: Array<[number, number]> = [[96, 5]];
  demandInterval: [number, number] = [900, 60];
  demandPeriod: G13PreviousValueInterval = 'monthly';
  demandWeekday = 1;
  private demandStore: DemandRecord[] = [];
  private demandIntervalEnergy = 0;
  private demandPeriodMax = new Map<number, { value: number; at: number }>();

  readonly logs: Record<G13LogName, G13LogEntry[]> = { system: [], quality: [], event: [] };

  readonly faults = { phaseLoss: [false, false, false], reverseFlow: false };
  powerFailCounter = 0;
  powerOutageSeconds = 0;

  private lastMeterMs: number;
  private periodCache?: { day: number; pv: number; demand: number };
  private clockChanged = false;
  private readonly seed: number;
  private readonly baseLoadW: number;
  private readonly powerFactor: number;

  constructor(options: G13MeterOptions, nowMs = Date.now()) {
    this.serial = options.serial;
    this.phases = options.phases;
    this.registered = options.registered ?? true;
    this.alias = options.alias ?? options.serial;
    this.location = options.location ?? 'Level1';
    this.supplyRelayPort = options.supplyRelayPort ?? 1;
    this.seed = seedOf(options.serial);
    this.baseLoadW = options.phases === 3 ? 6000 + 8000 * this.seed : 800 + 2500 * this.seed;
    this.powerFactor = 0.9 + 0.08 * this.seed;
    this.label = options.phases === 3 ? 'A44 552-100' : 'B21 212-100';
    this.lpConfig =
      options.phases === 3
        ? [
            [900, 1, 3000],
            [900, 2, 3000],
            [900, 21, 3000],
            [900, 22, 3000],
            [900, 69, 3000],
            [900, 70, 3000],
            [3600, 72, 1000],
            [3600, 75, 1000],
          ]
        : [
            [900, 1, 3000],
            [900, 2, 3000],
            [900, 21, 3000],
            [900, 22, 3000],
            [900, 69, 3000],
            [900, 70, 3000],
            [900, 82, 3000],
          ];
    this.lpStore = this.lpConfig.map(() => []);
    this.manufacturingSerial = String(Math.floor(10_000_000 + this.seed * 89_999_999));
    // Registers start from a meter-specific reading, then history is integrated up to now.
    const historyDays = options.historyDays ?? 35;
    // From the start of the UTC day that many days back; none at all (from now) for 0, as a fleet of a
    // benchmark or a fault test wants: otherwise each meter keeps the snapshots of today so far (about 28 KB a
    // meter at 10:00 UTC), so the fleet's memory, and the CPU its garbage collection takes from the
    // processes measured beside it, would depend on the time of day.
    const start =
      historyDays === 0 ? nowMs : Math.floor((nowMs - historyDays * 86_400_000) / 86_400_000) * 86_400_000;
    const opening = 1_000_000 + this.seed * 50_000_000;
    for (let p = 0; p < this.phases; p++) {
      this.activeImport[p] = opening * PHASE_SHARE[p];
      this.reactiveImport[p] = opening * 0.3 * PHASE_SHARE[p];
      this.apparentImport[p] = opening * 1.05 * PHASE_SHARE[p];
    }
    this.activeImportTariff[0] = opening * 0.7;
    this.activeImportTariff[1] = opening * 0.3;
    this.reactiveImportTariff[0] = opening * 0.3 * 0.7;
    this.reactiveImportTariff[1] = opening * 0.3 * 0.3;
    this.lastMeterMs = start;
    this.advance(nowMs);
  }

  meterNow(nowMs = Date.now()): number {
    return nowMs + this.clockOffsetMs;
  }

  setClock(meterMs: number, nowMs = Date.now()): void {
    this.advance(nowMs);
    const delta = meterMs - this.meterNow(nowMs);
    this.clockOffsetMs += delta;
    this.lastMeterMs += delta;
    this.clockChanged = true;
  }

  /** Whether the supply contactor is closed. */
  supplyConnected(): boolean {
    const port = this.supplyRelayPort - 1;
    const channel = this.ioConfig[port];
    if (channel === 'input' || channel === 'pulse_out') return true;
    return this.outputState(port + 1) === 1;
  }

  outputState(port: number): number {
    const index = port - 1;
    switch (this.ioConfig[index]) {
      case 'always_on':
        return 1;
      case 'always_off':
        return 0;
      case 'tariff_out':
        return this.currentTariff(this.meterNow()) > 1 ? 1 : 0;
      case 'alarm_out':
        return this.alarms.some(
          (a) => 'output' in a && a.output === port && this.alarmRuntime.get(a.id)?.active,
        )
          ? 1
          : 0;
      default:
        return this.ioState[index];
    }
  }

  /** Signed per-phase active power (W) and reactive power (var) at a meter time. */
  powerAt(meterMs: number): { active: number[]; reactive: number[] } {
    const active = [0, 0, 0];
    const reactive = [0, 0, 0];
    if (!this.supplyConnected()) return { active, reactive };
    const hours = (meterMs / 3_600_000) % 24;
    const diurnal = 1 + 0.35 * Math.sin((2 * Math.PI * (hours - 7)) / 24);
    const ripple = 1 + 0.08 * Math.sin((2 * Math.PI * meterMs) / (37 * 60_000) + this.seed * 10);
    const total = this.baseLoadW * diurnal * ripple;
    const tanPhi = Math.tan(Math.acos(this.powerFactor));
    for (let p = 0; p < this.phases; p++) {
      if (this.faults.phaseLoss[p]) continue;
      const share = this.phases === 3 ? PHASE_SHARE[p] : 1;
      const sign = this.faults.reverseFlow ? -1 : 1;
      active[p] = sign * total * share;
      reactive[p] = sign * total * share * tanPhi;
    }
    return { active, reactive };
  }

  voltageAt(meterMs: number, phase: number): number {
    if (phase >= this.phases || this.faults.phaseLoss[phase]) return 0;
    return 230 + 3 * Math.sin((2 * Math.PI * meterMs) / 3_600_000 + phase + this.seed);
  }

  frequencyAt(meterMs: number): number {
    return 50 + 0.05 * Math.sin((2 * Math.PI * meterMs) / 600_000);
  }

  currentAt(meterMs: number, phase: number): number {
    const voltage = this.voltageAt(meterMs, phase);
    if (voltage === 0) return 0;
    const { active } = this.powerAt(meterMs);
    return Math.abs(active[phase]) / (voltage * this.powerFactor);
  }

  get nominalPowerFactor(): number {
    return this.powerFactor;
  }

  /** Tariff 1..4 active at a meter time, per source (0 clock, 1 communication, 2 input). */
  currentTariff(meterMs: number): number {
    if (this.tariffSource === 1) return this.communicationTariff;
    if (this.tariffSource === 2) {
      const index =
        (this.ioConfig[3] === 'input' ? this.ioState[3] * 2 : 0) +
        (this.ioConfig[2] === 'input' ? this.ioState[2] : 0);
      return this.inputConfig[index] ?? 1;
    }
    const day = this.dayProfileAt(meterMs);
    const profile = day === undefined ? undefined : this.dayProfiles.get(day);
    if (!profile || profile.actions.length === 0) return 1;
    const minute = Math.floor((meterMs - startOfUtcDay(meterMs)) / 60_000);
    const sorted = sortedActions(profile.actions);
    let action = sorted[sorted.length - 1][1];
    for (const [start, id] of sorted) if (start <= minute) action = id;
    return action >= 1 && action <= 4 ? action : 1;
  }

  /** Day profile id in force (special day, else season → week profile), and the season index. */
  dayProfileAt(meterMs: number): number | undefined {
    const date = new Date(meterMs);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const special = this.specialDays.find(
      (s) =>
        (s.date.year === 65535 || s.date.year === year) &&
        (s.date.month === 255 || s.date.month === month) &&
        (s.date.day === 255 || s.date.day === day),
    );
    if (special) return special.dayprofile;
    const season = this.seasonAt(meterMs);
    const week = this.weekProfiles.find((w) => w.profile === season?.weekprofile);
    if (!week) return undefined;
    const weekday = (date.getUTCDay() + 6) % 7; // Monday = 0
    return week.dayid[weekday];
  }

  seasonAt(meterMs: number): G13SeasonProfile | undefined {
    if (this.seasonProfiles.length === 0) return undefined;
    const date = new Date(meterMs);
    const key = (date.getUTCMonth() + 1) * 100 + date.getUTCDate();
    const startKey = (s: G13SeasonProfile) => s.month * 100 + (s.day > 31 ? 1 : s.day);
    const sorted = [...this.seasonProfiles].sort((a, b) => startKey(a) - startKey(b));
    let current = sorted[sorted.length - 1];
    for (const season of sorted) if (startKey(season) <= key) current = season;
    return current;
  }

  /** Brings registers, snapshots and alarms up to the meter's current time. */
  advance(nowMs = Date.now()): void {
    const target = this.meterNow(nowMs);
    while (this.lastMeterMs < target) {
      const from = this.lastMeterMs;
      const boundary = this.nextBoundary(from);
      const to = Math.min(target, from + MAX_STEP_MS, boundary);
      this.integrate(from, to);
      this.lastMeterMs = to;
      if (to === boundary) this.takeSnapshots(to);
    }
    this.evaluateAlarms(target);
  }

  private integrate(from: number, to: number): void {
    const hours = (to - from) / 3_600_000;
    const middle = (from + to) / 2;
    const { active, reactive } = this.powerAt(middle);
    const tariff = this.currentTariff(middle) - 1;
    let importTotal = 0;
    for (let p = 0; p < 3; p++) {
      const energy = active[p] * hours;
      const reactiveEnergy = reactive[p] * hours;
      const apparent = Math.hypot(energy, reactiveEnergy);
      if (energy >= 0) {
        this.activeImport[p] += energy;
        this.reactiveImport[p] += reactiveEnergy;
        this.apparentImport[p] += apparent;
        this.activeImportTariff[tariff] += energy;
        this.reactiveImportTariff[tariff] += reactiveEnergy;
        importTotal += energy;
      } else {
        this.activeExport[p] -= energy;
        this.reactiveExport[p] -= reactiveEnergy;
        this.apparentExport[p] += apparent;
        this.activeExportTariff[tariff] -= energy;
        this.reactiveExportTariff[tariff] -= reactiveEnergy;
      }
    }
    this.demandIntervalEnergy += importTotal;
  }

  private nextBoundary(from: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const [interval] of this.lpConfig) {
      if (interval > 0) next = Math.min(next, (Math.floor(from / (interval * 1000)) + 1) * interval * 1000);
    }
    next = Math.min(
      next,
      (Math.floor(from / (this.demandInterval[0] * 1000)) + 1) * this.demandInterval[0] * 1000,
    );
    // Period ends are cached while `from` stays inside the same day.
    const day = startOfUtcDay(from);
    if (this.periodCache?.day !== day)
      this.periodCache = {
        day,
        pv: nextPeriodEnd(from, this.pvInterval, this.pvWeekday),
        demand: nextPeriodEnd(from, this.demandPeriod, this.demandWeekday),
      };
    return Math.min(next, this.periodCache.pv, this.periodCache.demand);
  }

  private takeSnapshots(at: number): void {
    this.lpConfig.forEach(([interval, quantity, count], channel) => {
      if (interval <= 0 || at % (interval * 1000) !== 0) return;
      const store = this.lpStore[channel];
      store.push({
        status: 0x01 | (this.clockChanged ? 0x10 : 0),
        time: at,
        value: this.quantityValue(quantity, at),
      });
      if (store.length > count) store.splice(0, store.length - count);
    });
    const demandMs = this.demandInterval[0] * 1000;
    if (at % demandMs === 0) {
      const averageW = (this.demandIntervalEnergy * 3_600_000) / demandMs;
      this.demandIntervalEnergy = 0;
      for (const [quantity] of this.demandConfig) {
        const value = quantity === 96 ? averageW : this.quantityValue(quantity, at);
        const current = this.demandPeriodMax.get(quantity);
        if (!current || value > current.value) this.demandPeriodMax.set(quantity, { value, at });
      }
    }
    if (at === nextPeriodEnd(at - 1, this.demandPeriod, this.demandWeekday)) {
      this.demandStore.push({
        time: at,
        channels: this.demandConfig.map(([quantity, code]) => ({
          quantity,
          code,
          value: this.demandPeriodMax.get(quantity)?.value ?? 0,
          at: this.demandPeriodMax.get(quantity)?.at ?? at,
        })),
      });
      if (this.demandStore.length > PV_CAPACITY) this.demandStore.shift();
      this.demandPeriodMax.clear();
    }
    if (at === nextPeriodEnd(at - 1, this.pvInterval, this.pvWeekday)) {
      this.pvStore.push({
        time: at,
        status: 1,
        quantities: [...this.pvConfig],
        values: this.pvConfig.map((q) => this.quantityValue(q, at)),
      });
      if (this.pvStore.length > PV_CAPACITY) this.pvStore.shift();
    }
    this.clockChanged = false;
  }

  /** Value of a /parametermapping quantity in the unit quantityUnit() names. */
  quantityValue(id: number, meterMs: number): number {
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const { active, reactive } = this.powerAt(meterMs);
    if (id >= 3 && id <= 5) return this.activeImport[id - 3];
    if (id >= 6 && id <= 8) return this.activeExport[id - 6];
    if (id >= 9 && id <= 12) return this.activeImportTariff[id - 9];
    if (id >= 14 && id <= 16) return this.activeImport[id - 14] - this.activeExport[id - 14];
    if (id >= 17 && id <= 20) return this.reactiveImportTariff[id - 17];
    if (id >= 23 && id <= 25) return this.reactiveImport[id - 23];
    if (id >= 26 && id <= 28) return this.reactiveExport[id - 26];
    if (id >= 85 && id <= 88) return this.activeExportTariff[id - 85];
    if (id >= 89 && id <= 92) return this.reactiveExportTariff[id - 89];
    if (id >= 93 && id <= 95) return active[id - 93];
    if (id >= 97 && id <= 99) return reactive[id - 97];
    if (id >= 51 && id <= 54) return this.ioCounter[id - 51];
    switch (id) {
      case 1:
        return sum(this.activeImport);
      case 2:
        return sum(this.activeExport);
      case 13:
        return sum(this.activeImport) - sum(this.activeExport);
      case 21:
        return sum(this.reactiveImport);
      case 22:
        return sum(this.reactiveExport);
      case 29:
        return sum(this.reactiveImport) - sum(this.reactiveExport);
      case 33:
        return sum(this.apparentImport);
      case 34:
        return sum(this.apparentExport);
      case 69:
        return this.voltageAt(meterMs, 0);
      case 72:
        return this.voltageAt(meterMs, 1);
      case 75:
        return this.voltageAt(meterMs, 2);
      case 70:
        return this.currentAt(meterMs, 0);
      case 73:
        return this.currentAt(meterMs, 1);
      case 76:
        return this.currentAt(meterMs, 2);
      case 71:
      case 74:
      case 77:
      case 82:
        return sum(active) === 0 ? 0 : this.powerFactor;
      case 96:
        return sum(active);
      case 100:
        return sum(reactive);
      case 104:
        return Math.hypot(sum(active), sum(reactive));
      default:
        return 0;
    }
  }

  private evaluateAlarms(meterMs: number): void {
    for (const alarm of this.alarms) {
      if (!('quantity' in alarm)) {
        this.alarmRuntime.delete(alarm.id);
        continue;
      }
      const runtime = this.alarmRuntime.get(alarm.id) ?? { active: false };
      const value = this.quantityValue(alarm.quantity, meterMs);
      const over = alarm.onthreshold >= alarm.offthreshold;
      const onCondition = over ? value > alarm.onthreshold : value < alarm.onthreshold;
      const offCondition = over ? value < alarm.offthreshold : value > alarm.offthreshold;
      if (!runtime.active) {
        if (!onCondition) runtime.since = undefined;
        else {
          runtime.since ??= meterMs;
          if (meterMs - runtime.since >= alarm.ondelay * 1000) {
            runtime.active = true;
            runtime.activeSince = meterMs;
            runtime.since = undefined;
            if (alarm.log)
              this.log('event', { datetime: meterMs, duration: 0, category: 8, logid: 2012 + alarm.id });
          }
        }
      } else if (!offCondition) runtime.since = undefined;
      else {
        runtime.since ??= meterMs;
        if (meterMs - runtime.since >= alarm.offdelay * 1000) {
          runtime.active = false;
          runtime.since = undefined;
          const entry = [...this.logs.event].reverse().find((e) => e.logid === 2012 + alarm.id);
          if (entry && runtime.activeSince !== undefined)
            entry.duration = Math.round((meterMs - runtime.activeSince) / 1000);
        }
      }
      this.alarmRuntime.set(alarm.id, runtime);
    }
  }

  alarmActive(id: number): boolean {
    return this.alarmRuntime.get(id)?.active ?? false;
  }

  log(name: G13LogName, entry: G13LogEntry): void {
    const log = this.logs[name];
    log.push(entry);
    if (log.length > LOG_CAPACITY) log.shift();
  }

  /** Events up to a meter time, newest first, at most count per log. */
  eventsUntil(untilMs: number, count: number): Record<G13LogName, G13LogEntry[]> {
    const pick = (entries: G13LogEntry[]) =>
      entries
        .filter((e) => e.datetime <= untilMs)
        .sort((a, b) => b.datetime - a.datetime)
        .slice(0, count);
    return { system: pick(this.logs.system), quality: pick(this.logs.quality), event: pick(this.logs.event) };
  }

  loadProfile(channel: number): LoadProfileItem[] {
    return this.lpStore[channel - 1] ?? [];
  }

  configureLoadProfile(config: Array<[number, number, number]>): void {
    this.advance();
    this.lpConfig = config;
    this.lpStore = config.map(() => []);
  }

  previousValues(): PreviousValueSnapshot[] {
    return this.pvStore;
  }

  configurePreviousValues(interval: G13PreviousValueInterval, weekday: number, channels: number[]): void {
    this.advance();
    this.pvInterval = interval;
    this.pvWeekday = weekday;
    this.periodCache = undefined;
    this.pvConfig = channels;
    this.pvStore = [];
  }

  clearPreviousValues(): void {
    this.pvStore = [];
  }

  clearLoadProfile(channel?: number): void {
    this.lpStore = this.lpStore.map((items, index) =>
      channel === undefined || channel === index + 1 ? [] : items,
    );
  }

  demandRecords(): DemandRecord[] {
    return this.demandStore;
  }

  configureDemand(
    channels: Array<[number, number]>,
    interval: [number, number],
    period: G13PreviousValueInterval,
    weekday: number,
  ): void {
    this.advance();
    this.demandConfig = channels;
    this.demandInterval = interval;
    this.demandPeriod = period;
    this.demandWeekday = weekday;
    this.periodCache = undefined;
    this.demandStore = [];
    this.demandPeriodMax.clear();
    this.demandIntervalEnergy = 0;
  }

  clearDemand(): void {
    this.demandStore = [];
  }

  static quantityMapping(id: number): [string, string] {
    return [quantityName(id) ?? `quantity_${id}`, quantityUnit(id)];
  }

  static storable(kind: keyof typeof G13_STORABLE_QUANTITIES, id: number): boolean {
    return (G13_STORABLE_QUANTITIES[kind] as readonly number[]).includes(id);
  }

  /** Whether this meter measures the quantity: a 1-phase meter has no L2/L3 (nor line-to-line) quantities. */
  measures(id: number): boolean {
    return this.phases === 3 || !/_L[23]/.test(G13_PARAMETER_MAP[id] ?? '');
  }
}

const actionCache = new WeakMap<ReadonlyArray<[number, string]>, Array<[number, number]>>();

/** Day-profile actions as [start minute, action id], by start time (cached per actions array). */
function sortedActions(actions: ReadonlyArray<[number, string]>): Array<[number, number]> {
  let sorted = actionCache.get(actions);
  if (!sorted) {
    sorted = actions
      .map(([id, start]): [number, number] => [toMinutes(start), id])
      .sort((a, b) => a[0] - b[0]);
    actionCache.set(actions, sorted);
  }
  return sorted;
}

export function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/** The end of the previous-value / demand period that contains `from` (exclusive of `from`). */
export function nextPeriodEnd(from: number, interval: G13PreviousValueInterval, weekday: number): number {
  const dayStart = startOfUtcDay(from);
  if (interval === 'daily') return dayStart + 86_400_000;
  if (interval === 'weekly') {
    const today = (new Date(dayStart).getUTCDay() + 6) % 7; // Monday = 0
    let days = (weekday - 1 - today + 7) % 7;
    if (days === 0) days = 7;
    return dayStart + days * 86_400_000;
  }
  const date = new Date(from);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
