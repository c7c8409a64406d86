import { hashSecret, verifySecret } from '@hes/udil';
import { McsErrorCode, McsRequestError } from './mcs-error';
import {
  McsAccessPolicy,
  McsClient,
  McsCredentialVerifier,
  environmentMcsClient,
  parseAllowList,
} from './mcs-access';

// Counts the scrypt verifications while keeping the real ones.
jest.mock('@hes/udil', () => {
  const actual = jest.requireActual<typeof import('@hes/udil')>('@hes/udil');
  return { ...actual, verifySecret: jest.fn(actual.verifySecret) };
});
const verifications = verifySecret as jest.MockedFunction<typeof verifySecret>;

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The code the policy refuses with, or the name of the client that admitted the request (null: open). */
async function outcome(
  policy: McsAccessPolicy,
  address: string | undefined,
  authorization?: string,
): Promise<McsErrorCode | string | null> {
  try {
    return (await policy.check(address, authorization))?.name ?? null;
  } catch (error) {
    return (error as McsRequestError).code;
  }
}

const environment = (allowedClients: string, username?: string, password?: string) =>
  new McsAccessPolicy(
    [environmentMcsClient({ allowedClients, username, password })].filter(
      (c): c is McsClient => c !== undefined,
    ),
  );

describe('McsAccessPolicy with the environment client only', () => {
  it('allows every client when no allow-list or credentials are configured', async () => {
    expect(environmentMcsClient({ allowedClients: ' , ' })).toBeUndefined();
    const policy = environment('');
    expect(policy.open).toBe(true);
    expect(await outcome(policy, '203.0.113.9')).toBe(null);
  });

  it('allows listed addresses and ranges only (IPv4-mapped addresses included)', async () => {
    const policy = environment('127.0.0.1, 10.1.0.0/16');
    expect(await outcome(policy, '::ffff:127.0.0.1')).toBe('environment');
    expect(await outcome(policy, '10.1.200.3')).toBe('environment');
    expect(await outcome(policy, '10.2.0.1')).toBe(McsErrorCode.Forbidden);
    expect(await outcome(policy, undefined)).toBe(McsErrorCode.Forbidden);
  });

  it('requires the configured credentials', async () => {
    const policy = environment('', 'master', 's3cret');
    expect(await outcome(policy, '10.0.0.1', basic('master', 's3cret'))).toBe('environment');
    expect(await outcome(policy, '10.0.0.1', basic('master', 'wrong'))).toBe(McsErrorCode.Unauthorized);
    expect(await outcome(policy, '10.0.0.1', basic('other', 's3cret'))).toBe(McsErrorCode.Unauthorized);
    expect(await outcome(policy, '10.0.0.1')).toBe(McsErrorCode.Unauthorized);
    expect(await outcome(policy, '10.0.0.1', 'Bearer s3cret')).toBe(McsErrorCode.Unauthorized);
  });

  it('refuses an allow-list entry that is not an address or range', () => {
    expect(() => parseAllowList('10.0.0.0/33')).toThrow('10.0.0.0/33 is not an IP address or CIDR range');
    expect(() => parseAllowList('example.com')).toThrow('is not an IP address or CIDR range');
    expect(() => parseAllowList('10.0.0.0/8/9')).toThrow('10.0.0.0/8/9 is not an IP address or CIDR range');
    expect(() => parseAllowList('2001:db8::/129')).toThrow('is not an IP address or CIDR range');
    expect(parseAllowList('2001:db8::/32, 10.0.0.1')).toBeDefined();
  });
});

