import { CallHandler, ExecutionContext, Injectable, NestInterceptor, StreamableFile } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { Observable, map } from 'rxjs';
import { UdilBody, UdilJsonAnswer, renderUdilXml, wantsXml } from '@hes/udil';

/** The Content-Type of a JSON answer, as Express's res.json and res.send of a string set it. */
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers in XML when the request's Accept header asks for it, JSON otherwise. An answer whose rows are
 * already JSON text (UdilJsonAnswer) is sent as that text, never parsed and serialised again, and written
 * part by part (UdilJsonAnswer.jsonParts) rather than as one string, with the headers res.send gives the
 * text (Content-Type, Content-Length, the application's ETag of the bytes).
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
        return jsonAnswer(request, http.getResponse<Response>(), body);
      }),
    );
  }
}

/**
 * A JSON answer as its parts (UdilJsonAnswer.jsonParts), with the headers Express's res.send gives the same
 * text: its Content-Type, Content-Length and the application's ETag (Express's default, a weak ETag of the
 * bytes' SHA-1, computed here over the parts; another `etag` setting gets its `etag fn` of the bytes). Every
 * byte is in hand before the headers go out, and Content-Length makes a cut answer (a client gone, a
 * socket failing) tell itself from a whole one. Nest pipes the StreamableFile's stream to the response: the
 * parts as strings (the pieces as PostgreSQL's text came), which the socket encodes as it writes them: no
 * large string or buffer is made in JavaScript.
 */
function jsonAnswer(request: Request, response: Response, answer: UdilJsonAnswer): StreamableFile {
  const parts = answer.jsonParts();
  let length = 0;
  for (const part of parts) length += Buffer.byteLength(part);
  response.setHeader('Content-Type', JSON_TYPE);
  if (response.getHeader('ETag') === undefined) {
    const etag = request.app.get('etag') === 'weak' ? weakEtag(parts, length) : otherEtag(request, parts);
    if (etag !== undefined) response.setHeader('ETag', etag);
  }
  const stream = new Readable({ read: () => undefined, encoding: 'utf8' });
  for (const part of parts) stream.push(part, 'utf8');
  stream.push(null);
  return new StreamableFile(stream, { type: JSON_TYPE, length });
}

/** The `etag` package's weak ETag (Express's default) of the UTF-8 bytes of `parts`, `length` bytes long. */
function weakEtag(parts: readonly string[], length: number): string {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part, 'utf8');
  // etag's tag of an empty body is a constant: the SHA-1 of nothing.
  return `W/"${length.toString(16)}-${hash.digest('base64').substring(0, 27)}"`;
}

/** The application's `etag fn` (Express settings other than the default) of the bytes; none when off. */
function otherEtag(request: Request, parts: readonly string[]): string | undefined {
  const etag = request.app.get('etag fn') as ((body: Buffer, encoding?: string) => string) | undefined;
  return etag?.(Buffer.from(parts.join(''), 'utf8'));
}
