/**
 * Shared pieces of the benchmarks: fresh databases, api/worker as real child processes, provisioning,
 * machine facts, tables and bench/RESULTS.md. Benchmarks are never part of `npm test`.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '../libs/database/src/data-source-options';
import { CredentialCipher } from '../libs/database/src/credential-cipher';
import { hashSecret } from '../libs/udil/src/auth/secret-hash';

/** Repository root (this file runs from dist/bench/bench/). */
export const ROOT = resolve(__dirname, '../../..');
export const BUILD = resolve(__dirname, '..');
export const RESULTS_FILE = join(ROOT, 'bench/RESULTS.md');
export const LOG_DIR = join(ROOT, 'dist/bench/logs');

export const ADMIN_POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CREDENTIALS_KEY = randomBytes(32).toString('hex');
export const BENCH_MDM = { username: 'bench_mdm', password: 'bench-password', code: '4321' };

// ---------------------------------------------------------------- arguments

/** `--name value` or `--name=value`; undefined when absent. */
export function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

export function numberArg(name: string, fallback: number): number {
  const value = arg(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number`);
  return parsed;
}

export function listArg(name: string, fallback: string[]): string[] {
  const value = arg(name);
  return value === undefined
    ? fallback
    : value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
}

export function flag(name: string): boolean {
  return process.argv.slice(2).includes(`--${name}`);
}

// ---------------------------------------------------------------- databases

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** hes_bench_<label>_<random>, migrated. */
export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `hes_bench_${label}_${randomBytes(3).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_POSTGRES_URL);
  url.pathname = `/${name}`;
  const dataSource = new DataSource(createDataSourceOptions(url.toString(), 'hes-bench-migrate'));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
  return {
    name,
    url: url.toString(),
    // `--keep-database`: left in place (and its name printed) to read the benchmark's data afterwards.
    drop: () =>
      flag('keep-database')
        ? Promise.resolve(console.log(`database ${name} kept (--keep-database)`))
        : admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
            () => undefined,
          ),
  };
}

/** A Redis key prefix of this run (also a valid QUEUE_PREFIX). */
export function benchPrefix(label: string): string {
  return `hesbench_${label}_${randomBytes(3).toString('hex')}`;
}

/** Deletes every Redis key of a prefix (SCAN + UNLINK through redis-cli). */
export function dropRedisPrefix(prefix: string): void {
  const url = new URL(REDIS_URL);
  const base = ['-h', url.hostname, '-p', url.port || '6379'];
  const keys = execFileSync('redis-cli', [...base, '--scan', '--pattern', `${prefix}:*`], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  })
    .split('\n')
    .filter(Boolean);
  for (let i = 0; i < keys.length; i += 1000) {
    execFileSync('redis-cli', [...base, 'UNLINK', ...keys.slice(i, i + 1000)]);
  }
}

