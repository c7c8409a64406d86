import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import request from 'supertest';
import { createRootLogger, requestLogMiddleware } from './request-logging';

/** Every line the logger writes, parsed. */
function capture(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((l) => l !== ''))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

/**
 * A server behind the middleware: `/fail` answers 500, `/warn` logs a warning through nestjs-pino. Each
 * request the handler saw goes to `seen` (with whether it carried an `id` when its answer was sent).
 */
function serverWith(root: Logger, seen: { url?: string; hadId: boolean }[] = []): Server {
  const handle = requestLogMiddleware(root);
  const logger = new PinoLogger({ pinoHttp: { logger: root } });
  logger.setContext('Spec');
  return createServer((req, res) =>
    handle(req, res, () => {
      res.on('finish', () => seen.push({ url: req.url, hadId: Object.hasOwn(req, 'id') }));
      if (req.url === '/warn') logger.warn('meter did not answer');
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end('{}');
    }),
  );
}

const SECRETS = {
  privatekey: 'pk-secret',
  authorization: 'Basic c2VjcmV0',
  cookie: 'session=secret',
  password: 'pw-secret',
  code: 'code-secret',
};

describe('request logging', () => {
  it('at info writes one line per request: its id, the request with secret headers redacted, the transactionid, the status', async () => {
    const { stream, lines } = capture();
    const root = createRootLogger({ LOG_LEVEL: 'info', LOG_PRETTY: false }, stream);
    const server = serverWith(root);

    await request(server).get('/read_command?x=1').set(SECRETS).set('transactionid', 'tx-42').expect(200);
    await request(server).get('/read_command').expect(200);

    expect(lines).toHaveLength(2);
    const [first, second] = lines;
    expect(first).toMatchObject({
      level: 30,
      msg: 'request completed',
      transactionid: 'tx-42',
      req: {
        method: 'GET',
        url: '/read_command?x=1',
        headers: {
          privatekey: '[redacted]',
          authorization: '[redacted]',
          cookie: '[redacted]',
          password: '[redacted]',
          code: '[redacted]',
          transactionid: 'tx-42',
        },
      },
      res: { statusCode: 200 },
    });
    expect(typeof first.responseTime).toBe('number');
    expect(JSON.stringify(first)).not.toMatch(/secret/);
    const ids = [first, second].map((line) => (line.req as { id: unknown }).id);
    expect(typeof ids[0]).toBe('number');
    expect(ids[1]).not.toEqual(ids[0]);
    expect(second).not.toHaveProperty('transactionid');
  });

  it('at info logs a 5xx as "request errored" with an error', async () => {
    const { stream, lines } = capture();
    const server = serverWith(createRootLogger({ LOG_LEVEL: 'info', LOG_PRETTY: false }, stream));

    await request(server).get('/fail').expect(500);

    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'request errored',
        res: expect.objectContaining({ statusCode: 500 }),
        err: expect.objectContaining({ message: 'failed with status code 500' }),
      }),
    ]);
  });

  it('writes no request line for the probes and Prometheus', async () => {
    const { stream, lines } = capture();
    const server = serverWith(createRootLogger({ LOG_LEVEL: 'info', LOG_PRETTY: false }, stream));

    await request(server).get('/health/live').expect(200);
    await request(server).get('/metrics?x=1').expect(200);

    expect(lines).toEqual([]);
  });

  it('at warn serialises nothing for a request that logs nothing, and adds nothing to it', async () => {
    const { stream, lines } = capture();
    const root = createRootLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false }, stream);
    const child = jest.spyOn(root, 'child');
    const seen: { url?: string; hadId: boolean }[] = [];
    const server = serverWith(root, seen);

    await request(server).get('/read_command').set(SECRETS).expect(200);
    await request(server).get('/fail').expect(500);

    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    // No `id` written on a request whose logger was never made (the cost measured in bench/RESULTS.md).
    expect(seen).toEqual([
      { url: '/read_command', hadId: false },
      { url: '/fail', hadId: false },
    ]);
  });

  it('at warn, a line written while a request is handled carries the id the request got as it arrived', async () => {
    const { stream, lines } = capture();
    const seen: { url?: string; hadId: boolean }[] = [];
    const server = serverWith(createRootLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false }, stream), seen);

    await request(server).get('/read_command').expect(200); // request 1: logs nothing
    await request(server).get('/warn').expect(200); // request 2
    await request(server).get('/warn').expect(200); // request 3

    expect(lines.map((line) => (line.req as { id?: unknown }).id)).toEqual([2, 3]);
    expect(seen.map((s) => s.hadId)).toEqual([false, true, true]);
  });

  it('at warn, a line written while a request is handled carries the request (redacted) and its transactionid', async () => {
    const { stream, lines } = capture();
    const server = serverWith(createRootLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false }, stream));

    await request(server).get('/warn').set(SECRETS).set('transactionid', 'tx-7').expect(200);

    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'meter did not answer',
        context: 'Spec',
        transactionid: 'tx-7',
        req: expect.objectContaining({
          method: 'GET',
          url: '/warn',
          headers: expect.objectContaining({ privatekey: '[redacted]', authorization: '[redacted]' }),
        }),
      }),
    ]);
  });
});
