/**
 * The "manual-only" meter model: a meter that answers exactly what the ABB G13 manual prints in its
 * examples (chapter 6, meter ABB_8) and 404 "URI not found." for everything else, as a meter model
 * without the optional features does. It is the field check of the driver: a gateway serving only
 * these resources must still give every read what exists (docs/g13.md, "Meters that lack resources").
 *
 * Served (manual section → example answer, values as printed):
 *   GET  /datetime                       6.3.41   POST /datetime  6.3.42 (answers success; the example clock stays)
 *   GET  /info                           6.3.43
 *   GET  /energy/active                  6.3.54   ("Not all meter types support reactive and apparent
 *                                                  measurements": /energy/reactive and /apparent are 404)
 *   GET  /power                          6.3.59
 *   GET  /instrument                     6.3.60
 *   GET  /io, /io/configuration          6.3.63, 6.3.64
 *   GET  /events/<datetime>[/<count>]    6.3.51   (the entries up to <datetime>, newest first)
 *   GET  /previousvalues/configuration   6.3.70
 *   GET  /previousvalues/<from>/<count|to>  6.3.69 (the example's snapshots within the range)
 *   GET  /tariff                         6.3.81
 * Not served (404): reactive and apparent energy, alarms, demand, load profiles, harmonics, tariff
 * profiles, resettable energy — the resources the field test found missing on such a meter.
 */

type Json = Record<string, unknown>;

export const MANUAL_DATETIME = '2012-08-05T01:11:31';

const DATETIME: Json = {
  datetime: MANUAL_DATETIME,
  dayofweek: 7,
  dst: 1,
  dstenable: true,
  dstend: { month: 10, day: 1, week: 1, hour: 1 },
  dststart: { month: 6, day: 1, week: 1, hour: 2 },
  status: 'set',
};

const INFO: Json = {
  manufacturing: { serial: '1231', label: 'A44 514-100', firmwareversion: 'A0.0.0.0' },
  ratio: { ctdenum: '1', ctnum: '1', vtdenum: '1', vtnum: '1' },
  conversionfactor: { co2: [1.123, 'kg/kWh'], currency: [100.789, 'curr/kWh'] },
  power: { powerfailcounter: '4', poweroutagetime: '0' },
};

const ENERGY_ACTIVE: Json = {
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

const POWER: Json = {
  active: {
    l1: ['2000001', 'W'],
    l2: ['2000002', 'W'],
    l3: ['2000003', 'W'],
    total: ['2000000', 'W'],
  },
  reactive: {
    l1: ['100000', 'W'],
    l2: ['1000002', 'W'],
    l3: ['1000003', 'W'],
    total: ['100000', 'W'],
  },
  apparent: {
    l1: ['1100001', 'W'],
    l2: ['1100002', 'W'],
    l3: ['1100003', 'W'],
    total: ['1100004', 'W'],
  },
};

const line = (voltage: string, angle: string): Json => ({
  current: ['0.00', 'A'],
  currentquadrant: ['0', ''],
  phaseanglecurrent: ['0.0', 'deg'],
  phaseanglepower: ['0.00', 'deg'],
  phaseanglevoltage: [angle, 'deg'],
  powerfactor: ['0.000', ''],
  voltage: [voltage, 'V'],
});

const INSTRUMENT: Json = {
  l1: line('227.1', '0.0'),
  l2: line('56.8', '5.5'),
  l3: line('42.9', '-164.7'),
  'l1-l2': { voltage: ['182.8', 'V'] },
  'l2-l3': { voltage: ['81.80', 'V'] },
  'l1-l3': { voltage: ['251.920', 'V'] },
  neutral: { current: ['0.00', 'A'] },
  total: { currentquadrant: ['0', ''], phaseanglepower: ['0.00', 'deg'], powerfactor: ['0.000', ''] },
  frequency: { frequency: ['49.78', 'Hz'] },
};

const IO: Json = {
  iostatus: [
    { currentstate: 0 },
    { currentstate: 0, storedstate: 0, counter: 292939 },
    { currentstate: 1, storedstate: 1, counter: 48448 },
    { currentstate: 0 },
  ],
};

const IO_CONFIGURATION: Json = { ioconfig: ['pulse_out', 'always_on', 'alarm_out', 'input'] };

interface LogEntry {
  datetime: string;
  duration: number;
  category: number;
  logid: number;
}
const entry = (datetime: string, logid: number): LogEntry => ({ datetime, duration: 0, category: 2, logid });
const EVENTS: Record<'system' | 'quality' | 'event', LogEntry[]> = {
  system: [entry('2011-12-19T10:12:00', 1001), entry('2011-12-18T10:12:00', 1003)],
  quality: [entry('2011-12-19T10:12:00', 1001), entry('2011-12-18T10:12:00', 1003)],
  event: [entry('2011-12-19T10:12:00', 1001), entry('2011-12-18T10:12:00', 1003)],
};

const PREVIOUS_VALUES_CONFIGURATION: Json = {
  interval: 'weekly',
  weekday: 1,
  pvconfig: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 53, 54],
};

