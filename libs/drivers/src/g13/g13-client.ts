import { DriverError, GatewayEndpoint, OperationContext } from '../driver.contract';
import { GatewayHttp, ProgressTracker, normalizeFingerprint } from '../kit';

export { ProgressTracker, normalizeFingerprint };

/**
 * Typed HTTP(S) client for one ABB G13 gateway (manual chapter 6): Basic authentication, the
 * 512-byte update limit, a per-gateway cap on requests in flight, per-request timeouts, retries for
 * retry-safe requests only, TLS verification by CA, certificate pinning or explicit insecure mode,
 * and /lasterror/<id> when a 200 body does not parse.
 */

export const G13_MAX_PAYLOAD_BYTES = 512;

export type G13Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface G13Request {
  method: G13Method;
  path: string;
  body?: unknown;
  /** GETs are; updates are not (a repeated POST may apply twice or after a partial failure). */
  retrySafe?: boolean;
}

export interface G13ClientOptions {
  /** Further attempts after the first, for retry-safe requests (default 2). */
  retries?: number;
  /** Delay before retry n is n × this (default 100 ms). */
  retryDelayMs?: number;
}

class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<() => void> {
    // A released slot is handed straight to the next waiter, so a newcomer cannot slip in between.
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
  }
}

interface RawResponse {
  status: number;
  body: string;
  link?: string;
}

function describeBody(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'des' in parsed)
      return typeof parsed.des === 'string' ? parsed.des : JSON.stringify(parsed.des);
  } catch {
    // Not JSON: the gateway's 401/403 pages are text/html.
  }
  const text = body
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 0 ? text.slice(0, 200) : undefined;
}

export class G13Client {
  private readonly http: GatewayHttp;
  private readonly semaphore: Semaphore;
  private readonly authorization?: string;
  private readonly retries: number;
  private readonly retryDelayMs: number;

  constructor(
    readonly gateway: GatewayEndpoint,
    options: G13ClientOptions = {},
  ) {
    if (!/^https?:/i.test(gateway.endpoint))
      throw new DriverError(
        'refused',
        `G13 gateway ${gateway.name}: endpoint must be http(s)://, got ${gateway.endpoint}`,
        false,
      );
    this.semaphore = new Semaphore(Math.max(1, gateway.maxInFlight));
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    if (gateway.username)
      this.authorization = `Basic ${Buffer.from(`${gateway.username}:${gateway.password ?? ''}`).toString('base64')}`;
    // Connections kept open, as many as the gateway serves at once.
    this.http = new GatewayHttp(gateway, gateway.endpoint, {
      keepAlive: true,
      maxSockets: Math.max(1, gateway.maxInFlight),
    });
  }

  /**
   * Releases the pooled connections once the requests in flight have answered: a client replaced after
   * a settings change finishes the operations that already hold it (each of its later requests on a
   * connection of its own, closed after it), while new operations get the new client.
   */
  close(): void {
    this.http.close();
  }

