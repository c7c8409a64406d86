import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as selfsigned from 'selfsigned';
import {
  G13AlarmConfig,
  G13DayProfile,
  G13LogName,
  G13MeterModel,
  G13MeterOptions,
  G13SeasonProfile,
  G13SpecialDay,
  G13WeekProfile,
  IO_CHANNEL_CODES,
  LP_INTERVALS,
  LP_TOTAL_ITEMS,
  toMinutes,
} from './g13-meter-model';
import { G13BadRequest, manualOnlyAnswer } from './g13-manual-only-meter';
import { G13_PARAMETER_MAP, G13_STORABLE_QUANTITIES } from './g13-quantities';

/**
 * A protocol-faithful ABB G13 gateway (manual chapter 6): Basic authentication on every resource,
 * the 512-byte update payload limit, chunked GET answers, the {"status":"error","des":…} envelope,
 * /lasterror, and the meters behind it as G13MeterModel instances.
 */

export interface G13User {
  name: string;
  password: string;
}

export interface G13FaultSpec {
  /** Added before answering. */
  latencyMs?: number;
  /** Probability (0..1) of a 500 "received invalid response from COSEM." on meter resources. */
  errorRate?: number;
  /** Every meter resource answers 500 "received invalid response from COSEM.". */
  cosemError?: boolean;
  /** 200 headers and part of the body, then the TCP connection is destroyed. */
  dropConnection?: boolean;
  /** 200 and a complete chunked answer whose JSON is cut short; the cause is kept for /lasterror. */
  truncateResponse?: boolean;
  /** Meter only: the gateway cannot reach it (status -1; its resources answer 502/500). */
  offline?: boolean;
  /** The fault applies to this many more requests, then clears (undefined = until changed). */
  remaining?: number;
}

export interface G13SimulatorOptions {
  meters?: G13MeterOptions[];
  /** HTTPS with a self-signed certificate generated at start (default true). */
  tls?: boolean;
  /** 0 = random. */
  port?: number;
  host?: string;
  latencyMs?: number;
  /** Default: one user admin / admin. */
  users?: G13User[];
  /** Users must change their password through POST /login before anything else answers (403). */
  defaultPasswordMode?: boolean;
  serial?: number;
  alias?: string;
  location?: string;
}

export interface G13RequestRecord {
  method: string;
  path: string;
  status: number;
  bytes: number;
}

export interface G13SimulatorHandle {
  url: string;
  port: number;
  tls: boolean;
  certificatePem?: string;
  certificateFingerprintSha256?: string;
  users: G13User[];
  serials: string[];
  /** Every request answered, in order (method, path, status, request payload bytes). */
  readonly requests: G13RequestRecord[];
  /** Most requests the gateway was handling at once since start (or resetStats). */
  peakConcurrency(): number;
  /** Resolves once no request is being handled (answers to abandoned requests included). */
  whenIdle(): Promise<void>;
  /** Starts a new statistics period: an empty request log, concurrency counted afresh. */
  resetStats(): void;
  meter(serial: string): G13MeterModel;
  /** Output port state (1 = ON) of a meter, after bringing the meter up to date. */
  readOutput(serial: string, port: number): number;
  readClock(serial: string): Date;
  /** Registers in kWh / kvarh: import/export totals and tariff registers. */
  readRegisters(serial: string): {
    activeImport: number;
    activeExport: number;
    activeImportTariff: number[];
    reactiveImport: number;
  };
  setGatewayFaults(faults: G13FaultSpec): void;
  setMeterFaults(serial: string, faults: G13FaultSpec): void;
  clearFaults(): void;
  injectPowerFailure(serial: string, durationSeconds: number, at?: Date): void;
  injectPhaseLoss(serial: string, phase: 1 | 2 | 3, lost: boolean): void;
  injectReverseFlow(serial: string, reversed: boolean): void;
  stop(): Promise<void>;
}

const MAX_PAYLOAD = 512;
const COSEM = 'received invalid response from COSEM.';
const UNAUTHORIZED_PAGE =
  '<HTML>\n  <HEAD><TITLE>401 Unauthorized</TITLE></HEAD>\n  <BODY>\n    <H1>401 Unauthorized</H1>\n    Browser not authentication-capable or\n    authentication failed.\n  </BODY>\n</HTML>';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly des: string,
  ) {
    super(des);
  }
}

type Json = Record<string, unknown>;

interface RouteContext {
  meter?: G13MeterModel;
  params: string[];
  body: unknown;
  user: G13User;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Status the device answers when the meter cannot be reached (the manual uses 500 or 502). */
  cosemStatus?: 500 | 502;
  meter?: boolean;
  handle(context: RouteContext): Json;
}

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

const fixed = (value: number, digits: number): string => value.toFixed(digits);
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isInt = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

