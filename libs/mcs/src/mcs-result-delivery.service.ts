import { Inject, Injectable } from '@nestjs/common';
import axios, { AxiosError, AxiosRequestConfig, AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { McsStatusDocument } from './mcs-result';

/** Most bytes of a master application's answer that are read (for its `details` or `status`); the rest is left. */
export const MAX_RESULT_API_ANSWER_BYTES = 64 * 1024;

/**
 * `<responseUrl>/<method>`: the master application's MCS Result API. The method is added to the path; a
 * query of the responseUrl (a token, say) is kept, its fragment (never sent) dropped.
 */
export function resultApiUrl(responseUrl: string, method: 'collection-result' | 'service-status'): string {
  const url = new URL(responseUrl);
  url.hash = '';
  url.pathname = `${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}${method}`;
  return url.toString();
}

/** Why no answer came: the whole request's time ran out, or the connection failed. */
function reasonOf(error: unknown, timeoutMs: number): string {
  if (
    axios.isCancel(error) ||
    (error instanceof AxiosError && error.code === 'ERR_CANCELED') ||
    (error as Error)?.name === 'TimeoutError'
  )
    return `no complete answer within ${timeoutMs} ms`;
  if (error instanceof AxiosError) return error.code ? `${error.code} ${error.message}` : error.message;
  return (error as Error)?.message ?? String(error);
}

/** A 3xx is not followed: after a redirect a POST becomes a GET without its body (axios, as browsers). */
function redirectOf(answer: AxiosResponse): string {
  if (answer.status < 300 || answer.status >= 400) return '';
  const location: unknown = answer.headers.location;
  return ` (a redirect${typeof location === 'string' ? ` to ${location}` : ''}; redirects are not followed: give the final address as responseUrl)`;
}

/**
 * The first `limit` bytes of an answer's body as text (the rest is not read: the stream is destroyed), or
 * the error that ended it (the request's time running out destroys it).
 */
function readAtMost(body: Readable, limit: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (text?: string, error?: Error) => {
      signal.removeEventListener('abort', aborted);
      body.removeAllListeners('data');
      if (error !== undefined) reject(error);
      else resolve(text ?? '');
    };
    const aborted = () => {
      body.destroy();
      done(undefined, signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    };
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        body.destroy();
        done(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
      }
    });
    body.once('end', () => done(Buffer.concat(chunks).toString('utf8')));
    body.once('error', (error) => done(undefined, error));
  });
}

function jsonField(text: string, field: string): unknown {
  try {
    const parsed = JSON.parse(text) as Record<string, unknown> | null;
    return parsed && typeof parsed === 'object' ? parsed[field] : undefined;
  } catch {
    return undefined;
  }
}

/** Talks to a master application's MCS Result API. */
@Injectable()
export class McsResultDeliveryService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * Each request has MCS_DELIVERY_TIMEOUT_MS for all of it (connection, headers and what is read of the body:
   * axios's own `timeout` only limits how long the socket is idle, which an answer trickling a byte a second
   * never reaches), follows no redirect, and reads at most MAX_RESULT_API_ANSWER_BYTES of the answer (a 2xx
   * to the POST is a delivery whatever its body).
   */
  private async exchange(
    request: (options: AxiosRequestConfig) => Promise<AxiosResponse<Readable>>,
    readBody: (answer: AxiosResponse<Readable>) => boolean,
  ): Promise<{ answer: AxiosResponse<Readable>; text: string }> {
    const signal = AbortSignal.timeout(this.config.MCS_DELIVERY_TIMEOUT_MS);
    const answer = await request({
      timeout: this.config.MCS_DELIVERY_TIMEOUT_MS,
      signal,
      maxRedirects: 0,
      responseType: 'stream',
      validateStatus: () => true,
    });
    if (!readBody(answer)) {
      answer.data.destroy();
      return { answer, text: '' };
    }
    return { answer, text: await readAtMost(answer.data, MAX_RESULT_API_ANSWER_BYTES, signal) };
  }

  /** The master application's service-status: undefined when it answers 200 with status OK, else why not. */
  async notReady(responseUrl: string): Promise<string | undefined> {
    try {
      const { answer, text } = await this.exchange(
        (options) => axios.get<Readable>(resultApiUrl(responseUrl, 'service-status'), options),
        (answer) => answer.status === 200,
      );
      if (answer.status !== 200) return `service-status answered HTTP ${answer.status}${redirectOf(answer)}`;
      const status = jsonField(text, 'status');
      if (typeof status === 'string' && status.trim().toUpperCase() !== 'OK')
        return `service-status is ${status}`;
      return undefined;
    } catch (error) {
      return `service-status: ${reasonOf(error, this.config.MCS_DELIVERY_TIMEOUT_MS)}`;
    }
  }

  /** POSTs the result; undefined when the master application accepted it (2xx), else why not. */
  async post(responseUrl: string, document: McsStatusDocument): Promise<string | undefined> {
    let outcome: { answer: AxiosResponse<Readable>; text: string };
    try {
      outcome = await this.exchange(
        (options) =>
          axios.post<Readable>(resultApiUrl(responseUrl, 'collection-result'), document, {
            ...options,
            headers: { 'Content-Type': 'application/json; charset=utf-8' },
          }),
        (answer) => answer.status < 200 || answer.status >= 300,
      );
    } catch (error) {
      return `collection-result: ${reasonOf(error, this.config.MCS_DELIVERY_TIMEOUT_MS)}`;
    }
    const { answer, text } = outcome;
    if (answer.status >= 200 && answer.status < 300) return undefined;
    // A refusal's details, if its body (as far as read, within the time) says so.
    const details = jsonField(text, 'details');
    return `collection-result answered HTTP ${answer.status}${redirectOf(answer)}${typeof details === 'string' ? `: ${details}` : ''}`;
  }
}
