import { Logger } from '@nestjs/common';
import { CredentialThrottle, CredentialThrottledError } from './credential-throttle';
import { FailureCount, FailureCounterStore, MemoryFailureCounterStore } from './failure-counters';

const SETTINGS = { maxFailuresPerAddress: 3, maxFailuresPerUsername: 2, windowSeconds: 60 };

describe('CredentialThrottle', () => {
  afterEach(() => jest.useRealTimers());

  it('refuses an address over its limit across usernames, with the time left in the window', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const throttle = new CredentialThrottle(new MemoryFailureCounterStore(), SETTINGS);
    for (const user of ['u1', 'u2', 'u3']) {
      await throttle.assertAllowed('udil', user, '10.0.0.1');
      await throttle.recordFailure('udil', user, '10.0.0.1');
    }
    jest.setSystemTime(1_000_000 + 20_500);
    const refusal = await throttle.assertAllowed('udil', 'u4', '10.0.0.1').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(CredentialThrottledError);
    expect(refusal).toMatchObject({ reason: 'address', retryAfterSeconds: 40 });
    // Another address, another realm: not concerned.
    await throttle.assertAllowed('udil', 'u4', '10.0.0.2');
    await throttle.assertAllowed('mcs', 'u4', '10.0.0.1');
    // The window ends: allowed again.
    jest.setSystemTime(1_000_000 + 60_001);
    await throttle.assertAllowed('udil', 'u4', '10.0.0.1');
  });

  it('refuses a username over its limit across addresses', async () => {
    const throttle = new CredentialThrottle(new MemoryFailureCounterStore(), SETTINGS);
    await throttle.recordFailure('admin', 'operator', '10.0.0.1');
    await throttle.recordFailure('admin', 'operator', '10.0.0.2');
    await expect(throttle.assertAllowed('admin', 'operator', '10.0.0.3')).rejects.toMatchObject({
      reason: 'username',
    });
    await throttle.assertAllowed('admin', 'other', '10.0.0.3');
  });

  it('counts in this process while the shared store fails', async () => {
    const broken: FailureCounterStore = {
      read: (): Promise<FailureCount[]> => Promise.reject(new Error('connection refused')),
      increment: () => Promise.reject(new Error('connection refused')),
      close: () => Promise.resolve(),
    };
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const throttle = new CredentialThrottle(broken, SETTINGS);
    for (let i = 0; i < 3; i += 1) await throttle.recordFailure('mcs', `u${i}`, '10.0.0.1');
    await expect(throttle.assertAllowed('mcs', 'u9', '10.0.0.1')).rejects.toBeInstanceOf(
      CredentialThrottledError,
    );
    // The fallback is said, not silent.
    expect(warn).toHaveBeenCalledWith(
      { error: 'connection refused' },
      'credential failure counters unreachable: counting in this process only',
    );
    warn.mockRestore();
  });
});