describe('McsAccessPolicy with several clients', () => {
  let lescoHash: string;
  let scadaHash: string;
  const registered = (): McsClient[] => [
    { id: 'a', name: 'site-a', enabled: true, allowedAddresses: ['10.1.0.0/16'], credentials: null },
    {
      id: 'b',
      name: 'lesco',
      enabled: true,
      allowedAddresses: [],
      credentials: { username: 'lesco', passwordHash: lescoHash },
    },
    {
      id: 'c',
      name: 'scada',
      enabled: true,
      allowedAddresses: ['192.0.2.0/24'],
      credentials: { username: 'scada', passwordHash: scadaHash },
    },
    { id: 'd', name: 'retired', enabled: false, allowedAddresses: ['203.0.113.0/24'], credentials: null },
  ];

  beforeAll(async () => {
    [lescoHash, scadaHash] = await Promise.all([hashSecret('lesco-password'), hashSecret('scada-password')]);
  });

  beforeEach(() => verifications.mockClear());

  it('admits a request that matches any enabled client, by address and credentials', async () => {
    const policy = new McsAccessPolicy(registered());
    expect(policy.open).toBe(false);
    // Address-only client: no credentials needed inside its range.
    expect(await outcome(policy, '10.1.2.3')).toBe('site-a');
    // Elsewhere the any-address client with credentials is the only one that admits the address.
    expect(await outcome(policy, '198.51.100.1')).toBe(McsErrorCode.Unauthorized);
    expect(await outcome(policy, '198.51.100.1', basic('lesco', 'lesco-password'))).toBe('lesco');
    // scada's credentials are valid, but not from an address outside scada's range.
    expect(await outcome(policy, '198.51.100.1', basic('scada', 'scada-password'))).toBe(
      McsErrorCode.Unauthorized,
    );
    expect(await outcome(policy, '192.0.2.5', basic('scada', 'scada-password'))).toBe('scada');
    expect(await outcome(policy, '192.0.2.5', basic('lesco', 'lesco-password'))).toBe('lesco');
    expect(await outcome(policy, '192.0.2.5', basic('scada', 'lesco-password'))).toBe(
      McsErrorCode.Unauthorized,
    );
  });

  it('answers 403 only when no enabled client admits the address; a disabled client admits nobody', async () => {
    const withoutAnyAddress = registered().filter((c) => c.id !== 'b');
    const policy = new McsAccessPolicy(withoutAnyAddress);
    expect(await outcome(policy, '198.51.100.1')).toBe(McsErrorCode.Forbidden);
    expect(await outcome(policy, '203.0.113.5')).toBe(McsErrorCode.Forbidden);
    expect(await outcome(policy, '192.0.2.5')).toBe(McsErrorCode.Unauthorized);
    expect(await outcome(policy, '10.1.0.9')).toBe('site-a');
  });

  it('stays closed when every registered client is disabled', async () => {
    const policy = new McsAccessPolicy(registered().map((c) => ({ ...c, enabled: false })));
    expect(policy.open).toBe(false);
    expect(await outcome(policy, '10.1.2.3')).toBe(McsErrorCode.Forbidden);
    expect(await outcome(policy, '192.0.2.5', basic('scada', 'scada-password'))).toBe(McsErrorCode.Forbidden);
  });

  it('counts the environment client as one more client', async () => {
    const env = environmentMcsClient({
      allowedClients: '127.0.0.1',
      username: 'master',
      password: 's3cret',
    })!;
    const policy = new McsAccessPolicy([...registered(), env]);
    expect(await outcome(policy, '127.0.0.1', basic('master', 's3cret'))).toBe('environment');
    expect(await outcome(policy, '127.0.0.1', basic('lesco', 'lesco-password'))).toBe('lesco');
    expect(await outcome(policy, '10.9.9.9', basic('master', 's3cret'))).toBe(McsErrorCode.Unauthorized);
    const addressOnly = environmentMcsClient({ allowedClients: '127.0.0.1' })!;
    expect(addressOnly.credentials).toBeNull();
    expect(await outcome(new McsAccessPolicy([...registered(), addressOnly]), '127.0.0.1')).toBe(
      'environment',
    );
  });

  it('verifies a password hash once per Authorization header while the hash is unchanged', async () => {
    const verifier = new McsCredentialVerifier();
    const policy = new McsAccessPolicy(registered(), verifier);
    for (let i = 0; i < 5; i += 1)
      expect(await outcome(policy, '198.51.100.1', basic('lesco', 'lesco-password'))).toBe('lesco');
    expect(verifications).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 3; i += 1)
      expect(await outcome(policy, '198.51.100.1', basic('lesco', 'guess'))).toBe(McsErrorCode.Unauthorized);
    expect(verifications).toHaveBeenCalledTimes(2);
    // A policy built from the clients read again shares the outcomes; a new password hash does not.
    const reread = new McsAccessPolicy(registered(), verifier);
    expect(await outcome(reread, '198.51.100.1', basic('lesco', 'lesco-password'))).toBe('lesco');
    expect(verifications).toHaveBeenCalledTimes(2);
    const rotated = registered();
    rotated[1].credentials = { username: 'lesco', passwordHash: await hashSecret('rotated-password') };
    verifier.retain(rotated);
    const afterRotation = new McsAccessPolicy(rotated, verifier);
    expect(await outcome(afterRotation, '198.51.100.1', basic('lesco', 'lesco-password'))).toBe(
      McsErrorCode.Unauthorized,
    );
    expect(await outcome(afterRotation, '198.51.100.1', basic('lesco', 'rotated-password'))).toBe('lesco');
  });

  it('spends a verification on an unknown username, so its refusal takes as long', async () => {
    const policy = new McsAccessPolicy(registered());
    expect(await outcome(policy, '198.51.100.1', basic('nobody', 'lesco-password'))).toBe(
      McsErrorCode.Unauthorized,
    );
    expect(verifications).toHaveBeenCalledTimes(1);
  });

  it('refuses rather than fails on a stored hash or address that does not parse', async () => {
    const broken: McsClient[] = [
      {
        id: 'x',
        name: 'broken-hash',
        enabled: true,
        allowedAddresses: [],
        credentials: { username: 'x', passwordHash: 'not-a-hash' },
      },
      { id: 'y', name: 'broken-range', enabled: true, allowedAddresses: ['10.0.0.300'], credentials: null },
    ];
    const policy = new McsAccessPolicy(broken);
    expect(await outcome(policy, '10.0.0.1', basic('x', 'anything'))).toBe(McsErrorCode.Unauthorized);
    expect(await outcome(policy, '10.0.0.1')).toBe(McsErrorCode.Unauthorized);
    expect(await outcome(new McsAccessPolicy([broken[1]]), '10.0.0.1')).toBe(McsErrorCode.Forbidden);
  });
});
