import { CallHandler, CanActivate, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { Observable } from 'rxjs';
import { findUnsafeField } from '@hes/security';
import { RequestFieldError } from './request-failure';
import { routedPath } from './routed-path';

function isAdminPath(path: string): boolean {
  const routed = routedPath(path);
  return routed === '/admin' || routed.startsWith('/admin/');
}

/** Request parts already checked (multipart bodies are parsed after the guard: checked again). */
const checked = new WeakSet<object>();

/**
 * Applies the string-safety rule (libs/security/src/safe-text.ts) to a request of the UDIL and MCS routes
 * (the routes that take input): path parameters, query and body, refused with a 400 naming the field (or a
 * nesting deeper than 32 levels) before any handler or database sees them.
 */
function refuseUnsafeText(context: ExecutionContext): void {
  const request = context.switchToHttp().getRequest<Request>();
  // The admin API applies the same rule in its validation pipe, inside its audit interceptor, so
  // that a refusal there is audited too (admin-validation.pipe.ts).
  if (context.getType() !== 'http' || isAdminPath(request.path)) return;
  refuseUnsafePart(request.params, 'path');
  // Express 5 parses the query string on every read of `request.query`: without one it is empty.
  if (request.url.includes('?')) refuseUnsafePart(request.query, 'query');
  refuseUnsafePart(request.body, 'body');
}

function refuseUnsafePart(part: unknown, root: string): void {
  if (part === undefined || part === null) return;
  if (typeof part === 'object') {
    // Nothing to walk or to remember (every route without parameters, every request without a body).
    if (isEmpty(part) || checked.has(part)) return;
  }
  const unsafe = findUnsafeField(part, root);
  if (unsafe) throw new RequestFieldError(unsafe.field, unsafe.reason);
  if (typeof part === 'object') checked.add(part);
}

/** No enumerable key (findUnsafeField walks own enumerable keys only). */
function isEmpty(value: object): boolean {
  for (const _key in value) return false;
  return true;
}

/**
 * The rule as a global guard: it runs for every route before its handler, after the route's own guards
 * only where they are listed before it (MCS: `@UseGuards(McsAccessGuard, RequestTextGuard)`, so access is
 * decided first), and costs no interceptor chain (RxJS, async resources) on routes that have none.
 */
@Injectable()
export class RequestTextGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    refuseUnsafeText(context);
    return true;
  }
}

/**
 * The rule again after NoFilesInterceptor on the UDIL controllers, whose multipart bodies are only parsed
 * there (what the guard checked already is not walked twice).
 */
@Injectable()
export class RequestTextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    refuseUnsafeText(context);
    return next.handle();
  }
}
