import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { InvalidConfigurationError, parseEnvironment } from '@hes/config';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const BASE = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/hes',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CREDENTIALS_ENCRYPTION_KEY: '0'.repeat(64),
};

function problemsOf(env: Record<string, string>): string {
  try {
    parseEnvironment({ ...BASE, ...env });
  } catch (error) {
    if (error instanceof InvalidConfigurationError) return error.message;
    throw error;
  }
  return '';
}

describe('admin configuration', () => {
  it('names the admin variable that is malformed or missing its pair', () => {
    expect(problemsOf({ ADMIN_TOKEN: 'short' })).toMatch(/ADMIN_TOKEN must be at least 24 characters/);
    expect(problemsOf({ ADMIN_USERNAME: 'operator' })).toMatch(
      /ADMIN_PASSWORD is required with ADMIN_USERNAME/,
    );
    expect(problemsOf({ ADMIN_PASSWORD: 'operator-secret-42' })).toMatch(
      /ADMIN_USERNAME is required with ADMIN_PASSWORD/,
    );
    expect(problemsOf({ ADMIN_USERNAME: 'op:erator', ADMIN_PASSWORD: 'operator-secret-42' })).toMatch(
      /ADMIN_USERNAME must be 1-100 characters without ":"/,
    );
    expect(problemsOf({ ADMIN_USERNAME: 'operator', ADMIN_PASSWORD: 'short' })).toMatch(
      /ADMIN_PASSWORD must be at least 12 characters/,
    );
    expect(problemsOf({ ADMIN_TOKEN: '', ADMIN_USERNAME: '', ADMIN_PASSWORD: '' })).toBe('');
    expect(parseEnvironment({ ...BASE, ADMIN_TOKEN: '' }).ADMIN_TOKEN).toBeUndefined();
  });
});

/** With no ADMIN_* variable the admin API is closed to everyone, never open. */
describe('admin API without admin credentials configured', () => {
  let database: TestDatabase;
  let app: INestApplication<App>;

  beforeAll(async () => {
    database = await createMigratedDatabase('admin_off');
    applyEnvironment(testEnvironment(database.url));
    for (const name of ['ADMIN_TOKEN', 'ADMIN_USERNAME', 'ADMIN_PASSWORD']) delete process.env[name];
    app = (await createApiApp()) as INestApplication<App>;
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it.each([
    ['get', '/admin/gateways'],
    ['post', '/admin/gateways'],
    ['get', '/admin/devices'],
    ['post', '/admin/udil-clients'],
    ['get', '/admin/audit'],
    ['get', '/admin/queues'],
    ['get', '/admin/queues/api/queues'],
  ] as const)('%s %s answers 403 with or without credentials', async (method, path) => {
    for (const authorization of [
      undefined,
      'Bearer ',
      'Basic Og==',
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    ]) {
      const call = request(app.getHttpServer())[method](path);
      if (authorization !== undefined) call.set('authorization', authorization);
      const response = await call.send({ name: 'x', driver: 'ABB_G13', endpoint: 'https://10.0.0.1' });
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        statusCode: 403,
        message: 'admin access is disabled: set ADMIN_TOKEN, or ADMIN_USERNAME and ADMIN_PASSWORD',
      });
    }
  });

  it('still serves the rest of the api', async () => {
    await request(app.getHttpServer()).get('/docs-json').expect(200);
  });
});
