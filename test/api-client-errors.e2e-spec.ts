import { INestApplication } from '@nestjs/common';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { createApiApp } from '../apps/api/src/bootstrap';
import { RawRequest, rawRequest } from './support/raw-http';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';
import { authorizedKey } from './support/udil-client';

const ADMIN_TOKEN = 'client-errors-admin-token-0123456789';
const MCS = { user: 'master', password: 'master-secret' };
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const MCS_AUTH = { authorization: `Basic ${Buffer.from(`${MCS.user}:${MCS.password}`).toString('base64')}` };
const JSON_TYPE = { 'content-type': 'application/json' };

/** `[[[…]]]` nested `depth` times. */
const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * Client errors that used to be answered with 500 (issue 16, point 3): each is refused with a 4xx in
 * the API's own envelope, naming the field, header or body at fault.
 */
describe('api: client errors are 4xx in each API envelope, never 500', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let db: Client;
  let base: string;
  let privatekey: string;
  const UDIL = () => ({ privatekey, transactionid: 'tx-client-errors', ...JSON_TYPE });

  beforeAll(async () => {
    database = await createMigratedDatabase('client_errors');
    applyEnvironment(
      testEnvironment(database.url, {
        REQUEST_BODY_LIMIT: '64kb',
        API_REQUEST_TIMEOUT_MS: '2000',
        ADMIN_TOKEN,
        MCS_USERNAME: MCS.user,
        MCS_PASSWORD: MCS.password,
      }),
    );
    app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    privatekey = await authorizedKey(app as never);
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await database?.drop();
  });

  const send = (raw: RawRequest) => rawRequest(base.replace('[::1]', '127.0.0.1'), raw);
  const big = JSON.stringify({ global_device_id: 'x'.repeat(70_000) });

  it.each<[string, RawRequest, number, object]>([
    [
      'UDIL: a body over the limit',
      { method: 'POST', path: '/time_synchronization', headers: { ...JSON_TYPE }, body: big },
      413,
      { status: '0', message: 'body: larger than the limit of 65536 bytes' },
    ],
    [
      'MCS: a body over the limit',
      { method: 'POST', path: '/mcs/collection-request', headers: { ...JSON_TYPE, ...MCS_AUTH }, body: big },
      413,
      { details: 'body: larger than the limit of 65536 bytes' },
    ],
    [
      'admin: a body over the limit',
      { method: 'POST', path: '/admin/gateways', headers: { ...JSON_TYPE, ...ADMIN }, body: big },
      413,
      { statusCode: 413, message: 'body: larger than the limit of 65536 bytes' },
    ],
    [
      'UDIL: an unsupported charset',
      {
        method: 'POST',
        path: '/time_synchronization',
        headers: { 'content-type': 'application/json; charset=latin9' },
        body: '{}',
      },
      415,
      { status: '0', message: 'content-type: charset "latin9" is not supported (send utf-8)' },
    ],
    [
      'MCS: an unsupported Content-Encoding',
      {
        method: 'POST',
        path: '/mcs/collection-request',
        headers: { ...JSON_TYPE, ...MCS_AUTH, 'content-encoding': 'compress' },
        body: '{}',
      },
      415,
      {
        details: 'content-encoding: "compress" is not supported (send identity, gzip, deflate or br)',
      },
    ],
    [
      'UDIL: a gzip header on a body that is not gzip',
      {
        method: 'POST',
        path: '/time_synchronization',
        headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
        body: '{"global_device_id":"m1"}',
      },
      400,
      { status: '0', message: 'content-encoding: the body is not valid gzip data' },
    ],
    [
      'UDIL: form fields nested deeper than the parser allows',
      {
        method: 'POST',
        path: '/time_synchronization',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `a${'[b]'.repeat(40)}=1`,
      },
      400,
      { status: '0', message: 'body: form fields are nested deeper than 32 levels' },
    ],
    [
      'admin: 5 000-deep JSON arrays',
      {
        method: 'POST',
        path: '/admin/gateways',
        headers: { ...JSON_TYPE, ...ADMIN },
        body: `{"name":${nestedArrays(5000)}}`,
      },
      400,
      {
        statusCode: 400,
        message: `name${'[0]'.repeat(31)}: must not be nested deeper than 32 levels`,
      },
    ],
    [
      'admin: a NUL in a body field',
      {
        method: 'POST',
        path: '/admin/gateways',
        headers: { ...JSON_TYPE, ...ADMIN },
        body: '{"name":"feeder\\u0000","driver":"ABB_G13","endpoint":"https://10.0.0.1"}',
      },
      400,
      { statusCode: 400, message: 'name: must not contain NUL characters (\\u0000)' },
    ],
    [
      'admin: an unpaired surrogate in a body field',
      {
        method: 'POST',
        path: '/admin/gateways',
        headers: { ...JSON_TYPE, ...ADMIN },
        body: '{"name":"feeder\\ud800","driver":"ABB_G13","endpoint":"https://10.0.0.1"}',
      },
      400,
      {
        statusCode: 400,
        message: 'name: must not contain unpaired UTF-16 surrogates',
      },
    ],
    [
      'admin: a NUL in a path parameter',
      { method: 'GET', path: '/admin/devices/m%001', headers: { ...ADMIN } },
      400,
      { statusCode: 400, message: 'globalDeviceId: must not contain NUL characters (\\u0000)' },
    ],
    [
      'admin: a NUL in a query parameter',
      { method: 'GET', path: '/admin/devices?gatewayId=a%00', headers: { ...ADMIN } },
      400,
      { statusCode: 400, message: 'gatewayId: must not contain NUL characters (\\u0000)' },
    ],
    [
      'MCS: a NUL in a path parameter',
      { method: 'GET', path: '/mcs/collection-status/ref%00', headers: { ...MCS_AUTH } },
      400,
      { details: 'requestReference: must not contain NUL characters (\\u0000)' },
    ],
    [
      'MCS: an unpaired surrogate in the body',
      {
        method: 'POST',
        path: '/mcs/collection-request',
        headers: { ...JSON_TYPE, ...MCS_AUTH },
        body: '{"requestReference":"r1","mpan":"\\udc00"}',
      },
      400,
      { details: 'mpan: must not contain unpaired UTF-16 surrogates' },
    ],
    [
      'UDIL: a NUL in authorization_service credentials',
      {
        method: 'POST',
        path: '/authorization_service',
        headers: { ...JSON_TYPE },
        body: '{"username":"mdm\\u0000","password":"x","code":"1"}',
      },
      400,
      { status: '0', message: 'username: must not contain NUL characters (\\u0000)' },
    ],
  ])('%s', async (_case, raw, status, body) => {
    const answer = await send(raw);
    expect({ status: answer.status, body: answer.json }).toEqual({ status, body });
  });

  it('a refusal on a path Express routes in another case or with a trailing slash keeps its API envelope (once a 500)', async () => {
    const noKey = await send({
      method: 'POST',
      path: '/aux_relay_operations/',
      headers: { ...JSON_TYPE },
      body: '{"global_device_id":"m1"}',
    });
    const xml = await send({
      method: 'POST',
      path: '/Transaction_Status',
      headers: { ...JSON_TYPE, accept: 'application/xml', privatekey: 'expired-key' },
      body: '{}',
    });
    const mcs = await send({ method: 'GET', path: '/MCS/service-status/', headers: {} });
    expect([noKey, xml, mcs].map((answer) => answer.status)).toEqual([401, 401, 401]);
    expect(noKey.json).toMatchObject({ status: '0', message: expect.stringMatching(/privatekey/) });
    expect(xml.text).toMatch(/<status>0<\/status>/);
    expect(mcs.json).toEqual({ details: expect.any(String) });
    expect((mcs.json as { details: string }).details).not.toBe('');
  });

  it('UDIL: NUL and unpaired surrogates in any field, including inside a JSON string, name the field', async () => {
    const command = (body: string) =>
      send({ method: 'POST', path: '/aux_relay_operations', headers: UDIL(), body });
    const direct = await command(
      '{"global_device_id":"m\\u00001","request_datetime":"2026-11-21 10:00:00","relay_operate":"1"}',
    );
    expect({ status: direct.status, body: direct.json }).toEqual({
      status: 400,
      body: {
        status: '0',
        transactionid: 'tx-client-errors',
        message: 'global_device_id: must not contain NUL characters (\\u0000)',
      },
    });
    // A set sent as a JSON string whose element holds an escaped unpaired surrogate.
    const inner = await command(
      JSON.stringify({
        global_device_id: '["m1","m\\ud8002"]',
        request_datetime: '2026-11-21 10:00:00',
        relay_operate: '1',
      }),
    );
    expect(inner.status).toBe(400);
    expect((inner.json as { message: string }).message).toBe(
      'global_device_id: must not contain unpaired UTF-16 surrogates (at [1])',
    );
    const multipart = await send({
      method: 'POST',
      path: '/aux_relay_operations',
      headers: { ...UDIL(), 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: [
        '--XYZ',
        'Content-Disposition: form-data; name="global_device_id"',
        '',
        'm\u00001',
        '--XYZ--',
        '',
      ].join('\r\n'),
    });
    expect({ status: multipart.status, body: multipart.json }).toEqual({
      status: 400,
      body: {
        status: '0',
        transactionid: 'tx-client-errors',
        message: 'global_device_id: must not contain NUL characters (\\u0000)',
      },
    });
  });

  it('admin: a null username is "none", never a database constraint error', async () => {
    const answer = await send({
      method: 'POST',
      path: '/admin/mcs-clients',
      headers: { ...JSON_TYPE, ...ADMIN },
      body: JSON.stringify({
        name: 'address-only',
        allowedAddresses: ['10.0.0.1'],
        username: null,
        password: null,
      }),
    });
    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ name: 'address-only', username: null });
    const withPassword = await send({
      method: 'POST',
      path: '/admin/mcs-clients',
      headers: { ...JSON_TYPE, ...ADMIN },
      body: JSON.stringify({
        name: 'half',
        allowedAddresses: [],
        username: null,
        password: 'long-enough-pw',
      }),
    });
    expect({ status: withPassword.status, body: withPassword.json }).toEqual({
      status: 400,
      body: { statusCode: 400, message: 'username is required when a password is given' },
    });
  });

  it('a gzip body that is gzip is read', async () => {
    const answer = await send({
      method: 'POST',
      path: '/transaction_status',
      headers: { ...UDIL(), 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ transactionid: ['never-sent'] })),
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ status: '0', data: [] });
  });

  it('a path segment that is not valid percent-encoding is 400 naming it, before any route or Bull Board', async () => {
    for (const [method, path, headers] of [
      ['GET', '/health/%E0%A4%A', {}],
      ['POST', '/read_command/%ZZ', UDIL()],
      ['PUT', '/admin/queues/api/queues/%E0%A4%A/pause', ADMIN],
    ] as const) {
      const answer = await send({ method, path, headers, body: method === 'GET' ? undefined : '{}' });
      const segment = path.split('/').find((part) => part.includes('%'));
      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: `Failed to decode param '${segment}'` },
      });
    }
    // In the query string it is the route's business (the probe answers).
    expect((await send({ method: 'GET', path: '/health/live?x=%ZZ' })).status).toBe(200);
  });

  it('every answer, refusals included, carries the security headers and does not name the framework', async () => {
    const answers = [
      await send({ method: 'GET', path: '/health/live' }),
      await send({ method: 'GET', path: '/no/such/route' }),
      await send({ method: 'GET', path: '/health/%E0%A4%A' }),
      await send({ method: 'POST', path: '/transaction_status', headers: UDIL(), body: '{"transactionid":' }),
      await send({ method: 'POST', path: '/transaction_status', headers: { ...JSON_TYPE }, body: '{}' }),
      await send({ method: 'GET', path: '/admin/gateways', headers: ADMIN }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 404, 400, 400, 401, 200]);
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      });
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });

  /** What the server sent on a connection that wrote `sent` and then nothing, and when it closed (ms). */
  const stalled = (sent: string) =>
    new Promise<{ answer: string; closedAfterMs: number }>((resolve, reject) => {
      const url = new URL(base.replace('[::1]', '127.0.0.1'));
      const started = Date.now();
      const socket = connect(Number(url.port), url.hostname, () => socket.write(sent));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
      // Far beyond the 2 s bound: Node's default would hold the socket for 5 minutes.
      socket.setTimeout(20_000, () => socket.destroy(new Error('still open after 20 s')));
    });

  it.each([
    [
      'a body that stops half-way',
      'POST /time_synchronization HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"global',
    ],
    ['headers that never end', 'POST /time_synchronization HTTP/1.1\r\nHost: x\r\nX-Slow: '],
  ])(
    'a client that sends %s is answered 408 and its connection closed (API_REQUEST_TIMEOUT_MS)',
    async (_, sent) => {
      const { answer, closedAfterMs } = await stalled(sent);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfterMs).toBeGreaterThanOrEqual(2000);
    },
  );

  it('stored nothing for any refused request', async () => {
    const { rows } = await db.query(
      `SELECT (SELECT count(*)::int FROM public.gateways) AS gateways,
              (SELECT count(*)::int FROM udil.transaction_status) AS transactions,
              (SELECT count(*)::int FROM mcs.collection_requests) AS collections`,
    );
    expect(rows[0]).toEqual({ gateways: 0, transactions: 0, collections: 0 });
  });
});
