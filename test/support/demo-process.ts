import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server';
import { TEST_REDIS_URL } from './services';
import { TestDatabase, createTestDatabase } from './test-database';

const root = join(__dirname, '../..');

/** The compiled demo launcher, running on a database of its own, ready ("Press Ctrl-C to stop."). */
export interface RunningDemo {
  /** http://127.0.0.1:<port> of its api. */
  base: string;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export async function startDemo(label: string, env: Record<string, string> = {}): Promise<RunningDemo> {
  const database: TestDatabase = await createTestDatabase(label);
  const dataDir = mkdtempSync(join(tmpdir(), `hes-${label.replace(/_/g, '-')}-`));
  const port = await freePort();
  let output = '';
  const demo: ChildProcess = spawn(process.execPath, [join(root, 'dist/scripts/demo.js')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: `${label.replace(/_/g, '')}${process.pid}`,
      HES_DATA_DIR: dataDir,
      API_PORT: String(port),
      HEARTBEAT_INTERVAL_SECONDS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (demo.exitCode === null) {
      await new Promise<void>((resolve) => {
        demo.once('exit', () => resolve());
        demo.kill('SIGINT');
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  };
  const deadline = Date.now() + 90_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (demo.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the demo did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base: `http://127.0.0.1:${port}`, output: () => output, stop };
}
