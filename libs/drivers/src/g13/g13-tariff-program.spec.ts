import { DriverError, TimeOfUseSchedule } from '../driver.contract';
import { assignSlots, batchesWithin, buildTariffProgram } from './g13-tariff-program';

const base: TimeOfUseSchedule = {
  season: undefined,
  days: undefined,
  timeSlabs: undefined,
  tariffIdentification: undefined,
  activationDatetime: new Date(0),
};

describe('UDIL time of use → G13 tariff calendar', () => {
  it('converts the UDIL 3.2 example calendar', () => {
    const program = buildTariffProgram({
      ...base,
      dayProfiles: [
        { name: 'd1', tariffSlabs: ['08:00', '17:00', '20:00'] },
        { name: 'd2', tariffSlabs: ['08:00', '17:00'] },
      ],
      weekProfiles: [{ name: 'w1', weeklyDayProfile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd2', 'd2'] }],
      seasonProfiles: [{ name: 's1', weekProfileName: 'w1', startDate: '01-04' }],
      holidayProfiles: [{ name: 'h1', date: '23-03', dayProfileName: 'd2' }],
    });
    expect(program.dayProfiles).toEqual([
      {
        profile: 1,
        actions: [
          [1, '08:00'],
          [2, '17:00'],
          [3, '20:00'],
        ],
      },
      {
        profile: 2,
        actions: [
          [1, '08:00'],
          [2, '17:00'],
        ],
      },
    ]);
    expect(program.weekProfiles).toEqual([{ profile: 'w1', dayid: [1, 1, 1, 1, 1, 2, 2] }]);
    expect(program.seasonProfiles).toEqual([{ day: 1, month: 4, profile: 's1', weekprofile: 'w1' }]);
    expect(program.specialDays).toEqual([
      { profile: 1, dayprofile: 2, date: { year: 65535, month: 3, week: 255, day: 23 } },
    ]);
  });

  it('converts a UDIL 2019 time slab with a tariff identification', () => {
    const program = buildTariffProgram({ ...base, timeSlabs: ['08:00', '17:00'], tariffIdentification: '3' });
    expect(program.dayProfiles).toEqual([
      {
        profile: 1,
        actions: [
          [1, '00:00'],
          [3, '08:00'],
          [1, '17:00'],
        ],
      },
    ]);
    expect(program.weekProfiles[0].dayid).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('refuses what the G13 cannot hold', () => {
    expect(() =>
      buildTariffProgram({ ...base, timeSlabs: ['01:00', '02:00', '03:00', '04:00', '05:00'] }),
    ).toThrow(/1 to 4/);
    expect(() => buildTariffProgram({ ...base, timeSlabs: ['25:00'] })).toThrow(DriverError);
    expect(() =>
      buildTariffProgram({
        ...base,
        dayProfiles: [{ name: 'd1', tariffSlabs: ['00:00'] }],
        weekProfiles: [{ name: 'w1', weeklyDayProfile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd1', 'dX'] }],
        seasonProfiles: [{ name: 's1', weekProfileName: 'w1', startDate: '01-01' }],
      }),
    ).toThrow(/unknown day profile "dX"/);
  });

  it('splits lists into requests within the payload limit', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({
      profile: `season-${i}-${'x'.repeat(20)}`,
      day: 1,
      month: i + 1,
    }));
    const batches = batchesWithin('seasonprofiles', items, 512);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(items);
    for (const batch of batches)
      expect(Buffer.byteLength(JSON.stringify({ seasonprofiles: batch }))).toBeLessThanOrEqual(512);
    expect(() => batchesWithin('x', ['y'.repeat(600)], 512)).toThrow(/exceeds/);
  });

  it('reuses the meter profile names as slots', () => {
    expect([...assignSlots(['a', 'b'], ['Week1', 'b'], 4)]).toEqual([
      ['a', 'Week1'],
      ['b', 'b'],
    ]);
    expect(() => assignSlots(['e'], ['a', 'b', 'c', 'd'], 4).get('e')).not.toThrow();
    expect(() => assignSlots(['e', 'f', 'g', 'h', 'i'], [], 4)).toThrow(/cannot take more than 4/);
  });
});