export function redisInfo(section: string): Record<string, string> {
  const url = new URL(REDIS_URL);
  const text = execFileSync('redis-cli', ['-h', url.hostname, '-p', url.port || '6379', 'INFO', section], {
    encoding: 'utf8',
  });
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(':') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

// ---------------------------------------------------------------- services

export interface Service {
  name: string;
  child: ChildProcess;
  /** Peak resident memory (VmHWM) in MB, read from /proc while the process lives. */
  peakRssMb(): number;
  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

function procStatus(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (clock ticks; 100 per second on Linux)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds of each backend serving the database (the api's and worker's connections), by pid. */
export async function databaseCpu(db: Client): Promise<Map<number, number>> {
  const { rows } = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  return new Map(rows.map((r) => [r.pid, procCpuSeconds(r.pid)]));
}

/** PostgreSQL CPU since `before` (a backend started since counts whole; one that ended since is lost). */
export async function databaseCpuSince(db: Client, before: Map<number, number>): Promise<number> {
  let sum = 0;
  for (const [pid, seconds] of await databaseCpu(db)) {
    const spent = seconds - (before.get(pid) ?? 0);
    if (Number.isFinite(spent)) sum += spent;
  }
  return sum;
}

/** Starts dist/bench/apps/<app>/src/main.js with the environment; logs go to dist/bench/logs. */
export function startService(
  app: 'api' | 'worker',
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): Service {
  return startProcess(app, join(BUILD, 'apps', app, 'src/main.js'), [], env, nodeArgs);
}

/** Starts a script of the build as a child process named `name`; its output goes to dist/bench/logs. */
export function startProcess(
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): Service {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${name}-${Date.now()}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: LOG_DIR,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.pid) peak = Math.max(peak, procStatus(child.pid, 'VmHWM') || 0);
  }, 500);
  sampler.unref();
  return {
    name,
    child,
    peakRssMb: () => {
      if (child.pid && child.exitCode === null) peak = Math.max(peak, procStatus(child.pid, 'VmHWM') || 0);
      return peak;
    },
    cpuSeconds: () => (child.pid ? procCpuSeconds(child.pid) : NaN),
    stop: () =>
      new Promise<void>((done) => {
        clearInterval(sampler);
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

export async function waitForHttp(url: string, service: Service, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null)
      throw new Error(`${service.name} exited with code ${service.child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${service.name} did not answer ${url} within ${timeoutMs / 1000} s`);
}

export function serviceEnvironment(
  database: BenchDatabase,
  prefix: string,
  apiPort: number,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    QUEUE_BACKEND: 'redis',
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    CREDENTIALS_ENCRYPTION_KEY: CREDENTIALS_KEY,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SWAGGER_ENABLED: 'false',
    // Isolate what is measured: no fleet-wide polling schedule, no MPCB acquisition.
    POLLING_ENABLED: 'false',
    MPCB_ENABLED: 'false',
    ...extra,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

// ---------------------------------------------------------------- provisioning

export interface ProvisionGateway {
  name: string;
  endpoint: string;
  username: string;
  password: string;
  fingerprint?: string;
  serials: string[];
}

/** Gateways (plain HTTP or pinned TLS) and their meters b1…bN in sets; the MDM account. Returns device ids. */
export async function provision(
  databaseUrl: string,
  gateways: ProvisionGateway[],
  maxInFlight: number,
): Promise<string[]> {
  const cipher = new CredentialCipher(Buffer.from(CREDENTIALS_KEY, 'hex'));
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const ids: string[] = [];
  try {
    const { rows } = await db.query<{ id: string; name: string }>(
      // The simulated meters' clocks run on UTC.
      `INSERT INTO public.gateways (name, driver, endpoint, tls_mode, tls_fingerprint_sha256, username, password_encrypted, max_in_flight, request_timeout_ms, clock_time_zone)
       SELECT g.name, 'ABB_G13', g.endpoint, g.mode, g.fingerprint, g.username, g.password, $6, 30000, 'UTC'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $7::text[]) AS g(name, endpoint, mode, fingerprint, username, password)
       RETURNING id, name`,
      [
        gateways.map((g) => g.name),
        gateways.map((g) => g.endpoint),
        gateways.map((g) => (g.fingerprint ? 'pinned' : 'verify')),
        gateways.map((g) => g.fingerprint ?? null),
        gateways.map((g) => g.username),
        maxInFlight,
        gateways.map((g) => cipher.encrypt(g.password)),
      ],
    );
    const idOf = new Map(rows.map((r) => [r.name, r.id]));
    const device: string[] = [];
    const msn: string[] = [];
    const gatewayId: string[] = [];
    for (const gateway of gateways) {
      for (const serial of gateway.serials) {
        const id = `b${ids.length + 1}`;
        ids.push(id);
        device.push(id);
        msn.push(serial);
        gatewayId.push(idOf.get(gateway.name)!);
      }
    }
    for (let i = 0; i < device.length; i += 20000) {
      await db.query(
        `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway, device_type, phase, meter_type, communication_mode)
         SELECT d.id, d.msn::bigint, 'ABB_G13', d.gw::uuid, d.msn, 1, 3, 1, 4
           FROM unnest($1::text[], $2::text[], $3::text[]) AS d(id, msn, gw)`,
        [device.slice(i, i + 20000), msn.slice(i, i + 20000), gatewayId.slice(i, i + 20000)],
      );
    }
    await db.query(
      `INSERT INTO public.udil_clients (username, password_hash, code_hash) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO NOTHING`,
      [BENCH_MDM.username, await hashSecret(BENCH_MDM.password), await hashSecret(BENCH_MDM.code)],
    );
  } finally {
    await db.end();
  }
  return ids;
}

/** A privatekey of the bench MDM account (POST /authorization_service). */
export async function udilKey(base: string): Promise<string> {
  const response = await fetch(`${base}/authorization_service`, {
    method: 'POST',
    headers: { username: BENCH_MDM.username, password: BENCH_MDM.password, code: BENCH_MDM.code },
  });
  const body = (await response.json()) as { privatekey?: string };
  if (!body.privatekey) throw new Error(`authorization_service answered ${JSON.stringify(body)}`);
  return body.privatekey;
}

// ---------------------------------------------------------------- machine, tables, results

export interface MachineFacts {
  date: string;
  host: string;
  cpu: string;
  memory: string;
  node: string;
  postgres: string;
  redis: string;
  commit: string;
  load: string;
}

export async function machineFacts(): Promise<MachineFacts> {
  const postgres = await admin((c) => c.query<{ server_version: string }>(`SHOW server_version`)).then(
    (r) => r.rows[0].server_version,
  );
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    if (dirty) commit += ' (+ uncommitted changes)';
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    host: hostname(),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    memory: `${Math.round(totalmem() / 1024 ** 3)} GB`,
    node: process.version,
    postgres,
    redis: redisInfo('server').redis_version ?? '?',
    commit,
    load: loadNow(),
  };
}

export function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

export type Row = Record<string, string | number>;

export function markdownTable(rows: Row[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined) => (v === undefined ? '' : String(v));
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`),
  ].join('\n');
}

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}

/** The exact command line that reproduces this run. */
export function commandLine(script: string): string {
  const args = process.argv.slice(2);
  const env = process.env.LOG_LEVEL ? `LOG_LEVEL=${process.env.LOG_LEVEL} ` : '';
  return `${env}npm run ${script}${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

/** Appends one run to bench/RESULTS.md (created with its heading when absent). */
export function appendResults(title: string, facts: MachineFacts, command: string, sections: string[]): void {
  if (!existsSync(RESULTS_FILE)) writeFileSync(RESULTS_FILE, '# Benchmark results\n\n## Runs\n');
  const text = [
    '',
    `### ${title}${arg('label') ? ` (${arg('label')})` : ''} — ${facts.date}`,
    '',
    `- command: \`${command}\``,
    `- machine: ${facts.host}, ${facts.cpu}, ${facts.memory}; Node ${facts.node}, PostgreSQL ${facts.postgres}, Redis ${facts.redis}`,
    `- commit: ${facts.commit}; load average at start (1/5/15 min): ${facts.load}, at end: ${loadNow()}`,
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
  appendFileSync(RESULTS_FILE, text);
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Appends a run to bench/RESULTS.md unless `--no-results` was given. */
export function recordRun(title: string, facts: MachineFacts, script: string, sections: string[]): void {
  if (flag('no-results')) return;
  appendResults(title, facts, commandLine(script), sections);
  console.log('\nAppended to bench/RESULTS.md');
}

/** Runs a benchmark's main function: exit code 0, or the error printed and exit code 1. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
