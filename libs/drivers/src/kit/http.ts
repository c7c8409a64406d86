import { Socket, connect as connectTcp } from 'node:net';
import { Pool } from 'undici';
import type { Dispatcher, buildConnector } from 'undici';
import { DriverError, GatewayEndpoint, OperationContext } from '../driver.contract';
import { CachedClient } from './client-cache';
import { PIN_MISMATCH, connectGatewayTls, isCertificateError, normalizeFingerprint } from './tls';

/**
 * The one HTTP(S) stack of the drivers (the G13's JSON API, the iServer 2's CGI extract): a connection
 * pool per gateway (undici's Pool: a G13 operation costs 30–36 % less CPU than on `node:http` with an
 * Agent, `npm run bench:driver` in bench/RESULTS.md) with the gateway's TLS mode (pinning checked on every handshake before
 * anything is written), its request timeout, cancellation by `ctx.signal`, the bytes of every exchange
 * reported to `ctx.traffic` (DEVICE_COMMUNICATION_HISTORY), and the transport failures mapped to
 * DriverError kinds. What an HTTP status means is the driver's to say.
 */

/** Header names in lower case; a header sent twice is an array. */
export type HttpHeaders = Record<string, string | string[] | undefined>;

export interface HttpAnswer {
  status: number;
  body: string;
  headers: HttpHeaders;
}

export interface HttpExchange {
  method: string;
  /** Path and query, appended to the base URL's path. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
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

interface ConnectorSettings {
  tls: boolean;
  /** pinned: the certificate's SHA-256 (normalized). */
  pin?: string;
  rejectUnauthorized: boolean;
  ca?: string;
}

/**
 * Opens the pool's connections (TLS through the kit's `connectGatewayTls`: handed over only after the
 * handshake and, when pinned, the certificate's SHA-256 matched) and keeps those still being established,
 * so that a request given up before it was sent (its timeout or cancel while the gateway does not complete
 * the TCP or TLS handshake) takes its connection attempt down with it, as a request of `node:http`
 * destroys its socket: a hung gateway never holds more connection attempts than requests waiting for it.
 */
class GatewayConnector {
  private readonly connecting = new Set<Socket>();

  constructor(private readonly settings: ConnectorSettings) {}

  readonly connect: buildConnector.connector = (options, callback) => {
    const host = options.hostname;
    const port = Number(options.port) || (this.settings.tls ? 443 : 80);
    const handOver = (error: Error | null, socket: Socket) => {
      this.connecting.delete(socket);
      if (error) return callback(error, null);
      socket.setNoDelay(true);
      callback(null, socket);
    };
    let socket: Socket;
    if (this.settings.tls) {
      const { pin, rejectUnauthorized, ca } = this.settings;
      socket = connectGatewayTls(
        { host, port, servername: options.servername, pin, rejectUnauthorized, ca },
        handOver,
      );
    } else {
      const plain = connectTcp({ host, port });
      const onConnect = () => {
        plain.off('error', onError);
        handOver(null, plain);
      };
      const onError = (error: Error) => {
        plain.off('connect', onConnect);
        handOver(error, plain);
      };
      plain.once('connect', onConnect);
      plain.once('error', onError);
      socket = plain;
    }
    this.connecting.add(socket);
  };

  /** Ends the oldest connection attempt still under way, if there is one. */
  abandonOne(reason: Error): void {
    const oldest = this.connecting.values().next();
    if (oldest.done) return;
    this.connecting.delete(oldest.value);
    oldest.value.destroy(reason);
  }
}

export class GatewayHttp implements CachedClient {
  private readonly base: URL;
  private readonly basePath: string;
  private readonly pin?: string;
  private readonly label: string;
  private readonly keepAlive: boolean;
  private readonly connections: number;
  /** Created on first use, and again for a request sent after close() released it. */
  private pool?: Pool;
  private connector?: GatewayConnector;
  private inFlight = 0;
  private closed = false;

  /** `baseUrl`: http:// or https:// (default: the gateway's endpoint). */
  constructor(
    readonly gateway: GatewayEndpoint,
    baseUrl: string = gateway.endpoint,
    settings: GatewayHttpSettings = {},
  ) {
    this.base = new URL(baseUrl);
    this.basePath = this.base.pathname.replace(/\/$/, '');
    this.label = settings.label ?? `gateway ${gateway.name}`;
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:')
      throw new DriverError('refused', `${this.label}: ${baseUrl} is not an http(s):// URL`, false);
    this.keepAlive = settings.keepAlive ?? false;
    this.connections = settings.maxSockets ?? Math.max(1, gateway.maxInFlight);
    if (this.base.protocol === 'https:' && gateway.tlsMode === 'pinned') {
      if (!gateway.tlsFingerprintSha256)
        throw new DriverError(
          'refused',
          `gateway ${gateway.name}: TLS mode "pinned" needs a certificate fingerprint`,
          false,
        );
      this.pin = normalizeFingerprint(gateway.tlsFingerprintSha256);
    }
  }

