import { McsRequestError } from './mcs-error';

/** How the remote address of a request dials the meter (MCS "remote Address"). */
export type RemoteAddressKind = 'phone' | 'ip' | 'paknet';

/** A validated collection request, with implicit values made explicit (surveyDate). */
export interface McsCollectionRequest {
  requestReference: string;
  mpan: string;
  responseUrl: string;
  priority: number;
  /** UTC ISO-8601, or null to process as soon as possible. */
  delayUntil: string | null;
  meterType: string;
  remoteAddress: string;
  remoteAddressKind: RemoteAddressKind;
  comsSettings: string | null;
  outstationAddress: string | null;
  serialNumber: string | null;
  password: string | null;
  surveyDays: number;
  /** yyyy-MM-dd; null when no survey is read. */
  surveyDate: string | null;
  adjustTime: boolean;
}

/** BullMQ's largest priority; MCS priorities above it are refused. */
export const MAX_PRIORITY = 2_097_152;
export const MAX_SURVEY_DAYS = 366;
const MAX_REFERENCE_LENGTH = 100;

const PHONE = /^0\d{9,11}$/;
const PAKNET = /^\d{14}$/;
const IP_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;
const COMS_SETTINGS = /^[5-8][NOEMS][12]$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Classifies a remote address as the MCS document describes it; undefined when it is none of them. */
export function classifyRemoteAddress(address: string): RemoteAddressKind | undefined {
  if (PAKNET.test(address)) return 'paknet';
  if (PHONE.test(address)) return 'phone';
  const ip = IP_PORT.exec(address);
  if (ip) {
    const octets = ip.slice(1, 5).map(Number);
    const port = Number(ip[5]);
    if (octets.every((o) => o <= 255) && port >= 1 && port <= 65535) return 'ip';
  }
  return undefined;
}

type Body = Record<string, unknown>;

/** A string field: strings as given (trimmed), numbers as their decimal text. */
function text(body: Body, name: string, label = name): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw McsRequestError.invalid(`${label} must be a string`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function mandatory(body: Body, name: string): string {
  const value = text(body, name);
  if (value === undefined) throw McsRequestError.invalid(`${name} is mandatory`);
  return value;
}

/** An integer field given as a JSON number or as a string of digits. */
function integer(body: Body, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^-?\d+$/.test(value.trim())
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(number)) throw McsRequestError.invalid(`${name} must be an integer`);
  return number;
}

function boolean(body: Body, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw McsRequestError.invalid(`${name} must be true or false`);
}

/** A calendar date yyyy-MM-dd that exists. */
export function parseSurveyDate(value: string): Date | undefined {
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
    ? date
    : undefined;
}

