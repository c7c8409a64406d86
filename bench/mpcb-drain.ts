/**
 * MPCB backlog drain: the time the worker takes to deliver a 24-hour backlog of delayed readings of one site
 * (20 parameters × 8 640 ten-second acquisitions) to the MPCB central-server simulator; against the raw
 * limits of the three steps of its loop (read/mark in the database, build+encrypt+zip, post) in the same run.
 *
 *   npm run bench:mpcb -- [--hours 24] [--parameters 20] [--latency 0] [--runs 1] [--timeout 1800]
 *        [--batch-size n] [--batches-per-cycle n] [--transmission-seconds n] [--profile] [--label text] [--no-results]
 *
 * The backlog is what a 24-hour outage of the central server leaves behind: every reading acquired in those
 * 24 hours stored by MpcbReadingRepository.insert (the acquisition job's write path) and never sent
 * (`sent_at` NULL, `force_delayed` false), the last acquisition at the start of the run. The worker (a real
 * child process, MPCB_ENABLED=true) then finds the server up again: its transmission job sends the readings
 * of the last 100 s through realtimeUpload and the rest through delayedUpload, oldest first. The parameters
 * have no source mapping, so the worker's acquisition job adds nothing while the drain is measured.
 * `--batch-size`, `--batches-per-cycle`, `--transmission-seconds` set MPCB_DELAYED_BATCH_SIZE,
 * MPCB_DELAYED_BATCHES_PER_CYCLE, MPCB_TRANSMISSION_SECONDS of the worker (unset: the product's defaults).
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';
import { parseEnvironment } from '../libs/config/src/environment';
import { CredentialCipher } from '../libs/database/src/credential-cipher';
import { createDataSourceOptions } from '../libs/database/src/data-source-options';
import { MpcbCentralClient } from '../libs/mpcb/src/mpcb-central.client';
import { systemClock } from '../libs/mpcb/src/mpcb-clock';
import { linearise, qualityOf } from '../libs/mpcb/src/mpcb-acquisition.service';
import { MpcbReadingRepository, NewReading } from '../libs/mpcb/src/mpcb-reading.repository';
import { MpcbSettings, mpcbSettingsFromConfig } from '../libs/mpcb/src/mpcb-settings';
import { MpcbParameter, MpcbSiteRepository } from '../libs/mpcb/src/mpcb-site.repository';
import { MpcbDataRow, UploadPackage, buildUploadPackage } from '../libs/mpcb/src/mpcb-wire-format';
import {
  BenchDatabase,
  CREDENTIALS_KEY,
  LOG_DIR,
  Row,
  arg,
  benchPrefix,
  createBenchDatabase,
  dropRedisPrefix,
  flag,
  freePort,
  loadNow,
  machineFacts,
  markdownTable,
  numberArg,
  percentile,
  printTable,
  recordRun,
  round,
  runBenchmark,
  serviceEnvironment,
  sleep,
  startService,
} from './support';

const hours = numberArg('hours', 24);
const parameterCount = numberArg('parameters', 20);
const latencyMs = numberArg('latency', 0);
const runs = numberArg('runs', 1);
const timeoutSeconds = numberArg('timeout', 1800);
const ACQUISITION_SECONDS = 10;
const acquisitions = Math.round((hours * 3600) / ACQUISITION_SECONDS);
const total = acquisitions * parameterCount;

/** Worker settings changed from the product's defaults by options (none by default). */
const OVERRIDES = Object.fromEntries(
  (
    [
      ['batch-size', 'MPCB_DELAYED_BATCH_SIZE'],
      ['batches-per-cycle', 'MPCB_DELAYED_BATCHES_PER_CYCLE'],
      ['transmission-seconds', 'MPCB_TRANSMISSION_SECONDS'],
    ] as const
  )
    .filter(([option]) => arg(option) !== undefined)
    .map(([option, variable]) => [variable, String(arg(option))]),
);

