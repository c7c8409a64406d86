import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  DEFAULT_MPCB_TIME_ZONE,
  MpcbDataRow,
  MpcbFormatError,
  MpcbResponseFlags,
  digestKeyMatches,
  headerTimestamp,
  openUploadPackage,
  parseHeaderTimestamp,
  readAuthorizationHeader,
} from '@hes/mpcb';

/**
 * A simulator of the MPCB OCEMS central server (Open API): every route, the Authorization digest check
 * (site key, registered software version, timestamp within 15 minutes), zip/CSV decryption and validation,
 * the instruction flags, configurations and calibration sequences, and what each site sent, for inspection.
 */

export interface SimulatedSite {
  siteId: string;
  siteKey: string;
  softwareVersionId: string;
  /** When given, only these monitoring ids are accepted. */
  monitoringIds?: string[];
}

export interface MpcbCentralSimulatorOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Path prefix of the routes (default /mpcb); /MPCBServer is accepted too, as the document uses both. */
  basePath?: string;
  /** Zone of the Timestamp header's wall-clock time (default Asia/Kolkata). */
  timeZone?: string;
  /** Largest difference between the digest's timestamp and the server's time (default 900 s). */
  timestampToleranceSeconds?: number;
  /** Oldest reading realtimeUpload accepts (default 120 s: "delay of max 2 min"). */
  realtimeMaxDelaySeconds?: number;
  sites?: SimulatedSite[];
  /** The server's clock (tests share a fake one with the client). */
  now?: () => Date;
  /** Delay before every answer, ms. */
  latencyMs?: number;
}

export type SimulatorRoute =
  | 'realtimeUpload'
  | 'delayedUpload'
  | 'getConfig'
  | 'uploadConfig'
  | 'completedConfig'
  | 'getCalibrationConfig'
  | 'updateCalibrationConfig'
  | 'uploadDiagnosticInfo';

export type FlagName = keyof MpcbResponseFlags;

export interface ReceivedUpload {
  route: 'realtime' | 'delayed';
  siteId: string;
  monitoringId: string;
  zipName: string;
  dataFileName: string;
  timestamp: string;
  rows: MpcbDataRow[];
  receivedAt: Date;
}

export interface ReceivedDocument {
  route: SimulatorRoute;
  siteId: string;
  monitoringId: string;
  body: Record<string, unknown>;
  receivedAt: Date;
}

export interface RequestRecord {
  route: SimulatorRoute | 'unknown';
  siteId: string | null;
  httpStatus: number;
  /** Why a request was refused (null when it succeeded). */
  reason: string | null;
  at: Date;
}

export interface MpcbCentralSimulatorHandle {
  /** http://host:port */
  url: string;
  /** url + basePath: the client's MPCB_BASE_URL. */
  baseUrl: string;
  port: number;
  stop(): Promise<void>;
  /** Stops listening (new connections see ECONNREFUSED); uploads in flight still get their answers; state is kept. */
  goDown(): Promise<void>;
  /** Listens again on the same port. */
  comeUp(): Promise<void>;
  isUp(): boolean;
  addSite(site: SimulatedSite): void;
  setSoftwareVersion(siteId: string, softwareVersionId: string): void;
  raiseFlag(siteId: string, monitoringId: string, flag: FlagName): void;
  flags(siteId: string, monitoringId: string): MpcbResponseFlags;
  /** The getConfig answer (without status) for a unit; raising ConfigurationDownloadFlag is separate. */
  setConfiguration(siteId: string, monitoringId: string, configuration: Record<string, unknown>): void;
  /** The getCalibrationConfig answer's `calibration` object; `type` limits it to one CalibrationType. */
  setCalibration(
    siteId: string,
    monitoringId: string,
    calibration: Record<string, unknown>,
    type?: 'Scheduled' | 'Immediate',
  ): void;
  uploads(siteId?: string): ReceivedUpload[];
  /** Every row received from a site, in arrival order. */
  rows(siteId: string): MpcbDataRow[];
  /** Rows received more than once (same monitoring unit, analyser, parameter and timestamp). */
  duplicates(siteId: string): MpcbDataRow[];
  documents(route?: SimulatorRoute): ReceivedDocument[];
  requests(): RequestRecord[];
}

