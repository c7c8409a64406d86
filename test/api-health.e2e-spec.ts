import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { DisposableRedis } from './support/redis-server';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';

describe('api: /health, /docs and /metrics', () => {
  let database: TestDatabase;
  let redis: DisposableRedis;
  let app: INestApplication<App>;

  beforeAll(async () => {
    database = await createMigratedDatabase('health');
    redis = await DisposableRedis.start();
    applyEnvironment(testEnvironment(database.url, { REDIS_URL: redis.url }));
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await database?.drop();
  });

  it('reports the database and Redis up', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up', backend: 'redis' } },
    });
  });

  it('answers the liveness probe /health/live without looking at anything else', async () => {
    const response = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('serves the Swagger UI at /docs and its JSON document', async () => {
    const page = await request(app.getHttpServer()).get('/docs').expect(200);
    expect(page.text).toContain('swagger-ui');
    const document = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(document.body.paths).toHaveProperty('/health');
  });

  it('exposes Prometheus metrics, including request durations and queue depths', async () => {
    await request(app.getHttpServer()).get('/health').expect(200);
    const response = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/text\/plain/);
    expect(response.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} \d+/,
    );
    expect(response.text).toMatch(/hes_queue_jobs\{queue="system",state="waiting"\} 0/);
    expect(response.text).toContain('process_cpu_user_seconds_total');
  });

  it('answers 503 naming Redis while Redis is unreachable, and recovers when it is back', async () => {
    await redis.stop();
    const down = await request(app.getHttpServer()).get('/health').expect(503);
    expect(down.body).toMatchObject({
      status: 'error',
      error: { redis: { status: 'down' } },
      details: { database: { status: 'up' } },
    });

    await redis.start();
    await waitFor(
      async () => (await request(app.getHttpServer()).get('/health')).status === 200,
      '/health to recover after Redis restarts',
    );
  });

  it('answers 503 on /health/worker when no worker consumed a heartbeat', async () => {
    const response = await request(app.getHttpServer()).get('/health/worker').expect(503);
    expect(response.body).toMatchObject({ status: 'error', workers: [] });
  });
});
