import { PasswordHashingBusyError, PasswordHashingGate } from './password-hashing-gate';

/** A verification that ends when the test says so. */
function pending() {
  let finish!: () => void;
  const done = new Promise<boolean>((resolve) => (finish = () => resolve(true)));
  return { done, finish };
}

describe('PasswordHashingGate', () => {
  it('runs at most maxConcurrent verifications, the others in order as slots free', async () => {
    const gate = new PasswordHashingGate({ maxConcurrent: 2, maxWaitMs: 10_000 });
    const works = [pending(), pending(), pending(), pending()];
    const started: number[] = [];
    const runs = works.map((work, index) =>
      gate.run(() => {
        started.push(index);
        return work.done;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(gate.load).toEqual({ running: 2, waiting: 2 });
    works[1].finish();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    works[0].finish();
    works[2].finish();
    works[3].finish();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a verification that waited longer than maxWaitMs, and frees its place', async () => {
    jest.useFakeTimers();
    try {
      const gate = new PasswordHashingGate({ maxConcurrent: 1, maxWaitMs: 500 });
      const busy = pending();
      const first = gate.run(() => busy.done);
      const second = gate.run(() => Promise.resolve(true));
      jest.advanceTimersByTime(501);
      await expect(second).rejects.toBeInstanceOf(PasswordHashingBusyError);
      expect(gate.load).toEqual({ running: 1, waiting: 0 });
      busy.finish();
      await first;
      expect(gate.load).toEqual({ running: 0, waiting: 0 });
      await expect(gate.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
    } finally {
      jest.useRealTimers();
    }
  });

  it('frees the slot when a verification fails', async () => {
    const gate = new PasswordHashingGate({ maxConcurrent: 1, maxWaitMs: 1000 });
    await expect(gate.run(() => Promise.reject(new Error('bad hash')))).rejects.toThrow('bad hash');
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });
});
