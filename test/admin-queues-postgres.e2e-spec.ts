import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { ALL_QUEUES } from '@hes/queue';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const ADMIN_TOKEN = 'queues-token-0123456789abcdef';

/** Bull Board on BullMQ's PostgreSQL backend (the embedded mode of `npm run demo`). */
describe('Bull Board with the PostgreSQL queue backend', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_pg_queues');
    applyEnvironment(testEnvironment(database.url, { QUEUE_BACKEND: 'postgres', ADMIN_TOKEN }));
    delete process.env.REDIS_URL;
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('lists every queue and reports the backend', async () => {
    const auth = `Bearer ${ADMIN_TOKEN}`;
    const queues = await request(app.getHttpServer())
      .get('/admin/queues/api/queues')
      .set('authorization', auth)
      .expect(200);
    const names = (queues.body as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual([...ALL_QUEUES].sort());
    const stats = await request(app.getHttpServer())
      .get('/admin/queues/api/redis/stats')
      .set('authorization', auth)
      .expect(200);
    expect(stats.body).toMatchObject({ backend: 'postgres' });
    await request(app.getHttpServer()).get('/admin/queues/api/queues').expect(401);
  });
});
