import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { createWorkerApp } from '../apps/worker/src/bootstrap';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';

describe.each(['redis', 'postgres'] as const)('queue backend %s: the worker consumes jobs', (backend) => {
  let database: TestDatabase;
  let worker: INestApplication;
  let api: INestApplication<App>;
  let client: Client;

  beforeAll(async () => {
    database = await createMigratedDatabase(`queue_${backend}`);
    applyEnvironment(
      testEnvironment(database.url, {
        QUEUE_BACKEND: backend,
        HEARTBEAT_INTERVAL_SECONDS: '1',
        ...(backend === 'postgres' ? { REDIS_URL: '' } : {}),
      }),
    );
    if (backend === 'postgres') delete process.env.REDIS_URL;
    worker = await createWorkerApp();
    await worker.init();
    api = (await createApiApp()) as INestApplication<App>;
    await api.init();
    client = new Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await api?.close();
    await worker?.close();
    await database?.drop();
  });

  it('runs the scheduled heartbeat job and records the worker', async () => {
    const rows = await waitFor(async () => {
      const result = await client.query<{ queue_backend: string; pid: number }>(
        'SELECT queue_backend, pid FROM public.worker_heartbeats',
      );
      return result.rows.length > 0 ? result.rows : undefined;
    }, 'a heartbeat recorded by the worker');
    expect(rows[0]).toEqual({ queue_backend: backend, pid: process.pid });
  });

  it('keeps consuming: the heartbeat advances', async () => {
    const lastSeen = async () =>
      (await client.query<{ t: Date }>('SELECT max(last_seen_at) AS t FROM public.worker_heartbeats')).rows[0]
        .t;
    const first = await lastSeen();
    await waitFor(async () => (await lastSeen()).getTime() > first.getTime(), 'a second heartbeat');
  });

  it('reports the worker and the queue backend through the api', async () => {
    const health = await request(api.getHttpServer()).get('/health').expect(200);
    expect(health.body.info).toHaveProperty(backend === 'redis' ? 'redis' : 'queue');
    const workers = await request(api.getHttpServer()).get('/health/worker').expect(200);
    expect(workers.body.workers[0]).toMatchObject({ queueBackend: backend });
  });

  if (backend === 'postgres') {
    it('keeps its jobs in PostgreSQL, in the configured schema', async () => {
      const schema = `${process.env.QUEUE_PREFIX}_queues`;
      const { rows } = await client.query(
        'SELECT 1 FROM information_schema.schemata WHERE schema_name = $1',
        [schema],
      );
      expect(rows).toHaveLength(1);
    });
  }
});
