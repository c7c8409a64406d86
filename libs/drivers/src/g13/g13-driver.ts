import {
  BillingReading,
  DateRange,
  DeviceAddress,
  DeviceDriver,
  DiscoveredMeter,
  DriverError,
  GatewayEndpoint,
  InMemoryMeterResourceCatalogue,
  InstantaneousReading,
  LoadLimit,
  LoadProfileReading,
  MeterEventReading,
  MeterResourceCatalogue,
  MeterResources,
  MonthlyBillingReading,
  OperationContext,
  SamplingConfiguration,
  ThresholdAlarm,
  ThresholdFunction,
  TimeOfUseCalendar,
  TimeOfUseSchedule,
  UnsupportedOperationError,
  BillingReset,
} from '../driver.contract';
import { G13_CAPABILITIES, G13_DESCRIPTION } from './g13-capabilities';
import { DateTime } from 'luxon';
import { ClientCache, ProgressTracker } from '../kit';
import { G13_MAX_PAYLOAD_BYTES, G13Client, G13ClientOptions, G13Request } from './g13-client';
import {
  G13_RESOURCES,
  G13_RESOURCE_NAMES,
  G13Resource,
  isNotFound,
  knownResources,
  missingRemark,
} from './g13-resources';
import {
  G13DateTimeAnswer,
  G13DemandAnswer,
  G13DemandConfigAnswer,
  G13EnergyAnswer,
  G13EventsAnswer,
  G13InstrumentAnswer,
  G13LoadProfileAnswer,
  G13LoadProfileConfigAnswer,
  G13PowerAnswer,
  G13PreviousValuesAnswer,
  G13TariffAnswer,
  LOAD_PROFILE_COLUMNS,
  formatG13DateTime,
  mapBilling,
  mapDemandMaxima,
  mapEvents,
  mapInstantaneous,
  mapLoadProfileChannel,
  mapPreviousValues,
  mergeLoadProfileRows,
  parseG13DateTime,
  phasesFromLabel,
} from './g13-mappers';
import {
  G13AlarmSetting,
  G13_THRESHOLD_ALARMS,
  G13TariffCalendarAnswers,
  calendarFromTariff,
  loadLimitFromAlarm,
  thresholdFromAlarms,
} from './g13-parameter-reads';
import { G13_LIMITS, assignSlots, batchesWithin, buildTariffProgram } from './g13-tariff-program';

export interface G13DriverOptions extends G13ClientOptions {
  /** Output port wired to the supply contactor (UDIL relay operations). Default 1. */
  relayPort?: number;
  /** Alarm (1–25) used for the sanctioned load limit. Default 25. */
  loadLimitAlarmId?: number;
  /** Output port the load-limit alarm drives. Default 2. */
  loadLimitOutputPort?: number;
  /** Location given to meters registered through device creation. Default "HES". */
  registrationLocation?: string;
  /** Where each meter's discovered resources are kept (default: in memory). */
  meterResources?: MeterResourceCatalogue;
  /** A meter's resources older than this are discovered again on its next read (default 7 days). */
  meterResourcesMaxAgeMs?: number;
}

/** What one read knows of its meter's resources, and which it had to leave out. */
interface ResourceSession {
  profile: Partial<Record<G13Resource, boolean>>;
  missing: Set<G13Resource>;
  /** From the meter's label (/info, Annexure 1) when known: a 1-phase meter has no L2/L3 quantities. */
  singlePhase?: boolean;
}

/** load_profile_data columns of phases 2 and 3, which a 1-phase meter does not measure. */
const SECOND_AND_THIRD_PHASE = new Set([
  'voltage_phase_b',
  'voltage_phase_c',
  'current_phase_b',
  'current_phase_c',
]);

interface G13MetersAnswer {
  locations?: Array<{
    location?: string;
    meters?: Array<{ alias?: string; serial: string; status?: number }>;
  }>;
}
interface G13InfoAnswer {
  manufacturing?: { label?: string };
}
interface G13IoConfigAnswer {
  ioconfig: string[];
}
interface G13IoAnswer {
  iostatus: Array<{ currentstate?: number }>;
}
interface G13AlarmsAnswer {
  alarmconfig: G13AlarmSetting[];
}