const SITE = {
  siteId: 'bench_site',
  softwareVersionId: 'bench-1',
  siteKey: 'bench-site-key-0123456789abcdefghijklmnop',
  monitoringId: 'stack_1',
};

/** Parameters of a typical stack; beyond 20, generic ones. Five per analyser. */
const NAMED_PARAMETERS: [string, string, string][] = [
  ['pm', 'PM', 'mg/Nm3'],
  ['so2', 'SO2', 'mg/Nm3'],
  ['nox', 'NOx', 'mg/Nm3'],
  ['co', 'CO', 'mg/Nm3'],
  ['co2', 'CO2', 'pct'],
  ['o2', 'O2', 'pct'],
  ['hcl', 'HCl', 'mg/Nm3'],
  ['hf', 'HF', 'mg/Nm3'],
  ['nh3', 'NH3', 'mg/Nm3'],
  ['toc', 'TOC', 'mg/Nm3'],
  ['hg', 'Hg', 'ug/Nm3'],
  ['h2s', 'H2S', 'mg/Nm3'],
  ['cl2', 'Cl2', 'mg/Nm3'],
  ['voc', 'VOC', 'ppm'],
  ['opacity', 'Opacity', 'pct'],
  ['flow', 'Flow', 'Nm3/h'],
  ['velocity', 'Velocity', 'm/s'],
  ['temp', 'Temperature', 'degC'],
  ['pressure', 'Pressure', 'kPa'],
  ['moisture', 'Moisture', 'pct'],
];
const PARAMETERS_PER_ANALYSER = 5;

/** [parameterId, name, unit] of the parameter number p (from 0). */
function parameterDefinition(p: number): [string, string, string] {
  return NAMED_PARAMETERS[p] ?? [`param_${p + 1}`, `Param ${p + 1}`, 'ppm'];
}

/** The raw value of parameter p at acquisition i: deterministic, so what arrives can be checked. */
function rawValue(p: number, i: number): number {
  return Math.round((10 * (p + 1) + 5 * Math.sin(i / 60 + p)) * 100) / 100;
}

interface Provisioned {
  unitRef: string;
  analyserOf: Map<string, string>;
  parameters: MpcbParameter[];
}

/** One site, one monitoring unit, ⌈parameters / 5⌉ analysers: MpcbSiteRepository, as the demo provisions. */
async function provisionSite(dataSource: DataSource): Promise<Provisioned> {
  const sites = new MpcbSiteRepository(dataSource, new CredentialCipher(Buffer.from(CREDENTIALS_KEY, 'hex')));
  const site = await sites.createSite({ ...SITE, siteName: 'Bench site' });
  const unit = await sites.addMonitoringUnit(site.id, SITE.monitoringId, 'Emission');
  const analyserOf = new Map<string, string>();
  const parameters: MpcbParameter[] = [];
  let analyser = { id: '', analyzerId: '' };
  for (let p = 0; p < parameterCount; p++) {
    if (p % PARAMETERS_PER_ANALYSER === 0) {
      const number = p / PARAMETERS_PER_ANALYSER + 1;
      analyser = await sites.addAnalyser(unit.id, `analyser_${number}`, `Analyser ${number}`);
    }
    const [parameterId, parameterName, unitName] = parameterDefinition(p);
    // Without a source: the worker's acquisition job reads nothing while the backlog drains.
    const parameter = await sites.addParameter(analyser.id, {
      parameterId,
      parameterName,
      unit: unitName,
      coefficientA: p % 2 === 0 ? 1 : 1.05,
      coefficientB: p % 2 === 0 ? 0 : -0.2,
      channelNo: String(p % PARAMETERS_PER_ANALYSER),
    });
    parameters.push(parameter);
    analyserOf.set(parameter.id, analyser.analyzerId);
  }
  return { unitRef: unit.id, analyserOf, parameters };
}

