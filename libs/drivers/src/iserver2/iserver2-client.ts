/**
 * One WebSocket to one iServer 2 unit: opened on demand and kept while used (closed after an idle time),
 * logged in on first use and again, transparently, when the unit refuses the token; one command in flight
 * at a time, its answer recognised by the command name (or "dbupdate" for writes the unit answers so),
 * with a timeout; failed connection attempts are repeated with exponential backoff.
 *
 * A command that times out or is aborted closes the socket: the unit's late answer would otherwise be
 * taken for the answer to the next command of the same name.
 */
import WebSocket from 'ws';
import { DriverError } from '../driver.contract';
import { isCertificateError } from '../kit';
import {
  CommandParams,
  IServer2CommandName,
  JsonObject,
  STATUS_SUCCESS,
  isAuthenticationStatus,
  isJsonObject,
  parseMessage,
} from './iserver2-messages';

export interface IServer2ClientOptions {
  /** ws://host:8081 (wss:// when the unit is put behind TLS). */
  url: string;
  username: string;
  password: string;
  /** Time allowed for the socket to open and for each answer. */
  timeoutMs: number;
  /** Attempts to open the socket before giving up (default 3). */
  connectAttempts?: number;
  /** First wait between attempts; doubles each time (default 200 ms, at most maxBackoffMs). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Close the socket after this long without commands (default 60 s; 0 keeps it open). */
  idleCloseMs?: number;
  /**
   * Options of the WebSocket; for wss:// its `agent` is the gateway's TLS agent (kit/tls.ts), which in
   * the pinned mode hands over a connection only once the certificate matched the pin, so nothing (HTTP
   * upgrade, login) is written to a unit presenting another certificate.
   */
  webSocket?: WebSocket.ClientOptions;
}

/**
 * What one caller wants to hear about its command (progress, log lines, cancellation). The progress hooks
 * may return a promise: the client awaits it before its next step, and a rejection (the transaction was
 * cancelled meanwhile) ends the command there: `connecting` before the socket is opened, `ready` before
 * the command is written; `sent` is awaited before the answer is handed back.
 */
export interface ExchangeObserver {
  /** A socket is being opened. */
  connecting?(): void | Promise<void>;
  /** Socket open and logged in. */
  ready?(): void | Promise<void>;
  /** The command has been written to the socket. */
  sent?(command: IServer2CommandName): void | Promise<void>;
  log?(line: string): void;
  /** Bytes of one exchange (DEVICE_COMMUNICATION_HISTORY bytes_sent/received). */
  traffic?(sent: number, received: number): void;
  signal?: AbortSignal;
}

interface Pending {
  command: IServer2CommandName;
  keys: readonly string[];
  /** Bytes of the frames received while it waited (DEVICE_COMMUNICATION_HISTORY bytes_received). */
  received: number;
  resolve(message: JsonObject): void;
  reject(error: Error): void;
}

const REDACTED_KEYS = new Set(['token', 'password']);

