import { INVALID_VALUE_FLAG, registerValuesOf, surveyDataOf } from './mcs-readings';

describe('MCS register values and survey data', () => {
  it('names the energy registers and keeps numbers as numbers', () => {
    const values = registerValuesOf({
      meter_datetime: new Date('2026-11-21T10:00:00Z'),
      active_energy_pos_tl: 758.125,
      active_energy_pos_t1: 500,
      reactive_energy_pos_tl: 1190,
      voltage_phase_a: 230,
    });
    expect(values).toEqual([
      { name: 'kWh Import', timestamp: '2026-11-21T10:00:00Z', value: 758.125, units: 'kWh' },
      { name: 'kWh Import T1', timestamp: '2026-11-21T10:00:00Z', value: 500, units: 'kWh' },
      { name: 'kvarh Import', timestamp: '2026-11-21T10:00:00Z', value: 1190, units: 'kvarh' },
    ]);
  });

  it('splits merged load-profile rows into one channel per quantity, flagging invalid values', () => {
    const t = (minute: number) => new Date(Date.UTC(2026, 10, 20, 0, minute));
    const survey = surveyDataOf([
      {
        meter_datetime: t(15),
        channel_id: 1,
        interval: 15,
        active_energy_pos_tl: 2.5,
        voltage_phase_a: null,
      },
      { meter_datetime: t(0), channel_id: 1, interval: 15, active_energy_pos_tl: 2, voltage_phase_a: 231.5 },
      { meter_datetime: t(0), channel_id: 6, interval: 60, voltage_phase_b: 229 },
    ]);
    expect(survey).toEqual([
      {
        name: 'kWh Import',
        units: 'kWh',
        readings: [
          { timestamp: '2026-11-20T00:00:00Z', value: 2, status: [] },
          { timestamp: '2026-11-20T00:15:00Z', value: 2.5, status: [] },
        ],
      },
      {
        name: 'Voltage L1',
        units: 'V',
        readings: [
          { timestamp: '2026-11-20T00:00:00Z', value: 231.5, status: [] },
          { timestamp: '2026-11-20T00:15:00Z', value: null, status: [INVALID_VALUE_FLAG] },
        ],
      },
      {
        name: 'Voltage L2',
        units: 'V',
        readings: [{ timestamp: '2026-11-20T00:00:00Z', value: 229, status: [] }],
      },
    ]);
  });
});