  /** Sends one request (with retries when retry-safe) and returns the parsed JSON answer. */
  async request<T>(request: G13Request, ctx: OperationContext, progress: ProgressTracker): Promise<T> {
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const bytes = payload === undefined ? 0 : Buffer.byteLength(payload);
    if (bytes > G13_MAX_PAYLOAD_BYTES)
      throw new DriverError(
        'refused',
        `${request.method} ${request.path}: payload of ${bytes} bytes exceeds the G13 limit of ${G13_MAX_PAYLOAD_BYTES} bytes and this resource cannot be split`,
        false,
      );
    // Level 3 means a retry-safe exchange with the gateway succeeded before any write goes out: a write
    // that would be the first request is preceded by one (GET /about), its progress awaited, so a
    // cancel that won at level 2 stops the operation before the meter is asked to act.
    if (!request.retrySafe && progress.level < 3) {
      try {
        await this.request({ method: 'GET', path: '/about', retrySafe: true }, ctx, progress);
      } catch (error) {
        // Refused (404, 403) after the gateway accepted the credentials: level 3 holds, the write may go.
        if (!(error instanceof DriverError && error.kind === 'refused' && progress.level >= 3)) throw error;
      }
    }
    const attempts = request.retrySafe ? 1 + this.retries : 1;
    let lastError: DriverError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (ctx.signal?.aborted)
        throw new DriverError('timeout', `${request.method} ${request.path}: cancelled`, false);
      try {
        return await this.attempt<T>(request, payload, ctx, progress);
      } catch (error) {
        // Anything that is not a DriverError (a rejected progress: the transaction was cancelled)
        // ends the operation as it is.
        if (!(error instanceof DriverError)) throw error;
        lastError = error;
        if (!lastError.retryable || attempt === attempts) break;
        ctx.log?.(
          `retry ${attempt}/${attempts - 1} of ${request.method} ${request.path} after ${lastError.kind}: ${lastError.message}`,
        );
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * attempt));
      }
    }
    throw lastError!;
  }

  private async attempt<T>(
    request: G13Request,
    payload: string | undefined,
    ctx: OperationContext,
    progress: ProgressTracker,
  ): Promise<T> {
    await progress.reach(2, `${request.method} ${request.path}`);
    const response = await this.exchange(request.method, request.path, payload, ctx);
    ctx.log?.(`${request.method} ${request.path} ${response.status}`);
    if (response.status !== 401) await progress.reach(3, 'gateway accepted the credentials');
    const label = `${request.method} ${request.path}`;
    // The gateway's reason, read from the body only when it refused or failed.
    const des = response.status >= 300 ? describeBody(response.body) : undefined;
    switch (true) {
      case response.status >= 200 && response.status < 300:
        break;
      case response.status === 401:
        throw new DriverError(
          'authentication',
          `${label}: gateway ${this.gateway.name} refused the credentials (401)`,
          false,
        );
      case response.status === 403 && /reset password/i.test(response.body):
        throw new DriverError(
          'authentication',
          `${label}: gateway ${this.gateway.name} requires the default password to be changed first (403: ${des})`,
          false,
        );
      case response.status === 403:
        throw new DriverError('refused', `${label}: forbidden (403: ${des ?? 'no reason given'})`, false);
      case response.status === 404:
        throw new DriverError(
          'refused',
          `${label}: not found on gateway ${this.gateway.name} (404: ${des ?? 'URI not found.'})`,
          false,
        );
      case response.status >= 400 && response.status < 500:
        throw new DriverError(
          'refused',
          `${label}: refused (${response.status}: ${des ?? 'no reason given'})`,
          false,
        );
      case response.status >= 500:
        throw new DriverError(
          'device',
          `${label}: gateway failed (${response.status}: ${des ?? 'no reason given'})`,
          true,
        );
      default:
        throw new DriverError('protocol', `${label}: unexpected HTTP status ${response.status}`, false);
    }
    let parsed: unknown;
    try {
      parsed = response.body.length === 0 ? {} : JSON.parse(response.body);
    } catch (error) {
      // The gateway sent 200 before failing; it keeps the cause under /lasterror/<id> (manual 6.3.91).
      const cause = await this.lastError(response.link, ctx);
      throw new DriverError(
        'device',
        `${label}: answer did not parse${cause ? ` (lasterror: ${cause})` : ''}`,
        true,
        error,
      );
    }
    if (typeof parsed === 'object' && parsed !== null && (parsed as { status?: unknown }).status === 'error')
      throw new DriverError('device', `${label}: ${describeBody(response.body) ?? 'error'}`, false);
    return parsed as T;
  }

  private async lastError(link: string | undefined, ctx: OperationContext): Promise<string | undefined> {
    const match = /\/lasterror\/(\d+)/.exec(link ?? '');
    if (!match) return undefined;
    try {
      const response = await this.exchange('GET', `/lasterror/${match[1]}`, undefined, ctx);
      ctx.log?.(`GET /lasterror/${match[1]} ${response.status}`);
      if (response.status !== 200) return undefined;
      return describeBody(response.body);
    } catch {
      return undefined;
    }
  }

  /** One request within the gateway's in-flight limit, on the kit's HTTP stack. */
  private async exchange(
    method: G13Method,
    path: string,
    payload: string | undefined,
    ctx: OperationContext,
  ): Promise<RawResponse> {
    const release = await this.semaphore.acquire();
    try {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (this.authorization) headers.Authorization = this.authorization;
      if (payload !== undefined) headers['Content-Type'] = 'application/json';
      const answer = await this.http.send({ method, path, body: payload, headers }, ctx);
      const link = answer.headers.link;
      return { status: answer.status, body: answer.body, link: Array.isArray(link) ? link[0] : link };
    } finally {
      release();
    }
  }
}
