/**
 * The CGI extract of logged data (guide 4.1):
 *   GET /cgi-bin/query?startTime=<UTC>&endTime=<UTC>&p1ch0=<header>&…&relay1=<header>&contact1=<header>…
 *
 * The guide shows the request only, never an answer: the format read here is OUR GUESS (docs/iserver2.md),
 * so the reader tolerates the variants a unit may plausibly send rather than one exact layout:
 * - a header row or none (then the columns are the requested ones, in request order);
 * - ",", ";" or tab between cells (with ";" or tab a decimal comma is read too);
 * - CRLF, LF or CR line ends, a byte-order mark, blank lines;
 * - cells quoted or not (RFC 4180 quoting);
 * - the time as "YYYY-MM-DD HH:MM:SS" (the unit's clock zone, UTC by default), ISO 8601 with or without
 *   offset, "YYYY/MM/DD …", "MM/DD/YYYY …" (US, with AM/PM or not), UTC seconds or milliseconds, or split
 *   in a date and a time column;
 * - missing fields: a short row's missing cells, empty cells and "-", "N/A", "NaN", "null" are samples the
 *   unit did not log; a requested column absent from the header is reported in `missingColumns` and
 *   read as no sample; relay/contact states may be 0/1, ON/OFF, OPEN/CLOSED, TRUE/FALSE.
 * What cannot be read (a row whose time is not a time, a value that is not a number) is a protocol error.
 */
import { DateTime } from 'luxon';
import { DateRange } from '../driver.contract';
import { IServer2ProtocolError } from './iserver2-messages';

/** Extract columns the guide names, besides the probe channels p0ch0…p2ch3. */
export const EXTRACT_EXTRA_COLUMNS = ['relay1', 'relay2', 'contact1', 'contact2', 'contactout'] as const;

export interface ExtractColumn {
  /** Query parameter: "p1ch0", "relay1", "contactout"… */
  key: string;
  /** Header the unit is asked to print for it. */
  header: string;
}

export interface ExtractRow {
  time: Date;
  /** By column key; null when the cell is empty. */
  values: Record<string, number | null>;
}

const COLUMN_KEY = /^(p0ch[01]|p[12]ch[0-3]|relay[12]|contact[12]|contactout)$/;

export function isExtractColumnKey(key: string): boolean {
  return COLUMN_KEY.test(key);
}

/** The query string (without "?") for a range and columns; times are whole UTC seconds. */
export function buildExtractQuery(range: DateRange, columns: readonly ExtractColumn[]): string {
  const params = new URLSearchParams();
  params.set('startTime', String(Math.floor(range.from.getTime() / 1000)));
  params.set('endTime', String(Math.ceil(range.to.getTime() / 1000)));
  for (const column of columns) {
    if (!isExtractColumnKey(column.key)) throw new RangeError(`"${column.key}" is not an extract column`);
    params.set(column.key, column.header);
  }
  // URLSearchParams writes spaces as "+"; the guide's example uses %20, which every server reads.
  return params.toString().replace(/\+/g, '%20');
}

export type ExtractSeparator = ',' | ';' | '\t';

/** Splits one line at `separator` (RFC 4180 quoting). */
export function splitCsvLine(line: string, separator: ExtractSeparator = ','): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === separator) {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const DATE_TIME =
  /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const US_DATE_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?$/i;
const TIME_OF_DAY = /^(\d{1,2}):(\d{2})(?::(\d{2}))?(\.\d+)?\s*(AM|PM)?$/i;

function hours12(hours: number, meridiem: string | undefined): number {
  if (!meridiem) return hours;
  const pm = meridiem.toUpperCase() === 'PM';
  return (hours % 12) + (pm ? 12 : 0);
}

/** Wall-clock fields in `zone` (an IANA name; "UTC" by default) as an instant. */
function wallClock(
  zone: string,
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms = 0,
): Date {
  if (zone === 'UTC') return new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  return DateTime.fromObject(
    { year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms },
    { zone },
  ).toJSDate();
}

/**
 * A time cell of the extract; undefined when it is not one. Epoch values and times with an offset are
 * absolute; a time without offset is wall-clock time of the unit's clock, in `zone` (UTC by default).
 */
export function readExtractTime(text: string, zone = 'UTC'): Date | undefined {
  const trimmed = text.trim();
  let time: Date | undefined;
  if (/^\d{9,10}$/.test(trimmed)) time = new Date(Number(trimmed) * 1000);
  else if (/^\d{12,13}$/.test(trimmed)) time = new Date(Number(trimmed));
  else {
    const iso = DATE_TIME.exec(trimmed);
    const us = iso ? undefined : US_DATE_TIME.exec(trimmed);
    if (iso) {
      const [, y, mo, d, h = '0', mi = '0', sec = '0', fraction = '', offset] = iso;
      const ms = Math.round(Number(`0${fraction}`) * 1000);
      if (!offset) time = wallClock(zone, +y, +mo, +d, +h, +mi, +sec, ms);
      else {
        let offsetMinutes = 0;
        if (offset.toUpperCase() !== 'Z') {
          const sign = offset.startsWith('-') ? -1 : 1;
          const digits = offset.slice(1).replace(':', '');
          offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
        }
        time = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec, ms) - offsetMinutes * 60_000);
      }
    } else if (us) {
      const [, mo, d, y, h = '0', mi = '0', sec = '0', meridiem] = us;
      time = wallClock(zone, +y, +mo, +d, hours12(+h, meridiem), +mi, +sec);
    }
  }
  return time && !Number.isNaN(time.getTime()) ? time : undefined;
}

