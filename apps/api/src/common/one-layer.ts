import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Middleware run in order as one layer of Express's router, as if each were a layer of its own: a handler
 * that calls `next()` passes the request to the following one, and the last one's `next()` is Express's;
 * an error passed to `next(error)`, thrown or rejected by a handler goes to Express's `next(error)` and skips the
 * handlers after it (as Express skips plain middleware once an error is pending). One layer instead of
 * several saves the router's per-layer work (path lookup, matching, parameters, prefix trimming) on every
 * request of every route.
 */
export function inOneLayer(...handlers: RequestHandler[]): RequestHandler {
  return (request: Request, response: Response, next: NextFunction): void => {
    let index = 0;
    const passOn = (error?: unknown): void => {
      if (error) return next(error);
      if (index === handlers.length) return next();
      const handler = handlers[index++];
      try {
        const returned: unknown = handler(request, response, passOn);
        // A rejected promise is an error, as Express 5 takes it from a handler of its own layer.
        if (returned instanceof Promise)
          returned.catch((error: unknown) => next(error || new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown);
      }
    };
    passOn();
  };
}
