import { randomBytes } from 'node:crypto';
import { TEST_REDIS_URL } from './services';

/** Environment variables for an app under test: its own database and its own queue namespace. */
export function testEnvironment(
  databaseUrl: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_BACKEND: 'redis',
    QUEUE_PREFIX: `t${randomBytes(5).toString('hex')}`,
    CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    API_PORT: '3000',
    // Suites that test polling turn it on; elsewhere background reads would disturb the simulators.
    POLLING_ENABLED: 'false',
    ...overrides,
  };
}

/** The keys the last applyEnvironment of this file set. */
let applied: string[] = [];

/**
 * Applies an environment to this test file's process.env (jest gives each file its own copy). What an earlier
 * call of the same file set goes first: a setting one describe block gave its head-end (a 1 s
 * UDIL_ON_DEMAND_WAIT_SECONDS) must not carry over to the next block's, which expects the default.
 */
export function applyEnvironment(env: Record<string, string>): void {
  for (const key of applied) delete process.env[key];
  for (const key of Object.keys(process.env)) {
    if (
      /^(DATABASE_URL|REDIS_URL|QUEUE_|API_|WORKER_|HEARTBEAT_|TIME_ZONE|CREDENTIALS_|LOG_|SWAGGER_)/.test(
        key,
      )
    ) {
      delete process.env[key];
    }
  }
  Object.assign(process.env, env);
  applied = Object.keys(env);
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
