import {
  DeviceAddress,
  DriverError,
  GatewayEndpoint,
  InMemoryMeterResourceCatalogue,
  OperationContext,
  ProgressLevel,
  ProgressTracker,
} from '@hes/drivers';
import { G13Client, G13Driver } from '@hes/drivers/g13';
import { surveyDataOf } from '@hes/mcs';
import { TLSSocket } from 'node:tls';
import { G13SimulatorHandle, startG13Simulator } from '../apps/simulator/src/g13';

/**
 * The G13 driver against a gateway as the field meets it: a meter that serves only the manual's
 * example resources (reads degrade, never fail whole), meter clocks in local time, a cancel racing
 * every write, and TLS that never hands credentials to another certificate.
 */

const MANUAL = 'ABB_8';
const FULL = '3100001001';
const SINGLE = '3100001002';
const SPARE = '3100001003';
const KARACHI = 'Asia/Karachi';

class Cancelled extends Error {}

interface Recorder extends OperationContext {
  levels: ProgressLevel[];
  lines: string[];
  remarks: string[];
}
function recorder(): Recorder {
  const levels: ProgressLevel[] = [];
  const lines: string[] = [];
  const remarks: string[] = [];
  return {
    levels,
    lines,
    remarks,
    progress: (level) => {
      levels.push(level);
    },
    log: (line) => lines.push(line),
    remark: (text) => remarks.push(text),
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the operation to fail');
}

describe('G13 in the field', () => {
  let sim: G13SimulatorHandle;
  let gateway: GatewayEndpoint;
  let catalogue: InMemoryMeterResourceCatalogue;
  let driver: G13Driver;
  const device = (serial: string, overrides: Partial<GatewayEndpoint> = {}): DeviceAddress => ({
    gateway: { ...gateway, ...overrides },
    serial,
    globalDeviceId: `m-${serial}`,
    msn: serial,
  });

  beforeAll(async () => {
    sim = await startG13Simulator({
      meters: [
        { serial: MANUAL, phases: 3, model: 'manual-only' },
        { serial: FULL, phases: 3, historyDays: 3 },
        { serial: SINGLE, phases: 1, historyDays: 1 },
        { serial: SPARE, phases: 3, historyDays: 1, registered: false },
      ],
      users: [{ name: 'hes', password: 's3cret' }],
    });
    gateway = {
      id: 'gw-field',
      name: 'G13 field',
      driver: 'ABB_G13',
      endpoint: sim.url,
      tlsMode: 'pinned',
      tlsFingerprintSha256: sim.certificateFingerprintSha256,
      username: 'hes',
      password: 's3cret',
      maxInFlight: 1,
      requestTimeoutMs: 2000,
      clockTimeZone: KARACHI,
    };
  });
  beforeEach(() => {
    catalogue = new InMemoryMeterResourceCatalogue();
    driver = new G13Driver({ retryDelayMs: 10, meterResources: catalogue });
    sim.resetStats();
  });
  afterEach(async () => {
    await driver.close();
    sim.clearFaults();
  });
  afterAll(() => sim.stop());

  describe('a meter serving only the manual examples: reads degrade, never fail whole', () => {
    it('INST: every value of the manual examples, the meter clock read in the gateway zone', async () => {
      const ctx = recorder();
      const row = await driver.readInstantaneous(device(MANUAL), ctx);
      // 6.3.41: "2012-08-05T01:11:31" on a meter keeping Asia/Karachi time (UTC+5).
      expect(row.meter_datetime).toEqual(new Date('2012-08-04T20:11:31Z'));
      expect(row).toMatchObject({
        voltage_phase_a: 227.1,
        voltage_phase_b: 56.8,
        voltage_phase_c: 42.9,
        current_phase_a: 0,
        frequency: 49.78,
        average_pf: 0,
        aggregate_active_pwr_pos: 2000,
        aggregate_active_pwr_neg: 0,
        aggregate_reactive_pwr_pos: 100,
        current_tariff_register: 1,
      });
      expect(ctx.remarks).toEqual([]);
    });

    it('BILL: active registers of 6.3.54, reactive left empty with a remark', async () => {
      const ctx = recorder();
      const row = await driver.readBilling(device(MANUAL), ctx);
      expect(row).toMatchObject({
        active_energy_pos_t1: 0.16,
        active_energy_pos_t4: 0.01,
        active_energy_pos_tl: 1271.31,
        active_energy_neg_t1: 2.36,
        active_energy_neg_tl: 12718.36,
        active_energy_abs_tl: 13989.67,
      });
      expect(Object.keys(row).filter((k) => k.startsWith('reactive'))).toEqual([]);
      expect(ctx.remarks).toEqual([expect.stringMatching(/does not provide reactive energy registers/)]);
    });

    it('MBIL: the snapshots of 6.3.69 without maximum demand, with a remark', async () => {
      const ctx = recorder();
      const rows = await driver.readMonthlyBilling(
        device(MANUAL),
        { from: new Date('2012-07-01T00:00:00+05:00'), to: new Date('2012-08-01T00:00:00+05:00') },
        ctx,
      );
      expect(rows.map((r) => r.meter_datetime.toISOString()).sort()).toEqual([
        '2012-07-21T19:00:00.000Z',
        '2012-07-22T19:00:00.000Z',
        '2012-07-23T19:00:00.000Z',
      ]);
      for (const row of rows) expect(row).toMatchObject({ active_energy_pos_tl: 0, active_energy_neg_tl: 0 });
      expect(rows.some((r) => 'active_mdi_pos_tl' in r)).toBe(false);
      expect(ctx.remarks).toEqual([expect.stringMatching(/does not provide maximum demand/)]);
    });

    it('LPRO: no load profile on this meter is an empty read with a remark, not a failure', async () => {
      const ctx = recorder();
      const rows = await driver.readLoadProfile(
        device(MANUAL),
        { from: new Date('2012-07-01T00:00:00Z'), to: new Date('2012-07-02T00:00:00Z') },
        ctx,
      );
      expect(rows).toEqual([]);
      expect(ctx.remarks).toEqual([expect.stringMatching(/does not provide load profiles/)]);
      expect(ctx.levels).toEqual([2, 3, 4]);
    });

    it('EVNT: the events of 6.3.51 without the alarm configuration, with a remark', async () => {
      const ctx = recorder();
      const rows = await driver.readEvents(
        device(MANUAL),
        { from: new Date('2011-12-01T00:00:00Z'), to: new Date('2012-01-01T00:00:00Z') },
        ctx,
      );
      expect(rows.map((r) => r.event_datetime.toISOString())).toEqual([
        '2011-12-18T05:12:00.000Z',
        '2011-12-19T05:12:00.000Z',
      ]);
      expect(ctx.remarks).toEqual([expect.stringMatching(/does not provide alarm configuration/)]);
    });

    it('discovers a meter once and then skips what it lacks instead of asking every time', async () => {
      await driver.readBilling(device(MANUAL), recorder());
      await driver.readBilling(device(MANUAL), recorder());
      await driver.readEvents(device(MANUAL), { from: new Date(0), to: new Date() }, recorder());
      const asked = (suffix: string) => sim.requests.filter((r) => r.path.endsWith(suffix)).length;
      expect(asked('/energy/reactive')).toBe(1);
      expect(asked('/alarms/configuration')).toBe(1);
      expect((await catalogue.load(gateway.id, MANUAL))?.resources).toMatchObject({
        activeEnergy: true,
        reactiveEnergy: false,
        alarms: false,
        demand: false,
        loadProfiles: false,
        previousValues: true,
        events: true,
      });
    });

    it('a 404 where the catalogue had a resource: the meter is discovered again and the read still succeeds', async () => {
      const stale = Object.fromEntries(
        ['instrument', 'power', 'tariff', 'activeEnergy', 'reactiveEnergy', 'previousValues'].map((n) => [
          n,
          true,
        ]),
      );
      await catalogue.save(gateway.id, MANUAL, {
        ...stale,
        demand: true,
        loadProfiles: true,
        alarms: true,
        events: true,
      });
      const ctx = recorder();
      const row = await driver.readBilling(device(MANUAL), ctx);
      expect(row.active_energy_pos_tl).toBe(1271.31);
      expect(ctx.lines.some((l) => /no longer answers \/energy\/reactive: rediscovering/.test(l))).toBe(true);
      expect(ctx.remarks).toEqual([expect.stringMatching(/reactive energy registers/)]);
      expect((await catalogue.load(gateway.id, MANUAL))?.resources).toMatchObject({
        reactiveEnergy: false,
        alarms: false,
      });
    });

    it('a resource the catalogue says is missing comes back after rediscovery (the admin action)', async () => {
      const all = await driver.discoverResources(device(FULL), recorder());
      await catalogue.save(gateway.id, FULL, { ...all, reactiveEnergy: false });
      const before = await driver.readBilling(device(FULL), recorder());
      expect(before.reactive_energy_pos_tl).toBeUndefined();
      await expect(driver.discoverResources(device(FULL), recorder())).resolves.toMatchObject({
        reactiveEnergy: true,
      });
      const after = await driver.readBilling(device(FULL), recorder());
      expect(typeof after.reactive_energy_pos_tl).toBe('number');
    });

    it('resources catalogued longer ago than the maximum age are discovered again (a meter may have gained some)', async () => {
      const aged = new G13Driver({ meterResources: catalogue, meterResourcesMaxAgeMs: 3_600_000 });
      try {
        const all = await aged.discoverResources(device(FULL), recorder());
        await catalogue.save(
          gateway.id,
          FULL,
          { ...all, reactiveEnergy: false },
          new Date(Date.now() - 7_200_000),
        );
        sim.resetStats();
        const row = await aged.readBilling(device(FULL), recorder());
        expect(typeof row.reactive_energy_pos_tl).toBe('number');
        expect(sim.requests.filter((r) => r.path.endsWith('/energy/reactive'))).toHaveLength(2);
        expect((await catalogue.load(gateway.id, FULL))?.resources.reactiveEnergy).toBe(true);
        // Fresh again: the next read asks only what it reads.
        sim.resetStats();
        await aged.readBilling(device(FULL), recorder());
        expect(sim.requests.map((r) => r.path.replace(`/meters/${FULL}`, ''))).toEqual([
          '/datetime',
          '/energy/active',
          '/energy/reactive',
        ]);
      } finally {
        await aged.close();
      }
    });

    it('an unknown serial is still refused (its clock answers 404), never an empty read', async () => {
      const error = await failure(driver.readBilling(device('NO_SUCH_METER'), recorder()));
      expect(error).toBeInstanceOf(DriverError);
      expect((error as DriverError).kind).toBe('refused');
      expect(await catalogue.load(gateway.id, 'NO_SUCH_METER')).toBeUndefined();
    });
  });

  describe("an item the driver does not understand (the manual's own example time) costs only itself", () => {
    const lastHours = (hours: number) => ({ from: new Date(Date.now() - hours * 3_600_000), to: new Date() });

    it('LPRO: the other snapshots of every channel are read, the garbled ones are a remark', async () => {
      const whole = await driver.readLoadProfile(
        device(FULL, { clockTimeZone: null }),
        lastHours(3),
        recorder(),
      );
      sim.setMeterFaults(FULL, { garbleOldestItem: true });
      const ctx = recorder();
      const rows = await driver.readLoadProfile(device(FULL, { clockTimeZone: null }), lastHours(3), ctx);
      // Each of the 8 channels lost its oldest snapshot; the rest are the same.
      const oldest = new Map<number, number>();
      for (const row of whole) {
        const [channel, time] = [Number(row.channel_id), row.meter_datetime.getTime()];
        if (time < (oldest.get(channel) ?? Infinity)) oldest.set(channel, time);
      }
      expect(oldest.size).toBe(8);
      expect(rows).toEqual(
        whole.filter((row) => row.meter_datetime.getTime() !== oldest.get(Number(row.channel_id))),
      );
      expect(ctx.remarks).toEqual([
        expect.stringMatching(
          /^8 load-profile item\(s\) not understood and left out \(G13 load-profile time "12:31:2327 17:3:9" is not a date-time, …\)$/,
        ),
      ]);
    });

    it('EVNT: the other entries of the log are read, the garbled one is a remark', async () => {
      const range = { from: new Date('2011-12-01T00:00:00Z'), to: new Date('2012-01-01T00:00:00Z') };
      const whole = await driver.readEvents(device(MANUAL), range, recorder());
      expect(whole).toHaveLength(2);
      sim.setMeterFaults(MANUAL, { garbleOldestItem: true });
      const ctx = recorder();
      const rows = await driver.readEvents(device(MANUAL), range, ctx);
      expect(rows).toEqual(whole.slice(1));
      // The oldest entry of each of its three logs (system, quality, event) was garbled.
      expect(ctx.remarks).toContainEqual(
        '3 event log entry(s) not understood and left out (G13 event datetime "12:31:2327 17:3:9" is not a date-time, …)',
      );
    });
  });

  describe('MCS survey: what the meter has, nothing it does not', () => {
    const lastHours = (hours: number) => ({ from: new Date(Date.now() - hours * 3_600_000), to: new Date() });

    it('a 3-phase meter: the documented quantities its 8 load-profile channels record', async () => {
      const rows = await driver.readLoadProfile(
        device(FULL, { clockTimeZone: null }),
        lastHours(6),
        recorder(),
      );
      const survey = surveyDataOf(rows);
      expect(survey.map((c) => c.name)).toEqual([
        'kWh Import',
        'kWh Export',
        'kvarh Import',
        'kvarh Export',
        'Voltage L1',
        'Voltage L2',
        'Voltage L3',
        'Current L1',
      ]);
      for (const channel of survey) expect(channel.readings.length).toBeGreaterThan(0);
    });

    it('a 1-phase meter: no voltage L2/L3, its power factor instead', async () => {
      const rows = await driver.readLoadProfile(
        device(SINGLE, { clockTimeZone: null }),
        lastHours(6),
        recorder(),
      );
      expect(surveyDataOf(rows).map((c) => c.name)).toEqual([
        'kWh Import',
        'kWh Export',
        'kvarh Import',
        'kvarh Export',
        'Voltage L1',
        'Current L1',
        'Power factor',
      ]);
    });

    it('a 1-phase meter refuses a phase-2 channel, and a channel already configured for one is skipped', async () => {
      const lpconfig = [
        [900, 1, 3000],
        [3600, 72, 1000],
      ];
      const client = new G13Client(gateway);
      try {
        const ctx = recorder();
        const refused = await failure(
          client.request(
            { method: 'POST', path: `/meters/${SINGLE}/loadprofiles/configuration`, body: { lpconfig } },
            ctx,
            new ProgressTracker(ctx),
          ),
        );
        expect((refused as DriverError).kind).toBe('refused');
        expect(refused.message).toMatch(/Invalid quantity/);
      } finally {
        client.close();
      }
      const meter = sim.meter(SINGLE);
      const saved = meter.lpConfig.map((c) => [...c] as [number, number, number]);
      try {
        meter.configureLoadProfile(lpconfig as Array<[number, number, number]>);
        const ctx = recorder();
        const rows = await driver.readLoadProfile(device(SINGLE, { clockTimeZone: null }), lastHours(3), ctx);
        expect(rows.some((r) => 'voltage_phase_b' in r)).toBe(false);
        expect(ctx.lines).toContain(`channel 2 (quantity 72) skipped: meter ${SINGLE} is 1-phase`);
      } finally {
        meter.configureLoadProfile(saved);
      }
    });
  });

  describe('meter clocks keep the gateway zone', () => {
    it('reads and writes the clock in the zone: the manual example and a round trip', async () => {
      await expect(driver.readClock(device(MANUAL), recorder())).resolves.toEqual(
        new Date('2012-08-04T20:11:31Z'),
      );
      await driver.setClock(device(MANUAL), new Date('2012-08-04T20:11:31Z'), recorder());
      await driver.setClock(device(FULL), new Date('2026-06-01T07:00:00Z'), recorder());
      // The meter was told its local time (UTC+5 in Karachi)...
      expect(sim.meter(FULL).meterNow()).toBeGreaterThanOrEqual(Date.parse('2026-06-01T12:00:00Z'));
      expect(sim.meter(FULL).meterNow()).toBeLessThan(Date.parse('2026-06-01T12:01:00Z'));
      // ...and reads back the instant it was given.
      const read = await driver.readClock(device(FULL), recorder());
      expect(read.getTime() - Date.parse('2026-06-01T07:00:00Z')).toBeLessThan(60_000);
      // Without a zone (UTC) the same meter reads five hours later.
      const utc = await driver.readClock(device(FULL, { id: 'gw-utc', clockTimeZone: null }), recorder());
      expect(Math.round((utc.getTime() - read.getTime()) / 3_600_000)).toBe(5);
      await driver.setClock(device(FULL, { id: 'gw-utc', clockTimeZone: null }), new Date(), recorder());
    });
  });

  describe('a cancel that wins at level 2 stops every write before the meter acts', () => {
    /** The worker's progress: level 3 is refused because the row was cancelled while at level 2. */
    function cancelledAtTwo(): Recorder {
      const ctx = recorder();
      ctx.progress = (level) => {
        ctx.levels.push(level);
        return level >= 3 ? Promise.reject(new Cancelled('cancelled at status_level 2')) : undefined;
      };
      return ctx;
    }

    const writes: Array<[string, (d: G13Driver, ctx: OperationContext) => Promise<unknown>]> = [
      ['time_synchronization (set clock)', (d, ctx) => d.setClock(device(FULL), new Date(), ctx)],
      ['aux relay off', (d, ctx) => d.operateRelay(device(FULL), false, ctx)],
      ['aux relay on', (d, ctx) => d.operateRelay(device(FULL), true, ctx)],
      [
        'sanctioned load 0 (alarm off)',
        (d, ctx) =>
          d.setLoadLimit(
            device(FULL),
            {
              loadLimit: 0,
              maximumRetries: 0,
              retryIntervalSeconds: 0,
              thresholdDurationSeconds: 0,
              retryClearIntervalSeconds: 0,
            },
            ctx,
          ),
      ],
      [
        'sanctioned load 5 kW',
        (d, ctx) =>
          d.setLoadLimit(
            device(FULL),
            {
              loadLimit: 5,
              maximumRetries: 0,
              retryIntervalSeconds: 30,
              thresholdDurationSeconds: 10,
              retryClearIntervalSeconds: 0,
            },
            ctx,
          ),
      ],
      [
        'time of use',
        (d, ctx) =>
          d.setTimeOfUse(
            device(FULL),
            {
              season: undefined,
              days: undefined,
              timeSlabs: undefined,
              tariffIdentification: undefined,
              activationDatetime: new Date(),
              dayProfiles: [{ name: 'd1', tariffSlabs: ['00:00', '12:00'] }],
              weekProfiles: [{ name: 'w1', weeklyDayProfile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd1', 'd1'] }],
              seasonProfiles: [{ name: 's1', weekProfileName: 'w1', startDate: '01-01' }],
              holidayProfiles: [],
            },
            ctx,
          ),
      ],
      [
        'sampling LPRO',
        (d, ctx) =>
          d.configureSampling(
            device(FULL),
            { dataType: 'LPRO', intervalMinutes: 15, initialMinute: 0, activationDatetime: new Date() },
            ctx,
          ),
      ],
      [
        'sampling BILL',
        (d, ctx) =>
          d.configureSampling(
            device(FULL),
            { dataType: 'BILL', intervalMinutes: 1440, initialMinute: 0, activationDatetime: new Date() },
            ctx,
          ),
      ],
      ['device creation (register meter)', (d, ctx) => d.registerMeter(device(SPARE), ctx)],
    ];

    it.each(writes)('%s: nothing but retry-safe GETs reach the gateway', async (_name, write) => {
      const output = sim.readOutput(FULL, 1);
      const ctx = cancelledAtTwo();
      const error = await failure(write(driver, ctx));
      expect(error).toBeInstanceOf(Cancelled);
      expect(ctx.levels).toEqual([2, 3]);
      expect(sim.requests.length).toBeGreaterThan(0);
      expect(sim.requests.filter((r) => r.method !== 'GET')).toEqual([]);
      expect(sim.readOutput(FULL, 1)).toBe(output);
      expect(sim.meter(SPARE).registered).toBe(false);
    });

    it('level 3 is awaited: the write waits for the answer to level 3 and goes out after it', async () => {
      let allow!: () => void;
      let reachedThree!: () => void;
      const atThree = new Promise<void>((resolve) => (reachedThree = resolve));
      const ctx = recorder();
      ctx.progress = (level) => {
        ctx.levels.push(level);
        if (level !== 3) return undefined;
        reachedThree();
        return new Promise<void>((resolve) => (allow = resolve));
      };
      const done = driver.setClock(device(FULL), new Date(), ctx);
      await atThree;
      await sim.whenIdle();
      expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /about']);
      allow();
      await done;
      expect(sim.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
      expect(ctx.levels).toEqual([2, 3, 4]);
    });
  });
});

describe('G13 TLS: credentials never reach another certificate', () => {
  const endpoint = (sim: G13SimulatorHandle, overrides: Partial<GatewayEndpoint> = {}): GatewayEndpoint => ({
    id: 'gw-tls',
    name: 'G13 tls',
    driver: 'ABB_G13',
    endpoint: sim.url,
    tlsMode: 'pinned',
    tlsFingerprintSha256: sim.certificateFingerprintSha256,
    username: 'admin',
    password: 'admin',
    maxInFlight: 1,
    requestTimeoutMs: 2000,
    ...overrides,
  });
  const at = (gateway: GatewayEndpoint): DeviceAddress => ({
    gateway,
    serial: 'ABB_1',
    globalDeviceId: 'm1',
    msn: '1',
  });

  it('an impostor taking over the address of a pooled, pinned connection gets no request', async () => {
    const genuine = await startG13Simulator({ meters: [{ serial: 'ABB_1', phases: 3, historyDays: 1 }] });
    const driver = new G13Driver({ retryDelayMs: 10 });
    let impostor: G13SimulatorHandle | undefined;
    try {
      const pinned = endpoint(genuine);
      await driver.readClock(at(pinned), recorder());
      await driver.readClock(at(pinned), recorder());
      const port = genuine.port;
      await genuine.stop();
      impostor = await startG13Simulator({ port, meters: [{ serial: 'ABB_1', phases: 3, historyDays: 1 }] });
      expect(impostor.certificateFingerprintSha256).not.toBe(genuine.certificateFingerprintSha256);
      const error = await failure(driver.readClock(at(pinned), recorder()));
      expect(error).toBeInstanceOf(DriverError);
      await impostor.whenIdle();
      expect(impostor.requests).toEqual([]);
      // Re-pinned by the operator: a new client, and the new gateway answers.
      await expect(driver.readClock(at(endpoint(impostor)), recorder())).resolves.toBeInstanceOf(Date);
    } finally {
      await driver.close();
      await impostor?.stop();
    }
  });

  it('a settings change replaces the client; the request in flight on the stale one still completes', async () => {
    const sim = await startG13Simulator({ meters: [{ serial: 'ABB_1', phases: 3, historyDays: 1 }] });
    const driver = new G13Driver();
    try {
      sim.setGatewayFaults({ latencyMs: 200 });
      const inFlight = driver.readClock(at(endpoint(sim)), recorder());
      const changed = driver.readClock(at(endpoint(sim, { maxInFlight: 2 })), recorder());
      await expect(inFlight).resolves.toBeInstanceOf(Date);
      await expect(changed).resolves.toBeInstanceOf(Date);
    } finally {
      await driver.close();
      await sim.stop();
    }
  });

  it('reused keep-alive connections do not pile up listeners (no MaxListenersExceededWarning)', async () => {
    const sim = await startG13Simulator({ meters: [{ serial: 'ABB_1', phases: 3, historyDays: 1 }] });
    const driver = new G13Driver();
    // Node warns at the 11th listener of one event on one socket: count what is added per socket.
    const added = new Map<object, number>();
    const realOn = TLSSocket.prototype.on;
    const on = jest.spyOn(TLSSocket.prototype, 'on').mockImplementation(function (
      this: TLSSocket,
      event: string,
      listener: (...args: unknown[]) => void,
    ) {
      if (event === 'secureConnect') added.set(this, (added.get(this) ?? 0) + 1);
      return (realOn as (event: string, listener: (...args: unknown[]) => void) => TLSSocket).call(
        this,
        event,
        listener,
      );
    } as typeof TLSSocket.prototype.on);
    try {
      for (let i = 0; i < 15; i++) await driver.readClock(at(endpoint(sim)), recorder());
      for (let i = 0; i < 15; i++)
        await driver.readClock(at(endpoint(sim, { id: 'gw-insecure', tlsMode: 'insecure' })), recorder());
      expect(sim.requests).toHaveLength(30);
      // Keep-alive: a handful of connections carried the 30 requests, each with one handshake listener.
      expect(added.size).toBeGreaterThan(0);
      expect(added.size).toBeLessThan(30);
      expect(Math.max(...added.values())).toBeLessThanOrEqual(2);
    } finally {
      on.mockRestore();
      await driver.close();
      await sim.stop();
    }
  });

  it('an answer to a request abandoned in an earlier statistics period never shows in a later one', async () => {
    const sim = await startG13Simulator({ meters: [{ serial: 'ABB_1', phases: 3, historyDays: 1 }] });
    const driver = new G13Driver({ retries: 0 });
    try {
      sim.setGatewayFaults({ latencyMs: 300 });
      const error = await failure(driver.readClock(at(endpoint(sim, { requestTimeoutMs: 50 })), recorder()));
      expect((error as DriverError).kind).toBe('timeout');
      sim.resetStats();
      sim.clearFaults();
      await sim.whenIdle();
      expect(sim.requests).toEqual([]);
      expect(sim.peakConcurrency()).toBe(0);
    } finally {
      await driver.close();
      await sim.stop();
    }
  });
});