function invalid(des = 'Invalid Request.'): HttpError {
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

function generateCertificate(): { key: string; cert: string; fingerprint256: string } {
  const keyPair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  // selfsigned 2.4 accepts an existing key pair (its typings omit the option); native key
  // generation is much faster than node-forge's.
  const options = {
    days: 365,
    algorithm: 'sha256',
    keyPair: { privateKey: keyPair.privateKey, publicKey: keyPair.publicKey },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  } as selfsigned.SelfsignedOptions;
  const pems = selfsigned.generate([{ name: 'commonName', value: 'localhost' }], options);
  return {
    key: pems.private,
    cert: pems.cert,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
  };
}

export async function startG13Simulator(options: G13SimulatorOptions = {}): Promise<G13SimulatorHandle> {
  const tls = options.tls ?? true;
  const meters = new Map<string, G13MeterModel>();
  const manualOnly = new Set<string>();
  for (const meterOptions of options.meters ?? [
    { serial: 'ABB_1', phases: 3 },
    { serial: 'ABB_2', phases: 1 },
  ]) {
    meters.set(meterOptions.serial, new G13MeterModel(meterOptions));
    if (meterOptions.model === 'manual-only') manualOnly.add(meterOptions.serial);
  }
  const users = (options.users ?? [{ name: 'admin', password: 'admin' }]).map((u) => ({ ...u }));
  const mustChangePassword = new Set(options.defaultPasswordMode ? users.map((u) => u.name) : []);
  const permittedMeters: string[] = [];
  const gateway = {
    serial: options.serial ?? 1234,
    alias: options.alias ?? 'Gateway',
    location: options.location ?? 'ABB Gateway Zone',
  };
  let gatewayFaults: G13FaultSpec = { latencyMs: options.latencyMs };
  const meterFaults = new Map<string, G13FaultSpec>();
  const lastErrors = new Map<number, string>();
  let requestCounter = 0;
  // Replaced (not emptied) by resetStats: a request is logged in the log current when it arrived, so a
  // slow answer to a request an earlier test abandoned never shows up in a later test's log.
  let requests: G13RequestRecord[] = [];

  const meterOf = (serial: string): G13MeterModel => {
    const meter = meters.get(serial);
    if (!meter) throw new Error(`no simulated meter ${serial}`);
    return meter;
  };

  const routes = buildRoutes({
    meters,
    gateway,
    permittedMeters,
    users,
    mustChangePassword,
    lastErrors,
    meterFaults,
  });

  const consume = (faults: G13FaultSpec | undefined): G13FaultSpec | undefined => {
    if (!faults) return undefined;
    if (faults.remaining !== undefined) {
      if (faults.remaining <= 0) return undefined;
      faults.remaining -= 1;
    }
    return faults;
  };

  // Concurrency is counted per statistics period, like the request log: requests still in flight from
  // before resetStats (answers nobody waits for any more) do not count in the next period.
  let inFlight = 0;
  let peak = 0;
  let period = 0;
  // Every request being handled, whatever its period, and who waits for there to be none.
  let handling = 0;
  let idleWaiters: Array<() => void> = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const id = ++requestCounter;
    const arrivedIn = period;
    inFlight += 1;
    handling += 1;
    peak = Math.max(peak, inFlight);
    res.once('close', () => {
      if (arrivedIn === period) inFlight -= 1;
    });
    // Handled = answered and logged, even when the client gave up waiting long before.
    const handled = () => {
      handling -= 1;
      if (handling > 0) return;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    };
    let bodyReceived = false;
    req.once('close', () => {
      if (!bodyReceived) handled();
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const log = requests;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD + 1) chunks.push(chunk);
    });
    req.on('end', () => {
      bodyReceived = true;
      void respond(req, res, id, Buffer.concat(chunks), size, log).finally(handled);
    });
  };

  const respond = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    id: number,
    payload: Buffer,
    size: number,
    log: G13RequestRecord[],
  ): Promise<void> => {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?')[0];
    const record = (status: number) => log.push({ method, path: rawUrl, status, bytes: size });
    const send = (
      status: number,
      body: string,
      contentType = 'application/json',
      extra: http.OutgoingHttpHeaders = {},
    ) => {
      record(status);
      res.writeHead(status, {
        Server: 'embOS/IP',
        'Accept-Ranges': 'bytes',
        'Content-Type': contentType,
        'Content-Length': Buffer.byteLength(body),
        ...extra,
      });
      res.end(body);
    };
    const sendError = (status: number, des: string) => {
      lastErrors.set(id, des);
      send(status, JSON.stringify({ status: 'error', des }));
    };

    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const serial = segments[0] === 'meters' && segments.length >= 2 ? segments[1] : undefined;
    const meterFault = serial ? consume(meterFaults.get(serial)) : undefined;
    const gatewayFault = consume(gatewayFaults);
    const latency = (gatewayFault?.latencyMs ?? 0) + (meterFault?.latencyMs ?? 0);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));

    // Authentication precedes everything: every resource is protected.
    const user = authenticate(req.headers.authorization, users);
    if (!user) {
      send(401, UNAUTHORIZED_PAGE, 'text/html');
      return;
    }
    if (rawUrl.includes('?')) return sendError(400, 'Invalid Request.');
    if (size > MAX_PAYLOAD) return sendError(400, `Payload exceeds ${MAX_PAYLOAD} bytes.`);
    let body: unknown;
    if (payload.length > 0) {
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
        return sendError(400, 'JSON parse error.');
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return sendError(400, 'JSON parse error.');
      }
    }
    if (
      mustChangePassword.has(user.name) &&
      !(method === 'POST' && path === '/login' && body !== undefined)
    ) {
      send(403, 'Please reset password and try again.', 'text/html', {
        'X-Pad': 'avoid browser bug',
        Connection: 'close',
      });
      return;
    }

    const manualOnlyMeter = serial !== undefined && segments.length > 2 && manualOnly.has(serial);
    const route = manualOnlyMeter
      ? undefined
      : routes.find((r) => r.method === method && r.pattern.test(path));
    if (!route && !manualOnlyMeter) return sendError(404, 'URI not found.');
    const params = route
      ? (route.pattern.exec(path) ?? [])
          .slice(1)
          .filter((p): p is string => p !== undefined)
          .map(decodeURIComponent)
      : [serial!];
    let meter: G13MeterModel | undefined;
    if (manualOnlyMeter || route?.meter) {
      meter = meters.get(params[0]);
      if (!meter || !meter.registered) return sendError(404, 'URI not found.');
      const faults = [gatewayFault, meterFault];
      const cosemStatus = route?.cosemStatus ?? 500;
      if (meterFaults.get(meter.serial)?.offline || faults.some((f) => f?.offline))
        return sendError(cosemStatus, COSEM);
      if (faults.some((f) => f?.cosemError || (f?.errorRate !== undefined && Math.random() < f.errorRate)))
        return sendError(cosemStatus, COSEM);
      meter.advance();
    }

    let answer: Json;
    try {
      if (route) answer = route.handle({ meter, params: route.meter ? params.slice(1) : params, body, user });
      else {
        // A manual-only meter answers the manual's examples and has nothing else.
        const manual = manualOnlyAnswer(method, `/${segments.slice(2).join('/')}`);
        if (!manual) return sendError(404, 'URI not found.');
        answer = manual;
      }
    } catch (error) {
      if (error instanceof HttpError) return sendError(error.status, error.des);
      if (error instanceof G13BadRequest) return sendError(400, error.message);
      return sendError(500, COSEM);
    }
    const text = JSON.stringify(answer, null, 1);
    const headers = { Server: 'embOS/IP', 'Content-Type': 'application/json', Link: `/lasterror/${id}` };
    const faults = [gatewayFault, meterFault];
    if (faults.some((f) => f?.dropConnection)) {
      lastErrors.set(id, 'connection closed while streaming response.');
      record(200);
      res.writeHead(200, headers);
      res.write(text.slice(0, Math.max(1, Math.floor(text.length / 3))));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    if (faults.some((f) => f?.truncateResponse)) {
      lastErrors.set(id, 'meter communication timeout while streaming response.');
      record(200);
      res.writeHead(200, headers);
      res.end(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      return;
    }
    record(200);
    res.writeHead(200, headers);
    // GET answers are always streamed (Transfer-Encoding: chunked); updates answer a status message.
    for (let offset = 0; offset < text.length; offset += 256) res.write(text.slice(offset, offset + 256));
    res.end();
  };

  let server: http.Server;
  let certificate: ReturnType<typeof generateCertificate> | undefined;
  if (tls) {
    certificate = generateCertificate();
    server = https.createServer({ key: certificate.key, cert: certificate.cert }, handler);
  } else {
    server = http.createServer(handler);
  }
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    tls,
    certificatePem: certificate?.cert,
    certificateFingerprintSha256: certificate?.fingerprint256,
    users,
    serials: [...meters.keys()],
    get requests() {
      return requests;
    },
    peakConcurrency: () => peak,
    whenIdle: () =>
      handling === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    resetStats() {
      requests = [];
      period += 1;
      inFlight = 0;
      peak = 0;
    },
    meter: meterOf,
    readOutput(serial, port) {
      const meter = meterOf(serial);
      meter.advance();
      return meter.outputState(port);
    },
    readClock(serial) {
      return new Date(meterOf(serial).meterNow());
    },
    readRegisters(serial) {
      const meter = meterOf(serial);
      meter.advance();
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0) / 1000;
      return {
        activeImport: sum(meter.activeImport),
        activeExport: sum(meter.activeExport),
        activeImportTariff: meter.activeImportTariff.map((v) => v / 1000),
        reactiveImport: sum(meter.reactiveImport),
      };
    },
    setGatewayFaults(faults) {
      gatewayFaults = { ...faults };
    },
    setMeterFaults(serial, faults) {
      meterOf(serial);
      meterFaults.set(serial, { ...faults });
    },
    clearFaults() {
      gatewayFaults = { latencyMs: options.latencyMs };
      meterFaults.clear();
    },
    injectPowerFailure(serial, durationSeconds, at) {
      const meter = meterOf(serial);
      const start = at ? at.getTime() : meter.meterNow() - durationSeconds * 1000;
      meter.powerFailCounter += 1;
      meter.powerOutageSeconds += durationSeconds;
      meter.log('event', { datetime: start, duration: durationSeconds, category: 8, logid: 2055 });
    },
    injectPhaseLoss(serial, phase, lost) {
      const meter = meterOf(serial);
      meter.advance();
      meter.faults.phaseLoss[phase - 1] = lost;
      if (lost)
        meter.log('quality', { datetime: meter.meterNow(), duration: 0, category: 3, logid: 999 + phase });
    },
    injectReverseFlow(serial, reversed) {
      const meter = meterOf(serial);
      meter.advance();
      meter.faults.reverseFlow = reversed;
      if (reversed)
        meter.log('quality', { datetime: meter.meterNow(), duration: 0, category: 3, logid: 1007 });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function authenticate(header: string | undefined, users: G13User[]): G13User | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const [name, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return users.find((u) => u.name === name && u.password === password);
}

interface RouteState {
  meters: Map<string, G13MeterModel>;
  gateway: { serial: number; alias: string; location: string };
  permittedMeters: string[];
  users: G13User[];
  mustChangePassword: Set<string>;
  lastErrors: Map<number, string>;
  meterFaults: Map<string, G13FaultSpec>;
}

const SUCCESS: Json = { status: 'success' };
const SERIAL = '([^/]+)';
const DATE = '([^/]+)';

function meterRoute(
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

function requireBody(body: unknown): Json {
  if (!isObject(body)) throw invalid('JSON parse error.');
  return body;
}

function pair(value: number, unit: string, digits = 2): [string, string] {
  return [fixed(value, digits), unit];
}

function buildRoutes(state: RouteState): Route[] {
  const { meters, gateway, permittedMeters } = state;
  return [
    {
      method: 'GET',
      pattern: /^\/about\/?$/,
      handle: () => ({
        cosemversion: 6,
        firmwareversion: 'G1.2.0.7',
        hardwareversion: 'HW-G13-2',
        model: 'G13',
        jsonapiversion: '0.9',
        logicaldevicename: `ABB${String(gateway.serial).padStart(14, '0')}`,
        releasedate: '2012-08-30T14:06:26',
        serial: gateway.serial,
      }),
    },
    {
      method: 'POST',
      pattern: /^\/login\/?$/,
      handle: ({ body, user }) => {
        if (body === undefined) return SUCCESS;
        const request = requireBody(body);
        const { name, oldkey, key } = request;
        if (typeof name !== 'string' || typeof oldkey !== 'string' || typeof key !== 'string')
          throw invalid('missing name and key tag in JSON .');
        if (name !== user.name || oldkey !== user.password) throw new HttpError(403, 'Invalid old password.');
        if (key.length === 0 || key.length > 32) throw invalid();
        user.password = key;
        state.mustChangePassword.delete(user.name);
        return SUCCESS;
      },
    },
    { method: 'POST', pattern: /^\/logout\/?$/, handle: () => SUCCESS },
    {
      method: 'GET',
      pattern: /^\/lasterror\/(\d+)\/?$/,
      handle: ({ params }) => ({ des: state.lastErrors.get(Number(params[0])) ?? 'No error.' }),
    },
    { method: 'GET', pattern: /^\/storablequantities\/?$/, handle: () => ({ ...G13_STORABLE_QUANTITIES }) },
    {
      method: 'GET',
      pattern: /^\/parametermapping\/?$/,
      handle: () => ({ map: Object.fromEntries(Object.entries(G13_PARAMETER_MAP)) }),
    },
    {
      method: 'GET',
      pattern: /^\/meters\/?$/,
      handle: () => {
        const locations = new Map<string, Json[]>();
        for (const meter of meters.values()) {
          if (!meter.registered) continue;
          const list = locations.get(meter.location) ?? [];
          const offline = state.meterFaults.get(meter.serial)?.offline;
          list.push({
            alias: meter.alias,
            serial: meter.serial,
            protocol: '3',
            address: String(17 + [...meters.keys()].indexOf(meter.serial)),
            status: offline ? -1 : 1,
          });
          locations.set(meter.location, list);
        }
        return {
          alias: gateway.alias,
          location: gateway.location,
          serial: `ABB${String(gateway.serial).padStart(13, '0')}`,
          locations: [...locations].map(([location, list]) => ({ location, serial: ' ', meters: list })),
        };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/meters\/?$/,
      handle: ({ body }) => {
        const request = requireBody(body);
        const { serial, alias, location } = request;
        if (typeof serial !== 'string' || serial.length > 17) throw invalid('missing serial tag in JSON .');
        const meter = meters.get(serial);
        // A serial that is not on any bus: the gateway gets no COSEM answer.
        if (!meter || state.meterFaults.get(serial)?.offline) throw new HttpError(500, COSEM);
        if (typeof alias === 'string') meter.alias = alias.slice(0, 21);
        if (typeof location === 'string') meter.location = location.slice(0, 51);
        meter.registered = true;
        return SUCCESS;
      },
    },
    {
      method: 'POST',
      pattern: /^\/meters\/([^/]+)\/?$/,
      handle: ({ params, body }) => {
        const meter = meters.get(params[0]);
        if (!meter || !meter.registered) throw new HttpError(404, 'URI not found.');
        const request = requireBody(body);
        if (typeof request.alias === 'string') meter.alias = request.alias.slice(0, 21);
        if (typeof request.location === 'string') meter.location = request.location.slice(0, 51);
        return SUCCESS;
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/meters\/([^/]+)\/?$/,
      handle: ({ params }) => {
        const meter = meters.get(params[0]);
        if (!meter || !meter.registered) throw new HttpError(404, 'URI not found.');
        meter.registered = false;
        return SUCCESS;
      },
    },
    { method: 'GET', pattern: /^\/permittedmeters\/?$/, handle: () => ({ meters: [...permittedMeters] }) },
    {
      method: 'PUT',
      pattern: /^\/permittedmeters\/?$/,
      handle: ({ body }) => {
        const list = requireBody(body).meters;
        if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length <= 17))
          throw invalid();
        for (const serial of list as string[])
          if (!permittedMeters.includes(serial)) permittedMeters.push(serial);
        if (permittedMeters.length > 25) {
          permittedMeters.splice(permittedMeters.length - list.length);
          throw invalid('At most 25 permitted meters.');
        }
        return SUCCESS;
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/permittedmeters\/?$/,
      handle: ({ body }) => {
        const list = requireBody(body).meters;
        if (!Array.isArray(list)) throw invalid();
        for (const serial of list) {
          const index = permittedMeters.indexOf(String(serial));
          if (index >= 0) permittedMeters.splice(index, 1);
        }
        return SUCCESS;
      },
    },
    meterRoute('GET', '/datetime', (meter) => {
      const now = meter.meterNow();
      return {
        datetime: formatG13DateTime(now),
        dayofweek: ((new Date(now).getUTCDay() + 6) % 7) + 1,
        dst: 0,
        dstenable: meter.dstEnable,
        dstend: meter.dstEnd,
        dststart: meter.dstStart,
        status: 'set',
      };
    }),
    meterRoute('POST', '/datetime', (meter, _params, body) => {
      const request = requireBody(body);
      const when = typeof request.datetime === 'string' ? parseG13DateTime(request.datetime) : undefined;
      if (when === undefined) throw invalid('missing datetime tag in JSON .');
      if (request.dstenable === true) {
        if (!isObject(request.dststart) || !isObject(request.dstend))
          throw invalid('missing dststart or dstend tag in JSON .');
        meter.dstStart = request.dststart as typeof meter.dstStart;
        meter.dstEnd = request.dstend as typeof meter.dstEnd;
      }
      if (typeof request.dstenable === 'boolean') meter.dstEnable = request.dstenable;
      meter.setClock(when);
      return SUCCESS;
    }),
    meterRoute('GET', '/info', (meter) => ({
      manufacturing: { serial: meter.manufacturingSerial, label: meter.label, firmwareversion: 'A2.1.0.0' },
      ratio: { ctdenum: '1', ctnum: '1', vtdenum: '1', vtnum: '1' },
      conversionfactor: { co2: [0.5, 'kg/kWh'], currency: [0.25, 'curr/kWh'] },
      power: {
        powerfailcounter: String(meter.powerFailCounter),
        poweroutagetime: String(meter.powerOutageSeconds),
      },
    })),
    meterRoute('GET', '/energy/(active|reactive|apparent)', (meter, [type]) => {
      const [imp, exp, impT, expT, unit] =
        type === 'active'
          ? [
              meter.activeImport,
              meter.activeExport,
              meter.activeImportTariff,
              meter.activeExportTariff,
              'kWh',
            ]
          : type === 'reactive'
            ? [
                meter.reactiveImport,
                meter.reactiveExport,
                meter.reactiveImportTariff,
                meter.reactiveExportTariff,
                'kvarh',
              ]
            : [meter.apparentImport, meter.apparentExport, undefined, undefined, 'kVAh'];
      const lines = (values: number[]) =>
        Object.fromEntries(values.slice(0, meter.phases).map((v, i) => [`l${i + 1}`, pair(v / 1000, unit)]));
      const tariffs = (values: number[] | undefined) =>
        values ? Object.fromEntries(values.map((v, i) => [`t${i + 1}`, pair(v / 1000, unit)])) : {};
      const total = (values: number[]) => values.reduce((a, b) => a + b, 0) / 1000;
      return {
        importenergy: { ...lines(imp), ...tariffs(impT), total: pair(total(imp), unit) },
        exportenergy: { ...lines(exp), ...tariffs(expT), total: pair(total(exp), unit) },
        netenergy: {
          ...lines(imp.map((v, i) => v - exp[i])),
          total: pair(total(imp) - total(exp), unit),
        },
      };
    }),
    ...['/power', '/powers'].map((suffix) =>
      meterRoute('GET', suffix, (meter) => {
        const now = meter.meterNow();
        const { active, reactive } = meter.powerAt(now);
        const apparent = active.map((p, i) => Math.hypot(p, reactive[i]));
        const block = (values: number[], total: number) => ({
          ...Object.fromEntries(
            values.slice(0, meter.phases).map((v, i) => [`l${i + 1}`, [fixed(v, 0), 'W']]),
          ),
          total: [fixed(total, 0), 'W'],
        });
        const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
        return {
          active: block(active, sum(active)),
          reactive: block(reactive, sum(reactive)),
          apparent: block(apparent, Math.hypot(sum(active), sum(reactive))),
        };
      }),
    ),
    meterRoute('GET', '/instrument', (meter) => {
      const now = meter.meterNow();
      const { active } = meter.powerAt(now);
      const pf = meter.nominalPowerFactor;
      const angle = (Math.acos(pf) * 180) / Math.PI;
      const line = (phase: number) => {
        const loaded = active[phase] !== 0;
        return {
          current: pair(meter.currentAt(now, phase), 'A'),
          currentquadrant: [loaded ? (active[phase] > 0 ? '1' : '3') : '0', ''],
          phaseanglecurrent: [fixed(phase * 120 + (loaded ? angle : 0), 1), 'deg'],
          phaseanglepower: pair(loaded ? angle : 0, 'deg'),
          phaseanglevoltage: [fixed(phase * 120, 1), 'deg'],
          powerfactor: [fixed(loaded ? pf : 0, 3), ''],
          voltage: [fixed(meter.voltageAt(now, phase), 1), 'V'],
        };
      };
      const answer: Json = { l1: line(0) };
      if (meter.phases === 3) {
        answer.l2 = line(1);
        answer.l3 = line(2);
        const lineToLine = (a: number, b: number) => ({
          voltage: [fixed(Math.sqrt(3) * ((meter.voltageAt(now, a) + meter.voltageAt(now, b)) / 2), 1), 'V'],
        });
        answer['l1-l2'] = lineToLine(0, 1);
        answer['l2-l3'] = lineToLine(1, 2);
        answer['l1-l3'] = lineToLine(0, 2);
        answer.neutral = {
          current: pair(Math.abs(meter.currentAt(now, 0) - meter.currentAt(now, 1)) * 0.1, 'A'),
        };
      }
      const loaded = active.some((p) => p !== 0);
      answer.total = {
        currentquadrant: [loaded ? '1' : '0', ''],
        phaseanglepower: pair(loaded ? angle : 0, 'deg'),
        powerfactor: [fixed(loaded ? pf : 0, 3), ''],
      };
      answer.frequency = { frequency: pair(meter.frequencyAt(now), 'Hz') };
      return answer;
    }),
    meterRoute('GET', `/events/${DATE}(?:/(\\d+))?`, (meter, [until, countText]) => {
      const untilMs = parseG13DateTime(until);
      if (untilMs === undefined) throw invalid();
      const count = countText === undefined ? 100 : Number(countText);
      if (count < 1 || count > 100) throw invalid('count must be 1 to 100.');
      const events = meter.eventsUntil(untilMs, count);
      const format = (name: G13LogName) =>
        events[name].map((e) => ({
          datetime: formatG13DateTime(e.datetime),
          duration: e.duration,
          category: e.category,
          logid: e.logid,
        }));
      return { system: format('system'), quality: format('quality'), event: format('event') };
    }),
    meterRoute(
      'GET',
      '/alarms/configuration',
      (meter) => ({ alarmconfig: meter.alarms.map((a) => ({ ...a })) }),
      502,
    ),
    meterRoute(
      'POST',
      '/alarms/configuration',
      (meter, _params, body) => {
        const config = requireBody(body).alarmconfig;
        if (!isObject(config) || !isInt(config.id, 1, 25)) throw invalid();
        const keys = Object.keys(config);
        if (keys.length === 1) {
          meter.alarms[config.id - 1] = { id: config.id };
          return SUCCESS;
        }
        const { quantity, onthreshold, offthreshold, ondelay, offdelay, log, output } = config;
        if (
          !isInt(quantity, 1, 255) ||
          !G13MeterModel.storable('ac', quantity) ||
          typeof onthreshold !== 'number' ||
          typeof offthreshold !== 'number' ||
          !isInt(ondelay, 0, 86400) ||
          !isInt(offdelay, 0, 86400) ||
          typeof log !== 'boolean' ||
          !isInt(output, 0, 4)
        )
          throw invalid();
        // Prior IO configuration is required to drive an output (manual 6.3.53).
        if (output > 0 && meter.ioConfig[output - 1] !== 'alarm_out')
          throw invalid('Output is not configured as alarm output.');
        const alarm: G13AlarmConfig = {
          id: config.id,
          quantity,
          onthreshold,
          offthreshold,
          ondelay,
          offdelay,
          log,
          output,
        };
        meter.alarms[config.id - 1] = alarm;
        return SUCCESS;
      },
      502,
    ),
    meterRoute('GET', '/io', (meter) => ({
      iostatus: meter.ioConfig.map((channel, index) =>
        channel === 'input'
          ? {
              currentstate: meter.ioState[index],
              storedstate: meter.ioStored[index],
              counter: meter.ioCounter[index],
            }
          : { currentstate: meter.outputState(index + 1) },
      ),
    })),
    meterRoute('POST', '/io', (meter, _params, body) => {
      const list = requireBody(body).iostatus;
      if (!Array.isArray(list) || list.length === 0 || list.length > 4) throw invalid();
      // Validate every transaction before applying any (the device aborts at the first bad one).
      for (const entry of list) {
        if (!isObject(entry) || !isInt(entry.port, 1, 4)) throw invalid();
        const channel = meter.ioConfig[entry.port - 1];
        if ('currentstate' in entry) {
          if (!isInt(entry.currentstate, 0, 1) || channel !== 'communication_out')
            throw invalid(`Port ${entry.port} is not a communication output.`);
        } else if ('reset' in entry) {
          if (!Array.isArray(entry.reset) || channel !== 'input')
            throw invalid(`Port ${entry.port} is not an input.`);
        } else throw invalid();
      }
      for (const entry of list as Json[]) {
        const index = (entry.port as number) - 1;
        if (typeof entry.currentstate === 'number') meter.ioState[index] = entry.currentstate;
        if (Array.isArray(entry.reset)) {
          if (entry.reset.includes('storedstate')) meter.ioStored[index] = 0;
          if (entry.reset.includes('counter')) meter.ioCounter[index] = 0;
        }
      }
      meter.advance();
      return SUCCESS;
    }),
    meterRoute('GET', '/io/configuration', (meter) => ({ ioconfig: [...meter.ioConfig] })),
    meterRoute('POST', '/io/configuration', (meter, _params, body) => {
      const list = requireBody(body).ioconfig;
      if (!Array.isArray(list) || list.length === 0 || list.length > 4) throw invalid();
      if (!list.every((code) => code === 0xff || (isInt(code, 0, 6) && IO_CHANNEL_CODES[code] !== undefined)))
        throw invalid();
      (list as number[]).forEach((code, index) => {
        if (code !== 0xff) meter.ioConfig[index] = IO_CHANNEL_CODES[code];
      });
      return SUCCESS;
    }),
    meterRoute(
      'GET',
      '/previousvalues/configuration',
      (meter) => ({
        interval: meter.pvInterval,
        ...(meter.pvInterval === 'weekly' ? { weekday: meter.pvWeekday } : {}),
        pvconfig: [...meter.pvConfig],
      }),
      502,
    ),
    meterRoute(
      'POST',
      '/previousvalues/configuration',
      (meter, _params, body) => {
        const request = requireBody(body);
        const { interval, weekday, pvconfig } = request;
        if (interval !== 'daily' && interval !== 'weekly' && interval !== 'monthly') throw invalid();
        if (weekday !== undefined && !isInt(weekday, 1, 7)) throw invalid();
        if (
          !Array.isArray(pvconfig) ||
          pvconfig.length === 0 ||
          pvconfig.length > 50 ||
          !pvconfig.every((id) => isInt(id, 1, 255) && G13MeterModel.storable('pv', id))
        )
          throw invalid();
        meter.configurePreviousValues(interval, weekday ?? 1, pvconfig as number[]);
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'DELETE',
      '/previousvalues',
      (meter) => {
        meter.clearPreviousValues();
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'GET',
      `/previousvalues(?:/${DATE}(?:/${DATE})?)?`,
      (meter, params) => {
        const range = parseRange(params, 100);
        let items = selectRange(meter.previousValues(), (s) => s.time, range);
        // At most 100 snapshots per answer; ask again from the last one for more.
        if (range.from !== undefined) items = items.slice(0, 100);
        const quantities = meter.pvConfig;
        return {
          mapping: quantities.map((q) => G13MeterModel.quantityMapping(q)),
          interval: meter.pvInterval,
          items: items.map((snapshot) => [
            ...quantities.map((q) => {
              const index = snapshot.quantities.indexOf(q);
              return index < 0 ? ['0', '0.000'] : [String(snapshot.status), fixed(snapshot.values[index], 3)];
            }),
            { time: formatG13DateTime(snapshot.time) },
          ]),
        };
      },
      502,
    ),
    meterRoute(
      'GET',
      '/loadprofiles/configuration',
      (meter) => ({ lpconfig: meter.lpConfig.map((c) => [...c]) }),
      502,
    ),
    meterRoute(
      'POST',
      '/loadprofiles/configuration',
      (meter, _params, body) => {
        const list = requireBody(body).lpconfig;
        if (!Array.isArray(list) || list.length === 0 || list.length > 8) throw invalid();
        let total = 0;
        for (const entry of list) {
          if (!Array.isArray(entry) || entry.length !== 3) throw invalid();
          const [interval, quantity, count] = entry as unknown[];
          if (!LP_INTERVALS.includes(interval as number)) throw invalid('Invalid interval.');
          if (
            !isInt(quantity, 1, 255) ||
            !G13MeterModel.storable('lp', quantity) ||
            !meter.measures(quantity)
          )
            throw invalid('Invalid quantity.');
          if (!isInt(count, 1, LP_TOTAL_ITEMS)) throw invalid();
          total += count;
        }
        if (total > LP_TOTAL_ITEMS) throw invalid(`Sum of item counts exceeds ${LP_TOTAL_ITEMS}.`);
        meter.configureLoadProfile(list as Array<[number, number, number]>);
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'DELETE',
      '/loadprofiles(?:/(\\d))?',
      (meter, [channel]) => {
        meter.clearLoadProfile(channel === undefined ? undefined : Number(channel));
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'GET',
      `/loadprofiles/(\\d+)(?:/${DATE}(?:/${DATE})?)?`,
      (meter, [channelText, ...rest]) => {
        const channel = Number(channelText);
        const config = meter.lpConfig[channel - 1];
        if (!config) throw invalid('Invalid channel.');
        const range = parseRange(rest, config[2]);
        const items = selectRange(meter.loadProfile(channel), (i) => i.time, range);
        return {
          mapping: G13MeterModel.quantityMapping(config[1]),
          items: items.map((i) => [i.status, formatG13DateTime(i.time), Number(i.value.toFixed(3))]),
        };
      },
      502,
    ),
    meterRoute(
      'GET',
      '/demand/configuration',
      (meter) => ({
        dmc: meter.demandConfig.map((c) => [...c]),
        interval: [...meter.demandInterval],
        period: meter.demandPeriod,
        ...(meter.demandPeriod === 'weekly' ? { weekday: meter.demandWeekday } : {}),
      }),
      502,
    ),
    meterRoute(
      'POST',
      '/demand/configuration',
      (meter, _params, body) => {
        const { dmc, interval, period, weekday } = requireBody(body);
        const valid = [60, 120, 180, 300, 600, 900, 1800, 3600];
        if (!Array.isArray(dmc) || dmc.length === 0 || dmc.length > 50) throw invalid();
        for (const entry of dmc) {
          if (!Array.isArray(entry) || entry.length !== 2) throw invalid();
          if (!isInt(entry[0], 1, 255) || !G13MeterModel.storable('dm', entry[0])) throw invalid();
          if (![1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15].includes(entry[1] as number)) throw invalid();
        }
        if (
          !Array.isArray(interval) ||
          interval.length !== 2 ||
          !valid.includes(interval[0] as number) ||
          !valid.includes(interval[1] as number)
        )
          throw invalid();
        if ((interval[1] as number) > (interval[0] as number))
          throw invalid('Sub interval exceeds interval.');
        if (period !== 'daily' && period !== 'weekly' && period !== 'monthly') throw invalid();
        if (weekday !== undefined && !isInt(weekday, 1, 7)) throw invalid();
        meter.configureDemand(
          dmc as Array<[number, number]>,
          interval as [number, number],
          period,
          weekday ?? 1,
        );
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'DELETE',
      '/demand',
      (meter) => {
        meter.clearDemand();
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'GET',
      `/demand(?:/${DATE}(?:/${DATE})?)?`,
      (meter, params) => {
        const range = parseRange(params, 500);
        const records = selectRange(meter.demandRecords(), (r) => r.time, range);
        return {
          mapping: meter.demandConfig.map(([q]) => G13MeterModel.quantityMapping(q)),
          items: records.map((record) => [
            ...record.channels.map((c) => [
              '1',
              fixed(c.value, 0),
              formatG13DateTime(c.at),
              String(((c.code - 1) % 4) + 1),
            ]),
            { time: formatG13DateTime(record.time) },
          ]),
        };
      },
      502,
    ),
    meterRoute('GET', '/tariff', (meter) => {
      if (meter.tariffSource === 2)
        return {
          tariff: meter.currentTariff(meter.meterNow()),
          source: 2,
          inputconfig: [...meter.inputConfig],
        };
      if (meter.tariffSource === 1) return { tariff: meter.communicationTariff, source: 1 };
      const now = meter.meterNow();
      const season = meter.seasonAt(now);
      return {
        daytype: meter.dayProfileAt(now) ?? 0,
        season: season ? meter.seasonProfiles.indexOf(season) + 1 : 0,
        tariff: meter.currentTariff(now),
        source: 0,
      };
    }),
    meterRoute('POST', '/tariff', (meter, _params, body) => {
      const { tariff, source, inputconfig } = requireBody(body);
      if (source !== undefined && !isInt(source, 0, 2)) throw invalid();
      const newSource = (source ?? meter.tariffSource) as 0 | 1 | 2;
      if (tariff !== undefined && (!isInt(tariff, 1, 4) || newSource !== 1))
        throw invalid('Tariff source must be Communication to set the tariff.');
      if (
        inputconfig !== undefined &&
        (!Array.isArray(inputconfig) || newSource !== 2 || !inputconfig.every((v) => isInt(v, 1, 4)))
      )
        throw invalid();
      meter.tariffSource = newSource;
      if (typeof tariff === 'number') meter.communicationTariff = tariff;
      if (Array.isArray(inputconfig)) meter.inputConfig = inputconfig;
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/dayprofiles', (meter) => ({
      dayprofiles: [...meter.dayProfiles.values()]
        .sort((a, b) => a.profile - b.profile)
        .map((p) => ({ actions: p.actions.map((a) => [...a]), profile: p.profile })),
    })),
    meterRoute('POST', '/tariff/dayprofiles', (meter, _params, body) => {
      const { actions, profile } = requireBody(body);
      if (!isInt(profile, 1, 16)) throw invalid('Invalid day profile id.');
      if (!Array.isArray(actions) || actions.length === 0 || actions.length > 10) throw invalid();
      for (const action of actions) {
        if (!Array.isArray(action) || !isInt(action[0], 1, 12) || typeof action[1] !== 'string')
          throw invalid();
        if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(action[1])) throw invalid('Invalid start time.');
      }
      const sorted = (actions as Array<[number, string]>)
        .map((a): [number, string] => [a[0], a[1]])
        .sort((a, b) => toMinutes(a[1]) - toMinutes(b[1]));
      const dayProfile: G13DayProfile = { profile, actions: sorted };
      meter.dayProfiles.set(profile, dayProfile);
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/weekprofiles', (meter) => ({
      weekprofiles: meter.weekProfiles.map((w) => ({ dayid: [...w.dayid], profile: w.profile })),
    })),
    meterRoute('POST', '/tariff/weekprofiles', (meter, _params, body) => {
      const list = requireBody(body).weekprofiles;
      if (!Array.isArray(list) || list.length === 0) throw invalid();
      const updates: G13WeekProfile[] = [];
      for (const entry of list) {
        if (!isObject(entry) || typeof entry.profile !== 'string' || entry.profile.length > 30)
          throw invalid();
        const dayid = entry.dayid;
        if (
          !Array.isArray(dayid) ||
          dayid.length !== 7 ||
          !dayid.every((d) => isInt(d, 1, 16) && meter.dayProfiles.has(d))
        )
          throw invalid('Unknown day profile.');
        updates.push({ profile: entry.profile, dayid: dayid as number[] });
      }
      const names = new Set([...meter.weekProfiles.map((w) => w.profile), ...updates.map((u) => u.profile)]);
      if (names.size > 4) throw invalid('At most 4 week profiles.');
      for (const update of updates) {
        const index = meter.weekProfiles.findIndex((w) => w.profile === update.profile);
        if (index >= 0) meter.weekProfiles[index] = update;
        else meter.weekProfiles.push(update);
      }
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/seasonprofiles', (meter) => ({
      seasonprofiles: meter.seasonProfiles.map((s) => ({ ...s })),
    })),
    meterRoute('POST', '/tariff/seasonprofiles', (meter, _params, body) => {
      const list = requireBody(body).seasonprofiles;
      if (!Array.isArray(list) || list.length === 0) throw invalid();
      const updates: G13SeasonProfile[] = [];
      for (const entry of list) {
        if (!isObject(entry) || typeof entry.profile !== 'string' || entry.profile.length > 30)
          throw invalid();
        if (
          !isInt(entry.month, 1, 12) ||
          !(isInt(entry.day, 1, 31) || entry.day === 254 || entry.day === 255)
        )
          throw invalid();
        if (
          typeof entry.weekprofile !== 'string' ||
          !meter.weekProfiles.some((w) => w.profile === entry.weekprofile)
        )
          throw invalid('Unknown week profile.');
        updates.push({
          day: entry.day,
          month: entry.month,
          profile: entry.profile,
          weekprofile: entry.weekprofile,
        });
      }
      for (const update of updates) {
        const index = meter.seasonProfiles.findIndex((s) => s.profile === update.profile);
        if (index >= 0) meter.seasonProfiles[index] = update;
        else meter.seasonProfiles.push(update);
      }
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/specialdayprofiles', (meter) => ({
      specialdayprofiles: meter.specialDays.map((s) => ({
        date: { ...s.date },
        dayprofile: s.dayprofile,
        profile: s.profile,
      })),
    })),
    meterRoute('POST', '/tariff/specialdayprofiles', (meter, _params, body) => {
      const { profile, dayprofile, date } = requireBody(body);
      if (!isInt(profile, 1, 50) || !isInt(dayprofile, 1, 16) || !meter.dayProfiles.has(dayprofile))
        throw invalid();
      if (
        !isObject(date) ||
        !isInt(date.year, 1970, 65535) ||
        !isInt(date.month, 1, 255) ||
        !isInt(date.day, 1, 255) ||
        !isInt(date.week ?? 255, 1, 255)
      )
        throw invalid();
      const entryDate = {
        year: date.year,
        month: date.month,
        week: (date.week as number | undefined) ?? 255,
        day: date.day,
      };
      const same = meter.specialDays.find(
        (s) =>
          s.date.year === entryDate.year && s.date.month === entryDate.month && s.date.day === entryDate.day,
      );
      if (same) {
        same.dayprofile = dayprofile;
        return SUCCESS;
      }
      if (meter.specialDays.length >= 50) throw invalid('At most 50 special days.');
      const taken = meter.specialDays.some((s) => s.profile === profile);
      const special: G13SpecialDay = {
        profile: taken ? Math.max(...meter.specialDays.map((s) => s.profile)) + 1 : profile,
        dayprofile,
        date: entryDate,
      };
      meter.specialDays.push(special);
      return SUCCESS;
    }),
  ];
}
