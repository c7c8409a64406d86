/**
 * The drivers' HTTP(S) stack (`GatewayHttp`, on undici's Pool) against plain Node servers: connections kept
 * or not, byte counts, answers dropped half-way, a gateway that never completes the handshake, a cancel,
 * and close() while a request is in flight.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GatewayEndpoint, GatewayHttp } from '@hes/drivers';
import { HungGateway, startHungGateway } from './support/hung-gateway';
import { driverFailure } from './support/driver-failure';

interface Served {
  url: string;
  server: Server;
  /** Connections accepted so far. */
  connections: () => number;
  requests: Array<{ method: string; url: string; body: string; connection: number }>;
  stop: () => Promise<void>;
}

async function serve(
  answer: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<Served> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const requests: Served['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const connection = (req.socket as Socket & { ordinal?: number }).ordinal ?? 0;
      requests.push({ method: req.method ?? '', url: req.url ?? '', body, connection });
      answer(req, res, body);
    });
  });
  server.on('connection', (socket: Socket & { ordinal?: number }) => {
    connections += 1;
    socket.ordinal = connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    connections: () => connections,
    requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function gatewayAt(url: string, settings: Partial<GatewayEndpoint> = {}): GatewayEndpoint {
  return {
    id: 'gw-http',
    name: 'http-under-test',
    driver: 'ABB_G13',
    endpoint: url,
    tlsMode: 'insecure',
    maxInFlight: 2,
    requestTimeoutMs: 2_000,
    ...settings,
  };
}

function recording() {
  const lines: string[] = [];
  const traffic: Array<[number, number]> = [];
  return {
    lines,
    traffic,
    ctx: {
      log: (line: string) => lines.push(line),
      traffic: (sent: number, received: number) => traffic.push([sent, received]),
    },
  };
}

const failure = driverFailure;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GatewayHttp: the drivers HTTP(S) stack', () => {
  let echo: Served;
  beforeAll(async () => {
    echo = await serve((req, res, body) => {
      const text = JSON.stringify({ method: req.method, url: req.url, body, länge: 'ü' });
      res.writeHead(200, { 'Content-Type': 'application/json', Link: '</lasterror/7>' });
      res.end(text);
    });
  });
  afterAll(async () => echo.stop());

  it('sends method, path under the base path, headers and body; answers status, headers, body and byte counts', async () => {
    const http = new GatewayHttp(gatewayAt(echo.url), `${echo.url}/api/`, { keepAlive: true });
    const rec = recording();
    try {
      const payload = JSON.stringify({ port: 1, state: 'ü' });
      const answer = await http.send(
        { method: 'POST', path: '/io?x=1', body: payload, headers: { 'Content-Type': 'application/json' } },
        rec.ctx,
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.link).toBe('</lasterror/7>');
      expect(JSON.parse(answer.body)).toEqual({
        method: 'POST',
        url: '/api/io?x=1',
        body: payload,
        länge: 'ü',
      });
      // Bytes, not characters: ü is two.
      expect(rec.traffic).toEqual([[Buffer.byteLength(payload), Buffer.byteLength(answer.body)]]);
      expect(http.urlOf('/io')).toBe(`${echo.url}/api/io`);
    } finally {
      http.close();
    }
  });

  it('keeps connections open when asked to, and opens one per request otherwise', async () => {
    const kept = new GatewayHttp(gatewayAt(echo.url), echo.url, { keepAlive: true, maxSockets: 1 });
    const single = new GatewayHttp(gatewayAt(echo.url), echo.url, { maxSockets: 1 });
    const rec = recording();
    try {
      let before = echo.connections();
      for (let i = 0; i < 3; i++) await kept.send({ method: 'GET', path: `/kept/${i}` }, rec.ctx);
      expect(echo.connections() - before).toBe(1);
      before = echo.connections();
      for (let i = 0; i < 3; i++) await single.send({ method: 'GET', path: `/single/${i}` }, rec.ctx);
      expect(echo.connections() - before).toBe(3);
    } finally {
      kept.close();
      single.close();
    }
  });

  it('an answer dropped half-way is unreachable and retryable; a refused connection too', async () => {
    const dropping = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const http = new GatewayHttp(gatewayAt(dropping.url), dropping.url);
    const rec = recording();
    try {
      const dropped = await failure(http.send({ method: 'GET', path: '/about' }, rec.ctx));
      expect(dropped).toMatchObject({ kind: 'unreachable', retryable: true });
      expect(dropped.message).toMatch(/^GET \/about: connection dropped while receiving the answer/);
      expect(rec.traffic).toEqual([]);
    } finally {
      http.close();
      await dropping.stop();
    }
    const closed = new GatewayHttp(gatewayAt(dropping.url), dropping.url);
    try {
      const refused = await failure(closed.send({ method: 'GET', path: '/about' }, rec.ctx));
      expect(refused).toMatchObject({ kind: 'unreachable', retryable: true });
      expect(refused.message).toBe('GET /about: ECONNREFUSED');
      expect(rec.lines).toContain('GET /about failed: GET /about: ECONNREFUSED');
    } finally {
      closed.close();
    }
  });

  describe('a gateway that accepts connections and never completes the handshake', () => {
    let hung: HungGateway;
    beforeAll(async () => {
      hung = await startHungGateway('https');
    });
    afterAll(async () => hung.stop());

    it('times out each request, and a request given up takes its connection attempt down with it', async () => {
      const http = new GatewayHttp(gatewayAt(hung.url, { maxInFlight: 1, requestTimeoutMs: 150 }), hung.url, {
        keepAlive: true,
      });
      const rec = recording();
      hung.resetPeak();
      try {
        for (let i = 0; i < 4; i++) {
          const error = await failure(http.send({ method: 'GET', path: `/about/${i}` }, rec.ctx));
          expect(error).toMatchObject({ kind: 'timeout', retryable: true });
          expect(error.message).toBe(`GET /about/${i}: no complete answer within 150 ms`);
          // The attempt is ended, not left to hang: the gateway sees the connection close.
          for (let waited = 0; hung.open > 0; waited += 10) {
            if (waited > 2_000) throw new Error(`${hung.open} connection attempts left open`);
            await sleep(10);
          }
        }
        expect(hung.accepted).toBe(4);
        expect(hung.peakOpen).toBe(1);
      } finally {
        http.close();
      }
    });

    it('a cancel ends the request at once, not a retryable timeout', async () => {
      const http = new GatewayHttp(gatewayAt(hung.url, { requestTimeoutMs: 5_000 }), hung.url);
      const rec = recording();
      const cancel = new AbortController();
      try {
        const pending = failure(
          http.send({ method: 'GET', path: '/about' }, { ...rec.ctx, signal: cancel.signal }),
        );
        await sleep(50);
        cancel.abort();
        const error = await pending;
        expect(error).toMatchObject({ kind: 'timeout', retryable: false, message: 'GET /about: cancelled' });
        // Already cancelled: nothing is sent.
        const accepted = hung.accepted;
        const again = await failure(
          http.send({ method: 'GET', path: '/about' }, { ...rec.ctx, signal: cancel.signal }),
        );
        expect(again.message).toBe('GET /about: cancelled');
        await sleep(50);
        expect(hung.accepted).toBe(accepted);
      } finally {
        http.close();
      }
    });
  });

  it('a request cancelled before it was sent leaves the connection attempt of another request alone', async () => {
    const hung = await startHungGateway('https');
    const http = new GatewayHttp(gatewayAt(hung.url, { requestTimeoutMs: 5_000 }), hung.url);
    const rec = recording();
    const waiting = new AbortController();
    try {
      const pending = failure(
        http.send({ method: 'GET', path: '/a' }, { ...rec.ctx, signal: waiting.signal }),
      );
      while (hung.open === 0) await sleep(5);
      const cancelled = new AbortController();
      cancelled.abort();
      const refused = await failure(
        http.send({ method: 'GET', path: '/b' }, { ...rec.ctx, signal: cancelled.signal }),
      );
      expect(refused.message).toBe('GET /b: cancelled');
      await sleep(50);
      // The first request's handshake is still under way; its own cancel ends it.
      expect(hung.open).toBe(1);
      waiting.abort();
      expect((await pending).message).toBe('GET /a: cancelled');
      for (let waited = 0; hung.open > 0; waited += 10) {
        if (waited > 2_000) throw new Error('the cancelled request left its connection attempt open');
        await sleep(10);
      }
    } finally {
      http.close();
      await hung.stop();
    }
  });

  it('close() lets the request in flight finish, and a later request still goes out on a connection of its own', async () => {
    let release: () => void = () => undefined;
    const slow = await serve((_req, res) => {
      release = () => res.end('{"late":true}');
    });
    const http = new GatewayHttp(gatewayAt(slow.url), slow.url, { keepAlive: true });
    const rec = recording();
    try {
      const pending = http.send({ method: 'GET', path: '/slow' }, rec.ctx);
      while (slow.requests.length === 0) await sleep(5);
      http.close();
      release();
      await expect(pending).resolves.toMatchObject({ status: 200, body: '{"late":true}' });
      const later = http.send({ method: 'GET', path: '/later' }, rec.ctx);
      while (slow.requests.length < 2) await sleep(5);
      release();
      await expect(later).resolves.toMatchObject({ status: 200 });
      expect(slow.connections()).toBe(2);
    } finally {
      await slow.stop();
    }
  });
});
