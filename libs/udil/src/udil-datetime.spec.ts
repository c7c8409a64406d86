import { DateTime } from 'luxon';
import { formatUdilDatetime, parseUdilDatetime, UDIL_DATETIME_FORMAT } from './udil-datetime';

const ZONES = [
  'Asia/Karachi',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'UTC',
  'Europe/London',
  'America/New_York',
  'America/St_Johns',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
];

const byLuxon = (date: Date, zone: string) =>
  DateTime.fromJSDate(date, { zone }).toFormat(UDIL_DATETIME_FORMAT);

describe('formatUdilDatetime', () => {
  it('agrees with luxon on instants spread over 2000–2040 in zones with odd offsets and DST', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const from = Date.UTC(2000, 0, 1);
    const to = Date.UTC(2040, 0, 1);
    for (const zone of ZONES)
      for (let i = 0; i < 2000; i += 1) {
        const date = new Date(from + Math.floor(random() * (to - from)));
        expect(formatUdilDatetime(date, zone)).toBe(byLuxon(date, zone));
      }
  });

  it('agrees with luxon every second around DST transitions, including a 30-minute one', () => {
    const transitions: [string, string][] = [
      ['Europe/London', '2026-03-29T00:59:00Z'],
      ['Europe/London', '2026-10-25T00:59:00Z'],
      ['America/New_York', '2026-11-01T05:59:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T14:59:00Z'],
      ['Pacific/Chatham', '2026-04-04T13:59:00Z'],
    ];
    for (const [zone, iso] of transitions) {
      const start = Date.parse(iso);
      for (let s = 0; s < 180; s += 1) {
        const date = new Date(start + s * 1000 + 999);
        expect(formatUdilDatetime(date, zone)).toBe(byLuxon(date, zone));
      }
    }
  });

  it('formats Pakistan time and round-trips through parseUdilDatetime', () => {
    const date = new Date('2026-11-21T07:05:09.500Z');
    expect(formatUdilDatetime(date, 'Asia/Karachi')).toBe('2026-11-21 12:05:09');
    expect(parseUdilDatetime('2026-11-21 12:05:09', 'Asia/Karachi')).toEqual(
      new Date('2026-11-21T07:05:09Z'),
    );
  });

  it('answers empty for null and what luxon answers for an invalid date or zone', () => {
    expect(formatUdilDatetime(null, 'UTC')).toBe('');
    expect(formatUdilDatetime(new Date(Number.NaN), 'UTC')).toBe(byLuxon(new Date(Number.NaN), 'UTC'));
    expect(formatUdilDatetime(new Date(), 'Not/AZone')).toBe('Invalid DateTime');
  });

  it('parses a text again as the same instant in a Date of its own, per zone, and refuses the impossible every time', () => {
    const first = parseUdilDatetime('2026-03-29 01:30:00', 'Europe/London');
    const again = parseUdilDatetime('2026-03-29 01:30:00', 'Europe/London');
    // Remembered parses are not shared objects: a caller may change its Date.
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    first?.setTime(0);
    expect(parseUdilDatetime('2026-03-29 01:30:00', 'Europe/London')).toEqual(again);
    // The same text in another zone is another instant.
    expect(parseUdilDatetime('2026-03-29 01:30:00', 'Asia/Karachi')?.getTime()).toBe(
      DateTime.fromFormat('2026-03-29 01:30:00', UDIL_DATETIME_FORMAT, { zone: 'Asia/Karachi' }).toMillis(),
    );
    for (let i = 0; i < 2; i++) {
      expect(parseUdilDatetime('2026-02-30 10:00:00', 'Asia/Karachi')).toBeUndefined();
      expect(parseUdilDatetime('2026-11-21 10:00:00', 'Not/AZone')).toBeUndefined();
    }
  });
});
