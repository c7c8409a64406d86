import { DateTime } from 'luxon';

/**
 * The CGI extract of logged data (guide 4.1):
 *   GET /cgi-bin/query?startTime=<UTC>&endTime=<UTC>&p1ch0=<header>&…&relay1=<header>&contact1=<header>…
 *
 * The guide shows the request only. The answer is taken to be CSV text: a header row whose first
 * column is the time and whose other columns are the requested header names in request order, then one
 * row per logged sample. Times are read as "YYYY-MM-DD HH:MM:SS" UTC (what the simulator writes), ISO
 * 8601, or UTC seconds; an empty cell is a sample the unit did not log (docs/iserver2.md).
 */
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

/** Splits one CSV line (RFC 4180 quoting). */
export function splitCsvLine(line: string): string[] {
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
    else if (ch === ',') {
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

/**
 * An extract time: epoch seconds, an ISO date-time with its offset, or a date-time without offset,
 * which the unit wrote in its clock zone (the gateway's clockTimeZone; UTC when absent).
 */
export function parseExtractTime(text: string, zone = 'UTC'): Date {
  const trimmed = text.trim();
  let time: Date;
  if (/^\d+$/.test(trimmed)) time = new Date(Number(trimmed) * 1000);
  else {
    const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      trimmed,
    );
    if (!match) throw new IServer2ProtocolError(`extract time "${text}" is not a date`);
    if (match[8] || zone === 'UTC')
      time = new Date(match[8] ? trimmed.replace(' ', 'T') : `${trimmed.replace(' ', 'T')}Z`);
    else time = DateTime.fromISO(trimmed.replace(' ', 'T'), { zone }).toJSDate();
  }
  if (Number.isNaN(time.getTime())) throw new IServer2ProtocolError(`extract time "${text}" is not a date`);
  return time;
}

/**
 * Reads the extract. Columns are matched by the header text the request asked for, so their order in the
 * answer does not matter; a requested column missing from the answer is a protocol error.
 */
export function parseExtract(csv: string, columns: readonly ExtractColumn[], zone = 'UTC'): ExtractRow[] {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new IServer2ProtocolError('extract answer is empty (no header row)');
  const headers = splitCsvLine(lines[0]).map((header) => header.trim());
  const indexes = columns.map((column) => {
    const index = headers.indexOf(column.header);
    if (index < 1)
      throw new IServer2ProtocolError(
        `extract has no column "${column.header}" (headers: ${headers.join(', ')})`,
      );
    return { key: column.key, index };
  });
  return lines.slice(1).map((line, row) => {
    const cells = splitCsvLine(line);
    if (cells.length !== headers.length)
      throw new IServer2ProtocolError(
        `extract row ${row + 1} has ${cells.length} cells, expected ${headers.length}`,
      );
    const values: Record<string, number | null> = {};
    for (const { key, index } of indexes) {
      const cell = cells[index].trim();
      if (cell === '') values[key] = null;
      else {
        const value = Number(cell);
        if (!Number.isFinite(value))
          throw new IServer2ProtocolError(`extract row ${row + 1} column ${headers[index]}: "${cell}"`);
        values[key] = value;
      }
    }
    return { time: parseExtractTime(cells[0], zone), values };
  });
}

/** "2025-01-02 20:00:05" in the unit's clock zone (UTC by default), the time format of the extract. */
export function formatExtractTime(time: Date, zone = 'UTC'): string {
  if (zone === 'UTC') return time.toISOString().slice(0, 19).replace('T', ' ');
  return DateTime.fromJSDate(time, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}
