import type { NextFunction, Request, Response } from 'express';

/**
 * A path segment that is not valid percent-encoding is refused with 400 before any middleware or route
 * sees the request, as Express's router refused it when the request logging and metrics were Nest
 * middleware bound to every path (matching their `*path` decoded each segment): same status, same message.
 * Without it such a path reaches the handlers (Bull Board's audit decoded it and failed).
 */
export function refuseUndecodablePath(request: Request, _response: Response, next: NextFunction): void {
  const url = request.url;
  if (!url.includes('%')) return next();
  const query = url.indexOf('?');
  for (const segment of (query < 0 ? url : url.slice(0, query)).split('/')) {
    if (!segment.includes('%')) continue;
    try {
      decodeURIComponent(segment);
    } catch (error) {
      if (!(error instanceof URIError)) throw error;
      error.message = `Failed to decode param '${segment}'`;
      return next(Object.assign(error, { status: 400, statusCode: 400 }));
    }
  }
  next();
}
