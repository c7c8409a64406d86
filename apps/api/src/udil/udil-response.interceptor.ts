import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, map } from 'rxjs';
import { UdilBody, UdilJsonAnswer, renderUdilXml, wantsXml } from '@hes/udil';

/**
 * Answers in XML when the request's Accept header asks for it, JSON otherwise. An answer whose rows are
 * already JSON text (UdilJsonAnswer) is sent as that text, never parsed and serialised again.
 */
@Injectable()
export class UdilResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const xml = wantsXml(request.headers.accept);
    return next.handle().pipe(
      map((body: UdilBody | UdilJsonAnswer) => {
        if (xml) {
          http.getResponse<Response>().type('application/xml');
          return renderUdilXml(body instanceof UdilJsonAnswer ? body.toBody() : body);
        }
        if (!(body instanceof UdilJsonAnswer)) return body;
        // The same Content-Type as Express's res.json: "application/json; charset=utf-8".
        http.getResponse<Response>().type('application/json');
        return body.json();
      }),
    );
  }
}
