import { DriverError } from '../driver.contract';
import {
  G13EnergyAnswer,
  G13EventsAnswer,
  G13InstrumentAnswer,
  G13PowerAnswer,
  G13LoadProfileAnswer,
  G13PreviousValuesAnswer,
  kiloValue,
  mapBilling,
  mapDemandMaxima,
  mapEvents,
  mapInstantaneous,
  mapLoadProfileChannel,
  mapPreviousValues,
  mergeLoadProfileRows,
  parseG13DateTime,
  phasesFromLabel,
  registerColumn,
} from './g13-mappers';

/** The manual's own example payloads (chapter 6) through the mappers. */

// 6.3.54 GET /meters/<serial>/energy/active (the example, with its trailing comma removed).
const ENERGY_EXAMPLE: G13EnergyAnswer = {
  importenergy: {
    l1: ['1758307.29', 'kWh'],
    l2: ['12718357.27', 'kWh'],
    l3: ['77587522.36', 'kWh'],
    t1: ['0.16', 'kWh'],
    t2: ['0.00', 'kWh'],
    t3: ['0.00', 'kWh'],
    t4: ['0.01', 'kWh'],
    total: ['1271.31', 'kWh'],
  },
  exportenergy: {
    l1: ['77587522.36', 'kWh'],
    l2: ['12718357.27', 'kWh'],
    l3: ['77583.27', 'kWh'],
    t1: ['2.36', 'kWh'],
    t2: ['0.00', 'kWh'],
    t3: ['0.00', 'kWh'],
    t4: ['2.36', 'kWh'],
    total: ['12718.36', 'kWh'],
  },
  netenergy: {
    l1: ['75824875.12', 'kWh'],
    l2: ['-12443117.40', 'kWh'],
    l3: ['-77580916.94', 'kWh'],
    total: ['-10959959.88', 'kWh'],
  },
};

// 6.3.59 GET /meters/<serial>/power.
const POWER_EXAMPLE: G13PowerAnswer = {
  active: { l1: ['2000001', 'W'], l2: ['2000002', 'W'], l3: ['2000003', 'W'], total: ['2000000', 'W'] },
  reactive: { l1: ['100000', 'W'], l2: ['1000002', 'W'], l3: ['1000003', 'W'], total: ['100000', 'W'] },
  apparent: { l1: ['1100001', 'W'], l2: ['1100002', 'W'], l3: ['1100003', 'W'], total: ['1100004', 'W'] },
};

// 6.3.60 GET /meters/<serial>/instrument.
const INSTRUMENT_EXAMPLE: G13InstrumentAnswer = {
  l1: {
    current: ['0.00', 'A'],
    currentquadrant: ['0', ''],
    phaseanglecurrent: ['0.0', 'deg'],
    phaseanglepower: ['0.00', 'deg'],
    phaseanglevoltage: ['0.0', 'deg'],
    powerfactor: ['0.000', ''],
    voltage: ['227.1', 'V'],
  },
  l2: {
    current: ['0.00', 'A'],
    currentquadrant: ['0', ''],
    phaseanglecurrent: ['0.0', 'deg'],
    phaseanglepower: ['0.00', 'deg'],
    phaseanglevoltage: ['5.5', 'deg'],
    powerfactor: ['0.000', ''],
    voltage: ['56.8', 'V'],
  },
  l3: {
    current: ['0.00', 'A'],
    currentquadrant: ['0', ''],
    phaseanglecurrent: ['0.0', 'deg'],
    phaseanglepower: ['0.00', 'deg'],
    phaseanglevoltage: ['-164.7', 'deg'],
    powerfactor: ['0.000', ''],
    voltage: ['42.9', 'V'],
  },
  'l1-l2': { voltage: ['182.8', 'V'] },
  'l2-l3': { voltage: ['81.80', 'V'] },
  'l1-l3': { voltage: ['251.920', 'V'] },
  neutral: { current: ['0.00', 'A'] },
  total: { currentquadrant: ['0', ''], phaseanglepower: ['0.00', 'deg'], powerfactor: ['0.000', ''] },
  frequency: { frequency: ['49.78', 'Hz'] },
};