const PREVIOUS_VALUES = {
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

const TARIFF: Json = { daytype: 2, season: 1, tariff: 1, source: 1 };

const SUCCESS: Json = { status: 'success' };

/** "2012-07-01T01:00:00" or "2012:07:01T01:00:00" → comparable text, or undefined. */
function dateKey(text: string): string | undefined {
  const match = /^(\d{4})[-:](\d{2})[-:](\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  return match ? `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}` : undefined;
}

export class G13BadRequest extends Error {}

/**
 * The answer of the manual-only meter to `method` on the meter-relative path (e.g. "/energy/active"),
 * or undefined for a resource it does not have (the gateway answers 404 "URI not found.").
 * Throws G13BadRequest for a malformed parameter (400 "Invalid Request.").
 */
export function manualOnlyAnswer(method: string, resource: string): Json | undefined {
  const path = resource.replace(/\/$/, '') || '/';
  if (method === 'POST') return path === '/datetime' ? SUCCESS : undefined;
  if (method !== 'GET') return undefined;
  const fixed: Record<string, Json> = {
    '/datetime': DATETIME,
    '/info': INFO,
    '/energy/active': ENERGY_ACTIVE,
    '/power': POWER,
    '/powers': POWER,
    '/instrument': INSTRUMENT,
    '/io': IO,
    '/io/configuration': IO_CONFIGURATION,
    '/previousvalues/configuration': PREVIOUS_VALUES_CONFIGURATION,
    '/tariff': TARIFF,
  };
  if (fixed[path]) return fixed[path];
  const events = /^\/events\/([^/]+)(?:\/(\d+))?$/.exec(path);
  if (events) {
    const until = dateKey(events[1]);
    const count = events[2] === undefined ? 100 : Number(events[2]);
    if (!until || count < 1 || count > 100) throw new G13BadRequest('Invalid Request.');
    const upTo = (log: LogEntry[]) => log.filter((e) => e.datetime <= until).slice(0, count);
    return { system: upTo(EVENTS.system), quality: upTo(EVENTS.quality), event: upTo(EVENTS.event) };
  }
  const previous = /^\/previousvalues(?:\/([^/]+)\/([^/]+))?$/.exec(path);
  if (previous) {
    if (previous[1] === undefined) return PREVIOUS_VALUES;
    const from = dateKey(previous[1]);
    const to = /^\d+$/.test(previous[2]) ? undefined : dateKey(previous[2]);
    const count = /^\d+$/.test(previous[2]) ? Number(previous[2]) : undefined;
    if (!from || (to === undefined && (count === undefined || count < 1 || count > 100)))
      throw new G13BadRequest('Invalid Request.');
    const timeOf = (item: (typeof PREVIOUS_VALUES.items)[number]) => (item[2] as { time: string }).time;
    const items = PREVIOUS_VALUES.items
      .filter((item) => timeOf(item) >= from && (to === undefined || timeOf(item) <= to))
      .slice(0, count ?? 100);
    return { ...PREVIOUS_VALUES, items };
  }
  return undefined;
}
