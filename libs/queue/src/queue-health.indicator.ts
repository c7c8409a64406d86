import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { once } from 'node:events';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { RedisClient, createRedisClient } from './queue-connection';

const PING_TIMEOUT_MS = 1500;

/**
 * Health of the queue backend: a PING on a dedicated Redis connection (which fails fast while Redis
 * is unreachable and reconnects by itself), or, with the PostgreSQL backend, a query of its schema.
 */
@Injectable()
export class QueueHealthIndicator implements OnModuleDestroy {
  private redis?: RedisClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly health: HealthIndicatorService,
  ) {}

  /** The key under which /health reports the queue backend. */
  get key(): 'redis' | 'queue' {
    return this.config.QUEUE_BACKEND === 'redis' ? 'redis' : 'queue';
  }

  async check() {
    const indicator = this.health.check(this.key);
    try {
      if (this.config.QUEUE_BACKEND === 'redis') {
        const redis = this.redisClient();
        // A connection being (re)established gets the time of one ping to become ready.
        if (redis.status !== 'ready') await withTimeout(once(redis, 'ready'), PING_TIMEOUT_MS);
        await withTimeout(redis.ping(), PING_TIMEOUT_MS);
        return indicator.up({ backend: 'redis' });
      }
      await withTimeout(
        this.dataSource.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [
          `${this.config.QUEUE_PREFIX}_queues`,
        ]),
        PING_TIMEOUT_MS,
      );
      return indicator.up({ backend: 'postgres' });
    } catch (error) {
      return indicator.down({ backend: this.config.QUEUE_BACKEND, message: (error as Error).message });
    }
  }

  private redisClient(): RedisClient {
    if (!this.redis) {
      this.redis = createRedisClient(this.config, {
        connectionName: 'hes-health',
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: PING_TIMEOUT_MS,
        retryStrategy: () => 1000,
      });
      // Errors surface through check(); without a listener ioredis would print every reconnect failure.
      this.redis.on('error', () => undefined);
    }
    return this.redis;
  }

  onModuleDestroy(): void {
    this.redis?.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
