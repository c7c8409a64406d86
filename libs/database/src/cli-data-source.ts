/**
 * Data source for the TypeORM CLI (`npm run migration:run` / `migration:revert`).
 * Reads DATABASE_URL only; the apps validate their whole configuration themselves.
 */
import { DataSource } from 'typeorm';
import { createDataSourceOptions } from './data-source-options';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/hes');
  process.exit(1);
}

export default new DataSource(createDataSourceOptions(databaseUrl, 'hes-migrations'));
