/**
 * Command fan-out: one UDIL transaction (aux_relay_operations, time_synchronization) over N meters behind
 * simulated G13 gateways, from the request to every TRANSACTION_STATUS row at status_level 5; against the
 * raw limits of BullMQ and of conditional single-row updates on the same Redis and database.
 *
 *   npm run bench:fanout -- --n 1000,10000 [--per-gateway 100] [--latency 20] [--max-in-flight 2]
 *        [--worker-concurrency 200] [--workers 1] [--commands aux_relay_operations,time_synchronization]
 *        [--runs 1] [--raw-jobs 20000] [--raw-rows 10000] [--profile] [--tls] [--accept-only] [--no-results]
 *
 * --raw-jobs 0 (or --raw-rows 0) skips the raw limits (with 0 jobs the BullMQ measurement waited forever).
 *
 * --workers n starts n worker processes (each with WORKER_CONCURRENCY); --accept-only starts no fleet and
 * no worker: the api alone accepts the command (gateways registered at a closed port), which measures the
 * acceptance and the api's memory without the fan-out sharing the cores (nothing queues the device jobs),
 * and the CPU the database's backends spent on it (PostgreSQL CPU).
 */
import { Client, QueryResultRow } from 'pg';
import { startG13Fleet } from '../apps/simulator/src/g13/g13-fleet';
import { formatUdilDatetime } from '../libs/udil/src/udil-datetime';
import { bullmqNoop, conditionalUpdates } from './raw-limits';
import { WORKER_NODE_OPTIONS } from '../apps/worker/src/node-options';
import {
  databaseCpu,
  databaseCpuSince,
  LOG_DIR,
  Row,
  appendResults,
  benchPrefix,
  commandLine,
  createBenchDatabase,
  dropRedisPrefix,
  flag,
  freePort,
  listArg,
  loadNow,
  machineFacts,
  markdownTable,
  numberArg,
  printTable,
  provision,
  redisInfo,
  round,
  serviceEnvironment,
  sleep,
  startService,
  udilKey,
  waitForHttp,
} from './support';

const sizes = listArg('n', ['1000', '10000']).map(Number);
const commands = listArg('commands', ['aux_relay_operations', 'time_synchronization']);
const perGateway = numberArg('per-gateway', 100);
const latencyMs = numberArg('latency', 20);
const maxInFlight = numberArg('max-in-flight', 2);
const workerConcurrency = numberArg('worker-concurrency', 200);
const runs = numberArg('runs', 1);
const rawJobs = numberArg('raw-jobs', 20000);
const rawRows = numberArg('raw-rows', 10000);
const tls = flag('tls');
/**
 * `--worker-node-args=--a,--b=1`: Node options of the worker processes (e.g. V8's heap settings) instead of
 * the ones it runs with in production (WORKER_NODE_OPTIONS); `--worker-node-args=` for none.
 */
const workerNodeArgs = listArg('worker-node-args', [...WORKER_NODE_OPTIONS]).filter(
  (option) => option !== '',
);
const workerCount = numberArg('workers', 1);
const acceptOnly = flag('accept-only');
const ZONE = 'Asia/Karachi';

interface RunOutcome {
  acceptMs: number;
  level5Seconds: number;
  complete: number;
  failed: number;
  /** Per row, level 1 → level 5 (time a job spends on its meter, gateway queueing included). */
  rowP50Ms: number;
  rowP99Ms: number;
  /** From the row's insert to the first row at level 1. */
  firstStartMs: number;
  /** From the request to every job in the queue (udil_transactions.queued_at). */
  queuedMs: number;
}

