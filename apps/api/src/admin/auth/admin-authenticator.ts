import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { CredentialThrottle } from '@hes/security';

/** Who made an admin request, as written to the audit log. */
export interface AdminPrincipal {
  /** The Basic username, or "token" for the bearer token. */
  actor: string;
  method: 'token' | 'basic';
}

/** Why a request was refused: 401 with a challenge for missing or wrong credentials, 403 when admin access is off. */
export class AdminAuthenticationError extends Error {
  constructor(
    readonly statusCode: 401 | 403,
    message: string,
    /** Value of the WWW-Authenticate header of a 401. */
    readonly challenge?: string,
  ) {
    super(message);
    this.name = 'AdminAuthenticationError';
  }
}

/** Request property holding the authenticated principal (set by the guard and the Bull Board middleware). */
export const ADMIN_PRINCIPAL = 'adminPrincipal';

const REALM = 'hes-admin';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of two secrets of any length (their SHA-256 digests are compared). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The username of `Basic …` credentials (undefined for a bearer token or another scheme). */
function basicUsername(authorization: string): string | undefined {
  const [scheme = '', ...rest] = authorization.trim().split(/\s+/);
  if (scheme.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(rest.join(' '), 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  return separator < 0 ? decoded : decoded.slice(0, separator);
}

/**
 * Checks the Authorization header against ADMIN_TOKEN (`Bearer <token>`) and ADMIN_USERNAME /
 * ADMIN_PASSWORD (`Basic …`). With neither configured every admin request is refused: the admin API is
 * never open.
 */
@Injectable()
export class AdminAuthenticator {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly throttle: CredentialThrottle,
  ) {}

  /**
   * authenticate(), throttled (CredentialThrottle): a request that carries credentials is refused
   * with CredentialThrottledError (429) while its address or its Basic username has too many recent
   * failures, and every wrong credential counts one more. A request without credentials guesses
   * nothing and is not counted.
   */
  async authenticateRequest(authorization: string | undefined, address: string): Promise<AdminPrincipal> {
    if (!this.enabled || !authorization) return this.authenticate(authorization);
    const username = basicUsername(authorization);
    await this.throttle.assertAllowed('admin', username, address);
    try {
      return this.authenticate(authorization);
    } catch (error) {
      if (error instanceof AdminAuthenticationError && error.statusCode === 401)
        await this.throttle.recordFailure('admin', username, address);
      throw error;
    }
  }

  get enabled(): boolean {
    return Boolean(this.config.ADMIN_TOKEN || (this.config.ADMIN_USERNAME && this.config.ADMIN_PASSWORD));
  }

  /** WWW-Authenticate of a 401: Basic when Basic credentials are configured (browsers then prompt), else Bearer. */
  private get challenge(): string {
    return this.config.ADMIN_USERNAME ? `Basic realm="${REALM}", charset="UTF-8"` : `Bearer realm="${REALM}"`;
  }

  private get accepted(): string {
    return [
      this.config.ADMIN_TOKEN ? 'Authorization: Bearer <ADMIN_TOKEN>' : undefined,
      this.config.ADMIN_USERNAME ? 'Authorization: Basic (ADMIN_USERNAME and ADMIN_PASSWORD)' : undefined,
    ]
      .filter(Boolean)
      .join(' or ');
  }

  authenticate(authorization: string | undefined): AdminPrincipal {
    if (!this.enabled)
      throw new AdminAuthenticationError(
        403,
        'admin access is disabled: set ADMIN_TOKEN, or ADMIN_USERNAME and ADMIN_PASSWORD',
      );
    if (!authorization)
      throw new AdminAuthenticationError(
        401,
        `authorization: header is required (${this.accepted})`,
        this.challenge,
      );
    const [scheme = '', ...rest] = authorization.trim().split(/\s+/);
    const credentials = rest.join(' ');
    switch (scheme.toLowerCase()) {
      case 'bearer': {
        const token = this.config.ADMIN_TOKEN;
        if (token && credentials && sameSecret(credentials, token))
          return { actor: 'token', method: 'token' };
        break;
      }
      case 'basic': {
        const { ADMIN_USERNAME: username, ADMIN_PASSWORD: password } = this.config;
        const decoded = Buffer.from(credentials, 'base64').toString('utf8');
        const separator = decoded.indexOf(':');
        if (username && password && separator > 0) {
          // Both are compared, whatever the first gives, so that timing tells nothing.
          const userOk = sameSecret(decoded.slice(0, separator), username);
          const passwordOk = sameSecret(decoded.slice(separator + 1), password);
          if (userOk && passwordOk) return { actor: username, method: 'basic' };
        }
        break;
      }
      default:
        throw new AdminAuthenticationError(
          401,
          `authorization: scheme ${scheme} is not accepted (${this.accepted})`,
          this.challenge,
        );
    }
    throw new AdminAuthenticationError(401, 'authorization: credentials are not valid', this.challenge);
  }
}
