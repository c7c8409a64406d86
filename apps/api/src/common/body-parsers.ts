import { json, urlencoded } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppConfig } from '@hes/config';
import { RequestBodyError, bodyParserFailure, isBodyParserError } from './request-failure';

/**
 * A body parser whose refusals (too large, unsupported charset or encoding, not JSON, not gzip…) reach
 * the exception filters as RequestBodyError naming the body or header at fault. Without the wrapper
 * Nest turns body-parser's SyntaxError into a bare BadRequestException and leaves the others as
 * http-errors objects, which the protocol filters used to answer with 500.
 */
function refusingParser(parser: RequestHandler): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) =>
    parser(request, response, (error?: unknown) => {
      if (error && isBodyParserError(error)) {
        const encoding = request.headers['content-encoding'];
        return next(new RequestBodyError(bodyParserFailure(error, encoding)));
      }
      next(error);
    });
}

/** body-parser's test (type-is's hasBody): a Transfer-Encoding or a numeric Content-Length. */
function hasBody(request: Request): boolean {
  return (
    request.headers['transfer-encoding'] !== undefined ||
    !Number.isNaN(Number(request.headers['content-length']))
  );
}

/** UDIL clients send forms or JSON; a fan-out over many meters is one large parameter or many. */
export function bodyParsers(config: AppConfig): RequestHandler {
  const parseJson = refusingParser(json({ limit: config.REQUEST_BODY_LIMIT }));
  const parseForm = refusingParser(
    urlencoded({ limit: config.REQUEST_BODY_LIMIT, extended: true, parameterLimit: 250_000 }),
  );
  // A request without a body (every GET the probes and clients send) passes both parsers untouched, without
  // their two calls. Its `body` stays unset, which reads as the `undefined` body-parser would have written:
  // a property added to every request made Express's and Nest's reads on requests slower on Node 20 (RESULTS).
  return (request: Request, response: Response, next: NextFunction) => {
    if (!hasBody(request)) return next();
    parseJson(request, response, (error?: unknown) =>
      error ? next(error) : parseForm(request, response, next),
    );
  };
}