async function runTransaction(
  base: string,
  key: string,
  db: Client,
  command: string,
  devices: string[],
  timeoutMs: number,
): Promise<RunOutcome> {
  const transactionid = `bench-${command.slice(0, 8)}-${devices.length}-${Date.now()}`;
  const body = new URLSearchParams({
    global_device_id: JSON.stringify(devices),
    request_datetime: formatUdilDatetime(new Date(), ZONE),
  });
  if (command === 'aux_relay_operations') body.set('relay_operate', '0');
  const started = Date.now();
  const response = await fetch(`${base}/${command}`, {
    method: 'POST',
    headers: { privatekey: key, transactionid, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const answer = (await response.json()) as { status?: string; message?: string };
  const acceptMs = Date.now() - started;
  if (answer.status !== '1')
    throw new Error(`${command} was not accepted: ${JSON.stringify(answer).slice(0, 300)}`);
  const deadline = started + timeoutMs;
  const queuedMs = async () => {
    const { rows } = await db.query<{ queued_at: Date | null }>(
      `SELECT queued_at FROM public.udil_transactions WHERE transactionid = $1`,
      [transactionid],
    );
    return rows[0]?.queued_at ? rows[0].queued_at.getTime() - started : NaN;
  };
  // No worker: nothing queues the device jobs (a worker does, behind the answer).
  if (acceptOnly)
    return {
      acceptMs,
      level5Seconds: NaN,
      complete: 0,
      failed: 0,
      rowP50Ms: NaN,
      rowP99Ms: NaN,
      firstStartMs: NaN,
      queuedMs: NaN,
    };
  let last = { complete: 0, failed: 0, lastAt: null as Date | null };
  /** The harness's own progress queries, how many and how long the client waited for them (printed). */
  const counted = { queries: 0, ms: 0 };
  const polled = { queries: 0, ms: 0 };
  const timed = async <T extends QueryResultRow>(tally: typeof counted, sql: string) => {
    const sent = performance.now();
    const result = await db.query<T>(sql, [transactionid]);
    tally.queries += 1;
    tally.ms += performance.now() - sent;
    return result.rows;
  };
  const count = async () => {
    const [row] = await timed<{ complete: string; failed: string; last_at: Date | null }>(
      counted,
      `SELECT count(*) FILTER (WHERE status_level = 5 AND indv_status = 1) AS complete,
              count(*) FILTER (WHERE indv_status = 2 OR request_cancelled = 1) AS failed,
              max(status_5_datetime) AS last_at
         FROM udil.transaction_status WHERE transactionid = $1`,
    );
    last = { complete: Number(row.complete), failed: Number(row.failed), lastAt: row.last_at };
  };
  // Whether a row of the transaction is still pending: one row found through the reconciler's partial index
  // (rows neither finished nor cancelled), where counting the transaction's rows read all of them. The count
  // runs for the progress line every 10 s and once at the end.
  const pending = async () =>
    (
      await timed(
        polled,
        `SELECT 1 FROM udil.transaction_status
          WHERE transactionid = $1 AND indv_status = 0 AND request_cancelled = 0 AND status_level < 5
          ORDER BY command_receiving_datetime LIMIT 1`,
      )
    ).length > 0;
  let reported = Date.now();
  while (Date.now() < deadline) {
    if (!(await pending())) {
      await count();
      if (last.complete + last.failed >= devices.length) break;
    }
    if (Date.now() - reported > 10000) {
      reported = Date.now();
      await count();
      console.log(
        `  ${command} N=${devices.length}: ${last.complete} at level 5 after ${round((Date.now() - started) / 1000, 1)} s`,
      );
    }
    // The time to level 5 is read from the rows' own stamps, not from when this loop sees the end: the loop
    // only has to stop. Counting the transaction's rows every 2 s cost 5.6 s of PostgreSQL per 100 000-meter
    // relay (61 counts of ≈ 92 ms, 8 % of PostgreSQL's CPU in the run, on the cores the fan-out runs on); the
    // check for a pending row and a count every 10 s cost 2.6 s of the client's waiting at 0.5 s (printed).
    await sleep(devices.length >= 10000 ? 1000 : 100);
  }
  if (last.complete + last.failed < devices.length) await count();
  console.log(
    `  progress queries: ${polled.queries} pending checks (${Math.round(polled.ms)} ms), ${counted.queries} counts (${Math.round(counted.ms)} ms)`,
  );
  const level5Seconds =
    last.complete === devices.length && last.lastAt ? (last.lastAt.getTime() - started) / 1000 : NaN;
  const { rows: detail } = await db.query<{ p50: number; p99: number; first1: number }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM status_5_datetime - status_1_datetime)) * 1000 AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM status_5_datetime - status_1_datetime)) * 1000 AS p99,
            extract(epoch FROM min(status_1_datetime) - min(command_receiving_datetime)) * 1000 AS first1
       FROM udil.transaction_status WHERE transactionid = $1`,
    [transactionid],
  );
  return {
    acceptMs,
    level5Seconds,
    complete: last.complete,
    failed: last.failed,
    rowP50Ms: Number(detail[0].p50),
    rowP99Ms: Number(detail[0].p99),
    firstStartMs: Number(detail[0].first1),
    queuedMs: await queuedMs(),
  };
}

/** The simulated fleet runs in this process: its CPU is this process's (the polling loop is negligible). */
function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

async function main(): Promise<void> {
  const facts = await machineFacts();
  const maxN = Math.max(...sizes);
  const gateways = Math.ceil(maxN / perGateway);
  console.log(
    `Fan-out benchmark, load ${facts.load}: N = ${sizes.join(', ')}; ${gateways} G13 gateways × ${perGateway} meters`,
  );

  const database = await createBenchDatabase('fanout');
  const prefix = benchPrefix('fanout');
  const fleetStart = Date.now();
  // Accept-only: gateways at a port nothing listens on (the api never talks to them), same serials.
  const fleet = acceptOnly
    ? {
        gateways: Array.from({ length: gateways }, (_, g) => ({
          url: 'http://127.0.0.1:9',
          username: 'hes',
          password: 'unused',
          certificateFingerprintSha256: undefined,
          serials: Array.from({ length: perGateway }, (_, m) => String(3100000000 + g * perGateway + m)),
        })),
        stop: () => Promise.resolve(),
      }
    : await startG13Fleet({
        gateways,
        metersPerGateway: perGateway,
        tls,
        latencyMs,
        historyDays: 0,
      });
  if (!acceptOnly) console.log(`  fleet up in ${round((Date.now() - fleetStart) / 1000, 1)} s`);
  const rows: Row[] = [];
  const raw: Row[] = [];
  let rawNoop = NaN;
  let rawUpdates = NaN;
  try {
    const devices = await provision(
      database.url,
      fleet.gateways.map((g, i) => ({
        name: `bench-g13-${i + 1}`,
        endpoint: g.url,
        username: g.username,
        password: g.password,
        fingerprint: g.certificateFingerprintSha256,
        serials: g.serials,
      })),
      maxInFlight,
    );
    const db = new Client({ connectionString: database.url });
    await db.connect();
    try {
      for (const n of sizes) {
        for (let run = 1; run <= runs; run++) {
          const port = await freePort();
          const env = serviceEnvironment(database, prefix, port, {
            WORKER_CONCURRENCY: String(workerConcurrency),
            TRANSACTION_ATTEMPTS: '5',
            TRANSACTION_BACKOFF_MS: '1000',
            RECONCILE_INTERVAL_SECONDS: '600',
          });
          const profileArgs = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${LOG_DIR}/profiles`] : [];
          const api = startService('api', env, profileArgs);
          const workers = Array.from({ length: acceptOnly ? 0 : workerCount }, () =>
            startService('worker', env, [...profileArgs, ...workerNodeArgs]),
          );
          const workerCpu = () => workers.reduce((sum, w) => sum + w.cpuSeconds(), 0);
          const base = `http://127.0.0.1:${port}`;
          try {
            await waitForHttp(`${base}/health`, api);
            for (const worker of workers) await waitForHttp(`${base}/health/worker`, worker, 90000);
            const key = await udilKey(base);
            for (const command of commands) {
              const cpuBefore = {
                api: api.cpuSeconds(),
                worker: workerCpu(),
                sim: process.cpuUsage(),
              };
              const load = loadNow();
              const databaseBefore = await databaseCpu(db);
              const outcome = await runTransaction(
                base,
                key,
                db,
                command,
                devices.slice(0, n),
                (120 + n / 50) * 1000,
              );
              // Accept-only: the acceptance's own statements (nothing else runs against the database). Else the
              // api's and worker's backends over the whole command (a pool's backend closed meanwhile is lost).
              const databaseSeconds = await databaseCpuSince(db, databaseBefore);
              const row: Row = {
                command,
                N: n,
                run,
                'accept (ms)': outcome.acceptMs,
                'queued (s)': round(outcome.queuedMs / 1000, 1),
                'to level 5 (s)': acceptOnly
                  ? '–'
                  : Number.isNaN(outcome.level5Seconds)
                    ? `not reached (${outcome.complete} done, ${outcome.failed} failed)`
                    : round(outcome.level5Seconds, 1),
                'meters/s': Number.isNaN(outcome.level5Seconds) ? '–' : round(n / outcome.level5Seconds),
                'row L1→L5 p50/p99 (ms)': `${round(outcome.rowP50Ms)} / ${round(outcome.rowP99Ms)}`,
                'api CPU (s)': round(api.cpuSeconds() - cpuBefore.api, 2),
                'PostgreSQL CPU (s)': round(databaseSeconds, acceptOnly ? 2 : 1),
                'worker CPU (s)': round(workerCpu() - cpuBefore.worker, 1),
                'worker CPU per meter (ms)': round(((workerCpu() - cpuBefore.worker) * 1000) / n, 2),
                'simulator CPU (s)': round(cpuSeconds(process.cpuUsage(cpuBefore.sim)), 1),
                'load at start': load,
              };
              rows.push(row);
              console.log(`  ${JSON.stringify(row)}`);
            }
            rows
              .filter((r) => r.N === n && r.run === run)
              .forEach((r) => {
                r['api peak RSS (MB)'] = round(api.peakRssMb());
                r['worker peak RSS (MB)'] = workers.map((w) => round(w.peakRssMb())).join(' / ') || '–';
              });
          } finally {
            await api.stop();
            for (const worker of workers) await worker.stop();
          }
        }
      }
    } finally {
      await db.end();
    }

    // Raw limits, same Redis and same database, api and worker stopped (`--raw-jobs 0` or `--raw-rows 0`: none).
    const rawRuns = acceptOnly || rawJobs <= 0 || rawRows <= 0 ? 0 : 2;
    if (rawRuns > 0) console.log('  raw limits…');
    for (let i = 0; i < rawRuns; i++) {
      const noop = await bullmqNoop(prefix, rawJobs, workerConcurrency);
      const updates = await conditionalUpdates(database.url, rawRows, 20);
      raw.push({
        run: i + 1,
        'BullMQ addBulk (jobs/s)': round(noop.addPerSecond),
        [`BullMQ no-op add+process, concurrency ${noop.concurrency} (jobs/s)`]: round(noop.endToEndPerSecond),
        'conditional single-row updates, 20 connections (updates/s)': round(updates.perSecond),
      });
      rawNoop = Math.max(Number.isNaN(rawNoop) ? 0 : rawNoop, noop.endToEndPerSecond);
      rawUpdates = Math.max(Number.isNaN(rawUpdates) ? 0 : rawUpdates, updates.perSecond);
    }
  } finally {
    await fleet.stop();
    dropRedisPrefix(prefix);
    await database.drop();
  }

  for (const row of rows) {
    const rate = Number(row['meters/s']);
    row['% of no-op jobs/s'] =
      Number.isFinite(rate) && Number.isFinite(rawNoop) ? `${round((100 * rate) / rawNoop, 1)} %` : '–';
    row['% of raw updates/s (5 per meter)'] =
      Number.isFinite(rate) && Number.isFinite(rawUpdates)
        ? `${round((100 * 5 * rate) / rawUpdates, 1)} %`
        : '–';
  }
  printTable('Fan-out', rows);
  printTable('Raw limits (same Redis, same database)', raw);
  const redis = redisInfo('memory');
  const settings =
    (acceptOnly
      ? `Settings: accept only (no fleet, no worker): ${gateways} gateways × ${perGateway} meters registered, ` +
        `the api alone as a child process, LOG_LEVEL ${process.env.LOG_LEVEL ?? 'warn'}. `
      : `Settings: ${gateways} simulated G13 gateways × ${perGateway} meters, ${tls ? 'HTTPS' : 'plain HTTP'}, ` +
        `latency ${latencyMs} ms per answer, max_in_flight ${maxInFlight} per gateway, ${workerCount} worker process(es) ` +
        `× WORKER_CONCURRENCY ${workerConcurrency}, TRANSACTION_SLICE_SIZE ${process.env.TRANSACTION_SLICE_SIZE ?? '100 (default)'}, LOG_LEVEL ${process.env.LOG_LEVEL ?? 'warn'}; simulator in the ` +
        `benchmark process, api and worker(s) as child processes. `) +
    `Redis used_memory_peak ${redis.used_memory_peak_human ?? '?'}.`;
  if (!flag('no-results')) {
    appendResults('Fan-out', facts, commandLine('bench:fanout'), [
      settings,
      markdownTable(rows),
      'Raw limits in the same run:',
      markdownTable(raw),
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
