/**
 * API latency and throughput, measured with autocannon from a second process against the api as a child
 * process: its trivial route (`GET /health/live`) and an unrouted GET (the whole middleware stack, no
 * handler), transaction_status of a 1 000-meter transaction, a day of load profile of one meter, MCS
 * collection-request acceptance. In the same run, against reference servers (bench/servers.ts, each a child
 * process): bare Express and bare Fastify, a Nest application with nothing but the trivial route on each
 * adapter, and the two reads' query plus serialisation alone on bare Express (the database's rendering the
 * api uses, and the JavaScript formatter it used before).
 *
 *   npm run bench:api -- [--connections 10] [--duration 10] [--runs 2] [--only name,…] [--profile] [--no-results]
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { formatUdilDatetime } from '../libs/udil/src/udil-datetime';
import {
  LOG_DIR,
  ROOT,
  Row,
  Service,
  BUILD,
  BENCH_MDM,
  appendResults,
  benchPrefix,
  commandLine,
  createBenchDatabase,
  databaseCpu,
  databaseCpuSince,
  dropRedisPrefix,
  arg,
  flag,
  freePort,
  listArg,
  machineFacts,
  markdownTable,
  numberArg,
  printTable,
  provision,
  round,
  serviceEnvironment,
  startProcess,
  startService,
  udilKey,
  waitForHttp,
} from './support';

const connections = numberArg('connections', 10);
const duration = numberArg('duration', 10);
const runs = numberArg('runs', 2);
/**
 * `--baseline <main.js>`: a second api from another build (e.g. the previous commit's
 * dist/bench/apps/api/src/main.js), on the same database, measured in the same run.
 */
const baselineScript = arg('baseline');
/** `--only a,b`: measure only the routes whose name contains one of these (the checks still run). */
const only = listArg('only', []);
/**
 * `--moving 0,10,100,1000`: rows of the 1 000-row transaction changed before each read in the "reads while rows
 * change" measurement (`--moving-reads` reads per count and api, after `--moving-warmup` reads of each api);
 * `--moving none` skips it.
 */
const movingCounts = listArg('moving', ['0', '10', '100', '1000'])
  .filter((count) => count !== 'none')
  .map(Number);
const movingReads = numberArg('moving-reads', 100);
/** Reads of each api before the measured ones (100 rows changed before each), so that its code is optimised. */
const movingWarmup = numberArg('moving-warmup', 200);
/**
 * `--large 100000`: a transaction of that many rows at level 5 (made in SQL), read whole `--large-reads` times
 * from each api one after another (its answer is larger than a kept answer may be: every read renders it).
 */
const largeRows = numberArg('large', 0);
const largeReads = numberArg('large-reads', 3);
const ZONE = 'Asia/Karachi';
const MCS_AUTH = { user: 'bench-master', password: 'bench-master-secret' };

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  throughput: { average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}

function autocannon(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
  idReplacement = false,
): Promise<AutocannonResult> {
  const args = ['-j', '-c', String(connections), '-d', String(duration), '-m', method];
  // [<id>] in the body becomes a fresh id per request (MCS requestReferences must be unique).
  if (idReplacement) args.push('-I');
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  if (body !== undefined) args.push('-b', body);
  args.push(url);
  return new Promise<AutocannonResult>((done, fail: (error: Error) => void) => {
    execFile(
      join(ROOT, 'node_modules/.bin/autocannon'),
      args,
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) return fail(new Error(`autocannon failed: ${error.message}`));
        try {
          done(JSON.parse(stdout) as AutocannonResult);
        } catch (parseError) {
          fail(parseError instanceof Error ? parseError : new Error(String(parseError)));
        }
      },
    );
  });
}

