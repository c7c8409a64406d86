import { G13_LOG_IDS, mapG13LogId, udilCodeForAlarm } from './g13-event-codes';
import { mapEvents } from './g13-mappers';

describe('G13 log id → UDIL event code', () => {
  it.each([
    [2055, 111],
    [1000, 113],
    [1001, 113],
    [1002, 113],
    [1003, 118],
    [1004, 117],
    [1007, 117],
  ])('log id %i → %i', (logId, code) => {
    expect(mapG13LogId(logId)).toMatchObject({ code, mapped: true, logId });
  });

  it('keeps unmapped log ids with the manual description', () => {
    expect(mapG13LogId(53)).toEqual({
      code: 53,
      description: 'RTC_CIRCUIT_ERROR: Real Time Clock circuit error',
      logId: 53,
      mapped: false,
    });
    expect(mapG13LogId(4242)).toMatchObject({ code: 4242, description: 'G13 log id 4242', mapped: false });
  });

  it('maps alarm activations by what the alarm watches', () => {
    expect(udilCodeForAlarm({ id: 1, quantity: 96, onthreshold: 5000, offthreshold: 4000 })).toBe(116);
    expect(udilCodeForAlarm({ id: 2, quantity: 69, onthreshold: 260, offthreshold: 250 })).toBe(114);
    expect(udilCodeForAlarm({ id: 3, quantity: 72, onthreshold: 190, offthreshold: 200 })).toBe(115);
    expect(udilCodeForAlarm({ id: 4, quantity: 70, onthreshold: 1, offthreshold: 1 })).toBeUndefined();
    expect(udilCodeForAlarm({ id: 5 })).toBeUndefined();
    const alarms = [{ id: 25, quantity: 96, onthreshold: 500, offthreshold: 500 }];
    expect(mapG13LogId(2037, alarms)).toMatchObject({ code: 116, mapped: true });
    expect(mapG13LogId(2036, alarms)).toMatchObject({ code: 2036, mapped: false });
  });

  it('a power failure with a duration gives its start (111) and its end (112)', () => {
    const rows = mapEvents({
      event: [{ datetime: '2024-01-01T10:00:00', duration: 90, category: 8, logid: 2055 }],
    });
    expect(rows.map((r) => [r.event_code, r.event_datetime.toISOString()])).toEqual([
      [111, '2024-01-01T10:00:00.000Z'],
      [112, '2024-01-01T10:01:30.000Z'],
    ]);
  });

  it('names every log id of the manual table', () => {
    expect(Object.keys(G13_LOG_IDS)).toHaveLength(14 + 12 + 25 + 2);
  });
});