// 6.3.41 GET /meters/<serial>/datetime, with the manual's stray spaces.
const DATETIME_EXAMPLE = { datetime: '2012-08-05T01: 11: 31', status: 'set' };

// 6.3.51 GET /meters/<serial>/events/<datetime>/<count>.
const EVENTS_EXAMPLE: G13EventsAnswer = {
  system: [
    { datetime: '2011-12-19T10:12:00', duration: 0, category: 2, logid: 1001 },
    { datetime: '2011-12-18T10:12:00', duration: 0, category: 2, logid: 1003 },
  ],
  quality: [
    { datetime: '2011-12-19T10:12:00', duration: 0, category: 2, logid: 1001 },
    { datetime: '2011-12-18T10:12:00', duration: 0, category: 2, logid: 1003 },
  ],
  event: [{ datetime: '2011-12-19T10:12:00', duration: 0, category: 2, logid: 1001 }],
};

// 6.3.69 GET /meters/<serial>/previousvalues/… (trailing commas removed).
const PREVIOUS_VALUES_EXAMPLE: G13PreviousValuesAnswer = {
  mapping: [
    ['active_import_total', 'Wh'],
    ['active_export_total', 'Wh'],
  ],
  interval: 'daily',
  items: [
    [['1', '0.000'], ['1', '0.000'], { time: '2012-07-23T00:00:00' }],
    [['1', '0.000'], ['1', '0.000'], { time: '2012-07-22T00:00:00' }],
    [['1', '0.000'], ['1', '0.000'], { time: '2012-07-24T00:00:00' }],
  ],
};

