import type { G13FaultSpec, G13User } from '../g13-gateway-server';
import { G13MeterModel } from '../g13-meter-model';

/**
 * What every G13 resource family shares: the route and context types the gateway server dispatches on,
 * the error the server turns into the {"status":"error","des":…} envelope, and the helpers the
 * resources use to validate requests and format answers (manual chapter 6).
 */

export type Json = Record<string, unknown>;

export const COSEM = 'received invalid response from COSEM.';

/** Answered by the server as {"status":"error","des":…} with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly des: string,
  ) {
    super(des);
  }
}

export interface RouteContext {
  meter?: G13MeterModel;
  params: string[];
  body: unknown;
  user: G13User;
}

export interface Route {
  method: string;
  pattern: RegExp;
  /** Status the device answers when the meter cannot be reached (the manual uses 500 or 502). */
  cosemStatus?: 500 | 502;
  meter?: boolean;
  handle(context: RouteContext): Json;
}

/** The gateway's state the resources read and change (the meters themselves are G13MeterModel). */
export interface RouteState {
  meters: Map<string, G13MeterModel>;
  gateway: { serial: number; alias: string; location: string };
  permittedMeters: string[];
  users: G13User[];
  mustChangePassword: Set<string>;
  lastErrors: Map<number, string>;
  meterFaults: Map<string, G13FaultSpec>;
}

/** One resource family: its routes, in the order they are matched. */
export type G13ResourceFamily = (state: RouteState) => Route[];

export const SUCCESS: Json = { status: 'success' };
const SERIAL = '([^/]+)';
export const DATE = '([^/]+)';

export function formatG13DateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** "2012-07-01T01:00:00" (or the manual's "2012:07:01T01:00:00") as UTC milliseconds. */
export function parseG13DateTime(text: string): number | undefined {
  const match = /^(\d{4})[-:](\d{2})[-:](\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text.replace(/\s+/g, ''));
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

export const fixed = (value: number, digits: number): string => value.toFixed(digits);
export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
export const isInt = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

export function invalid(des = 'Invalid Request.'): HttpError {
  return new HttpError(400, des);
}

function parseRange(params: string[], maxCount: number): { from?: number; to?: number; count?: number } {
  const [fromText, second] = params;
  if (fromText === undefined) return {};
  const from = parseG13DateTime(fromText);
  if (from === undefined) throw invalid();
  if (second === undefined) return { from };
  if (/^\d+$/.test(second)) {
    const count = Number(second);
    if (count < 1 || count > maxCount) throw invalid(`count must be 1 to ${maxCount}.`);
    return { from, count };
  }
  const to = parseG13DateTime(second);
  if (to === undefined) throw invalid();
  return { from, to };
}

function selectRange<T>(items: T[], time: (item: T) => number, range: ReturnType<typeof parseRange>): T[] {
  const sorted = [...items].sort((a, b) => time(a) - time(b));
  if (range.from === undefined) return sorted;
  const after = sorted.filter((item) => time(item) >= range.from!);
  if (range.count !== undefined) return after.slice(0, range.count);
  return after.filter((item) => time(item) <= range.to!);
}

/**
 * The items a …[/<from>[/<to> | /<count>]] request asks for, oldest first: all of them without <from>,
 * at most maxCount after <from> with a count.
 */
export function selectRequested<T>(
  items: T[],
  time: (item: T) => number,
  params: string[],
  maxCount: number,
): T[] {
  return selectRange(items, time, parseRange(params, maxCount));
}

/** A resource of one registered meter, /meters/<serial><suffix>; the serial is not among the params. */
export function meterRoute(
  method: string,
  suffix: string,
  handle: (meter: G13MeterModel, params: string[], body: unknown) => Json,
  cosemStatus: 500 | 502 = 500,
): Route {
  return {
    method,
    pattern: new RegExp(`^/meters/${SERIAL}${suffix}/?$`),
    meter: true,
    cosemStatus,
    handle: ({ meter, params, body }) => handle(meter!, params, body),
  };
}

export function requireBody(body: unknown): Json {
  if (!isObject(body)) throw invalid('JSON parse error.');
  return body;
}

export function pair(value: number, unit: string, digits = 2): [string, string] {
  return [fixed(value, digits), unit];
}
