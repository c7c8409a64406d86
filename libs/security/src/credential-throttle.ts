import { Logger } from '@nestjs/common';
import { FailureCounterStore, MemoryFailureCounterStore, counterKey } from './failure-counters';

/** Which API's credentials: each counts its failures apart. */
export type CredentialRealm = 'udil' | 'mcs' | 'admin';

export interface CredentialThrottleSettings {
  /** Failures from one address, over every username, before that address is refused for a while. */
  maxFailuresPerAddress: number;
  /** Failures for one username, from every address, before that username is refused for a while. */
  maxFailuresPerUsername: number;
  /** Length of a counting window, and so the longest a refusal lasts. */
  windowSeconds: number;
}

/** Too many failed credentials: answered 429 with Retry-After in the API's envelope. */
export class CredentialThrottledError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly reason: 'address' | 'username',
  ) {
    super(
      `too many failed authorizations ${reason === 'address' ? 'from this address' : 'for this username'}; try again in ${retryAfterSeconds} seconds`,
    );
    this.name = 'CredentialThrottledError';
  }
}

/**
 * Limits password guessing (issue 16, point 4): failed credentials are counted per client address
 * over every username (password spraying) and per username over every address (one account guessed
 * from many addresses), in a store every api process shares. Over either limit, the request is refused
 * before any password is hashed, until the window of the count ends. A success does not reset a count:
 * an attacker with one valid account cannot clear its address's count by logging in between guesses.
 * While the shared store cannot be reached, this process counts on its own (logged), rather than not
 * at all or refusing every login.
 */
export class CredentialThrottle {
  private readonly logger = new Logger('CredentialThrottle');
  private readonly local = new MemoryFailureCounterStore();

  constructor(
    private readonly store: FailureCounterStore,
    readonly settings: CredentialThrottleSettings,
  ) {}

  private keys(realm: CredentialRealm, username: string | undefined, address: string): string[] {
    const keys = [counterKey(`${realm}:address`, address)];
    if (username !== undefined) keys.push(counterKey(`${realm}:username`, username));
    return keys;
  }

  /** Throws CredentialThrottledError when the address or the username is over its limit. */
  async assertAllowed(realm: CredentialRealm, username: string | undefined, address: string): Promise<void> {
    const keys = this.keys(realm, username, address);
    const [byAddress, byUsername] = await this.withFallback((store) => store.read(keys));
    const limits: [typeof byAddress | undefined, number, 'address' | 'username'][] = [
      [byAddress, this.settings.maxFailuresPerAddress, 'address'],
      [byUsername, this.settings.maxFailuresPerUsername, 'username'],
    ];
    for (const [count, limit, reason] of limits) {
      if (count && count.failures >= limit)
        throw new CredentialThrottledError(Math.max(1, Math.ceil(count.remainingMs / 1000)), reason);
    }
  }

  async recordFailure(realm: CredentialRealm, username: string | undefined, address: string): Promise<void> {
    const keys = this.keys(realm, username, address);
    await this.withFallback((store) => store.increment(keys, this.settings.windowSeconds * 1000));
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async withFallback<T>(work: (store: FailureCounterStore) => Promise<T>): Promise<T> {
    try {
      return await work(this.store);
    } catch (error) {
      this.logger.warn(
        { error: (error as Error).message },
        'credential failure counters unreachable: counting in this process only',
      );
      return work(this.local);
    }
  }
}
