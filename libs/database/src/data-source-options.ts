import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { BoundedClient } from './bounded-client';
import { ENTITIES } from './entities';

/** How long the apps wait for a connection and for a query's answer (DATABASE_*_TIMEOUT_MS). */
export interface DatabaseTimeouts {
  connectMs: number;
  queryMs: number;
}

/**
 * One definition of the connection used by the apps, the migration CLI and the tests. With `timeouts`
 * (the apps) no wait on PostgreSQL is unbounded: a connection must be made or freed within connectMs, a
 * query answered within queryMs (its connection is then closed, see BoundedClient), and TCP keep-alive
 * notices a peer that vanished while the connection is idle.
 */
export function createDataSourceOptions(
  databaseUrl: string,
  applicationName = 'hes',
  timeouts?: DatabaseTimeouts,
): DataSourceOptions {
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
    extra: {
      max: 20,
      ...(timeouts
        ? {
            Client: BoundedClient,
            connectionTimeoutMillis: timeouts.connectMs,
            query_timeout: timeouts.queryMs,
            keepAlive: true,
            keepAliveInitialDelayMillis: 10_000,
          }
        : {}),
    },
  };
}