function summary(body: object): string {
  return JSON.stringify(body, (key, value: unknown) => (REDACTED_KEYS.has(key) ? '***' : value));
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function aborted(): DriverError {
  return new DriverError('timeout', 'iServer 2 command aborted by the caller', true);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The status of the answer's body: under the command key, else under "dbupdate". */
export function answerStatus(message: JsonObject, command: string): string | undefined {
  for (const key of [command, 'dbupdate']) {
    const body = message[key];
    if (isJsonObject(body) && typeof body.status === 'string') return body.status.trim();
  }
  return undefined;
}

export class IServer2Client {
  private socket?: WebSocket;
  private token?: string;
  private pending?: Pending;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private idleTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: IServer2ClientOptions) {}

  get url(): string {
    return this.options.url;
  }

  /** True while a socket to the unit is open. */
  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one command (the client adds the token) and returns the unit's whole answer message, whose
   * status is "success" when it has one. `answerKeys` are the keys the answer may come under besides the
   * command name ("dbupdate" for trigger writes).
   */
  command<K extends Exclude<IServer2CommandName, 'login'>>(
    command: K,
    params: CommandParams<K>,
    answerKeys: readonly string[],
    observer: ExchangeObserver = {},
  ): Promise<JsonObject> {
    if (this.closed)
      return Promise.reject(new DriverError('unreachable', 'iServer 2 client is closed', false));
    return this.enqueue(async () => {
      if (observer.signal?.aborted) throw aborted();
      await this.ensureSession(observer);
      const send = (): Promise<JsonObject> =>
        this.exchange(command, { ...params, token: this.token }, answerKeys, observer);
      let message = await send();
      let status = answerStatus(message, command);
      if (status !== undefined && isAuthenticationStatus(status)) {
        observer.log?.(`${command}: unit refused the token ("${status}"), logging in again`);
        this.token = undefined;
        await this.ensureSession(observer);
        message = await send();
        status = answerStatus(message, command);
        if (status !== undefined && isAuthenticationStatus(status))
          throw new DriverError(
            'authentication',
            `iServer 2 refused ${command} after a new login: "${status}"`,
            false,
          );
      }
      if (status !== undefined && status !== STATUS_SUCCESS)
        throw new DriverError('refused', `iServer 2 answered ${command} with "${status}"`, false);
      const dbupdate = message.dbupdate;
      if (isJsonObject(dbupdate) && typeof dbupdate.status === 'string' && dbupdate.status !== STATUS_SUCCESS)
        throw new DriverError(
          'refused',
          `iServer 2 answered ${command} with dbupdate "${dbupdate.status}"`,
          false,
        );
      return message;
    });
  }

  /** Logs in now (the commands do it on demand); returns nothing, keeps the token. */
  async login(observer: ExchangeObserver = {}): Promise<void> {
    await this.enqueue(async () => {
      this.token = undefined;
      await this.ensureSession(observer);
    });
  }

  /** Closes the socket; later commands are refused. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearIdleTimer();
    const socket = this.socket;
    this.socket = undefined;
    this.token = undefined;
    this.pending?.reject(new DriverError('unreachable', 'iServer 2 client closed', false));
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.close();
      });
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.queued++;
    this.clearIdleTimer();
    const run = this.queue.then(task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queue = settled.then(() => {
      this.queued--;
      if (this.queued === 0) this.armIdleTimer();
    });
    return run;
  }

  private armIdleTimer(): void {
    const idle = this.options.idleCloseMs ?? 60_000;
    if (idle <= 0 || this.closed || !this.socket) return;
    this.idleTimer = setTimeout(() => {
      const socket = this.socket;
      this.socket = undefined;
      socket?.close();
    }, idle);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private async ensureSession(observer: ExchangeObserver): Promise<void> {
    await this.ensureOpen(observer);
    if (!this.token) {
      const { username, password } = this.options;
      const message = await this.exchange('login', { username, password }, [], observer);
      const body = message.login;
      if (!isJsonObject(body) || typeof body.status !== 'string')
        throw new DriverError('protocol', 'iServer 2 login answer has no status', false);
      if (body.status.trim() !== STATUS_SUCCESS)
        throw new DriverError(
          'authentication',
          `iServer 2 refused login as "${username}": "${body.status}"`,
          false,
        );
      if (typeof body.token !== 'string' || body.token.trim() === '')
        throw new DriverError('protocol', 'iServer 2 login succeeded without a token', false);
      this.token = body.token.trim();
    }
    await observer.ready?.();
  }

  private async ensureOpen(observer: ExchangeObserver): Promise<void> {
    if (this.socket?.readyState === WebSocket.OPEN) return;
    this.socket = undefined;
    await observer.connecting?.();
    const attempts = Math.max(1, this.options.connectAttempts ?? 3);
    const backoff = this.options.backoffMs ?? 200;
    const maxBackoff = this.options.maxBackoffMs ?? 5000;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await delay(Math.min(backoff * 2 ** (attempt - 1), maxBackoff), observer.signal);
      try {
        this.socket = await this.open();
        observer.log?.(`WS ${this.options.url} open`);
        return;
      } catch (error) {
        lastError = error;
        observer.log?.(
          `WS ${this.options.url} attempt ${attempt + 1}/${attempts} failed: ${errorText(error)}`,
        );
        if (isCertificateError(error))
          throw new DriverError(
            'authentication',
            `TLS with ${this.options.url} refused: ${errorText(error)}`,
            false,
            error,
          );
      }
    }
    throw new DriverError(
      'unreachable',
      `cannot open ${this.options.url} after ${attempts} attempts: ${errorText(lastError)}`,
      true,
      lastError,
    );
  }

  private open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.options.url, {
        handshakeTimeout: this.options.timeoutMs,
        ...this.options.webSocket,
      });
      const fail = (error: Error): void => {
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(error);
      };
      socket.once('error', fail);
      socket.once('close', () => fail(new Error('closed during the handshake')));
      socket.once('open', () => {
        socket.removeAllListeners();
        socket.on('message', (data: WebSocket.RawData) => this.onMessage(socket, data));
        socket.on('close', () => this.onClose(socket));
        socket.on('error', () => undefined); // a 'close' follows every error
        resolve(socket);
      });
    });
  }

  private onMessage(socket: WebSocket, data: WebSocket.RawData): void {
    if (socket !== this.socket || !this.pending) return; // late or unsolicited frame
    const pending = this.pending;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Uint8Array);
    pending.received += bytes.length;
    const text = bytes.toString('utf8');
    let message: JsonObject;
    try {
      message = parseMessage(text);
    } catch (error) {
      pending.reject(
        new DriverError(
          'protocol',
          `iServer 2 answer to ${pending.command}: ${errorText(error)}`,
          false,
          error,
        ),
      );
      return;
    }
    if (pending.keys.some((key) => key in message) || pending.command in message) pending.resolve(message);
  }

  private onClose(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.pending?.reject(
      new DriverError(
        'unreachable',
        `iServer 2 closed the connection while ${this.pending.command} was waiting`,
        true,
      ),
    );
  }

  /** Drops the socket after a timeout or abort, so that a late answer cannot be mistaken for another. */
  private discardSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.terminate();
  }

  private exchange(
    command: IServer2CommandName,
    body: object,
    answerKeys: readonly string[],
    observer: ExchangeObserver,
  ): Promise<JsonObject> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN)
      return Promise.reject(new DriverError('unreachable', `no open socket to send ${command}`, true));
    const started = Date.now();
    return new Promise<JsonObject>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        observer.signal?.removeEventListener('abort', onAbort);
        this.pending = undefined;
      };
      const timer = setTimeout(() => {
        finish();
        this.discardSocket();
        observer.log?.(`WS ${command} ${summary(body)} -> no answer within ${this.options.timeoutMs} ms`);
        reject(
          new DriverError(
            'timeout',
            `iServer 2 did not answer ${command} within ${this.options.timeoutMs} ms`,
            true,
          ),
        );
      }, this.options.timeoutMs);
      const onAbort = (): void => {
        finish();
        this.discardSocket();
        reject(aborted());
      };
      observer.signal?.addEventListener('abort', onAbort, { once: true });
      // Level 4 is reported once the command is written; its answer is handed back only after the
      // caller accepted that step (a rejection ends the operation; the socket stays in step).
      let acknowledged: Promise<void> = Promise.resolve();
      const frame = JSON.stringify({ [command]: body });
      const pending: Pending = {
        command,
        keys: answerKeys,
        received: 0,
        resolve: (message) => {
          finish();
          observer.traffic?.(Buffer.byteLength(frame), pending.received);
          const status = answerStatus(message, command) ?? 'answered';
          observer.log?.(`WS ${command} ${summary(body)} -> ${status} (${Date.now() - started} ms)`);
          acknowledged.then(() => resolve(message), reject);
        },
        reject: (error) => {
          finish();
          observer.log?.(`WS ${command} ${summary(body)} -> ${error.message}`);
          reject(error);
        },
      };
      this.pending = pending;
      socket.send(frame, (error) => {
        if (error && this.pending?.command === command)
          this.pending.reject(
            new DriverError('unreachable', `sending ${command}: ${error.message}`, true, error),
          );
      });
      if (command !== 'login') {
        acknowledged = Promise.resolve().then(() => observer.sent?.(command));
        // Seen by the resolve above; an exchange that fails first reports its own error instead.
        acknowledged.catch(() => undefined);
      }
    });
  }
}
