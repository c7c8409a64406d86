import { Global, Injectable, Logger, Module, OnModuleDestroy } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { createRedisClient } from '@hes/queue';
import { CredentialThrottle } from './credential-throttle';
import {
  FailureCounterStore,
  PostgresFailureCounterStore,
  RedisFailureCounterStore,
} from './failure-counters';
import { PasswordHashingGate } from './password-hashing-gate';

/**
 * The counters live where the queues do: in Redis with the queue's connection settings and key prefix,
 * or in PostgreSQL when QUEUE_BACKEND is postgres.
 */
function failureCounterStore(config: AppConfig, dataSource: DataSource): FailureCounterStore {
  if (config.QUEUE_BACKEND === 'postgres') return new PostgresFailureCounterStore(dataSource);
  const logger = new Logger('CredentialThrottle');
  const redis = createRedisClient(config, {
    // A login must not wait for Redis to come back: the throttle counts in-process meanwhile.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
  });
  redis.on('error', (error: Error) => logger.debug(`redis: ${error.message}`));
  return new RedisFailureCounterStore(redis, config.QUEUE_PREFIX);
}

@Injectable()
class SecurityLifecycle implements OnModuleDestroy {
  constructor(private readonly throttle: CredentialThrottle) {}

  async onModuleDestroy(): Promise<void> {
    await this.throttle.close();
  }
}

/**
 * Credential throttling and the password-hashing gate of the api (UDIL authorization_service, MCS
 * Basic credentials, admin credentials), configured by the AUTH_* variables.
 */
@Global()
@Module({
  providers: [
    {
      provide: CredentialThrottle,
      inject: [APP_CONFIG, getDataSourceToken()],
      useFactory: (config: AppConfig, dataSource: DataSource) =>
        new CredentialThrottle(failureCounterStore(config, dataSource), {
          maxFailuresPerAddress: config.AUTH_MAX_FAILURES_PER_ADDRESS,
          maxFailuresPerUsername: config.AUTH_MAX_FAILURES_PER_USERNAME,
          windowSeconds: config.AUTH_LOCKOUT_SECONDS,
        }),
    },
    {
      provide: PasswordHashingGate,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new PasswordHashingGate({
          maxConcurrent: config.AUTH_MAX_CONCURRENT_HASHES,
          maxWaitMs: config.AUTH_HASH_WAIT_MS,
        }),
    },
    SecurityLifecycle,
  ],
  exports: [CredentialThrottle, PasswordHashingGate],
})
export class SecurityModule {}
