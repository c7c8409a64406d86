import { DateTime } from 'luxon';

/** The only datetime format of UDIL (tables, views and APIs): "yyyy-MM-dd HH:mm:ss". */
export const UDIL_DATETIME_FORMAT = 'yyyy-MM-dd HH:mm:ss';

/** Parses a UDIL datetime as wall-clock time in `zone`; undefined when malformed or impossible. */
export function parseUdilDatetime(text: string, zone: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return undefined;
  const parsed = DateTime.fromFormat(text, UDIL_DATETIME_FORMAT, { zone });
  return parsed.isValid ? parsed.toJSDate() : undefined;
}

/** Formats an instant as UDIL wall-clock time in `zone`; empty string for null. */
export function formatUdilDatetime(value: Date | null | undefined, zone: string): string {
  if (!value) return '';
  return DateTime.fromJSDate(value, { zone }).toFormat(UDIL_DATETIME_FORMAT);
}
