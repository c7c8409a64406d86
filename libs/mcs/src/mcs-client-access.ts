import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { CredentialThrottle, PasswordHashingGate } from '@hes/security';
import {
  MCS_ENVIRONMENT_CLIENT_ID,
  McsAccessPolicy,
  McsClient,
  McsCredentialVerifier,
  basicUsername,
  environmentMcsClient,
  normaliseAddress,
} from './mcs-access';
import { McsErrorCode, McsRequestError } from './mcs-error';
import { McsClientRepository } from './mcs-client.repository';

/** How long the clients read from the database are used before they are read again. */
export const MCS_CLIENTS_CACHE_MS = 2000;
/** How often a client's last_seen_at is stamped at most, per process. */
const SEEN_INTERVAL_MS = 60_000;

/**
 * MCS access control for the api (docs/mcs.md): the registered clients, read from the database at most
 * every MCS_CLIENTS_CACHE_MS, plus the environment client, checked by McsAccessPolicy. The admin API
 * calls invalidate() after every change, so that a revoke takes effect at once in this process and
 * within MCS_CLIENTS_CACHE_MS in the others.
 */
@Injectable()
export class McsClientAccess {
  private readonly logger = new Logger('McsAccess');
  private readonly verifier: McsCredentialVerifier;
  private readonly seen = new Map<string, number>();
  /** The environment client, when MCS_ALLOWED_CLIENTS or MCS_USERNAME configure one. */
  readonly environmentClient: McsClient | undefined;
  private cached?: { policy: McsAccessPolicy; expiresAt: number };
  private loading?: Promise<McsAccessPolicy>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly repository: McsClientRepository,
    private readonly throttle: CredentialThrottle,
    hashing: PasswordHashingGate,
  ) {
    this.verifier = new McsCredentialVerifier(hashing);
    this.environmentClient = environmentMcsClient({
      allowedClients: config.MCS_ALLOWED_CLIENTS,
      username: config.MCS_USERNAME,
      password: config.MCS_PASSWORD,
    });
  }

  /** The client that admits the request (null while MCS is open); throws the MCS 403 or 401. */
  async check(address: string | undefined, authorization: string | undefined): Promise<McsClient | null> {
    const policy = await this.policy();
    // Basic credentials are throttled (CredentialThrottle: per address and per username); an
    // address-only client, or an open MCS, hashes nothing and has nothing to guess.
    const username = policy.open ? undefined : basicUsername(authorization);
    const caller = normaliseAddress(address ?? '');
    if (username !== undefined) await this.throttle.assertAllowed('mcs', username, caller);
    let client: McsClient | null;
    try {
      client = await policy.check(address, authorization);
    } catch (error) {
      if (
        username !== undefined &&
        error instanceof McsRequestError &&
        error.code === McsErrorCode.Unauthorized
      )
        await this.throttle.recordFailure('mcs', username, caller);
      throw error;
    }
    if (client && client.id !== MCS_ENVIRONMENT_CLIENT_ID) this.noteSeen(client.id);
    return client;
  }

  /** Whether MCS admits every request: no client registered and none configured by environment. */
  async isOpen(): Promise<boolean> {
    return (await this.policy()).open;
  }

  /** Forgets the clients read: the next request reads them again. */
  invalidate(): void {
    this.cached = undefined;
    this.loading = undefined;
  }

  private policy(): Promise<McsAccessPolicy> {
    if (this.cached && Date.now() < this.cached.expiresAt) return Promise.resolve(this.cached.policy);
    if (this.loading) return this.loading;
    const loading: Promise<McsAccessPolicy> = this.repository
      .clients()
      .then((registered) => {
        const clients = this.environmentClient ? [...registered, this.environmentClient] : registered;
        this.verifier.retain(clients);
        const policy = new McsAccessPolicy(clients, this.verifier);
        // A load that invalidate() overtook still answers the requests that waited for it, but is not kept.
        if (this.loading === loading) this.cached = { policy, expiresAt: Date.now() + MCS_CLIENTS_CACHE_MS };
        return policy;
      })
      .finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    this.loading = loading;
    return loading;
  }

  private noteSeen(id: string): void {
    const now = Date.now();
    if (now - (this.seen.get(id) ?? 0) < SEEN_INTERVAL_MS) return;
    this.seen.set(id, now);
    this.repository
      .markSeen(id)
      .catch((error: Error) =>
        this.logger.warn({ client: id, error: error.message }, 'could not stamp last_seen_at'),
      );
  }
}
