import { DateTime } from 'luxon';

/** The only datetime format of UDIL (tables, views and APIs): "yyyy-MM-dd HH:mm:ss". */
export const UDIL_DATETIME_FORMAT = 'yyyy-MM-dd HH:mm:ss';

/** Instants of parsed UDIL datetimes by zone and text (NaN: impossible); bounded, cleared when full. */
const parsedDatetimes = new Map<string, number>();
const MAX_PARSED_DATETIMES = 4096;

/**
 * Parses a UDIL datetime as wall-clock time in `zone`; undefined when malformed or impossible. Remembered
 * per zone and text (requests repeat their ranges; luxon's parsing in a zone is the costly part of a read's
 * parameters).
 */
export function parseUdilDatetime(text: string, zone: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return undefined;
  const key = `${zone} ${text}`;
  let ms = parsedDatetimes.get(key);
  if (ms === undefined) {
    const parsed = DateTime.fromFormat(text, UDIL_DATETIME_FORMAT, { zone });
    ms = parsed.isValid ? parsed.toMillis() : NaN;
    if (parsedDatetimes.size >= MAX_PARSED_DATETIMES) parsedDatetimes.clear();
    parsedDatetimes.set(key, ms);
  }
  // A new Date each time: callers may keep or change theirs.
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Offsets (minutes east of UTC) of a zone by UTC minute; bounded, cleared when full. */
const offsetsByZone = new Map<string, Map<number, number>>();
const MAX_CACHED_MINUTES = 4096;

/**
 * The zone's offset at `ms`, computed by luxon (Intl) once per UTC minute: time-zone transitions in
 * force today fall on whole minutes, so every instant of a minute shares its offset.
 */
function offsetMinutes(ms: number, zone: string): number | undefined {
  let offsets = offsetsByZone.get(zone);
  if (!offsets) {
    offsets = new Map();
    offsetsByZone.set(zone, offsets);
  }
  const minute = Math.floor(ms / 60_000);
  let offset = offsets.get(minute);
  if (offset === undefined) {
    const at = DateTime.fromMillis(minute * 60_000, { zone });
    if (!at.isValid) return undefined;
    if (offsets.size >= MAX_CACHED_MINUTES) offsets.clear();
    offset = at.offset;
    offsets.set(minute, offset);
  }
  return offset;
}

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Formats an instant as UDIL wall-clock time in `zone`; empty string for null. */
export function formatUdilDatetime(value: Date | null | undefined, zone: string): string {
  if (!value) return '';
  const ms = value.getTime();
  const offset = Number.isNaN(ms) ? undefined : offsetMinutes(ms, zone);
  // An invalid date or zone: luxon says what it is ("Invalid DateTime"), as it always has.
  if (offset === undefined) return DateTime.fromJSDate(value, { zone }).toFormat(UDIL_DATETIME_FORMAT);
  const wall = new Date(ms + offset * 60_000);
  const year = wall.getUTCFullYear();
  if (year < 1000 || year > 9999) return DateTime.fromJSDate(value, { zone }).toFormat(UDIL_DATETIME_FORMAT);
  return `${year}-${two(wall.getUTCMonth() + 1)}-${two(wall.getUTCDate())} ${two(wall.getUTCHours())}:${two(
    wall.getUTCMinutes(),
  )}:${two(wall.getUTCSeconds())}`;
}
