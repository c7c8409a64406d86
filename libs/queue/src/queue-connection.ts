import {
  ConnectionOptions,
  createPostgresBackend,
  createRedisBackend,
  setDefaultBackendFactory,
} from 'bullmq';
import { AppConfig } from '@hes/config';

/** ioredis options for a redis:// or rediss:// URL. */
export function redisOptionsFromUrl(redisUrl: string) {
  const url = new URL(redisUrl);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * Points every BullMQ Queue and Worker of this process at the configured backend and returns the
 * connection options to hand them. Redis is the production backend; PostgreSQL (BullMQ 6's
 * PostgreSQL backend, in the same database) serves the zero-service embedded mode.
 */
export function configureQueueBackend(config: AppConfig): { connection: ConnectionOptions; prefix?: string } {
  if (config.QUEUE_BACKEND === 'postgres') {
    setDefaultBackendFactory(createPostgresBackend);
    return {
      // A node-postgres pool config; `schema` is the namespace of the queue tables, created on connect.
      connection: {
        connectionString: config.DATABASE_URL,
        schema: `${config.QUEUE_PREFIX}_queues`,
        migrate: true,
        max: 10,
      },
    };
  }
  setDefaultBackendFactory(createRedisBackend);
  return {
    connection: { ...redisOptionsFromUrl(config.REDIS_URL!), maxRetriesPerRequest: null },
    prefix: config.QUEUE_PREFIX,
  };
}
