import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { UdilRequestError } from '../udil-error';
import { hashSecret, hashToken, verifySecret } from './secret-hash';

export interface IssuedKey {
  privatekey: string;
  expiresAt: Date;
}

interface FailureWindow {
  count: number;
  since: number;
}

/** A scrypt hash that no password matches, compared against for unknown users (same timing). */
const UNKNOWN_USER_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/**
 * authorization_service (UDIL §3.2.1): username, password and code exchanged for a privatekey valid
 * UDIL_PRIVATEKEY_TTL_MINUTES (at least 30). Only hashes are stored. Repeated failures from one
 * address or for one username are refused for a while (per api process).
 */
@Injectable()
export class UdilAuthService {
  private readonly failures = new Map<string, FailureWindow>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async createClient(username: string, password: string, code: string): Promise<string> {
    const [row] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO public.udil_clients (username, password_hash, code_hash) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, code_hash = EXCLUDED.code_hash,
         enabled = true, updated_at = now()
       RETURNING id`,
      [username, await hashSecret(password), await hashSecret(code)],
    );
    return row.id;
  }

  async authorize(
    username: string | undefined,
    password: string | undefined,
    code: string | undefined,
    address: string,
  ): Promise<IssuedKey> {
    for (const [name, value] of [
      ['username', username],
      ['password', password],
      ['code', code],
    ] as const) {
      if (!value) throw new UdilRequestError(401, `${name}: header is required`);
    }
    // Per username and address: an attacker is slowed down without locking the user out everywhere.
    const keys = [`${username}|${address}`];
    if (keys.some((key) => this.isThrottled(key))) {
      throw new UdilRequestError(
        429,
        `too many failed authorizations; try again in ${this.config.UDIL_AUTH_LOCKOUT_SECONDS} seconds`,
      );
    }
    const [client] = await this.dataSource.query<
      { id: string; password_hash: string; code_hash: string; enabled: boolean }[]
    >(`SELECT id, password_hash, code_hash, enabled FROM public.udil_clients WHERE username = $1`, [
      username,
    ]);
    const passwordOk = await verifySecret(password!, client?.password_hash ?? UNKNOWN_USER_HASH);
    const codeOk = await verifySecret(code!, client?.code_hash ?? UNKNOWN_USER_HASH);
    if (!client || !client.enabled || !passwordOk || !codeOk) {
      keys.forEach((key) => this.recordFailure(key));
      throw new UdilRequestError(401, 'username, password or code is not valid');
    }
    keys.forEach((key) => this.failures.delete(key));
    const privatekey = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + this.config.UDIL_PRIVATEKEY_TTL_MINUTES * 60_000);
    await this.dataSource.query(
      `INSERT INTO public.udil_private_keys (key_hash, client_id, expires_at) VALUES ($1, $2, $3)`,
      [hashToken(privatekey), client.id, expiresAt],
    );
    await this.dataSource.query(`UPDATE public.udil_clients SET last_authorized_at = now() WHERE id = $1`, [
      client.id,
    ]);
    return { privatekey, expiresAt };
  }

  /** The client a privatekey belongs to; 401 when missing, unknown, revoked or expired. */
  async clientOf(privatekey: string | undefined): Promise<string> {
    if (!privatekey)
      throw new UdilRequestError(401, 'privatekey: header is required (get one from authorization_service)');
    const [key] = await this.dataSource.query<{ client_id: string }[]>(
      `SELECT k.client_id FROM public.udil_private_keys k JOIN public.udil_clients c ON c.id = k.client_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND k.expires_at > now() AND c.enabled`,
      [hashToken(privatekey)],
    );
    if (!key)
      throw new UdilRequestError(
        401,
        'privatekey is not valid or has expired (get a new one from authorization_service)',
      );
    return key.client_id;
  }

  private isThrottled(key: string): boolean {
    const window = this.failures.get(key);
    if (!window) return false;
    if (Date.now() - window.since > this.config.UDIL_AUTH_LOCKOUT_SECONDS * 1000) {
      this.failures.delete(key);
      return false;
    }
    return window.count >= this.config.UDIL_AUTH_MAX_FAILURES;
  }

  private recordFailure(key: string): void {
    const window = this.failures.get(key);
    if (!window || Date.now() - window.since > this.config.UDIL_AUTH_LOCKOUT_SECONDS * 1000) {
      this.failures.set(key, { count: 1, since: Date.now() });
    } else {
      window.count += 1;
    }
  }
}
