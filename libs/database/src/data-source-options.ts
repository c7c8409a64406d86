import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';

/** One definition of the connection used by the apps, the migration CLI and the tests. */
export function createDataSourceOptions(databaseUrl: string, applicationName = 'hes'): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension (and no superuser) is needed.
    installExtensions: false,
    migrationsRun: false,
    applicationName,
    extra: { max: 20 },
  };
}
