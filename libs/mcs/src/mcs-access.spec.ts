import { McsErrorCode, McsRequestError } from './mcs-error';
import { McsAccessPolicy, parseAllowList } from './mcs-access';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function codeOf(run: () => void): McsErrorCode | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as McsRequestError).code;
  }
}

describe('McsAccessPolicy', () => {
  it('allows every client when no allow-list or credentials are configured', () => {
    expect(codeOf(() => new McsAccessPolicy({ allowedClients: '' }).check('203.0.113.9', undefined))).toBe(
      undefined,
    );
  });

  it('allows listed addresses and ranges only (IPv4-mapped addresses included)', () => {
    const policy = new McsAccessPolicy({ allowedClients: '127.0.0.1, 10.1.0.0/16' });
    expect(codeOf(() => policy.check('::ffff:127.0.0.1', undefined))).toBe(undefined);
    expect(codeOf(() => policy.check('10.1.200.3', undefined))).toBe(undefined);
    expect(codeOf(() => policy.check('10.2.0.1', undefined))).toBe(McsErrorCode.Forbidden);
    expect(codeOf(() => policy.check(undefined, undefined))).toBe(McsErrorCode.Forbidden);
  });

  it('requires the configured credentials', () => {
    const policy = new McsAccessPolicy({ allowedClients: '', username: 'master', password: 's3cret' });
    expect(codeOf(() => policy.check('10.0.0.1', basic('master', 's3cret')))).toBe(undefined);
    expect(codeOf(() => policy.check('10.0.0.1', basic('master', 'wrong')))).toBe(McsErrorCode.Unauthorized);
    expect(codeOf(() => policy.check('10.0.0.1', undefined))).toBe(McsErrorCode.Unauthorized);
  });

  it('refuses an allow-list entry that is not an address or range', () => {
    expect(() => parseAllowList('10.0.0.0/33')).toThrow('10.0.0.0/33 is not an IP address or CIDR range');
    expect(() => parseAllowList('example.com')).toThrow('is not an IP address or CIDR range');
  });
});