const ROUTES: Record<string, SimulatorRoute> = {
  realtimeupload: 'realtimeUpload',
  delayedupload: 'delayedUpload',
  getconfig: 'getConfig',
  uploadconfig: 'uploadConfig',
  completedconfig: 'completedConfig',
  getcalibrationconfig: 'getCalibrationConfig',
  updatecalibrationconfig: 'updateCalibrationConfig',
  uploaddiagnosticinfo: 'uploadDiagnosticInfo',
  uploaddiagnosticsinfo: 'uploadDiagnosticInfo',
};

const MAX_BODY_BYTES = 20 * 1024 * 1024;

class Refusal extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: Record<string, unknown>,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const authenticationFailure = (reason: string) =>
  new Refusal(401, { status: 'Failed', statusMessage: 'Authentication Failure' }, reason);
const uploadFailure = (message: string, httpStatus = 400) =>
  new Refusal(httpStatus, { status: 'Failed', statusMessage: message }, message);

function noFlags(): MpcbResponseFlags {
  return {
    configurationDownload: false,
    configurationUpdate: false,
    remoteCalibrationUpdate: false,
    diagnosticUpdate: false,
  };
}

function flagText(value: boolean): string {
  return value ? 'True' : 'False';
}

function rowKey(row: MpcbDataRow): string {
  return [row.monitoringUnitId, row.analyzerId, row.parameterId, row.unixTimestamp].join('\u0000');
}

