import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './support/redis-server';

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
  });
});
