/** No slot for a password verification came free in time: answered 503 with Retry-After. */
export class PasswordHashingBusyError extends Error {
  readonly retryAfterSeconds = 1;

  constructor() {
    super('authorization: too many password checks at once; try again in 1 second');
    this.name = 'PasswordHashingBusyError';
  }
}

export interface PasswordHashingGateSettings {
  /** Password verifications (scrypt, ~50–120 ms of CPU each) run at once in this process. */
  maxConcurrent: number;
  /** How long a verification may wait for a slot before the request is refused with 503. */
  maxWaitMs: number;
}

/**
 * Bounds the password hashing an api process does at once (a small semaphore), so that a burst of
 * logins cannot take every core from the other requests: the excess waits in order for a slot, and is
 * refused (PasswordHashingBusyError) when none comes free within maxWaitMs.
 */
export class PasswordHashingGate {
  private running = 0;
  private readonly waiting: { admit: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(readonly settings: PasswordHashingGateSettings) {}

  /** Verifications running now and waiting for a slot (for tests and metrics). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(verification: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await verification();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.settings.maxConcurrent) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(new PasswordHashingBusyError());
        }, this.settings.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `running` stays the same.
    if (next) next.admit();
    else this.running -= 1;
  }
}
