import { BadRequestException } from '@nestjs/common';
import { isDatabaseUnavailable } from '@hes/database';
import { CredentialThrottledError, PasswordHashingBusyError } from '@hes/security';

/** How a request the API refuses is answered, whatever the API's envelope. */
export interface RequestFailure {
  status: number;
  /** Names the field, header or body at fault. */
  message: string;
  /** Seconds for the Retry-After header (429, 503). */
  retryAfterSeconds?: number;
}

/** A request field that must be refused before any handler sees it (see RequestTextInterceptor). */
export class RequestFieldError extends BadRequestException {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'RequestFieldError';
  }
}

/** What a body parser refused, worded by bodyParserFailure (thrown by the parsers of body-parsers.ts). */
export class RequestBodyError extends Error {
  constructor(readonly failure: RequestFailure) {
    super(failure.message);
    this.name = 'RequestBodyError';
  }
}

/** The error objects of body-parser and raw-body (the http-errors package). */
interface BodyParserError {
  status: number;
  expose?: boolean;
  type?: string;
  message: string;
  code?: string;
  limit?: number;
  charset?: string;
  encoding?: string;
}

export function isBodyParserError(exception: unknown): exception is BodyParserError {
  const error = exception as Partial<BodyParserError> | null;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof error.status === 'number' &&
    error.status >= 400 &&
    error.status < 500 &&
    error.expose === true &&
    typeof error.message === 'string'
  );
}

/** What body-parser refused, in words that name the body or the header at fault. */
export function bodyParserFailure(
  error: BodyParserError,
  contentEncoding: string | undefined,
): RequestFailure {
  const status = error.status;
  switch (error.type) {
    case 'entity.too.large':
      return { status, message: `body: larger than the limit of ${error.limit ?? '?'} bytes` };
    case 'parameters.too.many':
      return { status, message: 'body: too many form fields' };
    case 'querystring.parse.rangeError':
      return { status, message: 'body: form fields are nested deeper than 32 levels' };
    case 'charset.unsupported':
      return {
        status,
        message: `content-type: charset "${error.charset ?? ''}" is not supported (send utf-8)`,
      };
    case 'encoding.unsupported':
      return {
        status,
        message: `content-encoding: "${error.encoding ?? contentEncoding ?? ''}" is not supported (send identity, gzip, deflate or br)`,
      };
    case 'entity.parse.failed':
      return { status, message: `body: not valid for its content-type (${error.message})` };
    case 'request.aborted':
      return { status, message: 'body: the request was aborted before its body was complete' };
    case 'request.size.invalid':
      return { status, message: 'content-length: does not match the body' };
  }
  // A body that does not decompress as its Content-Encoding says (zlib's Z_DATA_ERROR, Z_BUF_ERROR…).
  if (typeof error.code === 'string' && error.code.startsWith('Z_'))
    return {
      status: 400,
      message: `content-encoding: the body is not valid ${contentEncoding ?? 'compressed'} data`,
    };
  return { status, message: `request: ${error.message}` };
}

/** Seconds a client is asked to wait (Retry-After) when the database cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The refusals every API answers the same way (each in its own envelope): a field the request-text
 * rule refuses, what the body parser refused, credentials refused for too many failures (429) or
 * for want of a hashing slot (503), and a database that cannot be reached (503: nothing was accepted,
 * since every API acknowledges only what it committed). Undefined for anything else (an API's own errors,
 * Nest's HttpExceptions, unexpected errors).
 */
export function describeRequestFailure(
  exception: unknown,
  headers: Record<string, string | string[] | undefined> = {},
): RequestFailure | undefined {
  if (exception instanceof RequestFieldError) return { status: 400, message: exception.message };
  if (exception instanceof RequestBodyError) return exception.failure;
  if (exception instanceof CredentialThrottledError || exception instanceof PasswordHashingBusyError)
    return {
      status: exception instanceof CredentialThrottledError ? 429 : 503,
      message: exception.message,
      retryAfterSeconds: exception.retryAfterSeconds,
    };
  if (isDatabaseUnavailable(exception))
    return {
      status: 503,
      message: `database: unavailable, nothing was accepted; retry in ${DATABASE_RETRY_AFTER_SECONDS} seconds`,
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    };
  if (isBodyParserError(exception)) {
    const encoding = headers['content-encoding'];
    return bodyParserFailure(exception, Array.isArray(encoding) ? encoding.join(', ') : encoding);
  }
  return undefined;
}
