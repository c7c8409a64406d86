import { G13MeterModel, nextPeriodEnd } from './g13-meter-model';

const T0 = Date.UTC(2026, 10, 10, 12, 0, 0); // a Tuesday, 12:00 UTC
const HOUR = 3_600_000;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('G13MeterModel', () => {
  it('integrates power into the import register', () => {
    const meter = new G13MeterModel({ serial: 'M1', phases: 3, historyDays: 1 }, T0);
    const before = sum(meter.activeImport);
    const samples = Array.from({ length: 60 }, (_, i) => sum(meter.powerAt(T0 + (i + 0.5) * 60_000).active));
    meter.advance(T0 + HOUR);
    const expectedWh = sum(samples) / 60;
    expect(sum(meter.activeImport) - before).toBeGreaterThan(expectedWh * 0.98);
    expect(sum(meter.activeImport) - before).toBeLessThan(expectedWh * 1.02);
  });

  it('puts energy into the tariff register the active tariff names', () => {
    const meter = new G13MeterModel({ serial: 'M2', phases: 1, historyDays: 1 }, T0);
    meter.tariffSource = 1;
    meter.communicationTariff = 3;
    const tariffsBefore = [...meter.activeImportTariff];
    const totalBefore = sum(meter.activeImport);
    meter.advance(T0 + HOUR);
    const gained = sum(meter.activeImport) - totalBefore;
    expect(gained).toBeGreaterThan(0);
    expect(meter.activeImportTariff[2] - tariffsBefore[2]).toBeCloseTo(gained, 6);
    expect(meter.activeImportTariff[0]).toBe(tariffsBefore[0]);
  });

  it('follows the clock calendar: tariff 2 from 17:00 to 22:00 in the default day profile', () => {
    const meter = new G13MeterModel({ serial: 'M3', phases: 3, historyDays: 1 }, T0);
    expect(meter.currentTariff(Date.UTC(2026, 10, 10, 16, 59))).toBe(1);
    expect(meter.currentTariff(Date.UTC(2026, 10, 10, 17, 0))).toBe(2);
    expect(meter.currentTariff(Date.UTC(2026, 10, 10, 22, 0))).toBe(1);
    // Saturday uses day profile 2 (tariff 1 all day).
    expect(meter.currentTariff(Date.UTC(2026, 10, 14, 18, 0))).toBe(1);
  });

  it('builds no history for historyDays 0: its load profile starts at the first boundary after now', () => {
    const now = T0 + 10 * HOUR + 7 * 60_000; // 22:07, most of the day gone
    const meter = new G13MeterModel({ serial: 'M0', phases: 3, historyDays: 0 }, now);
    const withDay = new G13MeterModel({ serial: 'M0', phases: 3, historyDays: 1 }, now);
    expect(meter.loadProfile(1)).toEqual([]);
    // The same meter with a day's history has today's and yesterday's quarter hours so far.
    expect(withDay.loadProfile(1).length).toBeGreaterThan(88);
    meter.advance(now + 8 * 60_000);
    expect(meter.loadProfile(1)).toHaveLength(1);
  });

  it('takes load-profile snapshots at their interval boundaries', () => {
    const meter = new G13MeterModel({ serial: 'M4', phases: 3, historyDays: 1 }, T0);
    const before = meter.loadProfile(1).length;
    meter.advance(T0 + HOUR);
    const items = meter.loadProfile(1);
    expect(items.length - before).toBe(4);
    const last = items[items.length - 1];
    expect(last.time % (900 * 1000)).toBe(0);
    expect(last.value).toBeCloseTo(sum(meter.activeImport), -1);
  });

  it('no longer integrates once the supply relay is open', () => {
    const meter = new G13MeterModel({ serial: 'M5', phases: 3, historyDays: 1 }, T0);
    meter.ioState[0] = 0;
    const before = sum(meter.activeImport);
    meter.advance(T0 + HOUR);
    expect(sum(meter.activeImport)).toBe(before);
  });

  it('activates an over-limit alarm, drives its output and logs ALARMn_ACTIVE_INFO', () => {
    const meter = new G13MeterModel({ serial: 'M6', phases: 3, historyDays: 1 }, T0);
    meter.alarms[24] = {
      id: 25,
      quantity: 96,
      onthreshold: 10,
      offthreshold: 10,
      ondelay: 60,
      offdelay: 0,
      log: true,
      output: 2,
    };
    meter.advance(T0 + 1000);
    expect(meter.outputState(2)).toBe(0);
    meter.advance(T0 + 61_000);
    expect(meter.outputState(2)).toBe(1);
    expect(meter.logs.event.map((e) => e.logid)).toContain(2037);
  });

  it('ends monthly periods on the first of the next month, weekly on the weekday', () => {
    expect(nextPeriodEnd(T0, 'monthly', 1)).toBe(Date.UTC(2026, 11, 1));
    expect(nextPeriodEnd(T0, 'daily', 1)).toBe(Date.UTC(2026, 10, 11));
    expect(nextPeriodEnd(T0, 'weekly', 1)).toBe(Date.UTC(2026, 10, 16)); // next Monday
  });

  it('keeps monthly previous values with the configured registers', () => {
    const meter = new G13MeterModel({ serial: 'M7', phases: 3, historyDays: 35 }, T0);
    const snapshots = meter.previousValues();
    expect(snapshots.length).toBeGreaterThanOrEqual(1);
    expect(new Date(snapshots[0].time).getUTCDate()).toBe(1);
    expect(snapshots[0].quantities).toEqual(meter.pvConfig);
  });
});
