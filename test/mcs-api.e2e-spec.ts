import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

const AUTH = { user: 'master', password: 'master-secret' };

/**
 * The MCS Request API on its own (no worker): validation with a `details` for every rule, storage
 * before acknowledgement, status and cancel of queued requests, limits (429), access control, and
 * the MCS error envelope next to the other APIs' own.
 */
describe('MCS request API', () => {
  let database: TestDatabase;
  let api: INestApplication<App>;
  let db: Client;
  let sequence = 0;
  const nextRef = () => `api-${Date.now()}-${(sequence += 1)}`;
  const valid = (change: Record<string, unknown> = {}) => ({
    requestReference: nextRef(),
    responseUrl: 'http://127.0.0.1:9/master',
    mpan: '12345',
    priority: 1,
    meterType: 'ABB_G13',
    remoteAddress: '10.2.34.4:3400',
    outstationAddress: '1',
    serialNumber: '12345678',
    password: 'AAAA0000',
    surveyDays: 10,
    surveyDate: '2019-12-01',
    adjustTime: true,
    ...change,
  });
  const post = (body: unknown) =>
    request(api.getHttpServer())
      .post('/mcs/collection-request')
      .auth(AUTH.user, AUTH.password)
      .send(body as object);

  beforeAll(async () => {
    database = await createMigratedDatabase('mcs_api');
    applyEnvironment(
      testEnvironment(database.url, {
        MCS_MAX_QUEUED_PER_CLIENT: '25',
        MCS_USERNAME: AUTH.user,
        MCS_PASSWORD: AUTH.password,
        MCS_ALLOWED_CLIENTS: '127.0.0.1,::1',
      }),
    );
    api = (await createApiApp()) as INestApplication<App>;
    await api.init();
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await api?.close();
    await database?.drop();
  });

  it('stores an accepted request before answering, and reports it PENDING', async () => {
    const body = valid({ priority: '4', surveyDays: '2', delayUntil: '2030-01-01T00:00:00' });
    const answer = await post(body).expect(200);
    expect(answer.body).toEqual({ requestReference: body.requestReference });
    const stored = await db.query(
      `SELECT state, priority, delay_until, request FROM mcs.collection_requests WHERE request_reference = $1`,
      [body.requestReference],
    );
    expect(stored.rows[0]).toMatchObject({ state: 'queued', priority: 4 });
    expect((stored.rows[0].delay_until as Date).toISOString()).toBe('2030-01-01T00:00:00.000Z');

    const byQuery = await request(api.getHttpServer())
      .get('/mcs/collection-status')
      .query({ requestReference: body.requestReference })
      .auth(AUTH.user, AUTH.password)
      .expect(200);
    const byPath = await request(api.getHttpServer())
      .get(`/mcs/collection-status/${body.requestReference}`)
      .auth(AUTH.user, AUTH.password)
      .expect(200);
    expect(byPath.body).toEqual(byQuery.body);
    expect(byQuery.body).toMatchObject({
      requestReference: body.requestReference,
      mpan: '12345',
      meterType: 'ABB_G13',
      remoteAddress: '10.2.34.4:3400',
      comsSettings: '',
      outstationAddress: '1',
      serialNumber: '12345678',
      password: 'AAAA0000',
      adjustTime: true,
      surveyDays: 2,
      surveyDate: '2019-12-01',
      priority: 4,
      delayUntil: '2030-01-01T00:00:00Z',
      result: 'PENDING',
      resultSummary: 'PENDING',
    });
  });

  it('refuses every invalid field with a details message naming it', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ requestReference: undefined }, 'requestReference is mandatory'],
      [{ mpan: '' }, 'mpan is mandatory'],
      [{ responseUrl: undefined }, 'responseUrl is mandatory'],
      [{ responseUrl: 'www.company.com/MCSresults' }, 'responseUrl must be an http:// or https:// URL'],
      [{ priority: undefined }, 'priority is mandatory'],
      [{ priority: 0 }, 'priority must be >= 1 (0 is reserved for interactive requests)'],
      [{ priority: 'first' }, 'priority must be an integer'],
      [{ delayUntil: 'tomorrow' }, 'delayUntil must be an ISO-8601 date-time'],
      [{ meterType: undefined }, 'meterType is mandatory'],
      [{ meterType: 'ELSTER_A1700' }, 'meterType ELSTER_A1700 is not supported'],
      [{ remoteAddress: undefined }, 'remoteAddress is mandatory'],
      [{ remoteAddress: 'abc' }, 'Remote address is not in a recognised format'],
      [{ remoteAddress: '10.2.34.4:99999' }, 'Remote address is not in a recognised format'],
      [{ comsSettings: '7X1' }, 'comsSettings must be data bits, parity and stop bits such as 7E1'],
      [{ surveyDays: -2 }, 'surveyDays must be an integer from 0 to 366'],
      [{ surveyDate: '2019-13-01' }, 'surveyDate must be a date in the form yyyy-MM-dd'],
      [{ adjustTime: 'maybe' }, 'adjustTime must be true or false'],
    ];
    for (const [change, details] of cases) {
      const answer = await post(valid(change));
      expect({ change, status: answer.status }).toEqual({ change, status: 400 });
      expect(answer.body.details).toContain(details);
    }
    const malformed = await request(api.getHttpServer())
      .post('/mcs/collection-request')
      .auth(AUTH.user, AUTH.password)
      .set('Content-Type', 'application/json')
      .send('{"requestReference": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.details).toMatch(/^body: not valid for its content-type/);
    const notObject = await post([valid()]);
    expect(notObject.status).toBe(400);
    expect(notObject.body.details).toBe('the request body must be a JSON object');
  });

  it('refuses a requestReference used before', async () => {
    const body = valid();
    await post(body).expect(200);
    const again = await post({ ...body, mpan: '999' }).expect(400);
    expect(again.body.details).toBe(
      `requestReference ${body.requestReference} has already been used; requestReference must be unique`,
    );
  });

  it('cancels a queued request and answers 404 for an unknown one', async () => {
    const body = valid();
    await post(body).expect(200);
    const cancelled = await request(api.getHttpServer())
      .delete('/mcs/collection-cancel')
      .auth(AUTH.user, AUTH.password)
      .send({ requestReference: body.requestReference })
      .expect(200);
    expect(cancelled.body).toEqual({ requestReference: body.requestReference });
    const status = await request(api.getHttpServer())
      .get(`/mcs/collection-status/${body.requestReference}`)
      .auth(AUTH.user, AUTH.password)
      .expect(200);
    expect(status.body.result).toBe('ERROR: cancelled by the master application');
    // Cancelling again is still positive (already processed).
    await request(api.getHttpServer())
      .delete('/mcs/collection-cancel')
      .auth(AUTH.user, AUTH.password)
      .query({ requestReference: body.requestReference })
      .expect(200);

    const unknown = await request(api.getHttpServer())
      .delete('/mcs/collection-cancel')
      .auth(AUTH.user, AUTH.password)
      .send({ requestReference: 'never-sent' })
      .expect(404);
    expect(unknown.body).toEqual({ details: 'requestReference never-sent is not known' });
    const missing = await request(api.getHttpServer())
      .delete('/mcs/collection-cancel')
      .auth(AUTH.user, AUTH.password)
      .send({})
      .expect(400);
    expect(missing.body).toEqual({ details: 'requestReference is mandatory' });
    const status404 = await request(api.getHttpServer())
      .get('/mcs/collection-status?requestReference=never-sent')
      .auth(AUTH.user, AUTH.password)
      .expect(404);
    expect(status404.body).toEqual({ details: 'requestReference never-sent is not known' });
  });

  it('answers 429 once the client has the configured number of requests waiting', async () => {
    const { rows } = await db.query<{ count: string }>(
      `SELECT count(*) FROM mcs.collection_requests WHERE state IN ('queued', 'in_progress')`,
    );
    const room = 25 - Number(rows[0].count);
    for (let i = 0; i < room; i += 1) await post(valid()).expect(200);
    const refused = await post(valid()).expect(429);
    expect(refused.body.details).toContain('this client has 25 requests waiting, the configured limit');
    expect((await db.query(`SELECT 1 FROM mcs.collection_requests WHERE state = 'queued'`)).rows.length).toBe(
      25,
    );
  });

  it('serves service-status and answers unknown MCS paths and bad credentials in the MCS envelope', async () => {
    const status = await request(api.getHttpServer())
      .get('/mcs/service-status')
      .auth(AUTH.user, AUTH.password)
      .expect(200);
    expect(status.body).toEqual({ version: '1.0.0', status: 'OK' });
    const unknown = await request(api.getHttpServer())
      .get('/mcs/collection-results')
      .auth(AUTH.user, AUTH.password)
      .expect(404);
    expect(unknown.body).toEqual({ details: 'GET /mcs/collection-results is not an MCS method' });
    const anonymous = await request(api.getHttpServer()).get('/mcs/service-status').expect(401);
    expect(anonymous.body).toEqual({ details: 'credentials are required (HTTP Basic authentication)' });
    const wrong = await request(api.getHttpServer())
      .get('/mcs/service-status')
      .auth(AUTH.user, 'wrong')
      .expect(401);
    expect(wrong.body).toEqual({ details: 'credentials are not valid' });
    // Other APIs keep their own envelopes.
    const udil = await request(api.getHttpServer()).post('/transaction_status').send({}).expect(401);
    expect(udil.body.status).toBe('0');
    expect(udil.body.details).toBeUndefined();
    const other = await request(api.getHttpServer()).get('/no-such-route').expect(404);
    expect(other.body.details).toBeUndefined();
  });
});

describe('MCS client allow-list', () => {
  let database: TestDatabase;
  let api: INestApplication<App>;

  beforeAll(async () => {
    database = await createMigratedDatabase('mcs_allow');
    applyEnvironment(testEnvironment(database.url, { MCS_ALLOWED_CLIENTS: '10.0.0.0/8' }));
    api = (await createApiApp()) as INestApplication<App>;
    await api.init();
  });

  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  it('refuses a client address outside the allow-list', async () => {
    const refused = await request(api.getHttpServer()).get('/mcs/service-status').expect(403);
    expect(refused.body).toEqual({ details: 'client address 127.0.0.1 is not allowed' });
  });
});
