/**
 * OMEGA_ISERVER2 over wss:// in the three TLS modes. "pinned": the right pin works, a wrong pin is
 * refused before anything is written (the impostor receives no HTTP upgrade, no login, no command), and
 * a CA-valid certificate does not replace the pin. "verify": a certificate signed by the gateway's CA
 * is accepted, a self-signed one refused. "insecure": a self-signed one is accepted.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { GatewayEndpoint, GatewayHttp } from '@hes/drivers';
import { IServer2Driver, IServer2Maintenance } from '@hes/drivers/iserver2';
import { GuideUnitHandle, startGuideUnit } from './support/iserver2-guide-unit';
import { testCertificates } from './support/test-certificates';
import { gatewayAt, recordingContext } from './iserver2-support';

/** An HTTPS server answering any request with a one-line extract, counting the requests it got. */
async function extractServer(certificate: { key: string; cert: string }) {
  let requests = 0;
  const server = https.createServer(certificate, (_request, response) => {
    requests++;
    response.end('Time,p1ch0\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    async stop(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('OMEGA_ISERVER2 over TLS', () => {
  let certificates: ReturnType<typeof testCertificates>;
  let signedUnit: GuideUnitHandle;
  let selfSignedUnit: GuideUnitHandle;
  let driver: IServer2Driver;
  let maintenance: IServer2Maintenance;

  function gateway(unit: GuideUnitHandle, overrides: Partial<GatewayEndpoint>): GatewayEndpoint {
    return gatewayAt(unit.endpoint, {
      id: `gw-${unit.port}-${overrides.tlsMode ?? 'verify'}`,
      name: 'iServer 2 over TLS',
      ...overrides,
    });
  }

  const untouched = (unit: GuideUnitHandle): void => {
    expect(unit.upgrades()).toBe(0);
    expect(unit.messages()).toEqual([]);
    expect(unit.extracts()).toBe(0);
  };

  beforeAll(async () => {
    certificates = testCertificates();
    signedUnit = await startGuideUnit({ tls: certificates.signed });
    selfSignedUnit = await startGuideUnit({ tls: certificates.selfSigned });
  });

  beforeEach(() => {
    driver = new IServer2Driver({ connectAttempts: 2, backoffMs: 10 });
    maintenance = new IServer2Maintenance(driver.units);
  });

  afterEach(async () => {
    await driver.close();
  });

  afterAll(async () => {
    await signedUnit.stop();
    await selfSignedUnit.stop();
  });

  describe('pinned', () => {
    it('works with the right pin, over wss and over https for the extract', async () => {
      const gw = gateway(selfSignedUnit, {
        tlsMode: 'pinned',
        tlsFingerprintSha256: certificates.selfSigned.fingerprint256,
      });
      expect(await maintenance.readUnitMetadata(gw, recordingContext())).toMatchObject({
        serial: 'F2215i030123',
      });
      const to = new Date();
      const history = await driver.readHistory(
        gw,
        ['p1ch0'],
        { from: new Date(to.getTime() - 30_000), to },
        recordingContext(),
      );
      expect(history.length).toBeGreaterThan(0);
      expect(selfSignedUnit.extracts()).toBe(1);
    });

    it.each([
      ['a self-signed impostor', () => selfSignedUnit],
      ['an impostor whose certificate a CA signed', () => signedUnit],
    ])('refuses %s before writing anything, not retryable', async (_name, unitOf) => {
      const impostor = unitOf();
      const before = { upgrades: impostor.upgrades(), messages: impostor.messages().length };
      const wrongPin = (impostor === signedUnit ? certificates.selfSigned : certificates.signed)
        .fingerprint256;
      const ctx = recordingContext();
      const error = await maintenance
        .readUnitMetadata(gateway(impostor, { tlsMode: 'pinned', tlsFingerprintSha256: wrongPin }), ctx)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'authentication', retryable: false });
      expect((error as Error).message).toMatch(/pinned SHA-256 fingerprint/);
      expect(impostor.upgrades()).toBe(before.upgrades);
      expect(impostor.messages()).toHaveLength(before.messages);
      expect(ctx.levels).toEqual([2]); // never logged in
    });

    it('refuses a pinned gateway without a fingerprint', async () => {
      await expect(
        maintenance.readUnitMetadata(gateway(selfSignedUnit, { tlsMode: 'pinned' }), recordingContext()),
      ).rejects.toMatchObject({ kind: 'refused', message: expect.stringMatching(/fingerprint/) });
    });

    it("the extract, on the kit's HTTP stack, refuses a wrong pin before any request", async () => {
      // The WebSocket answers with the pinned certificate; the extract's host is an impostor.
      const server = await extractServer(certificates.signed);
      const pinned = new IServer2Driver({ connectAttempts: 1, cgiBaseUrl: () => server.url });
      try {
        const gw = gateway(selfSignedUnit, {
          id: 'gw-extract-impostor',
          tlsMode: 'pinned',
          tlsFingerprintSha256: certificates.selfSigned.fingerprint256,
        });
        const to = new Date();
        const ctx = recordingContext();
        const error = await pinned
          .readHistory(gw, ['p1ch0'], { from: new Date(to.getTime() - 30_000), to }, ctx)
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ kind: 'authentication', retryable: false });
        expect((error as Error).message).toMatch(/pinned SHA-256 fingerprint/);
        expect(server.requests()).toBe(0);
        // No extract exchange was counted: the WebSocket frames (sent > 0) are the only traffic.
        expect(ctx.bytes.every(([sent]) => sent > 0)).toBe(true);
        expect(ctx.lines.filter((line) => line.startsWith('GET /cgi-bin/query'))).toEqual([
          expect.stringMatching(/failed: .*pinned SHA-256 fingerprint/),
        ]);
      } finally {
        await pinned.close();
        await server.stop();
      }
    });

    it('the kit HTTP stack hands out no connection to a wrong certificate, and counts the right one', async () => {
      const server = await extractServer(certificates.selfSigned);
      const url = server.url;
      const over = (pin: string) =>
        new GatewayHttp(gatewayAt(url, { tlsMode: 'pinned', tlsFingerprintSha256: pin }), url);
      const wrong = over(certificates.signed.fingerprint256);
      const right = over(certificates.selfSigned.fingerprint256);
      try {
        await expect(
          wrong.send({ method: 'GET', path: '/cgi-bin/query' }, recordingContext()),
        ).rejects.toMatchObject({ kind: 'authentication', message: expect.stringMatching(/pinned SHA-256/) });
        expect(server.requests()).toBe(0);
        const ctx = recordingContext();
        const answer = await right.send({ method: 'GET', path: '/cgi-bin/query' }, ctx);
        expect(answer).toMatchObject({ status: 200, body: 'Time,p1ch0\n' });
        expect(server.requests()).toBe(1);
        expect(ctx.bytes).toEqual([[0, 11]]);
      } finally {
        wrong.close();
        right.close();
        await server.stop();
      }
    });
  });

  describe('verify', () => {
    it("accepts a certificate signed by the gateway's CA", async () => {
      const gw = gateway(signedUnit, { tlsMode: 'verify', tlsCaPem: certificates.ca.cert });
      expect(await maintenance.readUnitMetadata(gw, recordingContext())).toMatchObject({
        model: 'iS2-THB-DP',
      });
    });

    it.each([
      ['a self-signed certificate', () => selfSignedUnit, (): string | undefined => certificates.ca.cert],
      ['a CA-signed certificate without the CA', () => signedUnit, (): string | undefined => undefined],
    ])('refuses %s before writing anything', async (_name, unitOf, caOf) => {
      const unit = unitOf();
      const before = { upgrades: unit.upgrades(), messages: unit.messages().length };
      const error = await maintenance
        .readUnitMetadata(gateway(unit, { tlsMode: 'verify', tlsCaPem: caOf() }), recordingContext())
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'authentication', retryable: false });
      expect(unit.upgrades()).toBe(before.upgrades);
      expect(unit.messages()).toHaveLength(before.messages);
    });
  });

  describe('insecure', () => {
    it('accepts a self-signed certificate', async () => {
      const gw = gateway(selfSignedUnit, { tlsMode: 'insecure' });
      expect(await maintenance.readUnitMetadata(gw, recordingContext())).toMatchObject({
        manufacturer: 'Omega',
      });
    });
  });

  it('a fresh impostor, refused, has heard nothing at all', async () => {
    const impostor = await startGuideUnit({ tls: certificates.selfSigned });
    try {
      for (const overrides of [
        { tlsMode: 'pinned' as const, tlsFingerprintSha256: certificates.signed.fingerprint256 },
        { tlsMode: 'verify' as const, tlsCaPem: certificates.ca.cert },
      ])
        await expect(
          driver.readSensors(gateway(impostor, overrides), recordingContext()),
        ).rejects.toMatchObject({
          kind: 'authentication',
        });
      untouched(impostor);
    } finally {
      await impostor.stop();
    }
  });
});
