import { waitFor } from './support/test-environment';
import { LOAD_PROFILE_COLUMNS } from '../libs/drivers/src/g13/g13-mappers';
import {
  DeviceAddress,
  DriverRegistry,
  GatewayEndpoint,
  OperationContext,
  ProgressLevel,
  UnsupportedOperationError,
} from '@hes/drivers';
import { G13Client, G13Driver } from '@hes/drivers/g13';
import { G13SimulatorHandle, startG13Simulator } from '../apps/simulator/src/g13';
import { driverFailure } from './support/driver-failure';

/** The production G13 driver against the simulator, for every operation and error path. */

const THREE = '3100001001';
const SINGLE = '3100001002';
const SPARE = '3100001003';

interface Recorder extends OperationContext {
  levels: ProgressLevel[];
  lines: string[];
}
function recorder(): Recorder {
  const levels: ProgressLevel[] = [];
  const lines: string[] = [];
  return {
    levels,
    lines,
    progress: (level) => {
      levels.push(level);
    },
    log: (line) => lines.push(line),
  };
}

const failure = driverFailure;

describe('G13 driver against the simulator', () => {
  let sim: G13SimulatorHandle;
  let gateway: GatewayEndpoint;
  let driver: G13Driver;
  const device = (serial: string, overrides: Partial<GatewayEndpoint> = {}): DeviceAddress => ({
    gateway: { ...gateway, ...overrides },
    serial,
    globalDeviceId: `m${serial}`,
    msn: serial,
  });

  beforeAll(async () => {
    sim = await startG13Simulator({
      meters: [
        { serial: THREE, phases: 3, historyDays: 35 },
        { serial: SINGLE, phases: 1, historyDays: 2 },
        { serial: SPARE, phases: 3, historyDays: 1, registered: false },
      ],
      users: [{ name: 'hes', password: 's3cret' }],
    });
    gateway = {
      id: 'gw-1',
      name: 'G13 test',
      driver: 'ABB_G13',
      endpoint: sim.url,
      tlsMode: 'pinned',
      tlsFingerprintSha256: sim.certificateFingerprintSha256,
      username: 'hes',
      password: 's3cret',
      maxInFlight: 2,
      requestTimeoutMs: 2000,
    };
    driver = new G13Driver({ retryDelayMs: 10 });
    // Each meter's resources are discovered once (on its first read): done here, so the operations
    // below show the requests of a meter already catalogued.
    for (const serial of [THREE, SINGLE]) await driver.discoverResources(device(serial), recorder());
  });
  afterAll(async () => {
    await driver.close();
    await sim.stop();
  });
  afterEach(() => {
    sim.clearFaults();
    sim.resetStats();
  });

  describe('operations', () => {
    it('discovers the registered meters with their phase count and reports progress 2→4', async () => {
      const ctx = recorder();
      const meters = await driver.discoverMeters(gateway, ctx);
      expect(meters.map((m) => [m.serial, m.phases])).toEqual([
        [THREE, 3],
        [SINGLE, 1],
      ]);
      expect(ctx.levels).toEqual([2, 3, 4]);
      expect(ctx.lines).toContain('GET /meters 200');
    });

    it('registers a meter that is on the bus', async () => {
      const ctx = recorder();
      await driver.registerMeter(device(SPARE), ctx);
      expect(sim.meter(SPARE).registered).toBe(true);
      expect(sim.meter(SPARE).location).toBe('HES');
      expect(ctx.levels).toEqual([2, 3, 4]);
      const meters = await driver.discoverMeters(gateway, recorder());
      expect(meters.map((m) => m.serial)).toContain(SPARE);
    });

    it('reads and sets the meter clock', async () => {
      const target = new Date(Date.UTC(2031, 0, 15, 8, 30, 0));
      await driver.setClock(device(SINGLE), target, recorder());
      expect(Math.abs(sim.readClock(SINGLE).getTime() - target.getTime())).toBeLessThan(5000);
      const read = await driver.readClock(device(SINGLE), recorder());
      expect(Math.abs(read.getTime() - target.getTime())).toBeLessThan(5000);
      await driver.setClock(device(SINGLE), new Date(), recorder());
    });

    it('reads instantaneous values into instantaneous_data columns', async () => {
      const ctx = recorder();
      const row = await driver.readInstantaneous(device(THREE), ctx);
      expect(row.meter_datetime).toBeInstanceOf(Date);
      for (const phase of ['a', 'b', 'c']) {
        expect(row[`voltage_phase_${phase}`]).toBeGreaterThan(220);
        expect(row[`current_phase_${phase}`]).toBeGreaterThan(0);
      }
      expect(row.frequency).toBeGreaterThan(49.9);
      expect(row.aggregate_active_pwr_pos).toBeGreaterThan(0);
      expect(row.aggregate_active_pwr_neg).toBe(0);
      expect(row.current_tariff_register).toBe(sim.meter(THREE).currentTariff(sim.meter(THREE).meterNow()));
      expect(ctx.lines.map((l) => l.split(' ')[1])).toEqual([
        `/meters/${THREE}/datetime`,
        `/meters/${THREE}/instrument`,
        `/meters/${THREE}/power`,
        `/meters/${THREE}/tariff`,
      ]);
      const single = await driver.readInstantaneous(device(SINGLE), recorder());
      expect(single.voltage_phase_a).toBeGreaterThan(220);
      expect(single.voltage_phase_b).toBeUndefined();
    });

    it('reads billing registers with tariffs that add up to the total', async () => {
      const row = await driver.readBilling(device(THREE), recorder());
      const registers = sim.readRegisters(THREE);
      expect(Math.abs(Number(row.active_energy_pos_tl) - registers.activeImport)).toBeLessThan(1);
      const tariffs = ['t1', 't2', 't3', 't4'].reduce((a, t) => a + Number(row[`active_energy_pos_${t}`]), 0);
      expect(tariffs).toBeCloseTo(Number(row.active_energy_pos_tl), 0);
      expect(row.active_energy_abs_tl).toBeCloseTo(
        Number(row.active_energy_pos_tl) + Number(row.active_energy_neg_tl),
        2,
      );
      expect(row.reactive_energy_pos_tl).toBeGreaterThan(0);
    });

    it('reads monthly values from previous-value snapshots', async () => {
      const to = new Date();
      const from = new Date(to.getTime() - 40 * 86_400_000);
      const rows = await driver.readMonthlyBilling(device(THREE), { from, to }, recorder());
      const snapshots = sim.meter(THREE).previousValues();
      expect(rows).toHaveLength(snapshots.length);
      expect(rows[0].meter_datetime.getTime()).toBe(snapshots[0].time);
      expect(rows[0].active_energy_pos_tl).toBeCloseTo(snapshots[0].values[0] / 1000, 2);
      expect(rows[0].active_energy_pos_t1).toBeCloseTo(snapshots[0].values[2] / 1000, 2);
      const demand = sim
        .meter(THREE)
        .demandRecords()
        .find((r) => r.time === snapshots[0].time)!;
      expect(rows[0].active_mdi_pos_tl).toBeCloseTo(Math.round(demand.channels[0].value) / 1000, 3);
      expect(rows[0].active_mdi_pos_tl).toBeGreaterThan(0);
    });

    it('reads the load profile for a range: one row per timestamp and G13 channel (= UDIL channel_id)', async () => {
      const to = new Date();
      const from = new Date(to.getTime() - 2 * 3_600_000);
      const rows = await driver.readLoadProfile(device(THREE), { from, to }, recorder());
      const energy = rows.filter((r) => r.channel_id === 1);
      expect(energy.length).toBeGreaterThanOrEqual(7);
      for (const row of energy) {
        expect(row.interval).toBe(15);
        expect(row.meter_datetime.getTime() % 900_000).toBe(0);
        expect(row.active_energy_pos_tl).toBeGreaterThan(0);
        expect(row.voltage_phase_a).toBeUndefined();
      }
      const energies = energy.map((r) => Number(r.active_energy_pos_tl));
      expect([...energies].sort((a, b) => a - b)).toEqual(energies);
      // Voltage L1 (quantity 69) is another channel of the meter, at the same quarter-hours.
      const config = sim.meter(THREE).lpConfig;
      const voltage = rows.filter(
        (r) => r.channel_id === config.findIndex(([, quantity]) => quantity === 69) + 1,
      );
      expect(voltage.length).toBeGreaterThan(0);
      expect(voltage.map((r) => r.meter_datetime.getTime())).toEqual(
        energy.map((r) => r.meter_datetime.getTime()),
      );
      for (const row of voltage) expect(row.voltage_phase_a).toBeGreaterThan(220);
      // Every channel the meter records a UDIL quantity on, each under its own number.
      const mapped = config.flatMap(([interval, quantity], index) =>
        interval > 0 && LOAD_PROFILE_COLUMNS[quantity] !== undefined ? [index + 1] : [],
      );
      expect(mapped.length).toBeGreaterThan(1);
      expect([...new Set(rows.map((r) => r.channel_id))].sort()).toEqual(mapped);
    });

    it('opens and closes the supply relay (output port 1)', async () => {
      const ctx = recorder();
      await driver.operateRelay(device(THREE), false, ctx);
      expect(sim.readOutput(THREE, 1)).toBe(0);
      expect(ctx.levels).toEqual([2, 3, 4]);
      const off = await driver.readInstantaneous(device(THREE), recorder());
      expect(off.aggregate_active_pwr_abs).toBe(0);
      await driver.operateRelay(device(THREE), true, recorder());
      expect(sim.readOutput(THREE, 1)).toBe(1);
    });

    it('stops before commanding the meter when progress rejects (transaction cancelled)', async () => {
      const cancelled = new Error('transaction cancelled');
      const ctx: OperationContext = {
        progress: (level) => (level === 3 ? Promise.reject(cancelled) : Promise.resolve()),
      };
      await expect(driver.operateRelay(device(THREE), false, ctx)).rejects.toBe(cancelled);
      expect(sim.requests.map((r) => r.method)).toEqual(['GET']);
      expect(sim.readOutput(THREE, 1)).toBe(1);
    });

    it('refuses to operate a relay on a port wired as an input, without writing', async () => {
      sim.meter(SINGLE).ioConfig[0] = 'input';
      try {
        const error = await failure(driver.operateRelay(device(SINGLE), false, recorder()));
        expect(error.kind).toBe('refused');
        expect(error.message).toMatch(/port 1 is input/);
        expect(sim.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
      } finally {
        sim.meter(SINGLE).ioConfig[0] = 'communication_out';
      }
    });

    it('sets a load limit as an active-power alarm that drives output 2, and logs it as 116', async () => {
      const ctx = recorder();
      const started = new Date(sim.meter(THREE).meterNow() - 1000);
      await driver.setLoadLimit(
        device(THREE),
        {
          loadLimit: 0.5,
          maximumRetries: 0,
          retryIntervalSeconds: 30,
          thresholdDurationSeconds: 0,
          retryClearIntervalSeconds: 0,
        },
        ctx,
      );
      expect(sim.meter(THREE).alarms[24]).toEqual({
        id: 25,
        quantity: 96,
        onthreshold: 500,
        offthreshold: 500,
        ondelay: 0,
        offdelay: 30,
        log: true,
        output: 2,
      });
      expect(sim.readOutput(THREE, 2)).toBe(1);
      const events = await driver.readEvents(
        device(THREE),
        { from: started, to: new Date(Date.now() + 60_000) },
        recorder(),
      );
      expect(
        events.some((e) => e.event_code === 116 && /ALARM25_ACTIVE_INFO/.test(e.event_description)),
      ).toBe(true);
      await driver.setLoadLimit(
        device(THREE),
        {
          loadLimit: 0,
          maximumRetries: 0,
          retryIntervalSeconds: 0,
          thresholdDurationSeconds: 0,
          retryClearIntervalSeconds: 0,
        },
        recorder(),
      );
      expect(sim.meter(THREE).alarms[24]).toEqual({ id: 25 });
      expect(sim.readOutput(THREE, 2)).toBe(0);
    });

    it('sets APMS threshold alarms per phase (L1 only on a 1-phase meter), trips on them, and clears them', async () => {
      const under = {
        function: 'underVoltage' as const,
        critical: { threshold: 300, delaySeconds: 0 },
        tripping: { threshold: 290, delaySeconds: 0 },
        trippingEnabled: true,
      };
      const ctx = recorder();
      await driver.setThresholdAlarm(device(SINGLE), under, ctx);
      expect(ctx.levels).toContain(4);
      const alarms = sim.meter(SINGLE).alarms;
      expect(alarms[10]).toEqual({
        id: 11,
        quantity: 69,
        onthreshold: 300,
        offthreshold: 306,
        ondelay: 0,
        offdelay: 0,
        log: true,
        output: 0,
      });
      expect(alarms[11]).toMatchObject({
        id: 12,
        quantity: 69,
        onthreshold: 290,
        offthreshold: 296,
        output: 2,
      });
      expect(alarms.slice(12, 16)).toEqual([{ id: 13 }, { id: 14 }, { id: 15 }, { id: 16 }]);
      // The simulated voltage (about 230 V) is under 290 V: the tripping alarm drives output 2.
      await waitFor(() => Promise.resolve(sim.readOutput(SINGLE, 2) === 1), 'the under-voltage trip');

      await driver.setThresholdAlarm(device(THREE), { ...under, function: 'overCurrent' }, recorder());
      expect(
        sim
          .meter(THREE)
          .alarms.slice(16, 22)
          .map((a) => ('quantity' in a ? a.quantity : 0)),
      ).toEqual([70, 70, 73, 73, 76, 76]);

      await driver.clearThresholdAlarm(device(SINGLE), 'underVoltage', recorder());
      expect(sim.meter(SINGLE).alarms.slice(10, 16)).toEqual([11, 12, 13, 14, 15, 16].map((id) => ({ id })));
      await waitFor(() => Promise.resolve(sim.readOutput(SINGLE, 2) === 0), 'the trip to clear');
      await expect(
        driver.setThresholdAlarm(device(THREE), { ...under, function: 'voltageUnbalance' }, recorder()),
      ).rejects.toThrow(
        'ABB_G13 driver does not support threshold alarms of voltageUnbalance: the G13 measures',
      );
    });

    it('puts the tariff back to one tariff held by communication, and sets the billing reset to the month start', async () => {
      await driver.resetTimeOfUse(device(THREE), recorder());
      expect(sim.meter(THREE).tariffSource).toBe(1);
      expect(sim.meter(THREE).communicationTariff).toBe(1);
      sim.meter(THREE).configurePreviousValues('daily', 1, [1]);
      await driver.setBillingReset(device(THREE), { dayOfMonth: 1, time: '00:00:00' }, recorder());
      expect(sim.meter(THREE).pvInterval).toBe('monthly');
      await expect(
        driver.setBillingReset(device(THREE), { dayOfMonth: 15, time: '00:00:00' }, recorder()),
      ).rejects.toBeInstanceOf(UnsupportedOperationError);
    });

    it('makes the load-limit port an alarm output first when it is another kind of output', async () => {
      const meter = sim.meter(SINGLE);
      meter.ioConfig[1] = 'always_off';
      const ctx = recorder();
      await driver.setLoadLimit(
        device(SINGLE),
        {
          loadLimit: 2,
          maximumRetries: 3,
          retryIntervalSeconds: 60,
          thresholdDurationSeconds: 10,
          retryClearIntervalSeconds: 0,
        },
        ctx,
      );
      expect(meter.ioConfig).toEqual(['communication_out', 'alarm_out', 'input', 'input']);
      expect(ctx.lines).toContain('port 2 reconfigured from always_off to alarm_out');
      expect(ctx.lines.some((l) => /no retry count/.test(l))).toBe(true);
      expect(meter.alarms[24]).toMatchObject({
        quantity: 96,
        onthreshold: 2000,
        ondelay: 10,
        offdelay: 60,
        output: 2,
      });
    });

    it('maps injected faults to UDIL events and keeps unmapped log ids', async () => {
      const meter = sim.meter(SINGLE);
      const from = new Date(meter.meterNow() - 3_600_000);
      sim.injectPowerFailure(SINGLE, 120, new Date(meter.meterNow() - 600_000));
      sim.injectPhaseLoss(SINGLE, 1, true);
      sim.injectPhaseLoss(SINGLE, 1, false);
      sim.injectReverseFlow(SINGLE, true);
      sim.injectReverseFlow(SINGLE, false);
      meter.log('quality', { datetime: meter.meterNow(), duration: 0, category: 3, logid: 1010 });
      const events = await driver.readEvents(
        device(SINGLE),
        { from, to: new Date(meter.meterNow() + 1000) },
        recorder(),
      );
      const codes = events.map((e) => e.event_code);
      expect(codes).toEqual(expect.arrayContaining([111, 112, 113, 117, 1010]));
      const start = events.find((e) => e.event_code === 111)!;
      const end = events.find((e) => e.event_code === 112)!;
      expect(end.event_datetime.getTime() - start.event_datetime.getTime()).toBe(120_000);
      expect(events.find((e) => e.event_code === 1010)!.event_description).toMatch(/DATE_NOT_SET_WARNING/);
    });

    it('pages through more than 100 events', async () => {
      const meter = sim.meter(SINGLE);
      const base = meter.meterNow() - 10 * 86_400_000;
      for (let i = 0; i < 150; i++)
        meter.log('quality', { datetime: base + i * 60_000, duration: 0, category: 3, logid: 1008 });
      const events = await driver.readEvents(
        device(SINGLE),
        { from: new Date(base), to: new Date(base + 86_400_000) },
        recorder(),
      );
      expect(events.filter((e) => e.event_code === 1008)).toHaveLength(150);
      expect(sim.requests.filter((r) => r.path.includes('/events/')).length).toBeGreaterThanOrEqual(2);
    });

    it('programs a UDIL 3.2 calendar, splitting lists over 512 bytes, and the tariff follows it', async () => {
      const now = new Date(sim.meter(THREE).meterNow());
      const hour = now.getUTCHours();
      // Tariff 3 starts at the current hour, so the meter must report tariff 3 now. Tariff 2 starts half an
      // hour before it: at 01:xx UTC a whole hour before would be 00:00, tariff 1's start (not ascending).
      const slabs =
        hour === 0
          ? ['00:00', '23:00']
          : ['00:00', `${String(hour - 1).padStart(2, '0')}:30`, `${String(hour).padStart(2, '0')}:00`];
      const expected = hour === 0 ? 1 : 3;
      const longName = (n: number) => `${n}-${'w'.repeat(27)}`;
      const ctx = recorder();
      await driver.setTimeOfUse(
        device(THREE),
        {
          season: undefined,
          days: undefined,
          timeSlabs: undefined,
          tariffIdentification: undefined,
          activationDatetime: new Date(),
          dayProfiles: [{ name: 'd1', tariffSlabs: slabs }],
          weekProfiles: [1, 2, 3, 4].map((n) => ({
            name: longName(n),
            weeklyDayProfile: Array(7).fill('d1') as string[],
          })),
          seasonProfiles: Array.from({ length: 12 }, (_, m) => ({
            name: `season of month ${String(m + 1).padStart(2, '0')}-${'s'.repeat(10)}`,
            weekProfileName: longName((m % 4) + 1),
            startDate: `01-${String(m + 1).padStart(2, '0')}`,
          })),
          holidayProfiles: [],
        },
        ctx,
      );
      const seasonPosts = sim.requests.filter(
        (r) => r.method === 'POST' && r.path.endsWith('/tariff/seasonprofiles'),
      );
      expect(seasonPosts.length).toBeGreaterThan(1);
      expect(seasonPosts.every((r) => r.bytes <= 512 && r.status === 200)).toBe(true);
      // The meter's own "Year" season (no delete on a G13) now copies the first programmed season.
      expect(sim.meter(THREE).seasonProfiles).toHaveLength(13);
      // Four week profiles fit the G13's four slots: the existing "Week1" is reused for one of them.
      expect(sim.meter(THREE).weekProfiles).toHaveLength(4);
      expect(sim.meter(THREE).tariffSource).toBe(0);
      const instantaneous = await driver.readInstantaneous(device(THREE), recorder());
      expect(instantaneous.current_tariff_register).toBe(expected);
      expect(ctx.levels).toEqual([2, 3, 4]);
    });

    it('programs a UDIL 2019 time slab with its tariff identification', async () => {
      const meter = sim.meter(SINGLE);
      const hour = new Date(meter.meterNow()).getUTCHours();
      const start = `${String(hour).padStart(2, '0')}:00`;
      const end = hour === 23 ? '23:59' : `${String(hour + 1).padStart(2, '0')}:00`;
      await driver.setTimeOfUse(
        device(SINGLE),
        {
          season: '1',
          days: '1',
          timeSlabs: [start, end],
          tariffIdentification: '4',
          activationDatetime: new Date(),
        },
        recorder(),
      );
      expect(meter.currentTariff(meter.meterNow())).toBe(4);
    });

    it('refuses a calendar the G13 cannot hold, before sending anything', async () => {
      const dayProfiles = Array.from({ length: 17 }, (_, i) => ({ name: `d${i}`, tariffSlabs: ['00:00'] }));
      const error = await failure(
        driver.setTimeOfUse(
          device(THREE),
          {
            season: undefined,
            days: undefined,
            timeSlabs: undefined,
            tariffIdentification: undefined,
            activationDatetime: new Date(),
            dayProfiles,
            weekProfiles: [{ name: 'w', weeklyDayProfile: Array(7).fill('d0') as string[] }],
            seasonProfiles: [{ name: 's', weekProfileName: 'w', startDate: '01-01' }],
          },
          recorder(),
        ),
      );
      expect(error.kind).toBe('refused');
      expect(error.message).toMatch(/at most 16/);
      expect(sim.requests).toHaveLength(0);
    });

    it('configures sampling through load-profile and previous-value configuration', async () => {
      const activationDatetime = new Date();
      await driver.configureSampling(
        device(SINGLE),
        { dataType: 'LPRO', intervalMinutes: 30, initialMinute: 0, activationDatetime },
        recorder(),
      );
      expect(sim.meter(SINGLE).lpConfig.every(([interval]) => interval === 1800)).toBe(true);
      await driver.configureSampling(
        device(SINGLE),
        { dataType: 'BILL', intervalMinutes: 1440, initialMinute: 0, activationDatetime },
        recorder(),
      );
      expect(sim.meter(SINGLE).pvInterval).toBe('daily');
      await expect(
        driver.configureSampling(
          device(SINGLE),
          { dataType: 'INST', intervalMinutes: 15, initialMinute: 0, activationDatetime },
          recorder(),
        ),
      ).rejects.toBeInstanceOf(UnsupportedOperationError);
      const error = await failure(
        driver.configureSampling(
          device(SINGLE),
          { dataType: 'LPRO', intervalMinutes: 7, initialMinute: 0, activationDatetime },
          recorder(),
        ),
      );
      expect(error.kind).toBe('refused');
    });
  });

  describe('capabilities', () => {
    it('can do what it implements and the registry refuses the rest per device, with its reason', () => {
      const registry = new DriverRegistry();
      registry.register(driver);
      expect(registry.assertOperation('ABB_G13', 'operateRelay')).toBe(driver);
      expect(registry.assertOperation('ABB_G13', 'readLoadProfile')).toBe(driver);
      expect(() => registry.assertOperation('ABB_G13', 'readSensors')).toThrow(
        'ABB_G13 driver does not support readSensors: the G13 gateway reads energy meters, not analyser sensors',
      );
      expect(() => registry.assertOperation('ABB_G13', 'readHistory')).toThrow(UnsupportedOperationError);
    });
  });

  describe('error paths', () => {
    it('401: wrong credentials are an authentication error, not retried', async () => {
      const error = await failure(
        driver.readClock(device(THREE, { id: 'gw-bad', password: 'nope' }), recorder()),
      );
      expect(error.kind).toBe('authentication');
      expect(error.retryable).toBe(false);
      expect(sim.requests).toHaveLength(1);
    });

    it('500 COSEM: a device error, GETs retried then reported', async () => {
      sim.setMeterFaults(THREE, { cosemError: true });
      const ctx = recorder();
      const error = await failure(driver.readBilling(device(THREE), ctx));
      expect(error.kind).toBe('device');
      expect(error.message).toContain('received invalid response from COSEM.');
      expect(sim.requests).toHaveLength(3);
      expect(ctx.lines.filter((l) => l.startsWith('retry'))).toHaveLength(2);
    });

    it('500 once: the retry of a GET succeeds', async () => {
      sim.setMeterFaults(THREE, { cosemError: true, remaining: 1 });
      const clock = await driver.readClock(device(THREE), recorder());
      expect(clock).toBeInstanceOf(Date);
      expect(sim.requests.map((r) => r.status)).toEqual([500, 200]);
    });

    it('500 on a write: not retried (not retry-safe)', async () => {
      sim.setMeterFaults(THREE, { cosemError: true });
      const error = await failure(driver.setClock(device(THREE), new Date(), recorder()));
      expect(error.kind).toBe('device');
      // The retry-safe exchange that reaches level 3, then the write, once.
      expect(sim.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'POST 500']);
    });

    it('502 offline meter: a device error', async () => {
      sim.setMeterFaults(THREE, { offline: true });
      const error = await failure(
        driver.readLoadProfile(
          device(THREE),
          { from: new Date(Date.now() - 3_600_000), to: new Date() },
          recorder(),
        ),
      );
      expect(error.kind).toBe('device');
      expect(error.message).toMatch(/502/);
    });

    it('timeout: a slow gateway is a retryable timeout', async () => {
      sim.setGatewayFaults({ latencyMs: 400 });
      const error = await failure(
        driver.readClock(device(THREE, { id: 'gw-slow', requestTimeoutMs: 100 }), recorder()),
      );
      expect(error.kind).toBe('timeout');
      expect(error.retryable).toBe(true);
    });

    it('dropped connection: unreachable and retryable; the retry succeeds', async () => {
      // No count on the first fault: a request an earlier test gave up on (the timeout test's last
      // attempt) may reach the simulator only now, on a loaded machine, and would use one up.
      sim.setMeterFaults(THREE, { dropConnection: true });
      const error = await failure(driver.readClock(device(THREE), recorder()));
      expect(error.kind).toBe('unreachable');
      expect(error.retryable).toBe(true);
      sim.setMeterFaults(THREE, { dropConnection: true, remaining: 1 });
      const ctx = recorder();
      await expect(driver.readClock(device(THREE), ctx)).resolves.toBeInstanceOf(Date);
      expect(
        ctx.lines.filter((line) => line.startsWith('retry 1/2 of GET') && /unreachable/.test(line)),
      ).toHaveLength(1);
    });

    it('200 that does not parse: /lasterror is consulted and its cause reported', async () => {
      sim.setMeterFaults(THREE, { truncateResponse: true });
      const ctx = recorder();
      const error = await failure(driver.readInstantaneous(device(THREE), ctx));
      expect(error.kind).toBe('device');
      expect(error.message).toContain('lasterror: meter communication timeout while streaming response.');
      expect(ctx.lines.some((l) => /^GET \/lasterror\/\d+ 200$/.test(l))).toBe(true);
    });

    it('unknown serial: refused with the 404', async () => {
      const error = await failure(driver.readClock(device('NO_SUCH_METER'), recorder()));
      expect(error.kind).toBe('refused');
      expect(error.message).toMatch(/404/);
      expect(error.retryable).toBe(false);
    });

    it('registering a serial that does not answer: device error', async () => {
      const error = await failure(driver.registerMeter(device('3100009999'), recorder()));
      expect(error.kind).toBe('device');
    });

    it('oversize payload: refused by the client before anything is sent', async () => {
      const client = new G13Client(gateway);
      try {
        const progress = new (await import('@hes/drivers/g13/g13-client')).ProgressTracker(recorder());
        const error = await failure(
          client.request(
            { method: 'POST', path: `/meters/${THREE}`, body: { alias: 'a'.repeat(600) } },
            recorder(),
            progress,
          ),
        );
        expect(error.kind).toBe('refused');
        expect(error.message).toMatch(/exceeds the G13 limit of 512 bytes/);
        expect(sim.requests).toHaveLength(0);
      } finally {
        client.close();
      }
    });

    it('keeps at most maxInFlight requests in flight per gateway', async () => {
      sim.setGatewayFaults({ latencyMs: 30 });
      const single = { id: 'gw-serial', maxInFlight: 1 };
      await Promise.all(
        [THREE, SINGLE, SPARE].map((serial) => driver.readClock(device(serial, single), recorder())),
      );
      expect(sim.peakConcurrency()).toBe(1);
      sim.resetStats();
      const parallel = { id: 'gw-parallel', maxInFlight: 3 };
      await Promise.all(
        [THREE, SINGLE, SPARE].map((serial) => driver.readClock(device(serial, parallel), recorder())),
      );
      expect(sim.peakConcurrency()).toBeGreaterThan(1);
    });
  });

  describe('TLS per gateway', () => {
    it('refuses a certificate that does not match the pinned fingerprint', async () => {
      const error = await failure(
        driver.readClock(
          device(THREE, { id: 'gw-pin', tlsFingerprintSha256: 'AA:'.repeat(31) + 'AA' }),
          recorder(),
        ),
      );
      expect(error.kind).toBe('authentication');
      expect(error.message).toMatch(/pinned/);
      // The handshake is checked before the request is written: the credentials never left.
      expect(sim.requests).toHaveLength(0);
    });

    it('verifies against the gateway CA, and refuses the self-signed certificate without it', async () => {
      await expect(
        driver.readClock(
          device(THREE, { id: 'gw-ca', tlsMode: 'verify', tlsCaPem: sim.certificatePem }),
          recorder(),
        ),
      ).resolves.toBeInstanceOf(Date);
      const error = await failure(
        driver.readClock(device(THREE, { id: 'gw-noca', tlsMode: 'verify', tlsCaPem: null }), recorder()),
      );
      expect(error.kind).toBe('authentication');
      expect(error.retryable).toBe(false);
    });

    it('accepts the self-signed certificate when explicitly insecure', async () => {
      await expect(
        driver.readClock(device(THREE, { id: 'gw-insecure', tlsMode: 'insecure' }), recorder()),
      ).resolves.toBeInstanceOf(Date);
    });
  });
});

describe('G13 driver: default password not yet changed', () => {
  it('403: reports that the default password must be changed', async () => {
    const sim = await startG13Simulator({
      meters: [{ serial: 'ABB_1', phases: 3, historyDays: 1 }],
      tls: false,
      defaultPasswordMode: true,
    });
    const driver = new G13Driver();
    try {
      const gateway: GatewayEndpoint = {
        id: 'gw-default',
        name: 'fresh G13',
        driver: 'ABB_G13',
        endpoint: sim.url,
        tlsMode: 'insecure',
        username: 'admin',
        password: 'admin',
        maxInFlight: 1,
        requestTimeoutMs: 2000,
      };
      const error = await failure(driver.discoverMeters(gateway, recorder()));
      expect(error.kind).toBe('authentication');
      expect(error.message).toMatch(/default password to be changed.*403/);
    } finally {
      await driver.close();
      await sim.stop();
    }
  });
});
