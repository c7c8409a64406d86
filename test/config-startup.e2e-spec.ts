import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..');

const VALID = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CREDENTIALS_ENCRYPTION_KEY: 'ab'.repeat(32),
};

/** Starts a compiled entry point with exactly `env` and returns how it ended. */
async function startWith(entry: string, env: Record<string, string>) {
  const script = join(root, 'dist', entry);
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` (npm test does)`);
  try {
    await run(process.execPath, [script], {
      cwd: '/',
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 20000,
    });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

describe('start-up refuses an invalid configuration, naming the variable', () => {
  it.each([
    ['apps/api/src/main.js', { ...VALID, DATABASE_URL: '' }, /DATABASE_URL is required/],
    ['apps/api/src/main.js', { ...VALID, API_PORT: 'eighty' }, /API_PORT must be a number/],
    [
      'apps/api/src/main.js',
      { ...VALID, CREDENTIALS_ENCRYPTION_KEY: 'secret' },
      /CREDENTIALS_ENCRYPTION_KEY must be 32 bytes/,
    ],
    [
      'apps/worker/src/main.js',
      { ...VALID, REDIS_URL: 'http://127.0.0.1:6379' },
      /REDIS_URL must be a URL starting with redis:/,
    ],
    ['apps/worker/src/main.js', { ...VALID, TIME_ZONE: 'Karachi' }, /TIME_ZONE must be an IANA time zone/],
    [
      'apps/api/src/main.js',
      { ...VALID, API_TLS_CERT_FILE: '/nonexistent/server.crt', API_TLS_KEY_FILE: '/nonexistent/server.key' },
      /API_TLS_CERT_FILE must be a readable file/,
    ],
  ])('%s with %j', async (entry, env, message) => {
    const outcome = await startWith(entry, env);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.stderr).toMatch(/^Invalid configuration:/m);
  });
});
