import { Agent, IncomingHttpHeaders, request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** Path and query exactly as sent (percent-escapes are not touched). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Source address of the connection (any 127.0.0.0/8 address reaches a server on 127.0.0.1). */
  localAddress?: string;
}

/**
 * One HTTP request with exactly the bytes and headers given (no client-side encoding, unlike
 * supertest), for requests a client library would refuse to build or would rewrite.
 */
export function rawRequest(base: string, raw: RawRequest, agent?: Agent): Promise<RawAnswer> {
  const url = new URL(base);
  const body = raw.body === undefined ? undefined : Buffer.from(raw.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: raw.method,
        path: raw.path,
        agent: raw.localAddress ? false : agent,
        localAddress: raw.localAddress,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...raw.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
