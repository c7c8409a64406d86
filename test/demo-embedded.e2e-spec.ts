import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './support/redis-server';
import { waitFor } from './support/test-environment';

const run = promisify(execFile);
const root = join(__dirname, '..');

describe('the start command on a machine with no database and no Redis', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'hes-demo-'));
    // Run as root, the embedded PostgreSQL works as the postgres user, which must reach its data folder.
    chmodSync(dataDir, 0o755);
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts an embedded PostgreSQL, queues in it, migrates, and brings api and worker to health', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HES_DATA_DIR: dataDir,
      API_PORT: String(await freePort()),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      HEARTBEAT_INTERVAL_SECONDS: '1',
    };
    const { stdout } = await run(
      process.execPath,
      [join(root, 'dist/scripts/demo.js'), '--exit-after-ready'],
      {
        cwd: root,
        env,
        timeout: 120000,
      },
    );
    expect(stdout).toContain('Database: no DATABASE_URL, starting an embedded PostgreSQL');
    expect(stdout).toContain('Queues: no REDIS_URL, BullMQ on its PostgreSQL backend');
    expect(stdout).toContain('applied UdilSchema1763700000000');
    expect(stdout).toContain(`Swagger UI   http://127.0.0.1:${env.API_PORT}/docs`);
    expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
    const workerLog = readFileSync(join(dataDir, 'logs', 'worker.log'), 'utf8');
    expect(workerLog).toMatch(/"job":"system.worker-heartbeat".*"outcome":"completed"/);

    // A second start reuses the data: nothing left to migrate.
    env.API_PORT = String(await freePort());
    const again = await run(process.execPath, [join(root, 'dist/scripts/demo.js'), '--exit-after-ready'], {
      cwd: root,
      env,
      timeout: 120000,
    });
    expect(again.stdout).toContain('schema up to date');
    // Two runs of the start command, each given 120 s (above): the test waits for them rather than ending first.
  }, 250_000);

  /** `npm run demo:start` (the same `exec node` as `npm run demo`, without the build) as a job of its own process group. */
  const startDemo = async (env: NodeJS.ProcessEnv) => {
    const npm = spawn('npm', ['run', 'demo:start'], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    await waitFor(
      () => Promise.resolve(output.includes('Press Ctrl-C to stop.')),
      'the demo to be ready',
      120_000,
      250,
    );
    const pids = [...output.matchAll(/(api|worker): pid (\d+)/g)].map((match) => Number(match[2]));
    const postmaster = Number(
      readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    return { npm, exited, pids: [...pids, postmaster], output: () => output };
  };

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it.each([
    ['SIGTERM to the npm process', (npm: ChildProcess) => npm.kill('SIGTERM')],
    [
      "a terminal's Ctrl-C (SIGINT to the whole process group)",
      (npm: ChildProcess) => process.kill(-npm.pid!, 'SIGINT'),
    ],
  ])(
    'stops everything in order on %s: no database errors in the worker log',
    async (_, signal) => {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HES_DATA_DIR: dataDir,
        API_PORT: String(await freePort()),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        HEARTBEAT_INTERVAL_SECONDS: '1',
      };
      const workerLog = join(dataDir, 'logs', 'worker.log');
      const logStart = existsSync(workerLog) ? statSync(workerLog).size : 0;
      const demo = await startDemo(env);
      expect(demo.pids).toHaveLength(3);
      signal(demo.npm);
      expect(await demo.exited).toBe(0);
      for (const pid of demo.pids)
        await waitFor(() => Promise.resolve(!alive(pid)), `process ${pid} to exit`);
      const written = readFileSync(workerLog, 'utf8').slice(logStart);
      expect(written).toMatch(/stopped taking jobs; running jobs finished/);
      const problems = written
        .split('\n')
        // Node's own warnings (not errors) are not JSON lines.
        .filter(
          (line) => line.length > 0 && !/^\(node:\d+\) \w*Warning|^\(Use `node --trace-warnings/.test(line),
        )
        .filter(
          (line) => !line.startsWith('{') || Number((JSON.parse(line) as { level: number }).level) >= 40,
        );
      expect(problems).toEqual([]);
    },
    180_000,
  ); // an embedded PostgreSQL's first start and the whole demo, on a loaded CI machine
});