  /** The URL a path is sent to (for logs). */
  urlOf(path: string): string {
    return `${this.base.origin}${this.basePath}${path}`;
  }

  /**
   * Releases the pooled connections once the requests in flight have answered: a client replaced after
   * a settings change finishes the work that already holds it (each of its later requests on a connection
   * of its own, closed after it), while new work gets the new client.
   */
  close(): void {
    this.closed = true;
    if (this.inFlight === 0) this.release();
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
      if (this.closed && this.inFlight === 0) this.release();
    }
  }

  private release(): void {
    const pool = this.pool;
    this.pool = undefined;
    this.connector = undefined;
    // Nothing of this client is in flight: what the pool still holds was abandoned (timed out, cancelled).
    pool?.destroy().catch(() => undefined);
  }

  private connectionPool(): Pool {
    if (this.pool) return this.pool;
    const tls = this.base.protocol === 'https:';
    // verify: system CAs or the gateway's own CA. pinned: the certificate's SHA-256 is compared on every
    // handshake before the connection is used. insecure: explicit.
    this.connector = new GatewayConnector({
      tls,
      pin: this.pin,
      rejectUnauthorized: tls && !this.pin && this.gateway.tlsMode !== 'insecure',
      ca: this.gateway.tlsCaPem || undefined,
    });
    // The request timeout below is the one authority on time: undici's own header and body timeouts are off.
    this.pool = new Pool(this.base.origin, {
      connections: this.connections,
      pipelining: 1,
      connect: this.connector.connect,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    return this.pool;
  }

  /** A failure of the connection or of the exchange on it, as the DriverError kind it is. */
  private transportFailure(label: string, error: Error, answering: boolean): DriverError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (isCertificateError(error))
      return new DriverError(
        'authentication',
        error.message === PIN_MISMATCH
          ? `${label}: certificate of ${this.label} does not match the pinned SHA-256 fingerprint`
          : `${label}: TLS verification of ${this.label} failed (${code || error.message})`,
        false,
        error,
      );
    if (answering)
      return new DriverError(
        'unreachable',
        `${label}: connection dropped while receiving the answer (${error.message})`,
        true,
        error,
      );
    // undici's own codes (UND_ERR_SOCKET …) say less than its message; a system code (ECONNREFUSED) says it all.
    const detail = code && !code.startsWith('UND_ERR') ? code : error.message;
    return new DriverError('unreachable', `${label}: ${detail}`, true, error);
  }

  private transmit(exchange: HttpExchange, ctx: HttpContext): Promise<HttpAnswer> {
    const label = `${exchange.method} ${exchange.path}`;
    const timeoutMs = this.gateway.requestTimeoutMs;
    const payload = exchange.body;
    const sent = payload === undefined ? 0 : Buffer.byteLength(payload);
    const pool = this.connectionPool();
    const connector = this.connector;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      let answering = false;
      let controller: Dispatcher.DispatchController | undefined;
      /** Handed to the pool (a request cancelled before, or refused by the pool, holds no connection attempt). */
      let dispatched = false;
      let status = 0;
      let headers: HttpHeaders = {};
      const chunks: Buffer[] = [];
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: DriverError) => {
        if (settled) return;
        finish();
        // A request on its connection is aborted with it. One not yet sent ends a connection attempt still
        // under way (the hung handshake it waits for), and is aborted when it would start (onRequestStart).
        if (controller) {
          if (!controller.aborted) controller.abort(error);
        } else if (dispatched)
          connector?.abandonOne(new Error(`connection attempt given up: ${error.message}`));
        ctx.log?.(`${label} failed: ${error.message}`);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new DriverError('timeout', `${label}: no complete answer within ${timeoutMs} ms`, true)),
        timeoutMs,
      );
      const onAbort = () => fail(new DriverError('timeout', `${label}: cancelled`, false));
      if (ctx.signal?.aborted) {
        onAbort();
        return;
      }
      ctx.signal?.addEventListener('abort', onAbort, { once: true });
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (started) => {
          controller = started;
          if (settled) started.abort(new Error('abandoned: timed out or cancelled before it was sent'));
        },
        onResponseStart: (_started, statusCode, responseHeaders) => {
          // 1xx informational answers precede the real one.
          if (statusCode < 200) return;
          answering = true;
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData: (_started, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          if (settled) return;
          finish();
          const received = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          ctx.traffic?.(sent, received.length);
          resolve({ status, body: received.toString('utf8'), headers });
        },
        onResponseError: (_started, error) => fail(this.transportFailure(label, error, answering)),
      };
      try {
        pool.dispatch(
          {
            method: exchange.method,
            path: `${this.basePath}${exchange.path}`,
            headers: exchange.headers,
            body: payload,
            // One connection per request unless kept alive, and for a client already closed.
            reset: !this.keepAlive || this.closed,
          },
          handler,
        );
        dispatched = true;
      } catch (error) {
        fail(this.transportFailure(label, error instanceof Error ? error : new Error(String(error)), false));
      }
    });
  }
}