export async function startMpcbCentralSimulator(
  options: MpcbCentralSimulatorOptions = {},
): Promise<MpcbCentralSimulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const basePath = `/${(options.basePath ?? '/mpcb').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const timeZone = options.timeZone ?? DEFAULT_MPCB_TIME_ZONE;
  const tolerance = (options.timestampToleranceSeconds ?? 900) * 1000;
  const realtimeMaxDelay = (options.realtimeMaxDelaySeconds ?? 120) * 1000;
  const now = options.now ?? (() => new Date());
  const latency = options.latencyMs ?? 0;

  const sites = new Map<string, SimulatedSite>();
  for (const site of options.sites ?? []) sites.set(site.siteId, { ...site });
  const flagState = new Map<string, MpcbResponseFlags>();
  const configurations = new Map<string, Record<string, unknown>>();
  const calibrations = new Map<
    string,
    { calibration: Record<string, unknown>; type?: 'Scheduled' | 'Immediate' }
  >();
  const uploads: ReceivedUpload[] = [];
  const documents: ReceivedDocument[] = [];
  const requests: RequestRecord[] = [];
  const serverConfigLastUpdatedTime = headerTimestamp(now(), timeZone);

  const unitKey = (siteId: string, monitoringId: string) => `${siteId}\u0000${monitoringId}`;
  const flagsOf = (siteId: string, monitoringId: string): MpcbResponseFlags => {
    const key = unitKey(siteId, monitoringId);
    let flags = flagState.get(key);
    if (!flags) {
      flags = noFlags();
      flagState.set(key, flags);
    }
    return flags;
  };

  /** The site whose key decrypts the digest into its own site id and key. */
  const authenticate = (request: IncomingMessage): SimulatedSite => {
    const timestampHeader = request.headers['timestamp'];
    const authorization = request.headers['authorization'];
    if (typeof timestampHeader !== 'string' || !timestampHeader)
      throw authenticationFailure('no Timestamp header');
    if (typeof authorization !== 'string' || !authorization)
      throw authenticationFailure('no Authorization header');
    for (const site of sites.values()) {
      let digest;
      try {
        digest = readAuthorizationHeader(authorization, site.siteKey);
      } catch {
        continue;
      }
      if (digest.siteId !== site.siteId || !digestKeyMatches(digest, site.siteKey)) continue;
      if (digest.timestamp !== timestampHeader.trim())
        throw authenticationFailure(
          `digest timestamp ${digest.timestamp} is not the Timestamp header ${timestampHeader}`,
        );
      if (digest.softwareVersionId !== site.softwareVersionId)
        throw authenticationFailure(
          `software version ${digest.softwareVersionId} is not the registered ${site.softwareVersionId}`,
        );
      let stamp: Date;
      try {
        stamp = parseHeaderTimestamp(digest.timestamp, timeZone);
      } catch (error) {
        throw authenticationFailure((error as Error).message);
      }
      const skew = Math.abs(now().getTime() - stamp.getTime());
      if (skew > tolerance)
        throw authenticationFailure(
          `timestamp ${digest.timestamp} is ${Math.round(skew / 1000)} s from the server time (limit ${tolerance / 1000} s)`,
        );
      return site;
    }
    throw authenticationFailure('the digest does not decrypt with the key of any registered site');
  };

  const checkMonitoringId = (
    site: SimulatedSite,
    monitoringId: unknown,
    failure: (m: string) => Refusal,
  ): string => {
    if (typeof monitoringId !== 'string' || !monitoringId.trim()) throw failure('monitoringid is required');
    if (site.monitoringIds && !site.monitoringIds.includes(monitoringId))
      throw failure(`monitoring id ${monitoringId} is not registered for ${site.siteId}`);
    return monitoringId;
  };

  const readBody = (request: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          reject(uploadFailure('the request is larger than 20 MB', 413));
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      request.on('end', () => resolve(Buffer.concat(chunks)));
      request.on('error', reject);
    });

  const handleUpload = async (
    route: 'realtimeUpload' | 'delayedUpload',
    site: SimulatedSite,
    request: IncomingMessage,
    body: Buffer,
  ): Promise<Record<string, unknown>> => {
    const contentType = request.headers['content-type'] ?? '';
    if (!/^multipart\/form-data/i.test(contentType)) throw uploadFailure('No files were uploaded.');
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw uploadFailure('No files were uploaded.');
    }
    const files: File[] = [];
    form.forEach((value) => {
      if (typeof value !== 'string') files.push(value);
    });
    if (files.length === 0) throw uploadFailure('No files were uploaded.');
    if (files.length > 1) throw uploadFailure('Only one zip file may be uploaded per request.');
    const file = files[0];
    if (!file.name.toLowerCase().endsWith('.zip')) throw uploadFailure(`${file.name} is not a .zip file`);
    let opened;
    try {
      opened = openUploadPackage(Buffer.from(await file.arrayBuffer()), site.siteId, site.siteKey);
    } catch (error) {
      if (error instanceof MpcbFormatError) throw uploadFailure(error.message);
      throw error;
    }
    if (opened.dataFileName.replace(/\.csv$/, '') !== file.name.replace(/\.zip$/i, ''))
      throw uploadFailure(
        `zip ${file.name} does not carry the data file of the same name (${opened.dataFileName})`,
      );
    checkMonitoringId(site, opened.monitoringId, (m) => uploadFailure(m));
    const serverTime = now().getTime();
    for (const row of opened.rows) {
      const readingTime = row.unixTimestamp * 1000;
      if (readingTime > serverTime + tolerance)
        throw uploadFailure(`reading of ${new Date(readingTime).toISOString()} is in the future`);
      if (route === 'realtimeUpload' && serverTime - readingTime > realtimeMaxDelay)
        throw uploadFailure(
          `Delayed data must be uploaded through delayedUpload: the reading of ${new Date(readingTime).toISOString()} is ${Math.round(
            (serverTime - readingTime) / 1000,
          )} s old`,
        );
    }
    uploads.push({
      route: route === 'realtimeUpload' ? 'realtime' : 'delayed',
      siteId: site.siteId,
      monitoringId: opened.monitoringId,
      zipName: file.name,
      dataFileName: opened.dataFileName,
      timestamp: String(request.headers['timestamp']),
      rows: opened.rows,
      receivedAt: now(),
    });
    const flags = flagsOf(site.siteId, opened.monitoringId);
    return {
      status: 'Success',
      serverConfigLastUpdatedTime,
      ConfigurationDownloadFlag: flagText(flags.configurationDownload),
      ConfigurationUpdateFlag: flagText(flags.configurationUpdate),
      RemoteCalibrationUpdateFlag: flagText(flags.remoteCalibrationUpdate),
      DiagnosticUpdateFlag: flagText(flags.diagnosticUpdate),
      statusMessage: 'file uploaded successfully.',
    };
  };

  const handleJson = (
    route: Exclude<SimulatorRoute, 'realtimeUpload' | 'delayedUpload'>,
    site: SimulatedSite,
    body: Buffer,
  ): Record<string, unknown> => {
    const failures: Record<typeof route, Record<string, unknown>> = {
      getConfig: { status: 'Failed' },
      uploadConfig: {
        status: 'Failed',
        configUpdateStatus: 'Failed to receive Site Configuration. Please retry',
      },
      completedConfig: { status: 'Failed', calibrationUpdateStatus: 'Failed to update Configuration status' },
      getCalibrationConfig: { status: 'Failed. Calibration configuration not available' },
      updateCalibrationConfig: {
        status: 'Failed',
        calibrationUpdateStatus: 'Failed to update calibration configuration status',
      },
      uploadDiagnosticInfo: {
        status: 'Failed',
        diagnosticUpdateStatus: 'Failed to receive Site diagnostics. Please retry',
      },
    };
    const fail = (reason: string, httpStatus = 400) => new Refusal(httpStatus, failures[route], reason);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw fail('the body is not JSON');
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw fail('the body is not a JSON object');
    const doc = json as Record<string, unknown>;
    const details = (doc.SiteDetails && typeof doc.SiteDetails === 'object' ? doc.SiteDetails : {}) as Record<
      string,
      unknown
    >;
    const siteId = doc.siteId ?? details.siteId;
    if (siteId !== site.siteId)
      throw fail(`siteId ${String(siteId)} is not the authenticated site ${site.siteId}`, 403);
    const monitoringId = checkMonitoringId(
      site,
      doc.monitoringid ?? doc.monitoringId ?? details.monitoringId,
      (m) => fail(m),
    );
    const flags = flagsOf(site.siteId, monitoringId);
    const key = unitKey(site.siteId, monitoringId);
    const record = () =>
      documents.push({ route, siteId: site.siteId, monitoringId, body: doc, receivedAt: now() });
    const calibrationType = (): 'Scheduled' | 'Immediate' => {
      const type = typeof doc.CalibrationType === 'string' ? doc.CalibrationType.trim().toLowerCase() : '';
      if (type === 'scheduled') return 'Scheduled';
      if (type === 'immediate') return 'Immediate';
      throw fail('CalibrationType must be "Scheduled" or "Immediate"');
    };
    switch (route) {
      case 'getConfig': {
        const configuration = configurations.get(key);
        if (!configuration) throw fail(`no configuration for ${site.siteId}/${monitoringId}`, 404);
        record();
        return { status: 'Success', serverConfigLastUpdatedTime, ...configuration };
      }
      case 'uploadConfig': {
        if (doc.Command !== 'ConfigFetch') throw fail('Command must be "ConfigFetch"');
        if (!Array.isArray(doc.CollectorDetails)) throw fail('CollectorDetails must be an array');
        if (!doc.AcquisitionSystemDetails || typeof doc.AcquisitionSystemDetails !== 'object')
          throw fail('AcquisitionSystemDetails is required');
        const sensors = Object.keys(doc).filter((k) => /^Sensor[A-Z]+$/.test(k));
        if (sensors.length === 0) throw fail('the configuration lists no Sensor');
        for (const name of sensors) {
          const sensor = doc[name] as Record<string, unknown>;
          for (const field of [
            'monitoringId',
            'parameterId',
            'parameterName',
            'analyzerId',
            'MeasurementUnit',
          ])
            if (typeof sensor?.[field] !== 'string' || !sensor[field])
              throw fail(`${name}.${field} is required`);
        }
        record();
        flags.configurationUpdate = false;
        return { status: 'Success', configUpdateStatus: 'Received Site configuration successfully' };
      }
      case 'completedConfig': {
        if (String(doc.ConfigUpdated).toLowerCase() !== 'true') throw fail('ConfigUpdated must be "True"');
        record();
        flags.configurationDownload = false;
        return { status: 'Success', calibrationUpdateStatus: 'Server and Site Configuration Synchronized' };
      }
      case 'getCalibrationConfig': {
        const type = calibrationType();
        const entry = calibrations.get(key);
        if (!entry || (entry.type && entry.type !== type))
          throw fail(`no ${type} calibration for ${site.siteId}/${monitoringId}`, 404);
        record();
        const stamp = headerTimestamp(now(), timeZone);
        return {
          status: 'Success',
          calibration: entry.calibration,
          serverCalibrationLastUpdatedTime: stamp,
          siteCalibrationLastUpdatedTime: stamp,
          lastCalibratedOn: '',
          siteId: site.siteId,
        };
      }
      case 'updateCalibrationConfig': {
        calibrationType();
        record();
        flags.remoteCalibrationUpdate = false;
        return { status: 'Success', calibrationUpdateStatus: 'Server and Site Calibration Synchronized' };
      }
      case 'uploadDiagnosticInfo': {
        if (doc.Command !== 'DiagnosticFetch') throw fail('Command must be "DiagnosticFetch"');
        if (!Array.isArray(doc.diagnosticJson) || doc.diagnosticJson.length === 0)
          throw fail('diagnosticJson must be a non-empty array');
        for (const entry of doc.diagnosticJson as Record<string, unknown>[]) {
          if (typeof entry?.analyserId !== 'string' || !Array.isArray(entry.diagnostics))
            throw fail('each diagnosticJson entry needs analyserId and a diagnostics array');
          for (const item of entry.diagnostics as Record<string, unknown>[])
            if (typeof item?.key !== 'string' || !('value' in item) || typeof item.category !== 'string')
              throw fail(`a diagnostic of ${entry.analyserId} lacks key, value or category`);
        }
        record();
        flags.diagnosticUpdate = false;
        return { status: 'Success', diagnosticUpdateStatus: 'Received Site diagnostics successfully' };
      }
    }
  };

  const routeOf = (path: string): SimulatorRoute | null => {
    const prefixes = [basePath, '/MPCBServer'].map((p) => p.toLowerCase());
    const lower = path.toLowerCase().replace(/\/+$/, '');
    for (const prefix of prefixes) {
      if (!lower.startsWith(`${prefix}/`)) continue;
      const rest = lower.slice(prefix.length + 1);
      if (rest in ROUTES) return ROUTES[rest];
    }
    return null;
  };

  const send = (response: ServerResponse, status: number, body: Record<string, unknown>) => {
    const text = JSON.stringify(body);
    setTimeout(() => {
      response.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      response.end(text);
    }, latency);
  };

  const control = async (request: IncomingMessage, response: ServerResponse, path: string): Promise<void> => {
    const parts = path.split('/').filter(Boolean).slice(1);
    try {
      if (request.method === 'GET' && parts[0] === 'requests' && parts.length === 1)
        return send(response, 200, { requests });
      if (request.method === 'GET' && parts[0] === 'sites' && parts[2] === 'uploads' && parts.length === 3)
        return send(response, 200, {
          uploads: uploads.filter((u) => u.siteId === decodeURIComponent(parts[1])),
        });
      if (request.method === 'GET' && parts[0] === 'documents' && parts.length === 1)
        return send(response, 200, { documents });
      if (request.method !== 'POST' || parts.length !== 1)
        throw new Error(`no control route ${request.method} ${path}`);
      const doc = JSON.parse((await readBody(request)).toString('utf8')) as Record<string, unknown>;
      const siteId = String(doc.siteId);
      const monitoringId = String(doc.monitoringId);
      if (!sites.has(siteId)) throw new Error(`the simulator knows no site ${siteId}`);
      const objectOf = (name: string): Record<string, unknown> => {
        const value = doc[name];
        if (!value || typeof value !== 'object' || Array.isArray(value))
          throw new Error(`${name} must be an object`);
        return value as Record<string, unknown>;
      };
      switch (parts[0]) {
        case 'flags': {
          const flag = doc.flag as FlagName;
          if (
            ![
              'configurationDownload',
              'configurationUpdate',
              'remoteCalibrationUpdate',
              'diagnosticUpdate',
            ].includes(flag)
          )
            throw new Error(
              'flag must be configurationDownload, configurationUpdate, remoteCalibrationUpdate or diagnosticUpdate',
            );
          flagsOf(siteId, monitoringId)[flag] = true;
          return send(response, 200, { flags: flagsOf(siteId, monitoringId) });
        }
        case 'configuration':
          configurations.set(unitKey(siteId, monitoringId), objectOf('configuration'));
          return send(response, 200, { status: 'Success' });
        case 'calibration': {
          const type = doc.type === 'Scheduled' || doc.type === 'Immediate' ? doc.type : undefined;
          calibrations.set(unitKey(siteId, monitoringId), { calibration: objectOf('calibration'), type });
          return send(response, 200, { status: 'Success' });
        }
        default:
          throw new Error(`no control route ${path}`);
      }
    } catch (error) {
      request.resume();
      send(response, 400, { status: 'Failed', statusMessage: (error as Error).message });
    }
  };

  const server: Server = createServer((request, response) => {
    // Down means down, for connections a client kept alive too: server.close() only refuses new ones and
    // closes the idle ones, so a connection busy at goDown() would otherwise be served on for as long as
    // the client keeps it busy (and close() would never finish). It is ended once its answer is out, and a
    // request that still arrives on it is cut.
    if (!up) {
      request.socket.destroy();
      return;
    }
    response.once('finish', () => {
      if (!up) request.socket.end();
    });
    const path = new URL(request.url ?? '/', 'http://simulator').pathname;
    if (path.startsWith('/_simulator/')) {
      void control(request, response, path);
      return;
    }
    const route = routeOf(path);
    const log = (siteId: string | null, httpStatus: number, reason: string | null) =>
      requests.push({ route: route ?? 'unknown', siteId, httpStatus, reason, at: now() });
    if (!route) {
      log(null, 404, `no route ${path}`);
      request.resume();
      send(response, 404, { status: 'Failed', statusMessage: `Unknown route ${path}` });
      return;
    }
    if (request.method !== 'POST') {
      log(null, 405, `${request.method} is not POST`);
      request.resume();
      send(response, 405, { status: 'Failed', statusMessage: 'Only POST is accepted' });
      return;
    }
    let siteId: string | null = null;
    void (async () => {
      try {
        const site = authenticate(request);
        siteId = site.siteId;
        const body = await readBody(request);
        const answer =
          route === 'realtimeUpload' || route === 'delayedUpload'
            ? await handleUpload(route, site, request, body)
            : handleJson(route, site, body);
        log(siteId, 200, null);
        send(response, 200, answer);
      } catch (error) {
        request.resume();
        if (error instanceof Refusal) {
          log(siteId, error.httpStatus, error.reason);
          send(response, error.httpStatus, error.body);
        } else {
          log(siteId, 500, (error as Error).message);
          send(response, 500, { status: 'Failed', statusMessage: 'Internal server error' });
        }
      }
    })();
  });

  let up = false;
  let port = options.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        up = true;
        resolve();
      });
    });
  /**
   * Stops listening. `graceful`: uploads in flight still get their answers (an outage that starts between
   * two requests); otherwise every connection is cut, answered or not (a crash: an upload it recorded may
   * go unanswered, and the site sends it again).
   */
  const close = (graceful: boolean) =>
    new Promise<void>((resolve) => {
      if (!up) return resolve();
      up = false;
      server.close(() => resolve());
      if (graceful) server.closeIdleConnections();
      else server.closeAllConnections();
    });
  await listen();
  const url = `http://${host}:${port}`;

  const requireSite = (siteId: string): SimulatedSite => {
    const site = sites.get(siteId);
    if (!site) throw new Error(`the simulator knows no site ${siteId}`);
    return site;
  };

  return {
    url,
    baseUrl: `${url}${basePath}`,
    port,
    stop: () => close(false),
    goDown: () => close(true),
    comeUp: listen,
    isUp: () => up,
    addSite: (site) => {
      sites.set(site.siteId, { ...site });
    },
    setSoftwareVersion: (siteId, softwareVersionId) => {
      requireSite(siteId).softwareVersionId = softwareVersionId;
    },
    raiseFlag: (siteId, monitoringId, flag) => {
      requireSite(siteId);
      flagsOf(siteId, monitoringId)[flag] = true;
    },
    flags: (siteId, monitoringId) => ({ ...flagsOf(siteId, monitoringId) }),
    setConfiguration: (siteId, monitoringId, configuration) => {
      requireSite(siteId);
      configurations.set(unitKey(siteId, monitoringId), configuration);
    },
    setCalibration: (siteId, monitoringId, calibration, type) => {
      requireSite(siteId);
      calibrations.set(unitKey(siteId, monitoringId), { calibration, type });
    },
    uploads: (siteId) => uploads.filter((u) => siteId === undefined || u.siteId === siteId),
    rows: (siteId) => uploads.filter((u) => u.siteId === siteId).flatMap((u) => u.rows),
    duplicates: (siteId) => {
      const seen = new Set<string>();
      const repeated: MpcbDataRow[] = [];
      for (const row of uploads.filter((u) => u.siteId === siteId).flatMap((u) => u.rows)) {
        const key = rowKey(row);
        if (seen.has(key)) repeated.push(row);
        seen.add(key);
      }
      return repeated;
    },
    documents: (route) => documents.filter((d) => route === undefined || d.route === route),
    requests: () => [...requests],
  };
}
