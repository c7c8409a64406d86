import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { McsErrorCode, McsRequestError } from './mcs-error';

export interface McsAccessSettings {
  /** Comma-separated addresses and CIDR ranges; empty allows every address. */
  allowedClients: string;
  username?: string;
  password?: string;
}

/** "::ffff:10.0.0.1" → "10.0.0.1". */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/** Parses MCS_ALLOWED_CLIENTS; throws naming the entry that is neither an address nor a CIDR range. */
export function parseAllowList(text: string): BlockList | undefined {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    const bits = prefix === undefined ? undefined : Number(prefix);
    if (!type || (prefix !== undefined && (!/^\d+$/.test(prefix) || bits! > (type === 'ipv4' ? 32 : 128))))
      throw new Error(`${entry} is not an IP address or CIDR range`);
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The MCS access rules: the client address must be on the allow-list (when one is configured) and,
 * when credentials are configured, HTTP Basic authentication must carry them.
 */
export class McsAccessPolicy {
  private readonly allowList: BlockList | undefined;

  constructor(private readonly settings: McsAccessSettings) {
    this.allowList = parseAllowList(settings.allowedClients);
  }

  check(address: string | undefined, authorization: string | undefined): void {
    const client = normaliseAddress(address ?? '');
    if (this.allowList) {
      const type = isIPv4(client) ? 'ipv4' : isIPv6(client) ? 'ipv6' : undefined;
      if (!type || !this.allowList.check(client, type))
        throw new McsRequestError(
          McsErrorCode.Forbidden,
          `client address ${client || 'unknown'} is not allowed`,
        );
    }
    const { username, password } = this.settings;
    if (!username) return;
    const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (!match)
      throw new McsRequestError(
        McsErrorCode.Unauthorized,
        'credentials are required (HTTP Basic authentication)',
      );
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const secret = colon < 0 ? '' : decoded.slice(colon + 1);
    // Both compared, always: the answer does not tell which one was wrong.
    const userOk = sameSecret(user, username);
    const passwordOk = sameSecret(secret, password ?? '');
    if (!userOk || !passwordOk)
      throw new McsRequestError(McsErrorCode.Unauthorized, 'credentials are not valid');
  }
}
