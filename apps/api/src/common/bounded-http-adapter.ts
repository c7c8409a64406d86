import type { NestApplicationOptions } from '@nestjs/common';
import type { Express } from 'express';
import { ExpressAdapter } from '@nestjs/platform-express';
import { ServerOptions, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

/** Node's own bound on the headers of a request; a shorter API_REQUEST_TIMEOUT_MS bounds them too. */
const HEADERS_TIMEOUT_MS = 60_000;

/**
 * How long a client may take to send a request (API_REQUEST_TIMEOUT_MS), as options of Node's server:
 * the whole request within `requestTimeoutMs`, its headers within at most 60 s of it. Node checks the
 * connections every `connectionsCheckingInterval` (30 s by default): a tenth of the timeout here, so that a
 * dribbling client is answered 408 close to the timeout, not up to 30 s after it.
 */
export function requestTimeouts(requestTimeoutMs: number): ServerOptions {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(requestTimeoutMs / 10))),
  };
}

/**
 * Nest's Express adapter with the api's server options: Nest creates the HTTP(S) server without any, and
 * `connectionsCheckingInterval` can only be given when a server is created.
 */
export class BoundedExpressAdapter extends ExpressAdapter {
  constructor(private readonly serverOptions: ServerOptions) {
    super();
  }

  override initHttpServer(options: NestApplicationOptions): void {
    if (options.forceCloseConnections)
      throw new Error('BoundedExpressAdapter does not track connections (forceCloseConnections)');
    const app = this.getInstance<Express>();
    this.httpServer = options.httpsOptions
      ? createHttpsServer({ ...options.httpsOptions, ...this.serverOptions }, app)
      : createHttpServer(this.serverOptions, app);
  }
}