/** The targets' ratios, run by run: req/s of one route over another's. */
function ratioRows(results: Row[]): Row[] {
  const pairs: [string, string, string][] = [
    ['api trivial ÷ bare Express', 'trivial: api', 'bare Express'],
    ['Nest + Express ÷ bare Express', 'Nest + Express', 'bare Express'],
    ['Nest + Fastify ÷ bare Fastify', 'Nest + Fastify', 'bare Fastify'],
    ['bare Fastify ÷ bare Express', 'bare Fastify', 'bare Express'],
    ['Nest + Fastify ÷ Nest + Express', 'Nest + Fastify', 'Nest + Express'],
    [
      'api transaction_status ÷ its raw query + rendering',
      'POST /transaction_status',
      'raw transaction_status: query + rendering',
    ],
    [
      'api transaction_status ÷ raw query + JS formatter',
      'POST /transaction_status',
      'raw transaction_status: query + JS',
    ],
    [
      'api load_profile_data ÷ its raw query + rendering',
      'POST /load_profile_data',
      'raw load_profile_data: query + rendering',
    ],
    [
      'api load_profile_data ÷ raw query + JS formatter',
      'POST /load_profile_data',
      'raw load_profile_data: query + JS',
    ],
    [
      'api transaction_status ÷ baseline api',
      'POST /transaction_status',
      'baseline POST /transaction_status',
    ],
    ['api load_profile_data ÷ baseline api', 'POST /load_profile_data', 'baseline POST /load_profile_data'],
    [
      'api transaction_status ÷ api rendering every read',
      'POST /transaction_status',
      'rendering every read: POST /transaction_status',
    ],
    [
      'api load_profile_data ÷ api rendering every read',
      'POST /load_profile_data',
      'rendering every read: POST /load_profile_data',
    ],
    [
      'api rendering every read, transaction_status ÷ baseline api',
      'rendering every read: POST /transaction_status',
      'baseline POST /transaction_status',
    ],
    [
      'api rendering every read, load_profile_data ÷ baseline api',
      'rendering every read: POST /load_profile_data',
      'baseline POST /load_profile_data',
    ],
    ['api unrouted GET ÷ baseline api', 'api unrouted GET', 'baseline api unrouted GET'],
    ['api trivial ÷ baseline api', 'trivial: api', 'baseline trivial: api'],
    ['baseline api trivial ÷ bare Express', 'baseline trivial: api', 'bare Express'],
  ];
  const rows: Row[] = [];
  for (const run of new Set(results.map((r) => r.run))) {
    const of = (prefix: string) => results.find((r) => r.run === run && String(r.route).startsWith(prefix));
    for (const [ratio, top, bottom] of pairs) {
      const value = Number(of(top)?.['req/s']) / Number(of(bottom)?.['req/s']);
      // The same ratio from CPU time per request (less sensitive to what else runs on the machine).
      const cpu =
        Number(of(bottom)?.['server CPU per request (ms)']) /
        Number(of(top)?.['server CPU per request (ms)']);
      if (Number.isFinite(value))
        rows.push({ run, ratio, 'of req/s': round(value, 2), 'of CPU per request': round(cpu, 2) });
    }
  }
  return rows;
}

/**
 * transaction_status of a transaction polled while its rows move: before each read, `changed` rows of it
 * (chosen at random) get another response_data in one statement of this process (a worker's statements are
 * others'), then one read; reads one after another, so each sees the rows changed just before it. Per read:
 * the api's CPU, the CPU of the database's backends (this process's own connection, which makes the changes,
 * excluded) and the wall time.
 */
async function readsWhileRowsChange(
  db: Client,
  server: Service,
  url: string,
  headers: Record<string, string>,
  transactionid: string,
  changed: number,
  reads: number,
): Promise<{ apiMs: number; databaseMs: number; wallMs: number }> {
  let apiSeconds = 0;
  let databaseSeconds = 0;
  let wallMs = 0;
  for (let read = 0; read < reads; read++) {
    if (changed > 0)
      await db.query(
        `UPDATE udil.transaction_status t SET response_data = 'output 1 set to 0 (read ' || $3 || ')'
           FROM (SELECT global_device_id FROM udil.transaction_status WHERE transactionid = $1
                  ORDER BY random() LIMIT $2) AS c
          WHERE t.transactionid = $1 AND t.global_device_id = c.global_device_id`,
        [transactionid, changed, read],
      );
    const apiBefore = server.cpuSeconds();
    const databaseBefore = await databaseCpu(db);
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers });
    const text = await response.text();
    wallMs += performance.now() - started;
    if (!response.ok || (changed > 0 && !text.includes(`(read ${read})`)))
      throw new Error(
        `${url}: read ${read} did not answer the rows changed before it (HTTP ${response.status})`,
      );
    databaseSeconds += await databaseCpuSince(db, databaseBefore);
    apiSeconds += server.cpuSeconds() - apiBefore;
  }
  return {
    apiMs: (1000 * apiSeconds) / reads,
    databaseMs: (1000 * databaseSeconds) / reads,
    wallMs: wallMs / reads,
  };
}

