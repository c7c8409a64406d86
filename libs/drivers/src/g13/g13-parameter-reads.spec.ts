import {
  G13_THRESHOLD_ALARMS,
  calendarFromTariff,
  loadLimitFromAlarm,
  thresholdFromAlarms,
} from './g13-parameter-reads';

describe('G13 parameter reads', () => {
  const overLoad = G13_THRESHOLD_ALARMS.overLoad!;
  const overVoltage = G13_THRESHOLD_ALARMS.overVoltage!;
  const alarm = (id: number, quantity: number, onthreshold: number, ondelay: number, output: number) => ({
    id,
    quantity,
    onthreshold,
    offthreshold: onthreshold,
    ondelay,
    offdelay: 0,
    log: true,
    output,
  });

  it('reads a protection function from its critical and tripping alarms, in UDIL units', () => {
    expect(thresholdFromAlarms([alarm(1, 96, 12_000, 30, 0), alarm(2, 96, 15_500, 60, 2)], overLoad)).toEqual(
      {
        critical: { threshold: 12, delaySeconds: 30 },
        tripping: { threshold: 15.5, delaySeconds: 60 },
        trippingEnabled: true,
      },
    );
  });

  it('a per-phase function is read from the first phase whose alarms are configured', () => {
    // Alarms 5/6 (L1) inactive, 7/8 watch L2.
    expect(
      thresholdFromAlarms(
        [{ id: 5 }, { id: 6 }, alarm(7, 72, 250, 5, 0), alarm(8, 72, 270, 9, 0)],
        overVoltage,
      ),
    ).toEqual({
      critical: { threshold: 250, delaySeconds: 5 },
      tripping: { threshold: 270, delaySeconds: 9 },
      trippingEnabled: false,
    });
  });

  it('a function whose alarms are inactive or watch another quantity is not configured', () => {
    expect(thresholdFromAlarms([{ id: 1 }, { id: 2 }], overLoad)).toBeNull();
    expect(thresholdFromAlarms([alarm(1, 69, 250, 0, 0)], overLoad)).toBeNull();
    // Only the critical alarm: tripping is off and its level is left out.
    expect(thresholdFromAlarms([alarm(1, 96, 5000, 5, 0)], overLoad)).toEqual({
      critical: { threshold: 5, delaySeconds: 5 },
      trippingEnabled: false,
    });
    expect(G13_THRESHOLD_ALARMS.voltageUnbalance).toBeUndefined();
    expect(G13_THRESHOLD_ALARMS.phaseFailure).toBeUndefined();
  });

  it('reads the load limit from its alarm; an inactive alarm is no limit', () => {
    expect(
      loadLimitFromAlarm({
        id: 25,
        quantity: 96,
        onthreshold: 7500,
        offthreshold: 7500,
        ondelay: 20,
        offdelay: 90,
      }),
    ).toEqual({ loadLimit: 7.5, thresholdDurationSeconds: 20, retryIntervalSeconds: 90 });
    expect(loadLimitFromAlarm({ id: 25 })).toEqual({ loadLimit: 0 });
    expect(loadLimitFromAlarm(undefined)).toEqual({ loadLimit: 0 });
  });

  it('reads the tariff calendar in the UDIL structure', () => {
    expect(
      calendarFromTariff({
        dayprofiles: [
          {
            profile: 1,
            actions: [
              [2, '17:00'],
              [1, '08:00'],
            ],
          },
          { profile: 2, actions: [[1, '00:00']] },
        ],
        weekprofiles: [{ profile: 'w1', dayid: [1, 1, 1, 1, 1, 2, 2] }],
        seasonprofiles: [{ day: 1, month: 4, profile: 's1', weekprofile: 'w1' }],
        specialdayprofiles: [
          { profile: 3, dayprofile: 2, date: { year: 65535, month: 8, week: 255, day: 14 } },
        ],
      }),
    ).toEqual({
      dayProfiles: [
        { name: 'd1', tariffSlabs: ['08:00', '17:00'] },
        { name: 'd2', tariffSlabs: ['00:00'] },
      ],
      weekProfiles: [{ name: 'w1', weeklyDayProfile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd2', 'd2'] }],
      seasonProfiles: [{ name: 's1', weekProfileName: 'w1', startDate: '01-04' }],
      holidayProfiles: [{ name: 'h3', date: '14-08', dayProfileName: 'd2' }],
    });
  });
});
