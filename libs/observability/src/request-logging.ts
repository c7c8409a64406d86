import { Inject, Injectable } from '@nestjs/common';
import { pino, stdSerializers } from 'pino';
import type { DestinationStream, Logger } from 'pino';
// nestjs-pino's request context (not in its index): its Logger and PinoLogger write through the logger
// stored here for the request being handled.
import { storage } from 'nestjs-pino/storage';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APP_CONFIG, AppConfig } from '@hes/config';

/** Routes polled by probes and Prometheus: no request line of their own. */
const QUIET_PATHS = new Set(['/metrics', '/health', '/health/live']);

/** Request headers never written to a log line. */
export const REDACTED_HEADERS = ['privatekey', 'password', 'code', 'authorization', 'cookie'];

/** The level request lines are written at (pino-http's default). */
const REQUEST_LINE_LEVEL = 'info';

/** The process's root logger: JSON lines (pino), request headers that carry secrets redacted. */
export function createRootLogger(
  config: Pick<AppConfig, 'LOG_LEVEL' | 'LOG_PRETTY'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      transport:
        config.LOG_PRETTY && !destination
          ? { target: 'pino-pretty', options: { singleLine: true } }
          : undefined,
      redact: { paths: REDACTED_HEADERS.map((name) => `req.headers.${name}`), censor: '[redacted]' },
      // pino-http's serializers: `req` and `res` as their summaries, errors with their stack.
      serializers: { req: stdSerializers.req, res: stdSerializers.res, err: stdSerializers.err },
    },
    destination,
  );
}

type LoggedRequest = IncomingMessage; // `id`: pino-http's declaration (a request id)
type LoggedResponse = ServerResponse & { err?: unknown };

/**
 * What nestjs-pino keeps for a request (its `Store`), with the request's logger made only when first asked
 * for: the request (its headers redacted) is serialised into a child logger only if a line is written with
 * it. At LOG_LEVEL=warn a request that logs nothing costs no serialisation.
 */
class RequestLogContext {
  responseLogger?: Logger = undefined;
  private requestLogger?: Logger;
  private assigned?: Logger;

  constructor(
    private readonly root: Logger,
    private readonly request: LoggedRequest,
    /** This request's id (pino-http's `req.id`), numbered as the request arrived. */
    private readonly id: number,
  ) {}

  /** The logger of this request, with `req` (its `id` included) and `transactionid` when sent bound. */
  get base(): Logger {
    if (!this.requestLogger) {
      // `req.id` is written on the request only here, for the serializer: a property added to every request
      // made Express's and Nest's property reads on requests slower on Node 20 (not on 24; bench/RESULTS.md).
      this.request.id ||= this.id;
      const transactionid = this.request.headers['transactionid'];
      this.requestLogger = this.root.child(
        typeof transactionid === 'string' ? { req: this.request, transactionid } : { req: this.request },
      );
    }
    return this.requestLogger;
  }

  get logger(): Logger {
    return this.assigned ?? this.base;
  }

  /** PinoLogger.assign() binds more fields for the rest of the request. */
  set logger(logger: Logger) {
    this.assigned = logger;
  }
}

export type RequestLogMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: () => void,
) => void;

/**
 * Request logging as pino-http did it (a request id, one line per request at `info` when it ends: "request
 * completed", or "request errored" with the error on a 5xx), nestjs-pino's request context for the lines
 * written while a request is handled, and no work for either when the level would not write it.
 */
export function requestLogMiddleware(root: Logger): RequestLogMiddleware {
  let nextRequestId = 0;
  return (request: LoggedRequest, response: LoggedResponse, next: () => void): void => {
    nextRequestId = (nextRequestId + 1) & 0x7fffffff;
    const context = new RequestLogContext(root, request, nextRequestId);
    if (root.isLevelEnabled(REQUEST_LINE_LEVEL) && !QUIET_PATHS.has((request.url ?? '').split('?')[0]))
      logWhenDone(context, response);
    // nestjs-pino's Store shape: `logger`, `responseLogger`.
    storage.run(context, next);
  };
}

function logWhenDone(context: RequestLogContext, response: LoggedResponse): void {
  const start = Date.now();
  // Serialised now, as the request arrived (its socket's address, the URL before routing).
  const log = context.base;
  const done = (error?: unknown): void => {
    response.removeListener('close', done);
    response.removeListener('finish', done);
    response.removeListener('error', done);
    const responseTime = Date.now() - start;
    if (error || response.err || response.statusCode >= 500) {
      const err = error || response.err || new Error(`failed with status code ${response.statusCode}`);
      log[REQUEST_LINE_LEVEL]({ res: response, err, responseTime }, 'request errored');
    } else log[REQUEST_LINE_LEVEL]({ res: response, responseTime }, 'request completed');
  };
  response.on('close', done);
  response.on('finish', done);
  response.on('error', done);
}

/** The root logger of the app and its request middleware (the app's bootstrap installs `handle`). */
@Injectable()
export class RequestLogging {
  readonly root: Logger;
  readonly handle: RequestLogMiddleware;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = createRootLogger(config);
    this.handle = requestLogMiddleware(this.root);
  }
}
