import type { AppConfig } from '@hes/config';
import { CredentialThrottle, MemoryFailureCounterStore, PasswordHashingGate } from '@hes/security';
import { McsClient } from './mcs-access';
import { MCS_CLIENTS_CACHE_MS, McsClientAccess } from './mcs-client-access';
import { McsClientRepository } from './mcs-client.repository';
import { McsErrorCode, McsRequestError } from './mcs-error';

const SITE: McsClient = {
  id: '5d0a3c1e-2b7f-4a51-9d8e-0c6f2a1b9e77',
  name: 'site',
  enabled: true,
  allowedAddresses: ['10.0.0.0/8'],
  credentials: null,
};

/** A repository whose clients the test changes, counting the reads. */
class FakeRepository {
  clientsNow: McsClient[] = [SITE];
  reads = 0;
  seen: string[] = [];
  async clients(): Promise<McsClient[]> {
    this.reads += 1;
    await Promise.resolve();
    return this.clientsNow;
  }
  markSeen(id: string): Promise<void> {
    this.seen.push(id);
    return Promise.resolve();
  }
}

function accessWith(repository: FakeRepository, environment: Partial<AppConfig> = {}): McsClientAccess {
  const config = { MCS_ALLOWED_CLIENTS: '', ...environment } as AppConfig;
  return new McsClientAccess(
    config,
    repository as unknown as McsClientRepository,
    new CredentialThrottle(new MemoryFailureCounterStore(), {
      maxFailuresPerAddress: 3,
      maxFailuresPerUsername: 3,
      windowSeconds: 60,
    }),
    new PasswordHashingGate({ maxConcurrent: 1, maxWaitMs: 1000 }),
  );
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: McsRequestError) => error.code,
  );

describe('McsClientAccess', () => {
  afterEach(() => jest.useRealTimers());

  it('reads the clients once per cache period, and again at once after invalidate()', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const repository = new FakeRepository();
    const access = accessWith(repository);
    await Promise.all([access.check('10.0.0.1', undefined), access.check('10.0.0.2', undefined)]);
    await access.check('10.0.0.3', undefined);
    expect(repository.reads).toBe(1);

    repository.clientsNow = [{ ...SITE, enabled: false }];
    expect(await codeOf(access.check('10.0.0.1', undefined))).toBeUndefined(); // still cached
    access.invalidate();
    expect(await codeOf(access.check('10.0.0.1', undefined))).toBe(McsErrorCode.Forbidden);
    expect(repository.reads).toBe(2);

    repository.clientsNow = [SITE];
    jest.setSystemTime(1_000_000 + MCS_CLIENTS_CACHE_MS + 1);
    expect(await codeOf(access.check('10.0.0.1', undefined))).toBeUndefined();
    expect(repository.reads).toBe(3);
  });

  it('does not keep a read that a change overtook', async () => {
    const repository = new FakeRepository();
    const access = accessWith(repository);
    const before = access.check('10.0.0.1', undefined);
    repository.clientsNow = [];
    access.invalidate();
    await before;
    expect(await access.isOpen()).toBe(true);
    expect(repository.reads).toBe(2);
  });

  it('counts the environment client, and is open with no client at all', async () => {
    const repository = new FakeRepository();
    repository.clientsNow = [];
    expect(await accessWith(repository).isOpen()).toBe(true);
    const configured = accessWith(repository, { MCS_ALLOWED_CLIENTS: '127.0.0.1' });
    expect(configured.environmentClient).toMatchObject({
      id: 'environment',
      allowedAddresses: ['127.0.0.1'],
    });
    expect(await configured.isOpen()).toBe(false);
    expect(await codeOf(configured.check('10.0.0.1', undefined))).toBe(McsErrorCode.Forbidden);
    expect((await configured.check('127.0.0.1', undefined))?.id).toBe('environment');
  });

  it('stamps when a registered client was last seen, at most once a minute', async () => {
    const repository = new FakeRepository();
    const access = accessWith(repository);
    for (let i = 0; i < 3; i += 1) await access.check('10.0.0.1', undefined);
    expect(repository.seen).toEqual([SITE.id]);
  });
});

describe('McsClientAccess: Basic credentials are throttled', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('refuses an address after its failures over many usernames, but not another address', async () => {
    const repository = new FakeRepository();
    repository.clientsNow = [];
    const access = accessWith(repository, { MCS_USERNAME: 'master', MCS_PASSWORD: 'right-password' });
    for (const user of ['a', 'b', 'c'])
      expect(await codeOf(access.check('10.0.0.9', basic(user, 'guess')))).toBe(McsErrorCode.Unauthorized);
    await expect(access.check('10.0.0.9', basic('master', 'right-password'))).rejects.toMatchObject({
      name: 'CredentialThrottledError',
      retryAfterSeconds: 60,
    });
    expect((await access.check('10.0.0.10', basic('master', 'right-password')))?.id).toBe('environment');
  });

  it('refuses a username guessed from many addresses', async () => {
    const repository = new FakeRepository();
    repository.clientsNow = [];
    const access = accessWith(repository, { MCS_USERNAME: 'master', MCS_PASSWORD: 'right-password' });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
      expect(await codeOf(access.check(address, basic('master', 'guess')))).toBe(McsErrorCode.Unauthorized);
    await expect(access.check('10.0.0.4', basic('master', 'right-password'))).rejects.toMatchObject({
      name: 'CredentialThrottledError',
      reason: 'username',
    });
  });
});
