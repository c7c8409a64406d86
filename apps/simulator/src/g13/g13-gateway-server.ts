import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as selfsigned from 'selfsigned';
import { G13MeterModel, G13MeterOptions } from './g13-meter-model';
import { G13BadRequest, manualOnlyAnswer } from './g13-manual-only-meter';
import { COSEM, HttpError, Json, buildRoutes } from './resources';

export { formatG13DateTime, parseG13DateTime } from './resources';

/**
 * A protocol-faithful ABB G13 gateway (manual chapter 6): Basic authentication on every resource,
 * the 512-byte update payload limit, chunked GET answers, the {"status":"error","des":…} envelope,
 * /lasterror, and the meters behind it as G13MeterModel instances. This file is the HTTP plumbing
 * (TLS, Basic authentication, default-password mode, the payload limit, chunked answers, faults,
 * statistics, routing); the resources themselves are in ./resources, one module per family.
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
  /**
   * Load-profile items and event log entries: the oldest of each answer carries the manual's own example
   * time, `12:31:2327 17:3:9` (6.3.73), which is not a date-time.
   */
  garbleOldestItem?: boolean;
  /** The fault applies to this many more requests, then clears (undefined = until changed). */
  remaining?: number;
}

/** The load-profile example's time in the G13 manual (6.3.73): what a garbled item looks like. */
export const G13_MANUAL_GARBLED_TIME = '12:31:2327 17:3:9';

/** The answer with the oldest item of its load profile or event logs given the manual's garbled time. */
function garbleOldestItem(answer: Json): Json {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return answer;
  const record = answer as Record<string, unknown>;
  const items = record.items as unknown[][] | undefined;
  // Load-profile items [status, time, value], oldest first.
  if (Array.isArray(items) && Array.isArray(items[0]) && typeof items[0][1] === 'string') {
    const [status, , value] = items[0];
    return { ...record, items: [[status, G13_MANUAL_GARBLED_TIME, value], ...items.slice(1)] };
  }
  const garbled: Record<string, unknown> = { ...record };
  // Event logs, newest first.
  for (const log of ['system', 'quality', 'event'])
    if (Array.isArray(record[log]) && record[log].length > 0) {
      const entries = record[log] as Record<string, unknown>[];
      garbled[log] = [
        ...entries.slice(0, -1),
        { ...entries[entries.length - 1], datetime: G13_MANUAL_GARBLED_TIME },
      ];
    }
  return garbled;
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
  /**
   * Requests kept in the request log (`requests`): the newest this many of the statistics period (default
   * 100 000; older ones are dropped in batches of a tenth), so a simulator left running (the demo, a fleet
   * for days) does not grow without end.
   */
  requestLogLimit?: number;
}

/** Default of G13SimulatorOptions.requestLogLimit. */
export const G13_REQUEST_LOG_LIMIT = 100_000;

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
  /**
   * Every request answered in the statistics period, in order (method, path, status, request payload bytes):
   * the newest `requestLogLimit` of them at most.
   */
  readonly requests: G13RequestRecord[];
  /**
   * Most requests the gateway was handling at once since start (or resetStats): from the arrival of a
   * request's headers to the end of its answer (or the client giving up).
   */
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
const UNAUTHORIZED_PAGE =
  '<HTML>\n  <HEAD><TITLE>401 Unauthorized</TITLE></HEAD>\n  <BODY>\n    <H1>401 Unauthorized</H1>\n    Browser not authentication-capable or\n    authentication failed.\n  </BODY>\n</HTML>';

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
  const requestLogLimit = Math.max(1, options.requestLogLimit ?? G13_REQUEST_LOG_LIMIT);
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
    // A request is in hand until the gateway writes the end of its answer (or the client gives up): not
    // until the socket's write completes, which a busy event loop reports late, after the client has long
    // had the answer and sent its next request.
    let inHand = true;
    const doneWith = () => {
      if (!inHand) return;
      inHand = false;
      if (arrivedIn === period) inFlight -= 1;
    };
    const end = res.end.bind(res);
    res.end = ((...args: Parameters<typeof end>) => {
      doneWith();
      return end(...args);
    }) as typeof res.end;
    res.once('close', doneWith);
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
    const record = (status: number) => {
      log.push({ method, path: rawUrl, status, bytes: size });
      // Trimmed a tenth below the limit at a time: one splice per many requests, not one per request.
      if (log.length > requestLogLimit) log.splice(0, log.length - Math.floor(requestLogLimit * 0.9));
    };
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
    const faults = [gatewayFault, meterFault];
    if (faults.some((f) => f?.garbleOldestItem)) answer = garbleOldestItem(answer);
    const text = JSON.stringify(answer, null, 1);
    const headers = { Server: 'embOS/IP', 'Content-Type': 'application/json', Link: `/lasterror/${id}` };
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