/** An ISO-8601 date-time; without a zone it is UTC (MCS times are UTC). */
export function parseDelayUntil(value: string): Date | undefined {
  const match = DATETIME.exec(value);
  if (!match) return undefined;
  if (!parseSurveyDate(`${match[1]}-${match[2]}-${match[3]}`)) return undefined;
  const [hours, minutes, seconds] = [match[4], match[5], match[6] ?? '0'].map(Number);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const zone = match[7] ?? 'Z';
  const normalised = `${value.slice(0, 10)}T${value.slice(11).replace(/(Z|[+-]\d{2}:?\d{2})$/, '')}${
    zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`
  }`;
  const date = new Date(normalised);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export function formatDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Validates a Data Collection Request body (MCS Request API). Every refusal names the field in its
 * `details`. Numbers are accepted as JSON numbers or as strings; unknown fields are ignored; the
 * spec's spaced names ("remote Address", "serial Number") are accepted as aliases.
 */
export function parseCollectionRequest(
  raw: unknown,
  meterTypes: readonly string[],
  now = new Date(),
): McsCollectionRequest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw McsRequestError.invalid('the request body must be a JSON object');
  const body: Body = { ...(raw as Body) };
  for (const [alias, name] of [
    ['remote Address', 'remoteAddress'],
    ['serial Number', 'serialNumber'],
  ] as const) {
    if (body[name] === undefined && body[alias] !== undefined) body[name] = body[alias];
  }

  const requestReference = mandatory(body, 'requestReference');
  if (requestReference.length > MAX_REFERENCE_LENGTH)
    throw McsRequestError.invalid(`requestReference must be at most ${MAX_REFERENCE_LENGTH} characters`);
  const mpan = mandatory(body, 'mpan');
  const responseUrl = mandatory(body, 'responseUrl');
  if (!isHttpUrl(responseUrl))
    throw McsRequestError.invalid('responseUrl must be an http:// or https:// URL (the MCS Result API)');

  const priority = integer(body, 'priority');
  if (priority === undefined) throw McsRequestError.invalid('priority is mandatory');
  if (priority === 0)
    throw McsRequestError.invalid('priority must be >= 1 (0 is reserved for interactive requests)');
  if (priority < 1 || priority > MAX_PRIORITY)
    throw McsRequestError.invalid(`priority must be an integer from 1 to ${MAX_PRIORITY}`);

  const delayText = text(body, 'delayUntil');
  let delayUntil: string | null = null;
  if (delayText !== undefined) {
    const date = parseDelayUntil(delayText);
    if (!date)
      throw McsRequestError.invalid(
        'delayUntil must be an ISO-8601 date-time such as 2019-12-01T22:00:00Z (UTC when no zone is given)',
      );
    delayUntil = date.toISOString();
  }

  const meterType = mandatory(body, 'meterType');
  if (!meterTypes.includes(meterType))
    throw McsRequestError.invalid(
      `meterType ${meterType} is not supported (supported: ${meterTypes.join(', ') || 'none'})`,
    );

  const remoteAddressText = text(body, 'remoteAddress', 'remoteAddress');
  if (remoteAddressText === undefined) throw McsRequestError.invalid('remoteAddress is mandatory');
  const remoteAddress = remoteAddressText.replace(/\s+/g, '');
  const remoteAddressKind = classifyRemoteAddress(remoteAddress);
  if (!remoteAddressKind)
    throw McsRequestError.invalid(
      'Remote address is not in a recognised format (remoteAddress: a UK national phone number such as 07711000001, x.x.x.x:port such as 10.2.34.4:3400, or a 14-digit PAKNET number such as 23000000123456)',
    );

  const comsSettings = text(body, 'comsSettings')?.toUpperCase() ?? null;
  if (comsSettings !== null && !COMS_SETTINGS.test(comsSettings))
    throw McsRequestError.invalid(
      'comsSettings must be data bits, parity and stop bits such as 7E1 (5-8, N/O/E/M/S, 1-2)',
    );

  const surveyDays = integer(body, 'surveyDays') ?? 0;
  if (surveyDays < 0 || surveyDays > MAX_SURVEY_DAYS)
    throw McsRequestError.invalid(`surveyDays must be an integer from 0 to ${MAX_SURVEY_DAYS}`);
  const surveyDateText = text(body, 'surveyDate');
  if (surveyDateText !== undefined && !parseSurveyDate(surveyDateText))
    throw McsRequestError.invalid('surveyDate must be a date in the form yyyy-MM-dd, e.g. 2019-12-01');
  let surveyDate: string | null = null;
  if (surveyDays > 0) {
    const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    surveyDate = surveyDateText ?? formatDate(new Date(today.getTime() - surveyDays * 86_400_000));
  } else if (surveyDateText !== undefined) {
    surveyDate = surveyDateText;
  }

  return {
    requestReference,
    mpan,
    responseUrl,
    priority,
    delayUntil,
    meterType,
    remoteAddress,
    remoteAddressKind,
    comsSettings,
    outstationAddress: text(body, 'outstationAddress') ?? null,
    serialNumber: text(body, 'serialNumber') ?? null,
    password: text(body, 'password') ?? null,
    surveyDays,
    surveyDate,
    adjustTime: boolean(body, 'adjustTime') ?? false,
  };
}

/** The requestReference of a cancel or status request (body, query or path). */
export function parseRequestReference(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.trim() === '')
    throw McsRequestError.invalid('requestReference is mandatory');
  if (value.trim().length > MAX_REFERENCE_LENGTH)
    throw McsRequestError.invalid(`requestReference must be at most ${MAX_REFERENCE_LENGTH} characters`);
  return value.trim();
}
