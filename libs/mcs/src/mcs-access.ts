import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { PasswordHashingBusyError, PasswordHashingGate } from '@hes/security';
import { hashSecret, verifySecret } from '@hes/udil';
import { McsErrorCode, McsRequestError } from './mcs-error';

/** The MCS access configured by environment (MCS_ALLOWED_CLIENTS, MCS_USERNAME, MCS_PASSWORD). */
export interface McsAccessSettings {
  /** Comma-separated addresses and CIDR ranges; empty allows every address. */
  allowedClients: string;
  username?: string;
  password?: string;
}

/**
 * HTTP Basic credentials an MCS client must present: the environment client's password is known in
 * clear text (it is in the environment anyway), a registered client's only as its scrypt hash.
 */
export type McsClientCredentials = { username: string } & (
  { password: string; passwordHash?: never } | { passwordHash: string; password?: never }
);

/** One MCS client as the access rules see it: a row of public.mcs_clients, or the environment client. */
export interface McsClient {
  /** The registry id, or MCS_ENVIRONMENT_CLIENT_ID. */
  id: string;
  name: string;
  /** A disabled client admits nobody, but its existence still closes MCS (see McsAccessPolicy). */
  enabled: boolean;
  /** Addresses and CIDR ranges the client may call from; empty admits every address. */
  allowedAddresses: readonly string[];
  /** null: the address is enough (an address-only client). */
  credentials: McsClientCredentials | null;
}

/** Id and name of the client configured by MCS_ALLOWED_CLIENTS / MCS_USERNAME / MCS_PASSWORD. */
export const MCS_ENVIRONMENT_CLIENT_ID = 'environment';

/** "::ffff:10.0.0.1" → "10.0.0.1". */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

function addressType(address: string): 'ipv4' | 'ipv6' | undefined {
  return isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
}

/** Why an allow-list entry is neither an address nor a CIDR range, or undefined when it is one. */
export function addressRangeError(entry: string): string | undefined {
  const [address, prefix, extra] = entry.split('/');
  const type = addressType(address);
  const valid =
    type !== undefined &&
    extra === undefined &&
    (prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (type === 'ipv4' ? 32 : 128)));
  return valid ? undefined : `${entry} is not an IP address or CIDR range`;
}

