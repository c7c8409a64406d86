import * as http from 'node:http';
import * as https from 'node:https';
import { DriverError, GatewayEndpoint, OperationContext } from '../driver.contract';
import { CachedClient } from './client-cache';
import { certificateMatchesPin, isCertificateError, normalizeFingerprint, tlsAgentFor } from './tls';

/**
 * The one HTTP(S) stack of the drivers (the G13's JSON API, the iServer 2's CGI extract): a connection
 * pool per gateway with the gateway's TLS mode (the kit's `tlsAgentFor`, pinning checked before anything
 * is written and again on the answer's socket), its request timeout, cancellation by `ctx.signal`, the
 * bytes of every exchange reported to `ctx.traffic` (DEVICE_COMMUNICATION_HISTORY), and the transport
 * failures mapped to DriverError kinds. What an HTTP status means is the driver's to say.
 */

export interface HttpAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface HttpExchange {
  method: string;
  /** Path and query, appended to the base URL's path. */
  path: string;
  body?: string;
  headers?: http.OutgoingHttpHeaders;
}

/** What the stack uses of an operation's context: its log, its byte counts, its cancellation. */
export type HttpContext = Pick<OperationContext, 'log' | 'traffic' | 'signal'>;

export interface GatewayHttpSettings {
  /** Keep connections open between requests (default false: one connection per request). */
  keepAlive?: boolean;
  /** Connections open at once at most (default: the gateway's maxInFlight). */
  maxSockets?: number;
  /** Names the device in error messages (default: `gateway <name>`). */
  label?: string;
}

export class GatewayHttp implements CachedClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly pin?: string;
  private readonly label: string;
  private inFlight = 0;
  private closed = false;

  /** `baseUrl`: http:// or https:// (default: the gateway's endpoint). */
  constructor(
    readonly gateway: GatewayEndpoint,
    baseUrl: string = gateway.endpoint,
    settings: GatewayHttpSettings = {},
  ) {
    this.base = new URL(baseUrl);
    this.label = settings.label ?? `gateway ${gateway.name}`;
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:')
      throw new DriverError('refused', `${this.label}: ${baseUrl} is not an http(s):// URL`, false);
    const sockets = {
      keepAlive: settings.keepAlive ?? false,
      maxSockets: settings.maxSockets ?? Math.max(1, gateway.maxInFlight),
    };
    if (this.base.protocol === 'https:') {
      if (gateway.tlsMode === 'pinned' && gateway.tlsFingerprintSha256)
        this.pin = normalizeFingerprint(gateway.tlsFingerprintSha256);
      // verify: system CAs or the gateway's own CA. pinned: the certificate's SHA-256 is compared on every
      // handshake before the connection is used. insecure: explicit.
      this.agent = tlsAgentFor(gateway, sockets);
    } else {
      this.agent = new http.Agent(sockets);
    }
  }

  /** The URL a path is sent to (for logs). */
  urlOf(path: string): string {
    return `${this.base.origin}${this.base.pathname.replace(/\/$/, '')}${path}`;
  }

  /**
   * Releases the pooled connections once the requests in flight have answered: a client replaced after
   * a settings change finishes the work that already holds it, while new work gets the new client.
   */
  close(): void {
    this.closed = true;
    if (this.inFlight === 0) this.agent.destroy();
  }

  /**
   * Sends one request and resolves with the whole answer, whatever its status. Rejects with a DriverError:
   * `authentication` (certificate refused, not retryable), `unreachable` (refused, reset, dropped while
   * answering), `timeout` (no complete answer within the gateway's requestTimeoutMs, or cancelled).
   */
  async send(exchange: HttpExchange, ctx: HttpContext): Promise<HttpAnswer> {
    this.inFlight += 1;
    try {
      return await this.transmit(exchange, ctx);
    } finally {
      this.inFlight -= 1;
      if (this.closed && this.inFlight === 0) this.agent.destroy();
    }
  }

  private transmit(exchange: HttpExchange, ctx: HttpContext): Promise<HttpAnswer> {
    const label = `${exchange.method} ${exchange.path}`;
    const timeoutMs = this.gateway.requestTimeoutMs;
    const payload = exchange.body;
    const sent = payload === undefined ? 0 : Buffer.byteLength(payload);
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (error: DriverError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        ctx.log?.(`${label} failed: ${error.message}`);
        reject(error);
      };
      const headers: http.OutgoingHttpHeaders = { ...exchange.headers };
      if (payload !== undefined) headers['Content-Length'] = sent;
      const transport = this.base.protocol === 'https:' ? https : http;
      const req = transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port || undefined,
          method: exchange.method,
          path: `${this.base.pathname.replace(/\/$/, '')}${exchange.path}`,
          headers,
          agent: this.agent,
        },
        (res) => {
          // Defence in depth: the pinned agent hands over only matching connections.
          if (this.pin && !certificateMatchesPin(res.socket, this.pin)) {
            fail(
              new DriverError(
                'authentication',
                `${label}: certificate of ${this.label} does not match the pinned SHA-256 fingerprint`,
                false,
              ),
            );
            return;
          }
          const chunks: Buffer[] = [];
          const dropped = (detail?: string) =>
            new DriverError(
              'unreachable',
              `${label}: connection dropped while receiving the answer${detail ? ` (${detail})` : ''}`,
              true,
            );
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('aborted', () => fail(dropped()));
          res.on('error', (error) => fail(dropped(error.message)));
          res.on('end', () => {
            if (settled) return;
            if (!res.complete) {
              fail(dropped());
              return;
            }
            settled = true;
            clearTimeout(timer);
            ctx.signal?.removeEventListener('abort', onAbort);
            const received = Buffer.concat(chunks);
            ctx.traffic?.(sent, received.length);
            resolve({ status: res.statusCode ?? 0, body: received.toString('utf8'), headers: res.headers });
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? '';
        if (isCertificateError(error))
          fail(
            new DriverError(
              'authentication',
              `${label}: TLS verification of ${this.label} failed (${code || error.message})`,
              false,
              error,
            ),
          );
        else fail(new DriverError('unreachable', `${label}: ${code || error.message}`, true, error));
      });
      const timer = setTimeout(
        () => fail(new DriverError('timeout', `${label}: no complete answer within ${timeoutMs} ms`, true)),
        timeoutMs,
      );
      const onAbort = () => fail(new DriverError('timeout', `${label}: cancelled`, false));
      if (ctx.signal?.aborted) onAbort();
      else ctx.signal?.addEventListener('abort', onAbort, { once: true });
      if (!settled) req.end(payload);
    });
  }
}