async function main(): Promise<void> {
  const facts = await machineFacts();
  console.log(`API benchmark, load ${facts.load}: ${connections} connections, ${duration} s per measurement`);
  const database = await createBenchDatabase('api');
  const prefix = benchPrefix('api');
  const results: Row[] = [];
  const ratios: Row[] = [];
  const moving: Row[] = [];
  const largeResults: Row[] = [];
  let api: Service | undefined;
  let baseline: Service | undefined;
  let rendering: Service | undefined;
  const references: Service[] = [];
  /** The process behind each base URL, for its CPU time per request. */
  const servers = new Map<string, Service>();
  const db = new Client({ connectionString: database.url });
  await db.connect();
  try {
    // 1 000 meters (behind one registered gateway that is never called: no worker runs).
    const serials = Array.from({ length: 1000 }, (_, i) => String(3_300_000_000 + i));
    const devices = await provision(
      database.url,
      [{ name: 'bench-api-gw', endpoint: 'http://127.0.0.1:9', username: 'u', password: 'p', serials }],
      2,
    );
    // Two days of quarter-hour load profile for every meter (192 000 rows), so one meter's day is a
    // real index lookup in a populated table.
    await db.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, "interval", active_energy_pos_tl,
          reactive_energy_pos_tl, voltage_phase_a, voltage_phase_b, voltage_phase_c, current_phase_a, current_phase_b,
          current_phase_c, average_pf, mdc_read_datetime)
       SELECT d.global_device_id, d.msn, t, 900, 1000 + extract(epoch FROM t - '2026-11-19')::numeric / 3600,
              300, 230.1, 229.8, 231.0, 4.2, 3.9, 5.1, 0.95, now()
         FROM public.devices d,
              generate_series('2026-11-19T00:00:00Z'::timestamptz, '2026-11-20T23:45:00Z', interval '15 minutes') AS t`,
    );
    await db.query(`VACUUM ANALYZE udil.load_profile_data`);

    const port = await freePort();
    const profileArgs = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${LOG_DIR}/profiles`] : [];
    const apiEnvironment = (apiPort: number) =>
      serviceEnvironment(database, prefix, apiPort, {
        MCS_USERNAME: MCS_AUTH.user,
        MCS_PASSWORD: MCS_AUTH.password,
        MCS_ALLOWED_CLIENTS: '127.0.0.1,::1',
        MCS_MAX_QUEUED: '100000000',
        MCS_MAX_QUEUED_PER_CLIENT: '100000000',
      });
    api = startService('api', apiEnvironment(port), profileArgs);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health`, api);
    servers.set(base, api);
    let baselineBase: string | undefined;
    if (baselineScript) {
      const baselinePort = await freePort();
      baseline = startProcess('baseline-api', baselineScript, [], apiEnvironment(baselinePort));
      baselineBase = `http://127.0.0.1:${baselinePort}`;
      await waitForHttp(`${baselineBase}/health`, baseline);
      servers.set(baselineBase, baseline);
    }
    // The same build with UDIL_READ_CACHE_MB=0: every read renders its rows (the api keeps answers by the
    // rows' version, and the benchmark asks for the same rows again and again).
    const renderingPort = await freePort();
    rendering = startProcess('api-rendering', join(BUILD, 'apps/api/src/main.js'), [], {
      ...apiEnvironment(renderingPort),
      UDIL_READ_CACHE_MB: '0',
    });
    const renderingBase = `http://127.0.0.1:${renderingPort}`;
    await waitForHttp(`${renderingBase}/health`, rendering);
    servers.set(renderingBase, rendering);
    const key = await udilKey(base);

    // One 1 000-meter transaction, accepted through the API, then brought to level 5 as a worker would.
    const transactionid = `bench-status-${Date.now()}`;
    const accepted = await fetch(`${base}/aux_relay_operations`, {
      method: 'POST',
      headers: { privatekey: key, transactionid, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        global_device_id: JSON.stringify(devices),
        request_datetime: formatUdilDatetime(new Date(), ZONE),
        relay_operate: '0',
      }),
    }).then((r) => r.json() as Promise<{ status: string }>);
    if (accepted.status !== '1') throw new Error('the 1 000-meter transaction was not accepted');
    // Datetimes spread as a fan-out of ~100 meters/s leaves them (each row 10 ms after the previous one,
    // levels 20 ms apart), not all equal: the answer formats every one of them.
    await db.query(
      `UPDATE udil.transaction_status t SET status_level = 5, indv_status = 1,
          status_1_datetime = t.command_receiving_datetime + o.i * interval '10 ms',
          status_2_datetime = t.command_receiving_datetime + o.i * interval '10 ms' + interval '20 ms',
          status_3_datetime = t.command_receiving_datetime + o.i * interval '10 ms' + interval '40 ms',
          status_4_datetime = t.command_receiving_datetime + o.i * interval '10 ms' + interval '60 ms',
          status_5_datetime = t.command_receiving_datetime + o.i * interval '10 ms' + interval '80 ms',
          response_data = 'output 1 set to 0'
         FROM (SELECT global_device_id, row_number() OVER (ORDER BY global_device_id) AS i
                 FROM udil.transaction_status WHERE transactionid = $1) o
        WHERE t.transactionid = $1 AND t.global_device_id = o.global_device_id`,
      [transactionid],
    );

    // The reference servers, idle while the others are measured.
    const [clientRow] = await db
      .query<{ id: string }>(`SELECT id FROM public.udil_clients WHERE username = $1`, [BENCH_MDM.username])
      .then((r) => r.rows);
    const reference = async (kind: string, env: NodeJS.ProcessEnv = {}): Promise<string> => {
      const referencePort = await freePort();
      const server = startProcess(kind, join(BUILD, 'bench/servers.js'), [kind, String(referencePort)], env);
      references.push(server);
      servers.set(`http://127.0.0.1:${referencePort}`, server);
      const url = `http://127.0.0.1:${referencePort}`;
      await waitForHttp(`${url}/health/live`, server);
      return url;
    };
    const bareExpress = await reference('express');
    const bareFastify = await reference('fastify');
    const nestExpress = await reference('nest-express');
    const nestFastify = await reference('nest-fastify');
    const raw = await reference('raw', {
      DATABASE_URL: database.url,
      TIME_ZONE: ZONE,
      BENCH_CLIENT_ID: clientRow.id,
      BENCH_TRANSACTIONID: transactionid,
      BENCH_DEVICE: devices[500],
      BENCH_FROM: '2026-11-20T00:00:00Z',
      BENCH_TO: '2026-11-20T23:59:59Z',
    });

    const routes: {
      name: string;
      /** Which kind of server answers (the api by default). */
      server?: 'api' | 'reference' | 'baseline';
      url: string;
      method: string;
      headers: Record<string, string>;
      body?: string;
      idReplacement?: boolean;
      check?: (status: number, body: Record<string, unknown>) => boolean;
    }[] = [
      { name: 'trivial: api GET /health/live', url: `${base}/health/live`, method: 'GET', headers: {} },
      {
        name: 'api unrouted GET (404, full middleware, no handler)',
        url: `${base}/bench-trivial`,
        method: 'GET',
        headers: {},
      },
      {
        name: 'bare Express GET /health/live',
        server: 'reference',
        url: `${bareExpress}/health/live`,
        method: 'GET',
        headers: {},
      },
      {
        name: 'bare Fastify GET /health/live',
        server: 'reference',
        url: `${bareFastify}/health/live`,
        method: 'GET',
        headers: {},
      },
      {
        name: 'Nest + Express, one route, GET /health/live',
        server: 'reference',
        url: `${nestExpress}/health/live`,
        method: 'GET',
        headers: {},
      },
      {
        name: 'Nest + Fastify, one route, GET /health/live',
        server: 'reference',
        url: `${nestFastify}/health/live`,
        method: 'GET',
        headers: {},
      },
      {
        name: 'POST /transaction_status, 1 000-meter transaction',
        url: `${base}/transaction_status`,
        method: 'POST',
        headers: { privatekey: key, transactionid },
      },
      {
        name: 'raw transaction_status: query + rendering (SQL), bare Express',
        server: 'reference',
        url: `${raw}/raw/transaction_status`,
        method: 'POST',
        headers: {},
      },
      {
        name: 'raw transaction_status: query + JS formatter + JSON.stringify, bare Express',
        server: 'reference',
        url: `${raw}/raw/transaction_status?formatter=js`,
        method: 'POST',
        headers: {},
      },
      {
        name: 'POST /load_profile_data, one meter, one day (96 rows)',
        url: `${base}/load_profile_data`,
        method: 'POST',
        headers: { privatekey: key, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          global_device_id: devices[500],
          start_datetime: formatUdilDatetime(new Date('2026-11-20T00:00:00Z'), ZONE),
          end_datetime: formatUdilDatetime(new Date('2026-11-20T23:59:59Z'), ZONE),
        }).toString(),
      },
      {
        name: 'raw load_profile_data: query + rendering (SQL), bare Express',
        server: 'reference',
        url: `${raw}/raw/load_profile_data`,
        method: 'POST',
        headers: {},
      },
      {
        name: 'raw load_profile_data: query + JS formatter + JSON.stringify, bare Express',
        server: 'reference',
        url: `${raw}/raw/load_profile_data?formatter=js`,
        method: 'POST',
        headers: {},
      },
      {
        name: 'POST /mcs/collection-request (acceptance: stored, then queued)',
        url: `${base}/mcs/collection-request`,
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${MCS_AUTH.user}:${MCS_AUTH.password}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          requestReference: 'bench-[<id>]',
          responseUrl: 'http://127.0.0.1:9/master',
          mpan: '12345',
          priority: 1,
          meterType: 'ABB_G13',
          remoteAddress: '10.2.34.4:3400',
          outstationAddress: '1',
          serialNumber: '12345678',
          password: 'AAAA0000',
          surveyDays: 1,
          surveyDate: '2026-11-20',
          adjustTime: false,
        }),
        idReplacement: true,
        check: (status, body) => status === 200 && typeof body.requestReference === 'string',
      },
    ];
    for (const name of ['POST /transaction_status', 'POST /load_profile_data']) {
      const route = routes.find((r) => r.name.startsWith(name));
      if (route)
        routes.push({
          ...route,
          name: `rendering every read: ${route.name}`,
          server: 'api',
          url: route.url.replace(base, renderingBase),
        });
    }
    if (baselineBase) {
      // The baseline's answers must be the api's, byte for byte (checked below).
      for (const name of [
        'trivial: api',
        'api unrouted GET',
        'POST /transaction_status',
        'POST /load_profile_data',
      ]) {
        const route = routes.find((r) => r.name.startsWith(name));
        if (route)
          routes.push({
            ...route,
            name: `baseline ${route.name}`,
            server: 'baseline',
            url: route.url.replace(base, baselineBase),
          });
      }
    }
    // Check every route answers what it should before measuring (the raw reads: the api's very data).
    const answers = new Map<string, string>();
    const texts = new Map<string, string>();
    for (const route of routes.filter((r) => r.method === 'POST')) {
      const response = await fetch(route.url, {
        method: route.method,
        headers: route.headers,
        body: route.idReplacement ? route.body?.replace('[<id>]', 'check') : route.body,
      });
      const text = await response.text();
      const parsed = JSON.parse(text) as unknown;
      const body = (Array.isArray(parsed) ? { data: parsed } : parsed) as Record<string, unknown> & {
        data?: unknown[];
      };
      console.log(`  ${route.name}: HTTP ${response.status}, ${text.slice(0, 100)}…`);
      const ok = route.check
        ? route.check(response.status, body)
        : response.ok && (body.data?.length ?? 0) > 0;
      if (!ok) throw new Error(`${route.name} did not answer as expected`);
      answers.set(route.name, JSON.stringify(body.data));
      texts.set(route.name, text);
    }
    for (const [name, text] of texts)
      for (const other of ['baseline ', 'rendering every read: '])
        if (name.startsWith(other) && texts.get(name.slice(other.length)) !== text)
          throw new Error(`${name}: the answer is not the api's, byte for byte`);
    for (const [read, rawRoutes] of [
      ['POST /transaction_status', ['raw transaction_status']],
      ['POST /load_profile_data', ['raw load_profile_data']],
    ] as const) {
      const api = [...answers].find(([name]) => name.startsWith(read))?.[1];
      for (const [name, data] of answers)
        if (rawRoutes.some((r) => name.startsWith(r)) && data !== api)
          throw new Error(`${name} does not answer the api's data`);
    }
    for (const route of routes.filter((r) => r.method === 'GET')) {
      const response = await fetch(route.url);
      console.log(`  ${route.name}: HTTP ${response.status}, ${(await response.text()).slice(0, 100)}`);
    }
    for (let run = 1; run <= runs; run++) {
      for (const route of routes) {
        if (only.length > 0 && !only.some((part) => route.name.includes(part))) continue;
        const server = servers.get(new URL(route.url).origin);
        const cpuBefore = server?.cpuSeconds() ?? NaN;
        const result = await autocannon(
          route.url,
          route.method,
          route.headers,
          route.body,
          route.idReplacement,
        );
        const row: Row = {
          run,
          route: route.name,
          'req/s': round(result.requests.average),
          'p50 (ms)': result.latency.p50,
          'p99 (ms)': result.latency.p99,
          'MB/s': round(result.throughput.average / 1e6, 1),
          'non-2xx': result.non2xx,
          errors: result.errors + result.timeouts,
          'server CPU (s)': round((server?.cpuSeconds() ?? NaN) - cpuBefore, 1),
          'server CPU per request (ms)': round(
            (1000 * ((server?.cpuSeconds() ?? NaN) - cpuBefore)) / result.requests.total,
            2,
          ),
        };
        results.push(row);
        console.log(`  ${JSON.stringify(row)}`);
      }
    }
    // transaction_status polled while its rows move: each api in turn, the same changes before each read.
    const movingApis: [string, Service, string][] = [
      ['api, kept answers', api, base],
      ['api, rendering every read', rendering, renderingBase],
      ...(baseline && baselineBase
        ? [['baseline api', baseline, baselineBase] as [string, Service, string]]
        : []),
    ];
    if (movingCounts.length > 0)
      for (const [, server, origin] of movingApis)
        await readsWhileRowsChange(
          db,
          server,
          `${origin}/transaction_status`,
          { privatekey: key, transactionid },
          transactionid,
          100,
          movingWarmup,
        );
    for (let run = 1; run <= runs; run++)
      for (const changed of movingCounts)
        for (const [name, server, origin] of movingApis) {
          const url = `${origin}/transaction_status`;
          const headers = { privatekey: key, transactionid };
          await fetch(url, { method: 'POST', headers }).then((response) => response.text());
          const cost = await readsWhileRowsChange(
            db,
            server,
            url,
            headers,
            transactionid,
            changed,
            movingReads,
          );
          const row: Row = {
            run,
            api: name,
            'rows changed before each read': changed,
            reads: movingReads,
            'api CPU per read (ms)': round(cost.apiMs, 2),
            'PostgreSQL CPU per read (ms)': round(cost.databaseMs, 2),
            'api + PostgreSQL (ms)': round(cost.apiMs + cost.databaseMs, 2),
            'wall per read (ms)': round(cost.wallMs, 1),
          };
          moving.push(row);
          console.log(`  ${JSON.stringify(row)}`);
        }
    if (largeRows > 0) {
      const large = `bench-large-${Date.now()}`;
      await db.query(
        `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, client_id, created_at)
         VALUES ($1, 'aux_relay_operations', $2, $3, now() - interval '1 hour')`,
        [large, 'f'.repeat(64), clientRow.id],
      );
      await db.query(
        `INSERT INTO udil.transaction_status (transactionid, msn, global_device_id, type, type_parameters,
            command_receiving_datetime, status_level, indv_status, status_1_datetime, status_2_datetime,
            status_3_datetime, status_4_datetime, status_5_datetime, response_data)
         SELECT $1, 3300000000 + i, 'large-' || lpad(i::text, 7, '0'), 'AUXR', 'relay_operate=0',
                now() - interval '30 minutes', 5, 1, now() - interval '29 minutes' + i * interval '1 ms',
                now() - interval '28 minutes' + i * interval '1 ms', now() - interval '27 minutes' + i * interval '1 ms',
                now() - interval '26 minutes' + i * interval '1 ms', now() - interval '25 minutes' + i * interval '1 ms',
                'output 1 set to 0'
           FROM generate_series(1, $2) AS i`,
        [large, largeRows],
      );
      await db.query(`VACUUM ANALYZE udil.transaction_status`);
      for (let run = 1; run <= runs; run++)
        for (const [name, server, origin] of movingApis) {
          const cost = await readsWhileRowsChange(
            db,
            server,
            `${origin}/transaction_status`,
            { privatekey: key, transactionid: large },
            large,
            0,
            largeReads,
          );
          const row: Row = {
            run,
            api: name,
            rows: largeRows,
            reads: largeReads,
            'api CPU per read (ms)': round(cost.apiMs),
            'PostgreSQL CPU per read (ms)': round(cost.databaseMs),
            'wall per read (ms)': round(cost.wallMs),
            'api peak RSS (MB)': round(server.peakRssMb()),
          };
          largeResults.push(row);
          console.log(`  ${JSON.stringify(row)}`);
        }
    }
    for (const row of moving) {
      const same = (name: string) =>
        moving.find(
          (other) =>
            other.run === row.run &&
            other.api === name &&
            other['rows changed before each read'] === row['rows changed before each read'],
        );
      const cost = (other: Row | undefined) => Number(other?.['api + PostgreSQL (ms)']);
      row['÷ rendering every read (CPU)'] = round(cost(same('api, rendering every read')) / cost(row), 2);
      if (baseline) row['÷ baseline api (CPU)'] = round(cost(same('baseline api')) / cost(row), 2);
    }
    const trivial = results.filter((r) => String(r.route).startsWith('trivial'));
    for (const row of results) {
      const floor = trivial.find((t) => t.run === row.run);
      if (floor)
        row['% of trivial req/s'] = `${round((100 * Number(row['req/s'])) / Number(floor['req/s']), 1)} %`;
    }
    ratios.push(...ratioRows(results));
    for (const row of results) row['api peak RSS (MB)'] = round(api.peakRssMb());
  } finally {
    await Promise.all(
      [...references, ...(baseline ? [baseline] : []), ...(rendering ? [rendering] : [])].map((server) =>
        server.stop(),
      ),
    );
    await api?.stop();
    await db.end();
    dropRedisPrefix(prefix);
    await database.drop();
  }
  printTable('API', results);
  printTable('API ratios (same run)', ratios);
  if (moving.length > 0)
    printTable('transaction_status while its rows change (reads one after another)', moving);
  if (largeResults.length > 0) printTable(`transaction_status of ${largeRows} rows`, largeResults);
  if (!flag('no-results')) {
    appendResults('API', facts, commandLine('bench:api'), [
      `autocannon ${connections} connections × ${duration} s per route, from a second process; api alone as a child process ` +
        `(no worker), LOG_LEVEL ${process.env.LOG_LEVEL ?? 'warn'}, plain HTTP on 127.0.0.1. Data: 1 000 meters, ` +
        `192 000 load-profile rows (2 days × 96), one 1 000-row transaction at level 5; MCS requests each with a fresh ` +
        `requestReference (autocannon -I), accepted and queued, never collected (no worker).`,
      markdownTable(results),
      'Ratios of req/s measured in the same run:',
      markdownTable(ratios),
      ...(moving.length > 0
        ? [
            `transaction_status of the 1 000-row transaction while its rows change: before each read, that many rows ` +
              `(at random) get another response_data in one statement; ${movingReads} reads one after another per ` +
              `count and api; CPU of the api and of the database's backends per read (ratios: the other's CPU ÷ this one's):`,
            markdownTable(moving),
          ]
        : []),
      ...(largeResults.length > 0
        ? [
            `transaction_status of a ${largeRows}-row transaction, read whole, one read after another:`,
            markdownTable(largeResults),
          ]
        : []),
    ]);
    console.log('\nAppended to bench/RESULTS.md');
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
