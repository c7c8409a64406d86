import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { MIGRATIONS } from '../migrations';
import { TestDatabase, createTestDatabase } from './support/test-database';

const run = promisify(execFile);
const root = join(__dirname, '..');
const cliDataSource = join(root, 'dist/libs/database/src/cli-data-source.js');

/** The commands README documents, run as a user would run them (against the compiled build). */
async function typeorm(
  command: 'migration:run' | 'migration:revert' | 'migration:show',
  databaseUrl: string,
) {
  return run(process.execPath, [join(root, 'node_modules/typeorm/cli.js'), command, '-d', cliDataSource], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
}

describe('migrations from a clean database', () => {
  let database: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    if (!existsSync(cliDataSource)) throw new Error('dist is missing: run `npm run build` (npm test does)');
    database = await createTestDatabase('migrations');
    client = new Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  const tablesIn = async (schemas: string[]) => {
    const { rows } = await client.query<{ name: string }>(
      `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables t
        WHERE table_schema = ANY($1) AND table_name <> 'migrations'
          AND NOT EXISTS (SELECT 1 FROM pg_inherits i
                           WHERE i.inhrelid = format('%I.%I', t.table_schema, t.table_name)::regclass)
        ORDER BY 1`,
      [schemas],
    );
    return rows.map((r) => r.name);
  };

  it('migration:run creates the UDIL and registry tables, migration:revert undoes every one, and run works again', async () => {
    expect(await tablesIn(['udil', 'public'])).toEqual([]);

    const up = await typeorm('migration:run', database.url);
    expect(up.stdout).toMatch(/UdilSchema1763700000000 has been executed successfully/);
    expect(up.stdout).toMatch(/UdilTransactions1763700000001 has been executed successfully/);
    expect(await tablesIn(['udil'])).toHaveLength(8);
    expect(await tablesIn(['public'])).toEqual(
      expect.arrayContaining([
        'public.devices',
        'public.gateways',
        'public.poll_schedules',
        'public.udil_clients',
        'public.udil_private_keys',
        'public.udil_transactions',
        'public.worker_heartbeats',
      ]),
    );
    const { rows: applied } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM migrations');
    expect(applied[0].n).toBe(MIGRATIONS.length);

    // migration:revert undoes the latest migration only: revert every one, newest first.
    for (let remaining = MIGRATIONS.length; remaining > 0; remaining -= 1) {
      await typeorm('migration:revert', database.url);
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM migrations');
      expect(rows[0].n).toBe(remaining - 1);
    }
    const { rows: schemas } = await client.query<{ schema_name: string }>(
      `SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('public', 'information_schema') AND schema_name NOT LIKE 'pg\\_%'`,
    );
    expect(schemas).toEqual([]);
    expect(await tablesIn(['public'])).toEqual([]);

    await typeorm('migration:run', database.url);
    expect(await tablesIn(['udil'])).toHaveLength(8);
    // One CLI process per migration reverted (a few seconds each on a busy machine): more than the default.
  }, 240_000);

  it('migration:run without DATABASE_URL says what is missing', async () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const failure = await run(
      process.execPath,
      [join(root, 'node_modules/typeorm/cli.js'), 'migration:run', '-d', cliDataSource],
      {
        cwd: root,
        env,
      },
    ).catch((error: { stderr: string; code: number }) => error);
    expect('code' in failure && failure.code).toBe(1);
    expect((failure as { stderr: string }).stderr).toMatch(/DATABASE_URL is required/);
  });
});
