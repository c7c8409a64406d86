import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig, decodeKey } from '@hes/config';
import { CredentialCipher } from './credential-cipher';
import { createDataSourceOptions } from './data-source-options';
import { ENTITIES } from './entities';
import { GatewayRepository } from './repositories/gateway.repository';
import { MeterResourceRepository } from './repositories/meter-resources.repository';
import { MonthPartitionRepository } from './repositories/month-partitions.repository';
import { UdilPrivateKeyRepository } from './repositories/udil-private-keys.repository';
import { WorkerHeartbeatRepository } from './repositories/worker-heartbeat.repository';

const REPOSITORIES = [
  GatewayRepository,
  MeterResourceRepository,
  MonthPartitionRepository,
  UdilPrivateKeyRepository,
  WorkerHeartbeatRepository,
];

/** Postgres through TypeORM: the connection, the registry entities and their repositories. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...createDataSourceOptions(config.DATABASE_URL, 'hes', {
          connectMs: config.DATABASE_CONNECT_TIMEOUT_MS,
          queryMs: config.DATABASE_QUERY_TIMEOUT_MS,
        }),
        retryAttempts: 5,
        retryDelay: 2000,
      }),
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  providers: [
    {
      provide: CredentialCipher,
      inject: [APP_CONFIG],
      // The key was validated at start-up, so decodeKey cannot return undefined here.
      useFactory: (config: AppConfig) => new CredentialCipher(decodeKey(config.CREDENTIALS_ENCRYPTION_KEY)!),
    },
    ...REPOSITORIES,
  ],
  exports: [TypeOrmModule, CredentialCipher, ...REPOSITORIES],
})
export class DatabaseModule {}
