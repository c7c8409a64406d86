import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigurationError, decodeKey, parseEnvironment } from './environment';
import { isRedisCluster, parseRedisUrl } from './redis-url';

const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/hes',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CREDENTIALS_ENCRYPTION_KEY: 'a'.repeat(64),
};

function problemsOf(env: Record<string, string | undefined>): string {
  try {
    parseEnvironment(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseEnvironment', () => {
  it('applies defaults to a minimal valid environment', () => {
    const env = parseEnvironment(valid);
    expect(env.API_PORT).toBe(3000);
    expect(env.QUEUE_BACKEND).toBe('redis');
    expect(env.TIME_ZONE).toBe('Asia/Karachi');
    expect(env.SWAGGER_ENABLED).toBe(true);
  });

  it('validates MPCB_CLOCK_TOLERANCE_SECONDS (default 900 s, whole seconds 1–604800)', () => {
    expect(parseEnvironment(valid).MPCB_CLOCK_TOLERANCE_SECONDS).toBe(900);
    expect(
      parseEnvironment({ ...valid, MPCB_CLOCK_TOLERANCE_SECONDS: '120' }).MPCB_CLOCK_TOLERANCE_SECONDS,
    ).toBe(120);
    for (const bad of ['0', '-5', '1.5', 'soon', '604801'])
      expect(problemsOf({ ...valid, MPCB_CLOCK_TOLERANCE_SECONDS: bad })).toMatch(
        /MPCB_CLOCK_TOLERANCE_SECONDS/,
      );
  });

  it('validates TRANSACTION_SLICE_SIZE (default 100 devices per job, 1–1000) and defaults the gateway lease to 10 s', () => {
    expect(parseEnvironment(valid).TRANSACTION_SLICE_SIZE).toBe(100);
    expect(parseEnvironment({ ...valid, TRANSACTION_SLICE_SIZE: '1' }).TRANSACTION_SLICE_SIZE).toBe(1);
    for (const bad of ['0', '-1', '2.5', 'many', '1001'])
      expect(problemsOf({ ...valid, TRANSACTION_SLICE_SIZE: bad })).toMatch(/TRANSACTION_SLICE_SIZE/);
    expect(parseEnvironment(valid).GATEWAY_LEASE_SECONDS).toBe(10);
  });

  it('validates TRANSACTION_LEVEL_DELAY_MS (default 1 s, 0 = each level at once, at most a minute)', () => {
    expect(parseEnvironment(valid).TRANSACTION_LEVEL_DELAY_MS).toBe(1000);
    expect(parseEnvironment({ ...valid, TRANSACTION_LEVEL_DELAY_MS: '0' }).TRANSACTION_LEVEL_DELAY_MS).toBe(
      0,
    );
    for (const bad of ['-1', '2.5', 'soon', '60001'])
      expect(problemsOf({ ...valid, TRANSACTION_LEVEL_DELAY_MS: bad })).toMatch(/TRANSACTION_LEVEL_DELAY_MS/);
  });

  it('validates UDIL_READ_CACHE_MB (default 32, 0 = every read renders)', () => {
    expect(parseEnvironment(valid).UDIL_READ_CACHE_MB).toBe(32);
    expect(parseEnvironment({ ...valid, UDIL_READ_CACHE_MB: '0' }).UDIL_READ_CACHE_MB).toBe(0);
    for (const bad of ['-1', '0.5', 'lots', '5000'])
      expect(problemsOf({ ...valid, UDIL_READ_CACHE_MB: bad })).toMatch(/UDIL_READ_CACHE_MB/);
  });

  it('names a missing DATABASE_URL', () => {
    expect(problemsOf({ ...valid, DATABASE_URL: undefined })).toMatch(/DATABASE_URL is required/);
  });

  it('names a malformed DATABASE_URL', () => {
    expect(problemsOf({ ...valid, DATABASE_URL: 'mysql://x' })).toMatch(
      /DATABASE_URL must be a URL starting with postgres:/,
    );
  });

  it('requires REDIS_URL only for the redis queue backend', () => {
    expect(problemsOf({ ...valid, REDIS_URL: undefined })).toMatch(
      /REDIS_URL is required when QUEUE_BACKEND is redis/,
    );
    expect(
      parseEnvironment({ ...valid, REDIS_URL: undefined, QUEUE_BACKEND: 'postgres' }).QUEUE_BACKEND,
    ).toBe('postgres');
  });

  it("reads REDIS_URL as one server or a Redis Cluster's seed nodes", () => {
    expect(parseRedisUrl('rediss://user:p%40ss@redis.example:6380/2')).toEqual({
      nodes: [{ host: 'redis.example', port: 6380 }],
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: true,
    });
    expect(parseRedisUrl('redis://:secret@10.0.0.1:7000, 10.0.0.2:7001,[::1]')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 6379 },
      ],
      username: undefined,
      password: 'secret',
      db: 0,
      tls: false,
    });
    const cluster = parseEnvironment({ ...valid, REDIS_URL: 'redis://h1:7000,h2:7001,h3:7002' });
    expect(isRedisCluster(cluster)).toBe(true);
    expect(isRedisCluster(parseEnvironment(valid))).toBe(false);
    // One seed node (a managed cluster's configuration endpoint) with the switch.
    expect(isRedisCluster(parseEnvironment({ ...valid, REDIS_CLUSTER: 'true' }))).toBe(true);
  });

  it('names a malformed REDIS_URL or a contradicting REDIS_CLUSTER', () => {
    expect(problemsOf({ ...valid, REDIS_URL: 'http://127.0.0.1:6379' })).toMatch(
      /REDIS_URL must be a URL starting with redis:\/\/ or rediss:\/\//,
    );
    expect(problemsOf({ ...valid, REDIS_URL: 'redis://h1:7000,,h3:7002' })).toMatch(
      /REDIS_URL has an empty host \(node 2 of 3\)/,
    );
    expect(problemsOf({ ...valid, REDIS_URL: 'redis://h1:7000,h2:99999' })).toMatch(
      /REDIS_URL has an invalid host:port "h2:99999"/,
    );
    expect(problemsOf({ ...valid, REDIS_URL: 'redis://h1:7000,h1:7000' })).toMatch(
      /REDIS_URL lists h1:7000 twice/,
    );
    expect(problemsOf({ ...valid, REDIS_URL: 'redis://h1/queues' })).toMatch(
      /REDIS_URL has "\/queues" where a database number belongs/,
    );
    expect(problemsOf({ ...valid, REDIS_URL: 'redis://h1:7000,h2:7001/3' })).toMatch(
      /REDIS_URL names database 3, but a Redis Cluster has only database 0/,
    );
    expect(problemsOf({ ...valid, REDIS_URL: 'redis://h1:7000,h2:7001', REDIS_CLUSTER: 'false' })).toMatch(
      /REDIS_CLUSTER is false but REDIS_URL lists several nodes/,
    );
    expect(problemsOf({ ...valid, REDIS_CLUSTER: 'maybe' })).toMatch(/REDIS_CLUSTER must be true or false/);
  });

  it('names a malformed port, time zone and key, all at once', () => {
    const message = problemsOf({
      ...valid,
      API_PORT: '70000',
      TIME_ZONE: 'Mars/Base',
      CREDENTIALS_ENCRYPTION_KEY: 'short',
    });
    expect(message).toMatch(/API_PORT must be between 1 and 65535/);
    expect(message).toMatch(/TIME_ZONE must be an IANA time zone/);
    expect(message).toMatch(/CREDENTIALS_ENCRYPTION_KEY must be 32 bytes/);
  });

  it('decodes keys given as hex or base64 and refuses other lengths', () => {
    expect(decodeKey('ab'.repeat(32))?.length).toBe(32);
    expect(decodeKey(Buffer.alloc(32, 7).toString('base64'))?.length).toBe(32);
    expect(decodeKey(Buffer.alloc(16, 7).toString('base64'))).toBeUndefined();
  });

  it('takes the credential throttling settings, and the older UDIL_AUTH_* names when the new ones are unset', () => {
    expect(parseEnvironment(valid)).toMatchObject({
      AUTH_MAX_FAILURES_PER_ADDRESS: 20,
      AUTH_MAX_FAILURES_PER_USERNAME: 10,
      AUTH_LOCKOUT_SECONDS: 300,
      AUTH_MAX_CONCURRENT_HASHES: 2,
      AUTH_HASH_WAIT_MS: 2000,
    });
    expect(
      parseEnvironment({ ...valid, UDIL_AUTH_MAX_FAILURES: '3', UDIL_AUTH_LOCKOUT_SECONDS: '60' }),
    ).toMatchObject({ AUTH_MAX_FAILURES_PER_USERNAME: 3, AUTH_LOCKOUT_SECONDS: 60 });
    expect(
      parseEnvironment({ ...valid, UDIL_AUTH_MAX_FAILURES: '3', AUTH_MAX_FAILURES_PER_USERNAME: '7' }),
    ).toMatchObject({ AUTH_MAX_FAILURES_PER_USERNAME: 7 });
    expect(problemsOf({ ...valid, AUTH_MAX_CONCURRENT_HASHES: '0' })).toMatch(/AUTH_MAX_CONCURRENT_HASHES/);
  });

  it('validates API_TRUST_PROXY', () => {
    expect(parseEnvironment({ ...valid, API_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).API_TRUST_PROXY).toBe(
      'loopback, 10.0.0.0/8',
    );
    expect(problemsOf({ ...valid, API_TRUST_PROXY: 'true' })).toMatch(
      /API_TRUST_PROXY must be comma-separated IP addresses, CIDR ranges, loopback/,
    );
  });

  describe('API_TLS_CERT_FILE and API_TLS_KEY_FILE', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hes-config-tls-'));
    afterAll(() => rmSync(folder, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      writeFileSync(join(folder, name), text);
      return join(folder, name);
    };
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();

    it('refuses an unreadable file, naming the variable', () => {
      expect(
        problemsOf({
          ...valid,
          API_TLS_CERT_FILE: join(folder, 'missing.crt'),
          API_TLS_KEY_FILE: file('k', key),
        }),
      ).toMatch(/API_TLS_CERT_FILE must be a readable file/);
    });

    it('requires both', () => {
      expect(problemsOf({ ...valid, API_TLS_KEY_FILE: file('k2', key) })).toMatch(
        /API_TLS_CERT_FILE is required with API_TLS_KEY_FILE/,
      );
    });

    it('refuses a file that is not a certificate', () => {
      expect(
        problemsOf({
          ...valid,
          API_TLS_CERT_FILE: file('not.crt', 'hello'),
          API_TLS_KEY_FILE: file('k3', key),
        }),
      ).toMatch(/API_TLS_CERT_FILE must hold a PEM certificate/);
    });
  });
});
