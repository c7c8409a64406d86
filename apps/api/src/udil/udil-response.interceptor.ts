import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, map } from 'rxjs';
import { UdilBody, renderUdilXml, wantsXml } from '@hes/udil';

/** Answers in XML when the request's Accept header asks for it, JSON otherwise. */
@Injectable()
export class UdilResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    if (!wantsXml(request.headers.accept)) return next.handle();
    return next.handle().pipe(
      map((body: UdilBody) => {
        http.getResponse<Response>().type('application/xml');
        return renderUdilXml(body);
      }),
    );
  }
}