export function parseExtractTime(text: string, zone = 'UTC'): Date {
  const time = readExtractTime(text, zone);
  if (!time) throw new IServer2ProtocolError(`extract time "${text}" is not a date`);
  return time;
}

/** True for a "HH:MM[:SS][ AM|PM]" cell: the time column of an extract that splits date and time. */
function isTimeOfDay(text: string): boolean {
  return TIME_OF_DAY.test(text.trim());
}

const NO_SAMPLE = new Set(['', '-', '--', '---', 'N/A', 'NA', 'NAN', 'NULL', 'NONE']);
const STATES: Readonly<Record<string, number>> = { ON: 1, OFF: 0, OPEN: 1, CLOSED: 0, TRUE: 1, FALSE: 0 };

function readValue(cell: string, separator: ExtractSeparator): number | null | undefined {
  const text = cell.trim();
  const upper = text.toUpperCase();
  if (NO_SAMPLE.has(upper)) return null;
  if (upper in STATES) return STATES[upper];
  const normal = separator !== ',' && /^[-+]?\d+,\d+$/.test(text) ? text.replace(',', '.') : text;
  const value = Number(normal);
  return Number.isFinite(value) ? value : undefined;
}

/** The separator that splits the line into the most cells (comma on a tie). */
function detectSeparator(line: string): ExtractSeparator {
  let best: ExtractSeparator = ',';
  let most = splitCsvLine(line, ',').length;
  for (const separator of [';', '\t'] as const) {
    const count = splitCsvLine(line, separator).length;
    if (count > most) {
      best = separator;
      most = count;
    }
  }
  return best;
}

export interface ExtractTable {
  rows: ExtractRow[];
  /** Requested column keys the answer's header does not name (read as no sample). */
  missingColumns: string[];
  hasHeader: boolean;
  separator: ExtractSeparator;
}

/**
 * Reads the extract. With a header, columns are matched by the header text the request asked for
 * (trimmed, case-insensitive), so their order does not matter; without one, by request order. Times
 * without an offset are read in `zone`, the unit's clock zone (UTC by default).
 */
export function readExtract(text: string, columns: readonly ExtractColumn[], zone = 'UTC'): ExtractTable {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trim() !== '');
  if (lines.length === 0) return { rows: [], missingColumns: [], hasHeader: false, separator: ',' };
  const separator = detectSeparator(lines[0]);
  const first = splitCsvLine(lines[0], separator).map((cell) => cell.trim());
  // A first line whose first cell is a time (or a date) is data, anything else a header.
  const hasHeader = readExtractTime(first[0], zone) === undefined;
  const splitTime = hasHeader
    ? /^date$/i.test(first[0]) && /^time$/i.test(first[1] ?? '')
    : /^\d{4}[-/]\d{2}[-/]\d{2}$|^\d{1,2}\/\d{1,2}\/\d{4}$/.test(first[0]) && isTimeOfDay(first[1] ?? '');
  const firstValue = splitTime ? 2 : 1;
  const missingColumns: string[] = [];
  const indexes = columns.map((column, position) => {
    if (!hasHeader) return { key: column.key, index: firstValue + position };
    const wanted = column.header.trim().toLowerCase();
    const found = first.findIndex((header, index) => index >= firstValue && header.toLowerCase() === wanted);
    if (found < 0) missingColumns.push(column.key);
    return { key: column.key, index: found };
  });
  if (hasHeader && missingColumns.length === columns.length && columns.length > 0)
    throw new IServer2ProtocolError(
      `extract names none of the requested columns (headers: ${first.join(', ')})`,
    );
  const rows = lines.slice(hasHeader ? 1 : 0).map((line, row) => {
    const number = row + (hasHeader ? 2 : 1);
    const cells = splitCsvLine(line, separator);
    const time = readExtractTime(
      splitTime ? `${(cells[0] ?? '').trim()} ${(cells[1] ?? '').trim()}` : (cells[0] ?? ''),
      zone,
    );
    if (!time)
      throw new IServer2ProtocolError(
        `extract line ${number}: "${cells.slice(0, firstValue).join(separator)}" is not a time`,
      );
    const values: Record<string, number | null> = {};
    for (const { key, index } of indexes) {
      const cell = index >= 0 ? cells[index] : undefined;
      const value = cell === undefined ? null : readValue(cell, separator);
      if (value === undefined)
        throw new IServer2ProtocolError(
          `extract line ${number} column ${key}: "${cell ?? ''}" is not a number`,
        );
      values[key] = value;
    }
    return { time, values };
  });
  return { rows, missingColumns, hasHeader, separator };
}

/** The rows of readExtract. */
export function parseExtract(text: string, columns: readonly ExtractColumn[], zone = 'UTC'): ExtractRow[] {
  return readExtract(text, columns, zone).rows;
}

/** "2025-01-02 20:00:05" in the unit's clock zone (UTC by default), the time format of the extract. */
export function formatExtractTime(time: Date, zone = 'UTC'): string {
  if (zone === 'UTC') return time.toISOString().slice(0, 19).replace('T', ' ');
  return DateTime.fromJSDate(time, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}
