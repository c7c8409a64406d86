/**
 * `npm run demo`: the whole system on one machine. Uses DATABASE_URL and REDIS_URL when set; without
 * them it runs an embedded PostgreSQL (data under HES_DATA_DIR, default ./.data) and queues in it.
 * Prints each start-up step, then where to look. Ctrl-C, SIGINT or SIGTERM stops everything, in order:
 * the api and the worker first (the worker stops taking jobs and lets running ones finish or hands them
 * back, then closes its pools), then the simulators, then PostgreSQL.
 *
 *   --exit-after-ready   start, check health, stop (used by the test suite and CI)
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '../libs/database/src/data-source-options';
import { WORKER_NODE_OPTIONS } from '../apps/worker/src/node-options';
import {
  DEMO_MDM,
  DemoFleet,
  demoAdminCredentials,
  demoSteps,
  provisionDemoFleet,
  startDemoFleet,
} from './demo-fleet';
import { EmbeddedDatabase, startEmbeddedPostgres } from './embedded-postgres';

const root = resolve(__dirname, '../..');
const exitAfterReady = process.argv.includes('--exit-after-ready');
const dataDir = resolve(process.env.HES_DATA_DIR ?? join(root, '.data'));
const apiPort = Number(process.env.API_PORT ?? 3000);
const embeddedPort = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329);

const TOTAL_STEPS = 7;
let step = 0;
function progress(message: string): void {
  step += 1;
  console.log(`[${step}/${TOTAL_STEPS}] ${message}`);
}
function detail(message: string): void {
  console.log(`      ${message}`);
}

function credentialsKey(): string {
  if (process.env.CREDENTIALS_ENCRYPTION_KEY) return process.env.CREDENTIALS_ENCRYPTION_KEY;
  const file = join(dataDir, 'credentials.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function waitForHttp(url: string, what: string, child: ChildProcess, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s`);
}

/** Marks the launcher started in its own process group by the first process. */
const LAUNCHER_ENV = 'HES_DEMO_LAUNCHER';
/** Longer than the worker's WORKER_SHUTDOWN_GRACE_SECONDS (default 15): an orderly stop is not cut short. */
const CHILD_STOP_TIMEOUT_MS = 45_000;

/**
 * A terminal's Ctrl-C sends SIGINT to every process of the foreground process group: PostgreSQL, the api
 * and the worker would stop all at once, PostgreSQL under the worker's feet. So the launcher runs in a
 * process group of its own (with its children), and this first process only passes a stop on to it.
 * Returns false in the launcher itself.
 */
function relayToOwnProcessGroup(): boolean {
  if (process.env[LAUNCHER_ENV] === '1') return false;
  const launcher = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, [LAUNCHER_ENV]: '1' },
  });
  const relay = () => launcher.kill('SIGTERM');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, relay);
  launcher.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}

