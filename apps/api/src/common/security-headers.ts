import type { NextFunction, Request, Response } from 'express';

/**
 * What every answer of the api carries for a browser that opens it (the Swagger UI, the queue dashboard, an
 * operator following a link): no MIME sniffing, no framing by another site, no Referer leaking the api's
 * paths and query strings. Express's `X-Powered-By` is switched off in the bootstrap. Not set here: a
 * Content-Security-Policy (Swagger UI and the queue dashboard run inline scripts) and HSTS (the TLS
 * terminating proxy or API_TLS_* deployment decides it).
 */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
];

export function securityHeaders(_request: Request, response: Response, next: NextFunction): void {
  for (const [name, value] of SECURITY_HEADERS) response.setHeader(name, value);
  next();
}