/** 24 h of readings stored and never sent, through the acquisition job's write path (one hour per insert). */
async function insertBacklog(dataSource: DataSource, site: Provisioned, lastAt: Date): Promise<number> {
  const readings = new MpcbReadingRepository(dataSource);
  const perInsert = 3600 / ACQUISITION_SECONDS;
  let stored = 0;
  for (let first = 0; first < acquisitions; first += perInsert) {
    const rows: NewReading[] = [];
    for (let i = first; i < Math.min(acquisitions, first + perInsert); i++) {
      const readingTime = new Date(lastAt.getTime() - (acquisitions - 1 - i) * ACQUISITION_SECONDS * 1000);
      site.parameters.forEach((parameter, p) => {
        const raw = rawValue(p, i);
        const validated = linearise(raw, parameter.coefficientA, parameter.coefficientB);
        rows.push({
          parameterRef: parameter.id,
          monitoringUnitRef: site.unitRef,
          readingTime,
          analyzerId: site.analyserOf.get(parameter.id) ?? '',
          parameterId: parameter.parameterId,
          parameterName: parameter.parameterName,
          readingUnit: parameter.unit,
          rawReading: raw,
          validatedReading: validated,
          qualityCode: qualityOf({
            validated,
            gaugeMinimum: parameter.gaugeMinimum,
            gaugeMaximum: parameter.gaugeMaximum,
            calibrating: false,
            maintenance: false,
            deviceTime: readingTime,
            captureTime: readingTime,
            clockToleranceSeconds: 900,
          }),
          calibrationFlag: 0,
          maintenanceFlag: 0,
          deviceTime: readingTime,
        });
      });
    }
    stored += await readings.insert(rows);
  }
  return stored;
}

interface UploadRow {
  route: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
}

interface Drain {
  /** First upload started → last upload accepted (finished_at), seconds. */
  drainSeconds: number;
  /** Worker spawn → first upload started (the worker's boot and its first transmission job). */
  firstUploadSeconds: number;
  uploads: UploadRow[];
  /** Bursts of uploads (a transmission cycle each), separated by more than 5 s without an upload. */
  cycles: { files: number; seconds: number }[];
  workerCpu: number;
  workerCpuDuringDrain: number;
  workerPeakRss: number;
  simulatorCpu: number;
  pending: number;
}

