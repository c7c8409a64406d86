import { Inject, Injectable } from '@nestjs/common';
import { MPCB_CLOCK, MpcbClock } from './mpcb-clock';
import { authorizationHeader } from './mpcb-crypto';
import { MpcbRouteName, MPCB_SETTINGS, MpcbSettings, siteRouteUrl } from './mpcb-settings';
import type { MpcbSite } from './mpcb-site.repository';
import { headerTimestamp } from './mpcb-wire-format';

/** The central server could not be reached, timed out, or answered as a server that is down (502–504). */
export class MpcbUnreachableError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'MpcbUnreachableError';
  }
}

export interface CentralAnswer {
  url: string;
  httpStatus: number;
  /** The JSON object answered, or null when the body was not a JSON object. */
  body: Record<string, unknown> | null;
  text: string;
}

export interface ZipUpload {
  zipName: string;
  zip: Buffer;
}

/** What a request needs of its site: the credentials, and its own central server when it has one. */
type SiteCredentials = Pick<MpcbSite, 'siteId' | 'softwareVersionId' | 'siteKey' | 'authorizationEncoding'> &
  Partial<Pick<MpcbSite, 'centralServerUrl'>>;

/**
 * HTTP to the MPCB central server (the site's own `centralServerUrl` when set, else MPCB_BASE_URL). Every request carries `Timestamp` (zone wall-clock time with a literal
 * Z, set `timestampLagSeconds` in the past) and `Authorization: Basic <encrypted digest>` computed for
 * that very timestamp just before sending.
 */
@Injectable()
export class MpcbCentralClient {
  constructor(
    @Inject(MPCB_SETTINGS) private readonly settings: MpcbSettings,
    @Inject(MPCB_CLOCK) private readonly clock: MpcbClock,
  ) {}

  authenticationHeaders(site: SiteCredentials): Record<string, string> {
    const at = new Date(this.clock.now().getTime() - this.settings.timestampLagSeconds * 1000);
    const timestamp = headerTimestamp(at, this.settings.timeZone);
    return {
      Timestamp: timestamp,
      Authorization: authorizationHeader(
        site.siteId,
        site.softwareVersionId,
        timestamp,
        site.siteKey,
        site.authorizationEncoding,
      ),
    };
  }

  /** Sends a zip as multipart/form-data to realtimeUpload or delayedUpload. */
  uploadZip(
    site: SiteCredentials,
    route: 'realtimeUpload' | 'delayedUpload',
    upload: ZipUpload,
  ): Promise<CentralAnswer> {
    const form = new FormData();
    form.append(
      this.settings.uploadFieldName,
      new Blob([upload.zip], { type: 'application/zip' }),
      upload.zipName,
    );
    return this.send(site, route, form);
  }

  postJson(
    site: SiteCredentials,
    route: MpcbRouteName,
    body: Record<string, unknown>,
  ): Promise<CentralAnswer> {
    return this.send(site, route, JSON.stringify(body));
  }

  private async send(
    site: SiteCredentials,
    route: MpcbRouteName,
    body: FormData | string,
  ): Promise<CentralAnswer> {
    const url = siteRouteUrl(this.settings, site, route);
    const headers: Record<string, string> = {
      ...this.authenticationHeaders(site),
      Accept: 'application/json',
    };
    if (typeof body === 'string') headers['Content-Type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.settings.requestTimeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new MpcbUnreachableError(`POST ${url} failed: ${reason}`, error);
    }
    if ([502, 503, 504].includes(response.status))
      throw new MpcbUnreachableError(`POST ${url} answered HTTP ${response.status}`);
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const isObject = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
    return {
      url,
      httpStatus: response.status,
      body: isObject ? (parsed as Record<string, unknown>) : null,
      text,
    };
  }
}

/** A short description of an answer for logs and the upload record. */
export function describeAnswer(answer: CentralAnswer): string {
  const message =
    answer.body?.statusMessage ??
    answer.body?.configUpdateStatus ??
    answer.body?.calibrationUpdateStatus ??
    answer.body?.diagnosticUpdateStatus ??
    answer.body?.status ??
    answer.text.slice(0, 200);
  return `HTTP ${answer.httpStatus}: ${typeof message === 'string' ? message : JSON.stringify(message)}`;
}
