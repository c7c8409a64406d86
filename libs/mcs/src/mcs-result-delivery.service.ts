import { Inject, Injectable } from '@nestjs/common';
import axios, { AxiosError, AxiosRequestConfig, AxiosResponse } from 'axios';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { McsStatusDocument } from './mcs-result';

/** Most bytes of a master application's answer that are read; a longer answer fails the attempt. */
export const MAX_RESULT_API_ANSWER_BYTES = 1024 * 1024;

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

function reasonOf(error: unknown, timeoutMs: number): string {
  if (axios.isCancel(error) || (error instanceof AxiosError && error.code === 'ERR_CANCELED'))
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

/** Talks to a master application's MCS Result API. */
@Injectable()
export class McsResultDeliveryService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * Each request has MCS_DELIVERY_TIMEOUT_MS for all of it (connection, headers and body: axios's own
   * `timeout` only limits how long the socket is idle, which an answer trickling a byte a second never
   * reaches), follows no redirect and reads at most MAX_RESULT_API_ANSWER_BYTES.
   */
  private options(): AxiosRequestConfig {
    return {
      timeout: this.config.MCS_DELIVERY_TIMEOUT_MS,
      signal: AbortSignal.timeout(this.config.MCS_DELIVERY_TIMEOUT_MS),
      maxRedirects: 0,
      maxContentLength: MAX_RESULT_API_ANSWER_BYTES,
      validateStatus: () => true,
    };
  }

  /** The master application's service-status: undefined when it answers 200 with status OK, else why not. */
  async notReady(responseUrl: string): Promise<string | undefined> {
    try {
      const answer = await axios.get<unknown>(resultApiUrl(responseUrl, 'service-status'), this.options());
      if (answer.status !== 200) return `service-status answered HTTP ${answer.status}${redirectOf(answer)}`;
      const status = (answer.data as { status?: unknown } | null)?.status;
      if (typeof status === 'string' && status.trim().toUpperCase() !== 'OK')
        return `service-status is ${status}`;
      return undefined;
    } catch (error) {
      return `service-status: ${reasonOf(error, this.config.MCS_DELIVERY_TIMEOUT_MS)}`;
    }
  }

  /** POSTs the result; undefined when the master application accepted it (2xx), else why not. */
  async post(responseUrl: string, document: McsStatusDocument): Promise<string | undefined> {
    try {
      const answer = await axios.post<unknown>(resultApiUrl(responseUrl, 'collection-result'), document, {
        ...this.options(),
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
      });
      if (answer.status >= 200 && answer.status < 300) return undefined;
      const details = (answer.data as { details?: unknown } | null)?.details;
      return `collection-result answered HTTP ${answer.status}${redirectOf(answer)}${typeof details === 'string' ? `: ${details}` : ''}`;
    } catch (error) {
      return `collection-result: ${reasonOf(error, this.config.MCS_DELIVERY_TIMEOUT_MS)}`;
    }
  }
}