function cpuOf(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

function cyclesOf(uploads: UploadRow[]): { files: number; seconds: number }[] {
  const cycles: { files: number; start: number; end: number }[] = [];
  for (const upload of uploads) {
    const start = upload.started_at.getTime();
    const end = (upload.finished_at ?? upload.started_at).getTime();
    const last = cycles[cycles.length - 1];
    if (last && start - last.end <= 5000) {
      last.files += 1;
      last.end = Math.max(last.end, end);
    } else cycles.push({ files: 1, start, end });
  }
  return cycles.map((c) => ({ files: c.files, seconds: (c.end - c.start) / 1000 }));
}

/** Starts the worker against the simulator and waits for every reading to be accepted and marked sent. */
async function drain(
  database: BenchDatabase,
  prefix: string,
  sim: MpcbCentralSimulatorHandle,
): Promise<Drain> {
  const env = serviceEnvironment(database, prefix, await freePort(), {
    MPCB_ENABLED: 'true',
    MPCB_BASE_URL: sim.baseUrl,
    ...OVERRIDES,
  });
  const db = new Client({ connectionString: database.url });
  await db.connect();
  const profileArgs = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${LOG_DIR}/profiles`] : [];
  const simStart = process.cpuUsage();
  const spawnAt = Date.now();
  const worker = startService('worker', env, profileArgs);
  let cpuAtFirstUpload = NaN;
  let pending = total;
  let reported = spawnAt;
  try {
    for (;;) {
      if (worker.child.exitCode !== null)
        throw new Error(`the worker exited with code ${worker.child.exitCode}`);
      const uploads = sim.uploads(SITE.siteId);
      const received = uploads.reduce((n, u) => n + u.rows.length, 0);
      if (uploads.length > 0 && Number.isNaN(cpuAtFirstUpload)) cpuAtFirstUpload = worker.cpuSeconds();
      const { rows } = await db.query<{ pending: string }>(
        `SELECT count(*) AS pending FROM mpcb.readings WHERE sent_at IS NULL`,
      );
      pending = Number(rows[0].pending);
      if (received >= total && pending === 0) break;
      if (Date.now() - spawnAt > timeoutSeconds * 1000) {
        console.log(`  timed out after ${timeoutSeconds} s: ${received} received, ${pending} pending`);
        break;
      }
      if (Date.now() - reported >= 30000) {
        reported = Date.now();
        console.log(
          `  ${round((reported - spawnAt) / 1000)} s: ${received} readings received in ${uploads.length} files, ${pending} pending`,
        );
      }
      await sleep(250);
    }
    const simulatorCpu = cpuOf(process.cpuUsage(simStart));
    const workerCpu = worker.cpuSeconds();
    const { rows: uploads } = await db.query<UploadRow>(
      `SELECT route, status, started_at, finished_at FROM mpcb.uploads ORDER BY started_at`,
    );
    const accepted = uploads.filter((u) => u.status === 'accepted' && u.finished_at);
    const lastAt = Math.max(...accepted.map((u) => (u.finished_at as Date).getTime()));
    const firstAt = uploads.length ? uploads[0].started_at.getTime() : NaN;
    return {
      drainSeconds: pending === 0 ? (lastAt - firstAt) / 1000 : NaN,
      firstUploadSeconds: (firstAt - spawnAt) / 1000,
      uploads,
      cycles: cyclesOf(uploads),
      workerCpu,
      workerCpuDuringDrain: workerCpu - cpuAtFirstUpload,
      workerPeakRss: worker.peakRssMb(),
      simulatorCpu,
      pending,
    };
  } finally {
    await worker.stop();
    await db.end();
  }
}

interface Delivery {
  rows: number;
  distinct: number;
  duplicates: number;
  wrongValues: number;
  distinctFileNames: number;
}

/** What the simulator holds: every (parameter, timestamp) once, with the value that was stored. */
function checkDelivery(sim: MpcbCentralSimulatorHandle, lastAt: Date): Delivery {
  const uploads = sim.uploads(SITE.siteId);
  const rows = uploads.flatMap((u) => u.rows);
  const index = new Map<string, number>();
  for (let p = 0; p < parameterCount; p++) index.set(parameterDefinition(p)[0], p);
  const first = lastAt.getTime() / 1000 - (acquisitions - 1) * ACQUISITION_SECONDS;
  const seen = new Set<string>();
  let wrongValues = 0;
  for (const row of rows) {
    seen.add(`${row.parameterId}\u0000${row.unixTimestamp}`);
    const p = index.get(row.parameterId);
    const i = (row.unixTimestamp - first) / ACQUISITION_SECONDS;
    if (p === undefined || !Number.isInteger(i) || row.rawReading !== rawValue(p, i)) wrongValues += 1;
  }
  return {
    rows: rows.length,
    distinct: seen.size,
    duplicates: sim.duplicates(SITE.siteId).length,
    wrongValues,
    distinctFileNames: new Set(uploads.map((u) => u.zipName)).size,
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

interface RawStep {
  path: string;
  files: number;
  seconds: number;
}

/**
 * The three steps of the worker's loop alone, on the same files: build+encrypt+zip of the rows the simulator
 * received (same grouping), posting those zips one at a time to a second simulator, and the database work of
 * each file (pendingDelayed, startUpload, uploadAccepted) on the same readings made unsent again.
 */
async function rawLimits(
  dataSource: DataSource,
  sim: MpcbCentralSimulatorHandle,
  settings: MpcbSettings,
  unitRef: string,
): Promise<{ steps: RawStep[]; zipBytes: number }> {
  const files: MpcbDataRow[][] = sim.uploads(SITE.siteId).map((u) => u.rows);
  const build = await timed(() =>
    Promise.resolve(
      files.map((rows) => buildUploadPackage({ ...SITE, at: new Date(), timeZone: settings.timeZone, rows })),
    ),
  );
  const packages: UploadPackage[] = build.value;
  const zipBytes = packages.reduce((n, p) => n + p.zip.length, 0);

  const second = await startMpcbCentralSimulator({ port: 0, sites: [SITE], latencyMs });
  const client = new MpcbCentralClient({ ...settings, baseUrl: second.baseUrl }, systemClock);
  const credentials = { ...SITE, authorizationEncoding: 'hash' as const };
  const post = await timed(async () => {
    for (const pack of packages) {
      const answer = await client.uploadZip(credentials, 'delayedUpload', pack);
      if (answer.httpStatus !== 200) throw new Error(`raw post refused: ${answer.text}`);
    }
  });
  await second.stop();

  await dataSource.query(`UPDATE mpcb.readings SET sent_at = NULL, upload_ref = NULL`);
  await dataSource.query(`VACUUM ANALYZE mpcb.readings`);
  const readings = new MpcbReadingRepository(dataSource);
  const database = await timed(async () => {
    let count = 0;
    for (;;) {
      const batch = await readings.pendingDelayed(unitRef, new Date(), settings.delayedBatchSize);
      if (batch.length === 0) return count;
      const at = new Date();
      const id = await readings.startUpload(unitRef, 'delayed', 'raw.csv', batch, at);
      await readings.uploadAccepted(
        id,
        batch.map((r) => r.id),
        200,
        { status: 'Success' },
        new Date(),
      );
      count += 1;
    }
  });
  return {
    zipBytes,
    steps: [
      {
        path: 'database per file (pendingDelayed + startUpload + uploadAccepted)',
        files: database.value,
        seconds: database.seconds,
      },
      {
        path: 'build + encrypt + zip (buildUploadPackage, same rows and files)',
        files: files.length,
        seconds: build.seconds,
      },
      {
        path: 'post the pre-built zips one at a time (MpcbCentralClient → simulator)',
        files: files.length,
        seconds: post.seconds,
      },
    ],
  };
}

async function runOnce(run: number, results: Row[], raw: Row[]): Promise<void> {
  const load = loadNow();
  const database = await createBenchDatabase('mpcb');
  const prefix = benchPrefix('mpcb');
  const dataSource = new DataSource(createDataSourceOptions(database.url, 'hes-bench-mpcb'));
  await dataSource.initialize();
  const sim = await startMpcbCentralSimulator({ port: 0, sites: [SITE], latencyMs });
  try {
    const site = await provisionSite(dataSource);
    const lastAt = new Date(Math.floor(Date.now() / 10000) * 10000);
    const insert = await timed(() => insertBacklog(dataSource, site, lastAt));
    if (insert.value !== total) throw new Error(`stored ${insert.value} readings, expected ${total}`);
    console.log(
      `  run ${run}: ${total} readings stored in ${round(insert.seconds, 1)} s; starting the worker`,
    );

    const outcome = await drain(database, prefix, sim);
    const delivery = checkDelivery(sim, lastAt);
    const settings = mpcbSettingsFromConfig(
      parseEnvironment(serviceEnvironment(database, prefix, 1, OVERRIDES)),
    );
    const limits = await rawLimits(dataSource, sim, settings, site.unitRef);

    const fileMs = outcome.uploads
      .filter((u) => u.finished_at)
      .map((u) => (u.finished_at as Date).getTime() - u.started_at.getTime())
      .sort((a, b) => a - b);
    const busy = outcome.cycles.reduce((s, c) => s + c.seconds, 0);
    const serialSeconds = limits.steps.reduce((s, step) => s + step.seconds, 0);
    const routes = (route: string) => outcome.uploads.filter((u) => u.route === route).length;
    const rate = total / outcome.drainSeconds;
    results.push({
      run,
      readings: total,
      'worker start → first upload (s)': round(outcome.firstUploadSeconds, 1),
      'drain: first upload → all accepted (s)': round(outcome.drainSeconds, 1),
      'readings/s': round(rate),
      'files realtime + delayed': `${routes('realtime')} + ${routes('delayed')}`,
      'not accepted': outcome.uploads.filter((u) => u.status !== 'accepted').length,
      cycles: outcome.cycles.length,
      'sending (s)': round(busy, 1),
      'file p50/max (ms)': `${round(percentile(fileMs, 50))} / ${round(fileMs[fileMs.length - 1] ?? NaN)}`,
      'zip MB': round(limits.zipBytes / 1e6, 2),
      'worker CPU (s), drain / total': `${round(outcome.workerCpuDuringDrain, 1)} / ${round(outcome.workerCpu, 1)}`,
      'worker peak RSS (MB)': round(outcome.workerPeakRss),
      'simulator CPU (s)': round(outcome.simulatorCpu, 1),
      'received / distinct (param, time)': `${delivery.rows} / ${delivery.distinct}`,
      'duplicates / wrong values / pending': `${delivery.duplicates} / ${delivery.wrongValues} / ${outcome.pending}`,
      'distinct file names': delivery.distinctFileNames,
      'backlog insert (s)': round(insert.seconds, 1),
      'load at start': load,
      '% of serial limit': `${round((100 * rate) / (total / serialSeconds), 1)} %`,
    });
    for (const step of [
      ...limits.steps,
      {
        path: 'serial sum of the three (the loop without its schedule)',
        files: limits.steps[1].files,
        seconds: serialSeconds,
      },
    ])
      raw.push({
        run,
        path: step.path,
        files: step.files,
        s: round(step.seconds, 2),
        'ms per file': round((1000 * step.seconds) / step.files, 1),
        'readings/s': round(total / step.seconds),
      });
    console.log(`  ${JSON.stringify(results[results.length - 1])}`);
    console.log(
      `  cycles (files, s): ${outcome.cycles.map((c) => `${c.files}/${round(c.seconds, 1)}`).join(' ')}`,
    );
  } finally {
    await sim.stop();
    await dataSource.destroy();
    dropRedisPrefix(prefix);
    await database.drop();
  }
}

async function main(): Promise<void> {
  const facts = await machineFacts();
  console.log(
    `MPCB drain benchmark, load ${facts.load}: ${hours} h × ${parameterCount} parameters = ${total} readings, simulator latency ${latencyMs} ms`,
  );
  const results: Row[] = [];
  const raw: Row[] = [];
  for (let run = 1; run <= runs; run++) await runOnce(run, results, raw);
  printTable('MPCB backlog drain', results);
  printTable('Raw limits (same files, same database, same machine)', raw);
  const overrides = Object.entries(OVERRIDES).map(([k, v]) => `${k}=${v}`);
  const settings =
    `Backlog: ${hours} h × ${parameterCount} parameters at ${ACQUISITION_SECONDS} s (${acquisitions} acquisitions), stored with MpcbReadingRepository.insert, unsent, the last at the start of the run; ` +
    `one site, one monitoring unit, ${Math.ceil(parameterCount / PARAMETERS_PER_ANALYSER)} analysers. Worker: child process, MPCB_ENABLED=true, ${overrides.length ? overrides.join(', ') : 'MPCB_* defaults'}, LOG_LEVEL ${process.env.LOG_LEVEL ?? 'warn'}; ` +
    `central simulator in the benchmark process, latency ${latencyMs} ms. "drain" = first upload started → last upload accepted (mpcb.uploads times); "sending" = time inside the bursts of uploads (one per transmission cycle); ` +
    `"simulator CPU" = the benchmark process during the drain (simulator plus a count query every 250 ms); raw limits after the drain, worker stopped; "% of serial limit" = drain readings/s ÷ readings/s of the serial sum.`;
  recordRun('MPCB drain', facts, 'bench:mpcb', [
    settings,
    markdownTable(results),
    'Raw limits in the same run:',
    markdownTable(raw),
  ]);
}

runBenchmark(main);
