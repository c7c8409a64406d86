import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '@hes/database';
import { MIGRATIONS } from '../../migrations';
import { TEST_POSTGRES_URL } from './services';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A freshly created, empty database of its own for one suite. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `hes_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A fresh database with every migration applied. */
export async function createMigratedDatabase(label = 'test'): Promise<TestDatabase> {
  const database = await createTestDatabase(label);
  const dataSource = new DataSource(createDataSourceOptions(database.url, 'hes-test-migrate'));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
  return database;
}

/** A connection to `database` that knows the first `count` migrations (to test one over rows stored before it). */
export async function connectWithMigrations(database: TestDatabase, count: number): Promise<DataSource> {
  const dataSource = new DataSource({
    ...createDataSourceOptions(database.url, 'hes-test-migration'),
    migrations: MIGRATIONS.slice(0, count),
  });
  await dataSource.initialize();
  return dataSource;
}