describe('G13 mappers on the manual examples', () => {
  it('energy/active → billing_data registers per tariff, direction and total', () => {
    const row = mapBilling(DATETIME_EXAMPLE, ENERGY_EXAMPLE, undefined);
    expect(row.meter_datetime).toEqual(new Date(Date.UTC(2012, 7, 5, 1, 11, 31)));
    expect(row).toMatchObject({
      active_energy_pos_t1: 0.16,
      active_energy_pos_t2: 0,
      active_energy_pos_t3: 0,
      active_energy_pos_t4: 0.01,
      active_energy_pos_tl: 1271.31,
      active_energy_neg_t1: 2.36,
      active_energy_neg_t4: 2.36,
      active_energy_neg_tl: 12718.36,
      active_energy_abs_tl: 13989.67,
      active_energy_abs_t1: 2.52,
    });
    expect(row.reactive_energy_pos_tl).toBeUndefined();
  });

  it('power (in W) and instrument → instantaneous_data in kW, V, A, Hz', () => {
    const row = mapInstantaneous(DATETIME_EXAMPLE, INSTRUMENT_EXAMPLE, POWER_EXAMPLE, {
      tariff: 1,
      source: 1,
    });
    expect(row).toMatchObject({
      voltage_phase_a: 227.1,
      voltage_phase_b: 56.8,
      voltage_phase_c: 42.9,
      current_phase_a: 0,
      frequency: 49.78,
      average_pf: 0,
      aggregate_active_pwr_pos: 2000,
      aggregate_active_pwr_neg: 0,
      aggregate_active_pwr_abs: 2000,
      aggregate_reactive_pwr_pos: 100,
      current_tariff_register: 1,
    });
  });

  it('a negative active power is reported as the _neg aggregate', () => {
    const row = mapInstantaneous(DATETIME_EXAMPLE, {}, { active: { total: ['-1500', 'W'] } }, undefined);
    expect(row.aggregate_active_pwr_pos).toBe(0);
    expect(row.aggregate_active_pwr_neg).toBe(1.5);
  });

  it('events → UDIL codes: 1001 phase failure (113), 1003 neutral warning (118)', () => {
    const rows = mapEvents(EVENTS_EXAMPLE);
    expect(rows).toHaveLength(5);
    expect(rows.filter((r) => r.event_code === 113)).toHaveLength(3);
    expect(rows.filter((r) => r.event_code === 118)).toHaveLength(2);
    expect(rows[0].event_datetime).toEqual(new Date(Date.UTC(2011, 11, 18, 10, 12)));
    expect(rows.find((r) => r.event_code === 113)!.event_description).toBe(
      'Phase failure (G13 U2_MISSING_WARNING: Phase 2 is missing warning)',
    );
  });

  it('previous values → monthly_billing_data rows in kWh', () => {
    const rows = mapPreviousValues(PREVIOUS_VALUES_EXAMPLE);
    expect(rows.map((r) => r.meter_datetime.toISOString())).toEqual([
      '2012-07-23T00:00:00.000Z',
      '2012-07-22T00:00:00.000Z',
      '2012-07-24T00:00:00.000Z',
    ]);
    expect(rows[0]).toEqual({
      meter_datetime: new Date(Date.UTC(2012, 6, 23)),
      active_energy_pos_tl: 0,
      active_energy_neg_tl: 0,
      active_energy_abs_tl: 0,
    });
  });

  it('previous values: data error or not-available status leaves the column empty', () => {
    const rows = mapPreviousValues({
      mapping: [
        ['active_import_tar2', 'Wh'],
        ['reactive_export_total', 'varh'],
      ],
      items: [
        [['3', '5000.000'], ['0', '7000.000'], { time: '2012-07-23T00:00:00' }],
        [['5', '1500.000'], ['1', '2500.000'], { time: '2012-07-24T00:00:00' }],
      ],
    });
    expect(rows[0].active_energy_pos_t2).toBeNull();
    expect(rows[0].reactive_energy_neg_tl).toBeNull();
    expect(rows[1].active_energy_pos_t2).toBe(1.5);
    expect(rows[1].reactive_energy_neg_tl).toBe(2.5);
  });

  it("load profile: the manual's example timestamp is not a date-time and is refused as a protocol error", () => {
    const attempt = () =>
      mapLoadProfileChannel(
        { mapping: ['active_import_total', 'Wh'], items: [[1, '12:31:2327 17:3:9', 0]] },
        1,
        1,
        900,
      );
    expect(attempt).toThrow(DriverError);
    expect(attempt).toThrow(/not a date-time/);
  });

  it('load profile: an item not understood is left out and noted, the others are read', () => {
    const skipped: string[] = [];
    const rows = mapLoadProfileChannel(
      {
        mapping: ['active_import_total', 'Wh'],
        items: [
          [1, '12:31:2327 17:3:9', 0],
          [1, '2012-07-01T01:15:00', 1234567],
          [1, '2012-07-01T01:30:00', 'n/a'],
          // A bad value (bit5) is empty whatever stands in its place.
          [0x21, '2012-07-01T01:45:00', null],
          'garbage',
        ],
      } as unknown as G13LoadProfileAnswer,
      1,
      1,
      900,
      'UTC',
      skipped,
    );
    expect(rows.map((r) => [r.meter_datetime.toISOString(), r.active_energy_pos_tl])).toEqual([
      ['2012-07-01T01:15:00.000Z', 1234.567],
      ['2012-07-01T01:45:00.000Z', null],
    ]);
    expect(skipped).toEqual([
      'G13 load-profile time "12:31:2327 17:3:9" is not a date-time',
      'G13 load-profile value "n/a" is not a number',
      'G13 load-profile item is not [status, time, value]',
    ]);
  });

  it('events: an entry not understood is left out and noted; an answer of nothing else is refused', () => {
    const skipped: string[] = [];
    const rows = mapEvents(
      {
        system: [
          { logid: 2055, datetime: '2012-07-01T01:15:00' },
          { datetime: '2012-07-01T01:00:00' },
          { logid: 2055, datetime: '12:31:2327 17:3:9' },
        ],
      } as never,
      [],
      'UTC',
      skipped,
    );
    expect(rows.map((r) => r.event_datetime.toISOString())).toEqual(['2012-07-01T01:15:00.000Z']);
    expect(skipped).toEqual([
      'G13 system log entry without a logid',
      'G13 event datetime "12:31:2327 17:3:9" is not a date-time',
    ]);
    expect(() =>
      mapEvents({ system: [{ datetime: 'x' }], event: [{ logid: 1, datetime: 'y' }] } as never),
    ).toThrow('G13 system log entry without a logid (and 1 more log entry(s) not understood)');
  });

  it('load profile: registers in kWh, bad values empty, missing snapshots skipped', () => {
    const rows = mapLoadProfileChannel(
      {
        mapping: ['active_import_total', 'Wh'],
        items: [
          [1, '2012-07-01T01:15:00', 1234567],
          [0x21, '2012-07-01T01:30:00', 1],
          [0, '2012-07-01T01:45:00', 0],
        ],
      },
      1,
      1,
      900,
    );
    expect(rows).toEqual([
      {
        meter_datetime: new Date(Date.UTC(2012, 6, 1, 1, 15)),
        channel_id: 1,
        interval: 15,
        active_energy_pos_tl: 1234.567,
      },
      {
        meter_datetime: new Date(Date.UTC(2012, 6, 1, 1, 30)),
        channel_id: 1,
        interval: 15,
        active_energy_pos_tl: null,
      },
    ]);
  });

  it('load profile: each G13 channel is the UDIL channel of its number, two channels at one time stay two rows', () => {
    const at = '2012-07-01T01:00:00';
    const energy = mapLoadProfileChannel(
      { mapping: ['active_import_total', 'Wh'], items: [[1, at, 2000]] },
      1,
      1,
      900,
    );
    const voltage = mapLoadProfileChannel(
      { mapping: ['voltage_l2', 'V'], items: [[1, at, 231.5]] },
      72,
      6,
      3600,
    );
    const rows = mergeLoadProfileRows([...voltage, ...energy]);
    expect(rows).toEqual([
      {
        meter_datetime: new Date(Date.UTC(2012, 6, 1, 1)),
        channel_id: 1,
        interval: 15,
        active_energy_pos_tl: 2,
      },
      {
        meter_datetime: new Date(Date.UTC(2012, 6, 1, 1)),
        channel_id: 6,
        interval: 60,
        voltage_phase_b: 231.5,
      },
    ]);
  });

  it('demand (6.3.77 example layout) → active_mdi_pos_tl of the level-1 maximum of active power', () => {
    const maxima = mapDemandMaxima(
      {
        dmc: [
          [1, 1],
          [96, 5],
          [96, 6],
        ],
      },
      {
        mapping: [
          ['active_import_total', 'W'],
          ['active_power_total', 'W'],
          ['active_power_total', 'W'],
        ],
        items: [
          [
            ['0', '4294967295', '2012-06-17T02:40:00', '1'],
            ['1', '12500', '2012-06-17T18:15:00', '1'],
            ['1', '9000', '2012-06-17T19:00:00', '2'],
            { time: '2012-06-18T00:00:00' },
          ],
          [
            ['0', '4294967295', '2012-06-16T02:40:00', '1'],
            ['2', '7000', '2012-06-16T02:40:00', '1'],
            ['0', '4294967295', '2012-06-16T02:40:00', '2'],
            { time: '2012-06-17T00:00:00' },
          ],
        ],
      },
    );
    expect([...maxima]).toEqual([[Date.UTC(2012, 5, 18), { active_mdi_pos_tl: 12.5 }]]);
  });

  it('units: W and Wh are scaled to kilo, k-prefixed kept', () => {
    expect(kiloValue(['2000', 'W'])).toBe(2);
    expect(kiloValue(['1.5', 'kW'])).toBe(1.5);
    expect(kiloValue(['1.5', 'kWh'])).toBe(1.5);
    expect(kiloValue(['3', 'MWh'])).toBe(3000);
    expect(() => kiloValue(['n/a', 'kWh'])).toThrow(DriverError);
  });

  it('storable-quantity names → register columns', () => {
    expect(registerColumn('active_import_total')).toBe('active_energy_pos_tl');
    expect(registerColumn('active_export_tar3')).toBe('active_energy_neg_t3');
    expect(registerColumn('reactive_import_tar1')).toBe('reactive_energy_pos_t1');
    expect(registerColumn('voltage_l1')).toBeUndefined();
  });

  it('meter labels (Annexure 1) → phases', () => {
    expect(phasesFromLabel('A44 514-100')).toBe(3);
    expect(phasesFromLabel('A41 454-100')).toBe(1);
    expect(phasesFromLabel('')).toBeUndefined();
  });

  it('parses the manual date-time forms', () => {
    expect(parseG13DateTime('2012:07:01T01:00:00')).toEqual(new Date(Date.UTC(2012, 6, 1, 1)));
    expect(() => parseG13DateTime('yesterday')).toThrow(DriverError);
  });
});
