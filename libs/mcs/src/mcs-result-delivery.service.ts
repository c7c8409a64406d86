import { Inject, Injectable } from '@nestjs/common';
import axios, { AxiosError } from 'axios';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { McsStatusDocument } from './mcs-result';

/** `<responseUrl>/<method>`: the master application's MCS Result API. */
export function resultApiUrl(responseUrl: string, method: 'collection-result' | 'service-status'): string {
  return new URL(method, responseUrl.endsWith('/') ? responseUrl : `${responseUrl}/`).toString();
}

function reasonOf(error: unknown): string {
  if (error instanceof AxiosError) return error.code ? `${error.code} ${error.message}` : error.message;
  return (error as Error)?.message ?? String(error);
}

/** Talks to a master application's MCS Result API. */
@Injectable()
export class McsResultDeliveryService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The master application's service-status: undefined when it answers 200 with status OK, else why not. */
  async notReady(responseUrl: string): Promise<string | undefined> {
    try {
      const answer = await axios.get<unknown>(resultApiUrl(responseUrl, 'service-status'), {
        timeout: this.config.MCS_DELIVERY_TIMEOUT_MS,
        validateStatus: () => true,
      });
      if (answer.status !== 200) return `service-status answered HTTP ${answer.status}`;
      const status = (answer.data as { status?: unknown } | null)?.status;
      if (typeof status === 'string' && status.trim().toUpperCase() !== 'OK')
        return `service-status is ${status}`;
      return undefined;
    } catch (error) {
      return `service-status: ${reasonOf(error)}`;
    }
  }

  /** POSTs the result; undefined when the master application accepted it (2xx), else why not. */
  async post(responseUrl: string, document: McsStatusDocument): Promise<string | undefined> {
    try {
      const answer = await axios.post<unknown>(resultApiUrl(responseUrl, 'collection-result'), document, {
        timeout: this.config.MCS_DELIVERY_TIMEOUT_MS,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        validateStatus: () => true,
      });
      if (answer.status >= 200 && answer.status < 300) return undefined;
      const details = (answer.data as { details?: unknown } | null)?.details;
      return `collection-result answered HTTP ${answer.status}${typeof details === 'string' ? `: ${details}` : ''}`;
    } catch (error) {
      return `collection-result: ${reasonOf(error)}`;
    }
  }
}