/** POST /io/configuration codes (manual 6.3.67). */
const IO_CODES = { communication_out: 1, alarm_out: 2, dont_change: 0xff } as const;
const PREVIOUS_VALUES_PER_REQUEST = 100;
const EVENTS_PER_REQUEST = 100;
const LP_INTERVALS = [60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const PV_INTERVALS: Readonly<Record<number, 'daily' | 'weekly' | 'monthly'>> = {
  1440: 'daily',
  10080: 'weekly',
  43200: 'monthly',
  44640: 'monthly',
};
/** Previous-value channels the monthly billing mapping reads (register quantities). */
const BILLING_QUANTITIES = [1, 2, 9, 10, 11, 12, 85, 86, 87, 88, 21, 22, 17, 18, 19, 20, 89, 90, 91, 92];

/** G13 date-times have whole seconds: the range is widened to the seconds that contain it. */
function toSeconds(range: DateRange): DateRange {
  return {
    from: new Date(Math.floor(range.from.getTime() / 1000) * 1000),
    to: new Date(Math.ceil(range.to.getTime() / 1000) * 1000),
  };
}

class Exchange {
  readonly progress: ProgressTracker;
  /** The clock zone of the meters behind this gateway. */
  readonly zone: string;
  constructor(
    private readonly client: G13Client,
    readonly ctx: OperationContext,
  ) {
    this.progress = new ProgressTracker(ctx);
    this.zone = client.gateway.clockTimeZone || 'UTC';
  }
  /** A G13 date-time in the meters' clock zone. */
  format(date: Date): string {
    return formatG13DateTime(date, this.zone);
  }
  parse(text: string, field?: string): Date {
    return parseG13DateTime(text, field, this.zone);
  }
  get<T>(path: string): Promise<T> {
    return this.client.request<T>({ method: 'GET', path, retrySafe: true }, this.ctx, this.progress);
  }
  send<T>(method: G13Request['method'], path: string, body?: unknown): Promise<T> {
    return this.client.request<T>({ method, path, body, retrySafe: false }, this.ctx, this.progress);
  }
  /** The meter answered / accepted the command. */
  meterReached(note: string): Promise<void> {
    return this.progress.reach(4, note);
  }
}

export class G13Driver implements DeviceDriver {
  readonly name = 'ABB_G13' as const;
  readonly capabilities = G13_CAPABILITIES;
  readonly description = G13_DESCRIPTION;
  private readonly clients = new ClientCache((gateway) => new G13Client(gateway, this.options));
  private readonly catalogue: MeterResourceCatalogue;

  constructor(private readonly options: G13DriverOptions = {}) {
    this.catalogue = options.meterResources ?? new InMemoryMeterResourceCatalogue();
  }

  async gatewayChanged(gateway: GatewayEndpoint): Promise<void> {
    await this.clients.settingsChanged(gateway);
  }

  async close(): Promise<void> {
    await this.clients.closeAll();
  }

  private exchange(gateway: GatewayEndpoint, ctx: OperationContext): Exchange {
    return new Exchange(this.clients.get(gateway), ctx);
  }

  async discoverResources(device: DeviceAddress, ctx: OperationContext): Promise<MeterResources> {
    const x = this.exchange(device.gateway, ctx);
    const profile = await this.discover(device, x);
    await x.meterReached('meter resources discovered');
    return profile;
  }

  /**
   * Asks the meter for each optional resource (a 404 means it has none) after its clock (a 404 there
   * means the gateway does not know the serial), and keeps the answer in the catalogue.
   */
  private async discover(device: DeviceAddress, x: Exchange): Promise<MeterResources> {
    await x.get(G13Driver.meterPath(device, '/datetime'));
    const profile: MeterResources = {};
    try {
      const info = await x.get<G13InfoAnswer>(G13Driver.meterPath(device, '/info'));
      const phases = phasesFromLabel(info.manufacturing?.label);
      // Phases 2 and 3 are a resource of the meter like the others: a 1-phase meter lacks them.
      if (phases) profile.secondAndThirdPhase = phases === 3;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    for (const name of G13_RESOURCE_NAMES) {
      const probe = name === 'events' ? `/events/${x.format(new Date())}/1` : G13_RESOURCES[name].probe;
      try {
        await x.get(G13Driver.meterPath(device, probe));
        profile[name] = true;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        profile[name] = false;
      }
    }
    await this.catalogue.save(device.gateway.id, device.serial, profile);
    const lacking = G13_RESOURCE_NAMES.filter((name) => !profile[name]);
    x.ctx.log?.(
      `meter ${device.serial} resources discovered${lacking.length ? `; lacks ${lacking.join(', ')}` : ': all'}`,
    );
    return profile;
  }

  /** The meter's resources as catalogued, discovered first when unknown. */
  private async session(device: DeviceAddress, x: Exchange): Promise<ResourceSession> {
    const catalogued = await this.catalogue.load(device.gateway.id, device.serial);
    let stored = catalogued?.resources;
    const maxAgeMs = this.options.meterResourcesMaxAgeMs ?? 7 * 86_400_000;
    // Unknown, incomplete (a resource this driver version added) or old enough to have changed.
    if (
      !catalogued ||
      Date.now() - catalogued.discoveredAt.getTime() > maxAgeMs ||
      G13_RESOURCE_NAMES.some((name) => typeof stored?.[name] !== 'boolean')
    )
      stored = await this.discover(device, x);
    return {
      profile: knownResources(stored),
      missing: new Set(),
      singlePhase: stored?.secondAndThirdPhase === false,
    };
  }

  /**
   * GET of an optional resource: skipped (undefined) when the meter lacks it. A 404 where the catalogue
   * had the resource means the meter changed: its resources are discovered again.
   */
  private async optional<T>(
    device: DeviceAddress,
    x: Exchange,
    session: ResourceSession,
    name: G13Resource,
    suffix: string,
  ): Promise<T | undefined> {
    if (session.profile[name] === false) {
      session.missing.add(name);
      return undefined;
    }
    try {
      return await x.get<T>(G13Driver.meterPath(device, suffix));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      x.ctx.log?.(`meter ${device.serial} no longer answers ${suffix}: rediscovering its resources`);
      session.profile = knownResources(await this.discover(device, x));
      session.missing.add(name);
      return undefined;
    }
  }

  /** Tells the caller which resources the read had to leave out. */
  /** Items of the meter's answers that were not understood and left out: a remark of the read. */
  private static remarkSkipped(x: Exchange, skipped: readonly string[], what: string): void {
    if (skipped.length === 0) return;
    const remark = `${skipped.length} ${what}(s) not understood and left out (${skipped[0]}${skipped.length > 1 ? ', …' : ''})`;
    x.ctx.log?.(remark);
    x.ctx.remark?.(remark);
  }

  private static remark(device: DeviceAddress, x: Exchange, session: ResourceSession): void {
    const remark = missingRemark(device, session.missing);
    if (!remark) return;
    x.ctx.log?.(remark);
    x.ctx.remark?.(remark);
  }

  private static meterPath(device: DeviceAddress, suffix: string): string {
    return `/meters/${encodeURIComponent(device.serial)}${suffix}`;
  }

  async discoverMeters(gateway: GatewayEndpoint, ctx: OperationContext): Promise<DiscoveredMeter[]> {
    const x = this.exchange(gateway, ctx);
    const answer = await x.get<G13MetersAnswer>('/meters');
    const meters = (answer.locations ?? []).flatMap((location) =>
      (location.meters ?? []).map((meter) => ({ ...meter, location: location.location })),
    );
    const discovered = await Promise.all(
      meters.map(async (meter): Promise<DiscoveredMeter> => {
        const description = `${meter.alias ?? meter.serial} at ${meter.location ?? '?'} (${meter.status === -1 ? 'offline' : meter.status === 0 ? 'registered' : 'online'})`;
        if (meter.status === -1) return { serial: meter.serial, description };
        try {
          const info = await x.get<G13InfoAnswer>(`/meters/${encodeURIComponent(meter.serial)}/info`);
          return { serial: meter.serial, description, phases: phasesFromLabel(info.manufacturing?.label) };
        } catch (error) {
          // The meter list is the answer; a meter whose info fails is still reported, without phases.
          if (error instanceof DriverError && error.kind === 'device')
            return { serial: meter.serial, description };
          throw error;
        }
      }),
    );
    await x.meterReached('meter list read');
    return discovered;
  }

  async registerMeter(device: DeviceAddress, ctx: OperationContext): Promise<void> {
    const x = this.exchange(device.gateway, ctx);
    if (device.serial.length > 17)
      throw new DriverError(
        'refused',
        `G13 meter serial ${device.serial} is longer than 17 characters`,
        false,
      );
    await x.send('PUT', '/meters', {
      alias: device.msn.slice(0, 21),
      location: (this.options.registrationLocation ?? 'HES').slice(0, 51),
      serial: device.serial,
    });
    await x.meterReached('meter registered');
    const meters = await x.get<G13MetersAnswer>('/meters');
    const found = (meters.locations ?? []).some((l) =>
      (l.meters ?? []).some((m) => m.serial === device.serial),
    );
    if (!found)
      throw new DriverError(
        'device',
        `G13 accepted PUT /meters but does not list meter ${device.serial}`,
        true,
      );
  }

  async readClock(device: DeviceAddress, ctx: OperationContext): Promise<Date> {
    const x = this.exchange(device.gateway, ctx);
    const answer = await x.get<G13DateTimeAnswer>(G13Driver.meterPath(device, '/datetime'));
    await x.meterReached('clock read');
    return x.parse(answer.datetime);
  }

  async setClock(device: DeviceAddress, time: Date, ctx: OperationContext): Promise<void> {
    const x = this.exchange(device.gateway, ctx);
    await x.send('POST', G13Driver.meterPath(device, '/datetime'), { datetime: x.format(time) });
    await x.meterReached('clock set');
  }

  async readInstantaneous(device: DeviceAddress, ctx: OperationContext): Promise<InstantaneousReading> {
    const x = this.exchange(device.gateway, ctx);
    const session = await this.session(device, x);
    const clock = await x.get<G13DateTimeAnswer>(G13Driver.meterPath(device, '/datetime'));
    await x.meterReached('meter answered');
    const read = <T>(name: G13Resource) =>
      this.optional<T>(device, x, session, name, G13_RESOURCES[name].probe);
    const instrument = await read<G13InstrumentAnswer>('instrument');
    const power = await read<G13PowerAnswer>('power');
    const tariff = await read<G13TariffAnswer>('tariff');
    G13Driver.remark(device, x, session);
    return mapInstantaneous(clock, instrument, power, tariff, x.zone);
  }

  async readBilling(device: DeviceAddress, ctx: OperationContext): Promise<BillingReading> {
    const x = this.exchange(device.gateway, ctx);
    const session = await this.session(device, x);
    const clock = await x.get<G13DateTimeAnswer>(G13Driver.meterPath(device, '/datetime'));
    await x.meterReached('meter answered');
    const read = (name: G13Resource) =>
      this.optional<G13EnergyAnswer>(device, x, session, name, G13_RESOURCES[name].probe);
    const active = await read('activeEnergy');
    const reactive = await read('reactiveEnergy');
    G13Driver.remark(device, x, session);
    return mapBilling(clock, active, reactive, x.zone);
  }

  async readMonthlyBilling(
    device: DeviceAddress,
    requested: DateRange,
    ctx: OperationContext,
  ): Promise<MonthlyBillingReading[]> {
    const range = toSeconds(requested);
    const x = this.exchange(device.gateway, ctx);
    const session = await this.session(device, x);
    const rows: MonthlyBillingReading[] = [];
    let from = range.from;
    for (;;) {
      const answer = await this.optional<G13PreviousValuesAnswer>(
        device,
        x,
        session,
        'previousValues',
        `/previousvalues/${x.format(from)}/${x.format(range.to)}`,
      );
      await x.meterReached(answer ? 'previous values read' : 'meter has no previous values');
      if (!answer) break;
      const page = mapPreviousValues(answer, x.zone);
      rows.push(...page.filter((r) => r.meter_datetime >= range.from && r.meter_datetime <= range.to));
      if (page.length < PREVIOUS_VALUES_PER_REQUEST) break;
      const last = page[page.length - 1].meter_datetime;
      if (last >= range.to) break;
      from = new Date(last.getTime() + 1000);
    }
    if (rows.length === 0) {
      G13Driver.remark(device, x, session);
      return rows;
    }
    // The billing-period maximum demand comes from the demand records ending at the same time.
    const demandConfig = await this.optional<G13DemandConfigAnswer>(
      device,
      x,
      session,
      'demand',
      G13_RESOURCES.demand.probe,
    );
    G13Driver.remark(device, x, session);
    if (!demandConfig) return rows;
    const demand = await x.get<G13DemandAnswer>(
      G13Driver.meterPath(device, `/demand/${x.format(range.from)}/${x.format(range.to)}`),
    );
    const maxima = mapDemandMaxima(demandConfig, demand, x.zone);
    return rows.map((row) => ({ ...row, ...maxima.get(row.meter_datetime.getTime()) }));
  }

  async readLoadProfile(
    device: DeviceAddress,
    requested: DateRange,
    ctx: OperationContext,
  ): Promise<LoadProfileReading[]> {
    const range = toSeconds(requested);
    const x = this.exchange(device.gateway, ctx);
    const session = await this.session(device, x);
    const config = await this.optional<G13LoadProfileConfigAnswer>(
      device,
      x,
      session,
      'loadProfiles',
      G13_RESOURCES.loadProfiles.probe,
    );
    await x.meterReached(config ? 'load-profile configuration read' : 'meter has no load profiles');
    G13Driver.remark(device, x, session);
    if (!config) return [];
    const rows: LoadProfileReading[] = [];
    const channels = (config.lpconfig ?? [])
      .map(([interval, quantity], index) => ({ channel: index + 1, interval, quantity }))
      .filter((c) => c.interval > 0 && LOAD_PROFILE_COLUMNS[c.quantity] !== undefined)
      .filter((c) => {
        // A 1-phase meter has no phase 2 or 3: a channel configured for one holds no measurement.
        const phaseless =
          session.singlePhase && SECOND_AND_THIRD_PHASE.has(LOAD_PROFILE_COLUMNS[c.quantity].column);
        if (phaseless)
          ctx.log?.(
            `channel ${c.channel} (quantity ${c.quantity}) skipped: meter ${device.serial} is 1-phase`,
          );
        return !phaseless;
      });
    if (channels.length === 0)
      throw new DriverError(
        'refused',
        `meter ${device.serial} records no load-profile quantity the UDIL table holds`,
        false,
      );
    const skipped: string[] = [];
    for (const { channel, interval, quantity } of channels) {
      const answer = await x.get<G13LoadProfileAnswer>(
        G13Driver.meterPath(device, `/loadprofiles/${channel}/${x.format(range.from)}/${x.format(range.to)}`),
      );
      rows.push(...mapLoadProfileChannel(answer, quantity, channel, interval, x.zone, skipped));
    }
    G13Driver.remarkSkipped(x, skipped, 'load-profile item');
    return mergeLoadProfileRows(
      rows.filter((r) => r.meter_datetime >= range.from && r.meter_datetime <= range.to),
    );
  }

  async readEvents(
    device: DeviceAddress,
    requested: DateRange,
    ctx: OperationContext,
  ): Promise<MeterEventReading[]> {
    const range = toSeconds(requested);
    const x = this.exchange(device.gateway, ctx);
    const session = await this.session(device, x);
    // Without the alarm configuration, alarm events keep the G13's own names (ALARMn_ACTIVE_INFO).
    const alarms = await this.optional<G13AlarmsAnswer>(
      device,
      x,
      session,
      'alarms',
      G13_RESOURCES.alarms.probe,
    );
    await x.meterReached(alarms ? 'alarm configuration read' : 'meter answered');
    const seen = new Set<string>();
    const skipped: string[] = [];
    const rows: MeterEventReading[] = [];
    let until = range.to;
    for (;;) {
      const answer = await this.optional<G13EventsAnswer>(
        device,
        x,
        session,
        'events',
        `/events/${x.format(until)}/${EVENTS_PER_REQUEST}`,
      );
      if (!answer) break;
      const logs = [answer.system ?? [], answer.quality ?? [], answer.event ?? []];
      for (const row of mapEvents(answer, alarms?.alarmconfig ?? [], x.zone, skipped)) {
        const key = `${row.event_datetime.getTime()}|${row.event_code}|${row.event_description}`;
        if (seen.has(key) || row.event_datetime < range.from || row.event_datetime > range.to) continue;
        seen.add(key);
        rows.push(row);
      }
      // Each log answers newest first, at most 100 entries: a full log may hold older ones.
      const full = logs.filter((log) => log.length >= EVENTS_PER_REQUEST);
      if (full.length === 0) break;
      // The oldest entry of a full log whose time is understood (one that is not was left out above).
      const oldestOf = (log: readonly { datetime: string }[]): number => {
        for (let index = log.length - 1; index >= 0; index--) {
          try {
            return x.parse(log[index].datetime).getTime();
          } catch {
            // not understood: the next older one
          }
        }
        return -Infinity;
      };
      const oldest = Math.max(...full.map(oldestOf));
      if (oldest < range.from.getTime() || oldest >= until.getTime()) break;
      until = new Date(oldest);
    }
    G13Driver.remark(device, x, session);
    G13Driver.remarkSkipped(x, skipped, 'event log entry');
    return rows.sort(
      (a, b) => a.event_datetime.getTime() - b.event_datetime.getTime() || a.event_code - b.event_code,
    );
  }

  async operateRelay(device: DeviceAddress, connect: boolean, ctx: OperationContext): Promise<void> {
    const x = this.exchange(device.gateway, ctx);
    const port = this.options.relayPort ?? 1;
    await this.ensureOutput(x, device, port, 'communication_out');
    const state = connect ? 1 : 0;
    if (ctx.resend) {
      // An earlier attempt may have switched it already: a relay in the asked state is not written again.
      const before = await x.get<G13IoAnswer>(G13Driver.meterPath(device, '/io'));
      if (before.iostatus?.[port - 1]?.currentstate === state) {
        await x.meterReached(`output ${port} already ${state}: not written again`);
        return;
      }
    }
    await x.send('POST', G13Driver.meterPath(device, '/io'), { iostatus: [{ port, currentstate: state }] });
    await x.meterReached(`output ${port} set to ${state}`);
    const io = await x.get<G13IoAnswer>(G13Driver.meterPath(device, '/io'));
    const actual = io.iostatus?.[port - 1]?.currentstate;
    if (actual !== state)
      throw new DriverError(
        'device',
        `meter ${device.serial} output ${port} reads ${String(actual)} after being set to ${state}`,
        true,
      );
  }

  async setLoadLimit(device: DeviceAddress, limit: LoadLimit, ctx: OperationContext): Promise<void> {
    const x = this.exchange(device.gateway, ctx);
    const id = this.options.loadLimitAlarmId ?? 25;
    const output = this.options.loadLimitOutputPort ?? 2;
    if (!(limit.loadLimit >= 0) || !Number.isFinite(limit.loadLimit))
      throw new DriverError(
        'refused',
        `load limit ${limit.loadLimit} kW is not a non-negative number`,
        false,
      );
    const path = G13Driver.meterPath(device, '/alarms/configuration');
    if (limit.loadLimit === 0) {
      // No limit: the alarm channel is made inactive (only its id is sent, manual 6.3.53).
      await x.send('POST', path, { alarmconfig: { id } });
      await x.meterReached(`alarm ${id} deactivated`);
    } else {
      await this.ensureOutput(x, device, output, 'alarm_out');
      const watts = Math.round(limit.loadLimit * 1000);
      const alarm = {
        id,
        quantity: 96, // ACTIVE_POWER_TOTAL
        onthreshold: watts,
        offthreshold: watts,
        ondelay: Math.max(0, Math.round(limit.thresholdDurationSeconds)),
        offdelay: Math.max(0, Math.round(limit.retryIntervalSeconds)),
        log: true,
        output,
      };
      await x.send('POST', path, { alarmconfig: alarm });
      await x.meterReached(`alarm ${id} set to ${watts} W on output ${output}`);
      if (limit.maximumRetries > 0 || limit.retryClearIntervalSeconds > 0)
        ctx.log?.(
          'G13 alarms have no retry count or retry-clear interval: the output re-arms after every off delay',
        );
    }
    const readBack = await x.get<G13AlarmsAnswer>(path);
    const stored = readBack.alarmconfig?.find((a) => a.id === id);
    const expected = limit.loadLimit === 0 ? undefined : Math.round(limit.loadLimit * 1000);
    if (stored?.onthreshold !== expected || (expected !== undefined && stored?.quantity !== 96))
      throw new DriverError(
        'device',
        `meter ${device.serial} alarm ${id} does not hold the load limit after configuration`,
        true,
      );
  }

  async setThresholdAlarm(
    device: DeviceAddress,
    alarm: ThresholdAlarm,
    ctx: OperationContext,
  ): Promise<void> {
    const layout = this.thresholdLayout(alarm.function);
    const x = this.exchange(device.gateway, ctx);
    const output = this.options.loadLimitOutputPort ?? 2;
    if (alarm.trippingEnabled) await this.ensureOutput(x, device, output, 'alarm_out');
    const path = G13Driver.meterPath(device, '/alarms/configuration');
    const expected = new Map<number, { quantity: number; onthreshold: number } | undefined>();
    // A 1-phase meter has no L2/L3: watching them (0 V, 0 A) would trip an under-voltage at once.
    const { singlePhase } = await this.session(device, x);
    for (const [index, quantity] of layout.quantities.entries()) {
      if (singlePhase && index > 0) {
        for (const id of [layout.firstAlarm + 2 * index, layout.firstAlarm + 2 * index + 1]) {
          await x.send('POST', path, { alarmconfig: { id } });
          expected.set(id, undefined);
        }
        continue;
      }
      const levels = [
        { id: layout.firstAlarm + 2 * index, level: alarm.critical, output: 0 },
        {
          id: layout.firstAlarm + 2 * index + 1,
          level: alarm.tripping,
          output: alarm.trippingEnabled ? output : 0,
        },
      ];
      for (const { id, level, output: drives } of levels) {
        const on = Math.round(level.threshold * layout.scale);
        // The G13 watches for a fall when onthreshold < offthreshold: 2 % (at least 1) of hysteresis.
        const off = layout.under ? Math.max(on + 1, Math.ceil(on * 1.02)) : on;
        await x.send('POST', path, {
          alarmconfig: {
            id,
            quantity,
            onthreshold: on,
            offthreshold: off,
            ondelay: Math.round(level.delaySeconds),
            offdelay: 0,
            log: true,
            output: drives,
          },
        });
        expected.set(id, { quantity, onthreshold: on });
      }
      await x.meterReached(`${alarm.function} alarms on quantity ${quantity} set`);
    }
    await this.verifyAlarms(x, device, path, expected, alarm.function);
  }

  async clearThresholdAlarm(
    device: DeviceAddress,
    fn: ThresholdFunction,
    ctx: OperationContext,
  ): Promise<void> {
    const layout = this.thresholdLayout(fn);
    const x = this.exchange(device.gateway, ctx);
    const path = G13Driver.meterPath(device, '/alarms/configuration');
    const ids = layout.quantities.flatMap((_, index) => [
      layout.firstAlarm + 2 * index,
      layout.firstAlarm + 2 * index + 1,
    ]);
    // An inactive alarm channel is its id alone (manual 6.3.53).
    for (const id of ids) await x.send('POST', path, { alarmconfig: { id } });
    await x.meterReached(`${fn} alarms ${ids.join(', ')} deactivated`);
    await this.verifyAlarms(x, device, path, new Map(ids.map((id) => [id, undefined])), fn);
  }

  /** The tariff back to the G13's default: source communication, tariff 1, no calendar in force. */
  async resetTimeOfUse(device: DeviceAddress, ctx: OperationContext): Promise<void> {
    const x = this.exchange(device.gateway, ctx);
    const path = G13Driver.meterPath(device, '/tariff');
    await x.send('POST', path, { source: 1, tariff: 1 });
    await x.meterReached('tariff source communication, tariff 1');
    const tariff = await x.get<{ source?: number; tariff?: number }>(path);
    if (tariff.source !== 1 || tariff.tariff !== 1)
      throw new DriverError(
        'device',
        `meter ${device.serial} reads tariff ${String(tariff.tariff)} from source ${String(tariff.source)} after the reset`,
        true,
      );
  }

  /**
   * The G13 closes its billing period (monthly previous values) at the start of the calendar month:
   * day 1 at 00:00:00 is set by making the billing snapshots monthly; any other day is refused
   * (G13_CAPABILITIES.refusals, variant dayOfMonth).
   */
  async setBillingReset(device: DeviceAddress, reset: BillingReset, ctx: OperationContext): Promise<void> {
    if (reset.dayOfMonth !== 1 || reset.time !== '00:00:00')
      throw new UnsupportedOperationError(
        this.name,
        `setBillingReset (day ${reset.dayOfMonth} at ${reset.time})`,
        this.capabilities.refusals['setBillingReset:dayOfMonth'],
      );
    const x = this.exchange(device.gateway, ctx);
    const path = G13Driver.meterPath(device, '/previousvalues/configuration');
    await x.send('POST', path, { interval: 'monthly', pvconfig: BILLING_QUANTITIES });
    await x.meterReached('previous values set to monthly');
    const stored = await x.get<{ interval?: string }>(path);
    if (stored.interval !== 'monthly')
      throw new DriverError(
        'device',
        `meter ${device.serial} keeps ${String(stored.interval)} previous values after being set to monthly`,
        true,
      );
  }

  /** The alarms of a protection function (G13_THRESHOLD_ALARMS); the refusal reason for one it cannot watch. */
  private thresholdLayout(fn: ThresholdFunction) {
    const layout = G13_THRESHOLD_ALARMS[fn];
    if (!layout)
      throw new UnsupportedOperationError(
        this.name,
        `threshold alarms of ${fn}`,
        this.capabilities.refusals[`setThresholdAlarm:${fn}`],
      );
    return layout;
  }

  /** Reads the alarm configuration back: each id holds its quantity and threshold, or is inactive (undefined). */
  private async verifyAlarms(
    x: Exchange,
    device: DeviceAddress,
    path: string,
    expected: ReadonlyMap<number, { quantity: number; onthreshold: number } | undefined>,
    what: string,
  ): Promise<void> {
    const stored = new Map((await x.get<G13AlarmsAnswer>(path)).alarmconfig?.map((a) => [a.id, a]) ?? []);
    for (const [id, want] of expected) {
      const have = stored.get(id);
      const holds = want
        ? have?.quantity === want.quantity && have.onthreshold === want.onthreshold
        : have !== undefined && have.quantity === undefined;
      if (!holds)
        throw new DriverError(
          'device',
          `meter ${device.serial} alarm ${id} does not hold the ${what} configuration after writing it`,
          true,
        );
    }
  }

  async setTimeOfUse(
    device: DeviceAddress,
    schedule: TimeOfUseSchedule,
    ctx: OperationContext,
  ): Promise<void> {
    const program = buildTariffProgram(schedule);
    const x = this.exchange(device.gateway, ctx);
    const base = G13Driver.meterPath(device, '/tariff');
    // The G13 cannot delete week or season profiles, and holds at most 4 week profiles: profiles
    // already on the meter are reused as slots, and seasons the program does not name are
    // overwritten with a copy of its first season so that no stale season stays in force.
    const weeksOnMeter =
      (await x.get<{ weekprofiles?: Array<{ profile: string }> }>(`${base}/weekprofiles`)).weekprofiles ?? [];
    const seasonsOnMeter =
      (await x.get<{ seasonprofiles?: Array<{ profile: string }> }>(`${base}/seasonprofiles`))
        .seasonprofiles ?? [];
    const specialsOnMeter =
      (await x.get<{ specialdayprofiles?: unknown[] }>(`${base}/specialdayprofiles`)).specialdayprofiles ??
      [];
    const weekSlots = assignSlots(
      program.weekProfiles.map((w) => w.profile),
      weeksOnMeter.map((w) => w.profile),
      G13_LIMITS.weekProfiles,
    );
    program.weekProfiles = program.weekProfiles.map((w) => ({ ...w, profile: weekSlots.get(w.profile)! }));
    program.seasonProfiles = program.seasonProfiles.map((s) => ({
      ...s,
      weekprofile: weekSlots.get(s.weekprofile)!,
    }));
    const seasonNames = new Set(program.seasonProfiles.map((s) => s.profile));
    for (const stale of seasonsOnMeter.filter((s) => !seasonNames.has(s.profile)))
      program.seasonProfiles.push({ ...program.seasonProfiles[0], profile: stale.profile });
    if (specialsOnMeter.length > program.specialDays.length)
      ctx.log?.(
        `meter ${device.serial} keeps ${specialsOnMeter.length - program.specialDays.length} special day(s) the G13 cannot delete`,
      );
    // Day profiles and special days are one request each; week and season profile lists are
    // split so that each request stays within the 512-byte limit.
    for (const day of program.dayProfiles) {
      await x.send('POST', `${base}/dayprofiles`, { actions: day.actions, profile: day.profile });
      await x.meterReached(`day profile ${day.profile} written`);
    }
    for (const batch of batchesWithin('weekprofiles', program.weekProfiles, G13_MAX_PAYLOAD_BYTES))
      await x.send('POST', `${base}/weekprofiles`, { weekprofiles: batch });
    for (const batch of batchesWithin('seasonprofiles', program.seasonProfiles, G13_MAX_PAYLOAD_BYTES))
      await x.send('POST', `${base}/seasonprofiles`, { seasonprofiles: batch });
    for (const special of program.specialDays) await x.send('POST', `${base}/specialdayprofiles`, special);
    await x.send('POST', base, { source: 0 });
    if (schedule.activationDatetime.getTime() > Date.now())
      ctx.log?.(
        `G13 has no passive calendar: applied now, not at ${schedule.activationDatetime.toISOString()}`,
      );
  }

  async configureSampling(
    device: DeviceAddress,
    sampling: SamplingConfiguration,
    ctx: OperationContext,
  ): Promise<void> {
    if (sampling.dataType === 'INST')
      throw new UnsupportedOperationError(
        this.name,
        'meter data sampling of INST',
        'the G13 stores no instantaneous snapshots; they are read on demand',
      );
    if (sampling.initialMinute !== 0)
      throw new UnsupportedOperationError(
        this.name,
        'meter data sampling with an initial minute',
        'G13 snapshots are aligned to their interval',
      );
    const x = this.exchange(device.gateway, ctx);
    if (sampling.dataType === 'LPRO') {
      const seconds = sampling.intervalMinutes * 60;
      if (!LP_INTERVALS.includes(seconds))
        throw new DriverError(
          'refused',
          `load-profile interval ${sampling.intervalMinutes} min is not one of the G13's (1, 2, 3, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, 1 d)`,
          false,
        );
      const path = G13Driver.meterPath(device, '/loadprofiles/configuration');
      const current = await x.get<G13LoadProfileConfigAnswer>(path);
      const lpconfig = (current.lpconfig ?? []).map(([, quantity, count]) => [seconds, quantity, count]);
      if (lpconfig.length === 0)
        throw new DriverError(
          'refused',
          `meter ${device.serial} has no load-profile channel to re-time`,
          false,
        );
      await x.send('POST', path, { lpconfig });
      await x.meterReached(`load profile interval set to ${seconds} s`);
      return;
    }
    const interval = PV_INTERVALS[sampling.intervalMinutes];
    if (!interval)
      throw new DriverError(
        'refused',
        `billing snapshot interval ${sampling.intervalMinutes} min: the G13 stores daily (1440), weekly (10080) or monthly (43200) previous values`,
        false,
      );
    // Monday 1 … Sunday 7, in the meter's clock zone.
    const weekday = DateTime.fromJSDate(sampling.activationDatetime, { zone: x.zone }).weekday;
    await x.send('POST', G13Driver.meterPath(device, '/previousvalues/configuration'), {
      interval,
      ...(interval === 'weekly' ? { weekday } : {}),
      pvconfig: BILLING_QUANTITIES,
    });
    await x.meterReached(`previous values set to ${interval}`);
  }

  async readSupplyRelay(device: DeviceAddress, ctx: OperationContext): Promise<boolean> {
    const x = this.exchange(device.gateway, ctx);
    const port = this.options.relayPort ?? 1;
    const config = await x.get<G13IoConfigAnswer>(G13Driver.meterPath(device, '/io/configuration'));
    const kind = config.ioconfig?.[port - 1];
    // An input reads an external signal and a pulse output pulses energy: neither is a contactor's state.
    if (kind === undefined || kind === 'input' || kind === 'pulse_out')
      throw new DriverError(
        'refused',
        `meter ${device.serial} port ${port} is ${kind ?? 'absent'}, not the supply relay output`,
        false,
      );
    const io = await x.get<G13IoAnswer>(G13Driver.meterPath(device, '/io'));
    await x.meterReached('io state read');
    const state = io.iostatus?.[port - 1]?.currentstate;
    if (state !== 0 && state !== 1)
      throw new DriverError(
        'protocol',
        `meter ${device.serial} reports no state for supply output port ${port}`,
        false,
      );
    return state === 1;
  }

  async readLoadLimit(device: DeviceAddress, ctx: OperationContext): Promise<Partial<LoadLimit>> {
    const alarms = await this.readAlarms(device, ctx);
    const id = this.options.loadLimitAlarmId ?? 25;
    return loadLimitFromAlarm(alarms.find((a) => a.id === id));
  }

  async readThresholdAlarm(
    device: DeviceAddress,
    fn: ThresholdFunction,
    ctx: OperationContext,
  ): Promise<Partial<Omit<ThresholdAlarm, 'function'>> | null> {
    const layout = this.thresholdLayout(fn);
    return thresholdFromAlarms(await this.readAlarms(device, ctx), layout);
  }

  async readSampling(
    device: DeviceAddress,
    dataType: SamplingConfiguration['dataType'],
    ctx: OperationContext,
  ): Promise<Partial<Omit<SamplingConfiguration, 'dataType'>>> {
    if (dataType === 'INST')
      throw new UnsupportedOperationError(
        this.name,
        'meter data sampling of INST',
        'the G13 stores no instantaneous snapshots',
      );
    const x = this.exchange(device.gateway, ctx);
    if (dataType === 'LPRO') {
      const config = await this.requiredResource<G13LoadProfileConfigAnswer>(device, x, 'loadProfiles');
      await x.meterReached('load-profile configuration read');
      // configureSampling re-times every channel alike; the first recording channel tells the interval.
      const channel = (config.lpconfig ?? []).find(([interval]) => interval > 0);
      return channel ? { intervalMinutes: channel[0] / 60, initialMinute: 0 } : {};
    }
    const config = await this.requiredResource<{ interval?: string }>(device, x, 'previousValues');
    await x.meterReached('previous-value configuration read');
    const minutes = Object.entries(PV_INTERVALS).find(([, interval]) => interval === config.interval)?.[0];
    return minutes === undefined ? {} : { intervalMinutes: Number(minutes), initialMinute: 0 };
  }

  async readTimeOfUse(device: DeviceAddress, ctx: OperationContext): Promise<TimeOfUseCalendar> {
    const x = this.exchange(device.gateway, ctx);
    const base = G13Driver.meterPath(device, '/tariff');
    // A meter without tariff registers has no calendar either.
    if ((await this.session(device, x)).profile.tariff === false)
      throw G13Driver.lacks(device, 'tariff', 'reading the tariff calendar');
    try {
      const days = await x.get<G13TariffCalendarAnswers>(`${base}/dayprofiles`);
      await x.meterReached('tariff calendar read');
      const weeks = await x.get<G13TariffCalendarAnswers>(`${base}/weekprofiles`);
      const seasons = await x.get<G13TariffCalendarAnswers>(`${base}/seasonprofiles`);
      const specials = await x.get<G13TariffCalendarAnswers>(`${base}/specialdayprofiles`);
      return calendarFromTariff({ ...days, ...weeks, ...seasons, ...specials });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new UnsupportedOperationError(
        this.name,
        'reading the tariff calendar',
        `meter ${device.serial} does not provide tariff profiles (/tariff/dayprofiles…)`,
      );
    }
  }

  private async readAlarms(device: DeviceAddress, ctx: OperationContext): Promise<G13AlarmSetting[]> {
    const x = this.exchange(device.gateway, ctx);
    const answer = await this.requiredResource<G13AlarmsAnswer>(device, x, 'alarms');
    await x.meterReached('alarm configuration read');
    return answer.alarmconfig ?? [];
  }

  /**
   * GET of the optional resource a parameter read needs; a meter without it (catalogue, or a 404) is an
   * UnsupportedOperationError, so that the head-end answers from its record and says why.
   */
  private async requiredResource<T>(device: DeviceAddress, x: Exchange, name: G13Resource): Promise<T> {
    const session = await this.session(device, x);
    const answer = await this.optional<T>(device, x, session, name, G13_RESOURCES[name].probe);
    if (answer === undefined) throw G13Driver.lacks(device, name, `reading ${G13_RESOURCES[name].label}`);
    return answer;
  }

  private static lacks(device: DeviceAddress, name: G13Resource, what: string): UnsupportedOperationError {
    return new UnsupportedOperationError(
      'ABB_G13',
      what,
      `meter ${device.serial} does not provide ${G13_RESOURCES[name].label}`,
    );
  }

  /** Makes a port the given output kind; refuses to repurpose a physical input. */
  private async ensureOutput(
    x: Exchange,
    device: DeviceAddress,
    port: number,
    kind: 'communication_out' | 'alarm_out',
  ): Promise<void> {
    const path = G13Driver.meterPath(device, '/io/configuration');
    const config = await x.get<G13IoConfigAnswer>(path);
    const current = config.ioconfig?.[port - 1];
    if (current === kind) return;
    if (current === undefined || current === 'input')
      throw new DriverError(
        'refused',
        `meter ${device.serial} port ${port} is ${current ?? 'absent'}, not an output; configure it as ${kind} first`,
        false,
      );
    const ioconfig = [1, 2, 3, 4].map((p) => (p === port ? IO_CODES[kind] : IO_CODES.dont_change));
    await x.send('POST', path, { ioconfig });
    x.ctx.log?.(`port ${port} reconfigured from ${current} to ${kind}`);
  }
}