async function main(): Promise<void> {
  if (relayToOwnProcessGroup()) return;
  mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o755 });
  const children: ChildProcess[] = [];
  const logs: WriteStream[] = [];
  /** Each child's 'close': it exited and its output was read to the end. */
  const closed = new Map<ChildProcess, Promise<void>>();
  let embedded: EmbeddedDatabase | undefined;
  let fleet: Omit<DemoFleet, 'meters'> | undefined;
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping…');
    // Awaits 'close', not 'exit': a child's last lines (its orderly stop's) can still be in its pipes when
    // it exits; they are read to the end first.
    await Promise.all(
      children.map((child) => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_TIMEOUT_MS).unref();
        }
        return closed.get(child) ?? Promise.resolve();
      }),
    );
    // Every line written to the log files before this process exits.
    await Promise.all(logs.map((log) => new Promise<void>((done) => log.end(done))));
    await fleet?.stop().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    // 1. Database
    let databaseUrl = process.env.DATABASE_URL;
    if (databaseUrl) {
      progress('Database: using DATABASE_URL');
    } else {
      progress(`Database: no DATABASE_URL, starting an embedded PostgreSQL on port ${embeddedPort}`);
      detail(`data in ${join(dataDir, 'postgres')} (first start initialises it, a few seconds)`);
      embedded = await startEmbeddedPostgres(dataDir, embeddedPort, 'hes');
      databaseUrl = embedded.url;
    }

    // 2. Queues
    const queueBackend = process.env.REDIS_URL ? 'redis' : 'postgres';
    progress(
      queueBackend === 'redis'
        ? 'Queues: BullMQ on Redis (REDIS_URL)'
        : 'Queues: no REDIS_URL, BullMQ on its PostgreSQL backend in the same database',
    );

    // 3. Migrations
    progress('Migrations');
    const dataSource = new DataSource(createDataSourceOptions(databaseUrl, 'hes-demo'));
    await dataSource.initialize();
    const applied = await dataSource.runMigrations();
    await dataSource.destroy();
    detail(applied.length ? `applied ${applied.map((m) => m.name).join(', ')}` : 'schema up to date');

    // 4. Simulated devices
    progress(
      'Simulated devices: 2 ABB G13 gateways with 3 meters each, 1 Omega iServer 2, the MPCB central server',
    );
    fleet = await startDemoFleet();
    for (const gateway of fleet.g13.gateways)
      detail(`G13 ${gateway.url} (user ${gateway.username}) meters ${gateway.serials.join(', ')}`);
    detail(`iServer 2 ${fleet.iserver2.url} (CGI ${fleet.iserver2.httpUrl})`);
    detail(`MPCB central server ${fleet.mpcb.baseUrl}`);

    // 5. Provisioning
    progress('Provisioning: gateways, meters and the MDM account in the registry');
    const key = credentialsKey();
    const meters = await provisionDemoFleet(databaseUrl, key, fleet);
    detail(`meters ${meters.map((m) => m.globalDeviceId).join(', ')}; MDM account "${DEMO_MDM.username}"`);

    // 6. Services
    progress('Services: api and worker');
    const adminFile = join(dataDir, 'admin.json');
    const admin = demoAdminCredentials(
      () => (existsSync(adminFile) ? readFileSync(adminFile, 'utf8') : undefined),
      (value) => writeFileSync(adminFile, value, { mode: 0o600 }),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      QUEUE_BACKEND: queueBackend,
      CREDENTIALS_ENCRYPTION_KEY: key,
      ADMIN_TOKEN: admin.token,
      ADMIN_USERNAME: admin.username,
      ADMIN_PASSWORD: admin.password,
      MPCB_ENABLED: process.env.MPCB_ENABLED ?? 'true',
      MPCB_BASE_URL: process.env.MPCB_BASE_URL ?? fleet.mpcb.baseUrl,
      API_PORT: String(apiPort),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };
    for (const app of ['api', 'worker'] as const) {
      const logFile = join(dataDir, 'logs', `${app}.log`);
      const nodeOptions = app === 'worker' ? WORKER_NODE_OPTIONS : [];
      const child = spawn(process.execPath, [...nodeOptions, join(root, 'dist/apps', app, 'src/main.js')], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const log = createWriteStream(logFile, { flags: 'a' });
      logs.push(log);
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      child.stderr?.on('data', (chunk: Buffer) => {
        // Start-up failures (configuration, ports) also go to the console.
        if (!stopping) process.stderr.write(`[${app}] ${chunk.toString()}`);
      });
      child.on('exit', (code) => {
        if (!stopping) {
          console.error(`${app} exited (code ${code}); see ${logFile}`);
          void stop(1);
        }
      });
      children.push(child);
      closed.set(child, new Promise((done) => child.once('close', () => done())));
      detail(`${app}: pid ${child.pid}, log ${logFile}`);
    }
    const [api, worker] = children;
    const base = `http://127.0.0.1:${apiPort}`;
    await waitForHttp(`${base}/health`, 'api', api);

    // 7. Ready
    progress('Ready: waiting for the worker to consume its first job');
    await waitForHttp(`${base}/health/worker`, 'worker', worker);
    console.log(`
  API          ${base}
  Swagger UI   ${base}/docs
  Health       ${base}/health   (worker: ${base}/health/worker)
  Metrics      ${base}/metrics
  Admin API    ${base}/admin   (Authorization: Bearer ${admin.token}, or ${admin.username} / ${admin.password})
  Queues       ${base}/admin/queues   (Bull Board, same credentials)
  MPCB uploads ${fleet.mpcb.url}/_simulator/sites/demo_site/uploads   (site demo_site: iServer 2 probe 1, every minute)
  Logs         ${join(dataDir, 'logs')}

Try it (authorize, disconnect two meters, their status, an on-demand load profile):

${demoSteps(base, meters, process.env.TIME_ZONE ?? 'Asia/Karachi')}

Press Ctrl-C to stop.`);
    if (exitAfterReady) await stop(0);
  } catch (error) {
    console.error(`Start-up failed: ${(error as Error).message}`);
    await stop(1);
  }
}

void main();
