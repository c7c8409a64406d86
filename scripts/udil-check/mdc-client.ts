import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';

/** One UDIL answer as the MDC sent it: HTTP status and the parsed JSON body (undefined when not JSON). */
export interface MdcAnswer {
  httpStatus: number;
  body: Record<string, unknown> | undefined;
  /** The raw text, for reasons when the body is not JSON. */
  text: string;
}

export interface MdcCredentials {
  username: string;
  password: string;
  code: string;
}

/** A form field as MDM tools send it: text, or an array/object that goes as a JSON string. */
export type FormValue = string | number | readonly unknown[] | Record<string, unknown>;

/**
 * Talks to an MDC the way MDM clients and test tools do (../shared/specs/udil-3.3-notes.md): always POST,
 * `application/x-www-form-urlencoded`, arrays and objects as JSON strings in form fields, credentials and
 * keys in headers, a re-authorization and one retry on 401.
 */
export class MdcClient {
  private privatekey: string | undefined;
  private sequence = 0;

  constructor(
    readonly base: string,
    private readonly credentials: MdcCredentials,
    readonly timeZone: string,
    private readonly requestTimeoutMs: number,
  ) {}

  /** A transactionid of one of the two shapes real clients use: 32 hex characters, or TXN + a timestamp. */
  nextTransactionId(): string {
    this.sequence += 1;
    return this.sequence % 2 === 0
      ? randomBytes(16).toString('hex')
      : `TXN${Date.now().toString().slice(-10)}${String(this.sequence % 10000).padStart(4, '0')}`;
  }

  /** `yyyy-MM-dd HH:mm:ss` in the MDC's zone, `offsetSeconds` from now. */
  datetime(offsetSeconds = 0): string {
    return DateTime.now()
      .setZone(this.timeZone)
      .plus({ seconds: offsetSeconds })
      .toFormat('yyyy-MM-dd HH:mm:ss');
  }

  async authorize(override?: Partial<MdcCredentials>): Promise<MdcAnswer> {
    const credentials = { ...this.credentials, ...override };
    const answer = await this.post('authorization_service', {}, { ...credentials });
    if (!override && answer.httpStatus === 200 && typeof answer.body?.privatekey === 'string') {
      this.privatekey = answer.body.privatekey;
    }
    return answer;
  }

  /** A service call with the current privatekey; on 401 it authorizes again and retries once. */
  async call(
    service: string,
    fields: Record<string, FormValue>,
    headers: Record<string, string> = {},
  ): Promise<MdcAnswer> {
    if (!this.privatekey) await this.authorize();
    const send = () => this.post(service, fields, { privatekey: this.privatekey ?? '', ...headers });
    const answer = await send();
    if (answer.httpStatus !== 401) return answer;
    await this.authorize();
    return send();
  }

  /** A call with a privatekey of our choosing (no retry): for the checks of refusals. */
  callWithKey(service: string, privatekey: string, fields: Record<string, FormValue>): Promise<MdcAnswer> {
    return this.post(service, fields, { privatekey, transactionid: this.nextTransactionId() });
  }

  private async post(
    service: string,
    fields: Record<string, FormValue>,
    headers: Record<string, string>,
  ): Promise<MdcAnswer> {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) {
      form.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
    }
    const response = await fetch(new URL(service, this.base.endsWith('/') ? this.base : `${this.base}/`), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...headers,
      },
      body: form.toString(),
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    const text = await response.text();
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      body =
        parsed && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : undefined;
    } catch {
      body = undefined;
    }
    return { httpStatus: response.status, body, text };
  }
}