/** The allow-list of these entries; undefined for none (every address allowed). Throws naming a bad entry. */
export function allowListOf(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const error = addressRangeError(entry);
    if (error) throw new Error(error);
    const [address, prefix] = entry.split('/');
    const type = addressType(address)!;
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

/** Splits a comma-separated allow-list (MCS_ALLOWED_CLIENTS) into its entries. */
export function allowListEntries(text: string): string[] {
  return text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/** Parses MCS_ALLOWED_CLIENTS; throws naming the entry that is neither an address nor a CIDR range. */
export function parseAllowList(text: string): BlockList | undefined {
  return allowListOf(allowListEntries(text));
}

/** The environment client, or undefined when the environment configures neither an allow-list nor credentials. */
export function environmentMcsClient(settings: McsAccessSettings): McsClient | undefined {
  const allowedAddresses = allowListEntries(settings.allowedClients);
  const { username, password } = settings;
  if (allowedAddresses.length === 0 && !username) return undefined;
  return {
    id: MCS_ENVIRONMENT_CLIENT_ID,
    name: MCS_ENVIRONMENT_CLIENT_ID,
    enabled: true,
    allowedAddresses,
    credentials: username ? { username, password: password ?? '' } : null,
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Outcomes kept per stored hash before that hash's cache is emptied (bounds what failed guesses hold). */
const OUTCOMES_PER_HASH = 256;
const DECOY = 'decoy';

/**
 * Checks passwords against stored scrypt hashes (verifySecret, ~50 ms each) and remembers the outcome
 * per stored hash, keyed by an HMAC of the password under a key of this process: a client sending the
 * same Authorization header on every request pays scrypt once per password, and repeating a wrong
 * guess costs nothing. A changed password has a new hash (new salt), so nothing stale is ever used.
 */
export class McsCredentialVerifier {
  private readonly key = randomBytes(32);
  private readonly outcomes = new Map<string, Map<string, Promise<boolean>>>();
  private decoyHash?: Promise<string>;

  /** `hashing` bounds the verifications run at once (the api's PasswordHashingGate); none: unbounded. */
  constructor(private readonly hashing?: PasswordHashingGate) {}

  /** Whether `secret` is the password whose scrypt hash is `passwordHash`. */
  verify(passwordHash: string, secret: string): Promise<boolean> {
    return this.remembered(passwordHash, secret, () => this.hashed(() => verifySecret(secret, passwordHash)));
  }

  private hashed(verification: () => Promise<boolean>): Promise<boolean> {
    return this.hashing ? this.hashing.run(verification) : verification();
  }

  /** Spends the time of a verification for a username no client has, so timing does not tell usernames. */
  async decoy(username: string, secret: string): Promise<void> {
    this.decoyHash ??= hashSecret(randomBytes(16).toString('hex'));
    const hash = await this.decoyHash;
    await this.remembered(DECOY, `${username}:${secret}`, () =>
      this.hashed(() => verifySecret(secret, hash)),
    );
  }

  private remembered(bucket: string, secret: string, verification: () => Promise<boolean>): Promise<boolean> {
    let known = this.outcomes.get(bucket);
    if (!known) this.outcomes.set(bucket, (known = new Map<string, Promise<boolean>>()));
    const digest = createHmac('sha256', this.key).update(secret).digest('base64');
    let outcome = known.get(digest);
    if (!outcome) {
      if (known.size >= OUTCOMES_PER_HASH) known.clear();
      // A stored hash that does not parse makes scrypt throw: that is a refusal, not an error. No free
      // hashing slot is neither: it is not remembered, and the request is refused with 503.
      const remembered = known;
      outcome = verification().catch((error: unknown) => {
        if (!(error instanceof PasswordHashingBusyError)) return false;
        remembered.delete(digest);
        throw error;
      });
      known.set(digest, outcome);
    }
    return outcome;
  }

  /** Forgets the outcomes of hashes no client has any more. */
  retain(clients: readonly McsClient[]): void {
    const hashes = new Set(clients.map((c) => c.credentials?.passwordHash).filter((h) => h !== undefined));
    for (const hash of this.outcomes.keys())
      if (hash !== DECOY && !hashes.has(hash)) this.outcomes.delete(hash);
  }
}

/** The username and password of an `Authorization: Basic …` header, or undefined for any other. */
export function basicCredentials(
  authorization: string | undefined,
): { user: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return {
    user: colon < 0 ? decoded : decoded.slice(0, colon),
    secret: colon < 0 ? '' : decoded.slice(colon + 1),
  };
}

/** The username of an `Authorization: Basic …` header, or undefined for any other. */
export function basicUsername(authorization: string | undefined): string | undefined {
  return basicCredentials(authorization)?.user;
}

interface Rule {
  client: McsClient;
  /** undefined: every address. */
  allowList: BlockList | undefined;
}

function ruleOf(client: McsClient): Rule {
  try {
    return { client, allowList: allowListOf(client.allowedAddresses) };
  } catch {
    // A stored entry that does not parse (the admin API validates them) admits nothing rather than everything.
    return { client, allowList: new BlockList() };
  }
}

/**
 * The MCS access rules (docs/mcs.md). A request is admitted when it matches any enabled client: its
 * address is within the client's allowed addresses (or the client has none) and, when the client has
 * credentials, HTTP Basic authentication carries them. 403 when no enabled client admits the address,
 * 401 when one does but the credentials are missing or match none of the clients that admit it.
 * With no client at all (none registered, disabled or not, and none in the environment) MCS is open.
 */
export class McsAccessPolicy {
  private readonly rules: Rule[];

  constructor(
    private readonly clients: readonly McsClient[],
    private readonly verifier = new McsCredentialVerifier(),
  ) {
    this.rules = clients.filter((c) => c.enabled).map(ruleOf);
  }

  /** Whether every request is admitted, as before MCS clients were configured. */
  get open(): boolean {
    return this.clients.length === 0;
  }

  /** The client that admits the request (null when MCS is open); throws the MCS 403 or 401. */
  async check(address: string | undefined, authorization: string | undefined): Promise<McsClient | null> {
    if (this.open) return null;
    const caller = normaliseAddress(address ?? '');
    const type = addressType(caller);
    const admitting = this.rules.filter(
      ({ allowList }) => !allowList || (type !== undefined && allowList.check(caller, type)),
    );
    if (admitting.length === 0)
      throw new McsRequestError(
        McsErrorCode.Forbidden,
        `client address ${caller || 'unknown'} is not allowed`,
      );
    const addressOnly = admitting.find(({ client }) => !client.credentials);
    if (addressOnly) return addressOnly.client;

    const basic = basicCredentials(authorization);
    if (!basic)
      throw new McsRequestError(
        McsErrorCode.Unauthorized,
        'credentials are required (HTTP Basic authentication)',
      );
    const { user, secret } = basic;
    // Every username is compared (in constant time), so the answer's timing does not depend on which one matched.
    const named = admitting.filter(({ client }) => sameSecret(user, client.credentials!.username));
    let hashed = false;
    for (const { client } of named) {
      const credentials = client.credentials!;
      hashed ||= credentials.passwordHash !== undefined;
      const valid =
        credentials.passwordHash !== undefined
          ? await this.verifier.verify(credentials.passwordHash, secret)
          : sameSecret(secret, credentials.password);
      if (valid) return client;
    }
    // Without a hash checked, a refusal would come back faster whenever registered clients are involved.
    if (!hashed && admitting.some(({ client }) => client.credentials?.passwordHash !== undefined))
      await this.verifier.decoy(user, secret);
    throw new McsRequestError(McsErrorCode.Unauthorized, 'credentials are not valid');
  }
}
