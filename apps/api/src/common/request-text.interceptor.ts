import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { Observable } from 'rxjs';
import { findUnsafeField } from '@hes/security';
import { RequestFieldError } from './request-failure';

/** Request parts already checked (multipart bodies are parsed after the global interceptor: checked again). */
const checked = new WeakSet<object>();

/**
 * Applies the string-safety rule (libs/security/src/safe-text.ts) to every route of every API: path
 * parameters, query and body, refused with a 400 naming the field before any handler, validation pipe
 * or database sees them. Registered globally, and again after NoFilesInterceptor on the UDIL
 * controllers, whose multipart bodies are only parsed there.
 */
@Injectable()
export class RequestTextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<Request>();
      const parts: [unknown, string][] = [
        [request.params, 'path'],
        [request.query, 'query'],
        [request.body, 'body'],
      ];
      for (const [part, root] of parts) {
        if (part === undefined || part === null) continue;
        if (typeof part === 'object' && checked.has(part)) continue;
        const unsafe = findUnsafeField(part, root);
        if (unsafe) throw new RequestFieldError(unsafe.field, unsafe.reason);
        if (typeof part === 'object') checked.add(part);
      }
    }
    return next.handle();
  }
}
