import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { CredentialThrottle, PasswordHashingGate } from '@hes/security';
import { UdilRequestError } from '../udil-error';
import { hashSecret, hashToken, verifySecret } from './secret-hash';

export interface IssuedKey {
  privatekey: string;
  expiresAt: Date;
}

/** A scrypt hash that no password matches, compared against for unknown users (same timing). */
const UNKNOWN_USER_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/**
 * authorization_service (UDIL §3.2.1): username, password and code exchanged for a privatekey valid
 * UDIL_PRIVATEKEY_TTL_MINUTES (at least 30). Only hashes are stored. Repeated failures from one
 * address (over every username) or for one username (from every address) are refused for a while,
 * counted by every api process together (CredentialThrottle); the hashing is bounded per process
 * (PasswordHashingGate).
 */
@Injectable()
export class UdilAuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly throttle: CredentialThrottle,
    private readonly hashing: PasswordHashingGate,
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
    // Over a limit: CredentialThrottledError, answered 429 with Retry-After by the UDIL filter.
    await this.throttle.assertAllowed('udil', username, address);
    const [client] = await this.dataSource.query<
      { id: string; password_hash: string; code_hash: string; enabled: boolean }[]
    >(`SELECT id, password_hash, code_hash, enabled FROM public.udil_clients WHERE username = $1`, [
      username,
    ]);
    // Both secrets are checked in one slot of the gate, whether the user exists or not (same timing).
    const [passwordOk, codeOk] = await this.hashing.run(async () => [
      await verifySecret(password!, client?.password_hash ?? UNKNOWN_USER_HASH),
      await verifySecret(code!, client?.code_hash ?? UNKNOWN_USER_HASH),
    ]);
    if (!client || !client.enabled || !passwordOk || !codeOk) {
      await this.throttle.recordFailure('udil', username, address);
      throw new UdilRequestError(401, 'username, password or code is not valid');
    }
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
}
