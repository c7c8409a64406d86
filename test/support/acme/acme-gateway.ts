import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The ACME X1 gateway of the tests: two meters, Basic authentication, keeps connections open. */
export interface AcmeGateway {
  endpoint: string;
  /** Authorization headers received, in order. */
  authorizations: string[];
  /** Connections currently open to it. */
  openConnections(): number;
  /** Resolves once a connection has been closed (by either side) since the call. */
  nextClose(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAcmeGateway(password: () => string): Promise<AcmeGateway> {
  const authorizations: string[] = [];
  let open = 0;
  let onClose: (() => void)[] = [];
  const server = http.createServer((request, response) => {
    const authorization = request.headers.authorization ?? '';
    authorizations.push(authorization);
    if (authorization !== `Basic ${Buffer.from(`hes:${password()}`).toString('base64')}`) {
      response.writeHead(401).end();
      return;
    }
    const time = '2026-11-30T10:00:00.000Z';
    const meter = /^\/meters\/([^/]+)\/(clock|instant)$/.exec(request.url ?? '');
    const body =
      request.url === '/meters'
        ? [{ serial: 'X1-0001' }, { serial: 'X1-0002' }]
        : meter?.[2] === 'clock'
          ? { time }
          : meter
            ? { time, voltage: 231.5 }
            : undefined;
    if (body === undefined) response.writeHead(404).end();
    else response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  server.on('connection', (socket) => {
    open++;
    socket.on('close', () => {
      open--;
      const waiting = onClose;
      onClose = [];
      for (const resolve of waiting) resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    openConnections: () => open,
    nextClose: () => new Promise<void>((resolve) => onClose.push(resolve)),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
