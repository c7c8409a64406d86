import { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiApp } from '../apps/api/src/bootstrap';
import { rawRequest } from './support/raw-http';
import { testCertificates } from './support/test-certificates';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';
import { MDM_USER } from './support/udil-client';
import { UdilAuthService } from '@hes/udil';

interface HttpsAnswer {
  status: number;
  json: unknown;
  protocol: string;
}

/** A POST over HTTPS by a client that verifies the server's certificate against `ca` (or the system's). */
function httpsPost(
  port: number,
  path: string,
  headers: Record<string, string>,
  ca?: string,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers, ca, rejectUnauthorized: true, agent: false },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            json: JSON.parse(text) as unknown,
            protocol: (response.socket as { getProtocol?: () => string }).getProtocol?.() ?? '',
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/**
 * UDIL over HTTPS (UDIL mandates it): with API_TLS_CERT_FILE and API_TLS_KEY_FILE the api serves
 * HTTPS itself, checked by a client that verifies the certificate against a CA made for the test.
 */
describe('api over HTTPS', () => {
  let database: TestDatabase;
  let folder: string;
  let app: INestApplication;
  let port: number;
  let ca: string;

  beforeAll(async () => {
    database = await createMigratedDatabase('https');
    folder = mkdtempSync(join(tmpdir(), 'hes-tls-'));
    const certificates = testCertificates();
    ca = certificates.ca.cert;
    writeFileSync(join(folder, 'server.crt'), certificates.signed.cert);
    writeFileSync(join(folder, 'server.key'), certificates.signed.key, { mode: 0o600 });
    applyEnvironment(
      testEnvironment(database.url, {
        API_TLS_CERT_FILE: join(folder, 'server.crt'),
        API_TLS_KEY_FILE: join(folder, 'server.key'),
      }),
    );
    app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    port = Number(new URL(await app.getUrl()).port);
    await app.get(UdilAuthService).createClient(MDM_USER.username, MDM_USER.password, MDM_USER.code);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('serves authorization_service and the UDIL services to a client that verifies the certificate', async () => {
    const login = await httpsPost(port, '/authorization_service', { ...MDM_USER }, ca);
    expect(login.status).toBe(200);
    expect(login.protocol).toMatch(/^TLSv1\.[23]$/);
    const { privatekey } = login.json as { privatekey: string };
    const status = await httpsPost(
      port,
      '/transaction_status',
      { privatekey, transactionid: 'never-sent' },
      ca,
    );
    expect(status).toMatchObject({ status: 200, json: { status: '0', data: [] } });
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await expect(httpsPost(port, '/authorization_service', { ...MDM_USER })).rejects.toMatchObject({
      code: expect.stringMatching(
        /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
      ),
    });
  });

  it('does not answer plain HTTP on the HTTPS port', async () => {
    const plain = await rawRequest(`http://127.0.0.1:${port}`, {
      method: 'POST',
      path: '/authorization_service',
    }).then(
      (answer) => answer.status,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(plain).not.toBe(200);
    expect(plain).not.toBe(401);
  });
});

/**
 * The other option: plain HTTP behind a TLS-terminating proxy, which API_TRUST_PROXY names so that the
 * client's address (MCS allow-lists, credential throttling) is the one the proxy forwards.
 */
describe('api behind a TLS-terminating proxy', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    database = await createMigratedDatabase('proxy');
    applyEnvironment(
      testEnvironment(database.url, { API_TRUST_PROXY: 'loopback', MCS_ALLOWED_CLIENTS: '10.20.30.40' }),
    );
    app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('takes the client address from X-Forwarded-For sent by a trusted proxy', async () => {
    const status = (forwardedFor?: string) =>
      rawRequest(base, {
        method: 'GET',
        path: '/mcs/service-status',
        headers: forwardedFor ? { 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'https' } : {},
      });
    expect((await status('10.20.30.40')).status).toBe(200);
    const other = await status('10.20.30.41');
    expect({ status: other.status, body: other.json }).toEqual({
      status: 403,
      body: { details: 'client address 10.20.30.41 is not allowed' },
    });
    // Without the header the client is the proxy itself, which the allow-list does not name.
    expect((await status()).status).toBe(403);
  });
});
