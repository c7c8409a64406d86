import { createHash } from 'node:crypto';
import Redis, { ChainableCommander, Cluster } from 'ioredis';
import { DataSource } from 'typeorm';

/** Failures counted under one key, and how long until its window ends. */
export interface FailureCount {
  failures: number;
  /** Milliseconds until the count is forgotten (0 when there is none). */
  remainingMs: number;
}

/**
 * Failed-credential counters shared by every api process. A key's window starts at its first failure
 * and lasts `windowMs`; the count is forgotten when it ends (a fixed window, not a sliding one).
 */
export interface FailureCounterStore {
  read(keys: readonly string[]): Promise<FailureCount[]>;
  /** One more failure under each key. */
  increment(keys: readonly string[], windowMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Keys hold usernames as a digest: any length or character a client sends makes a short, plain key. */
export function counterKey(kind: string, value: string): string {
  return `${kind}:${createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 32)}`;
}

/** In this process only: the fallback while the shared store cannot be reached, and for unit tests. */
export class MemoryFailureCounterStore implements FailureCounterStore {
  private readonly counts = new Map<string, { failures: number; until: number }>();

  read(keys: readonly string[]): Promise<FailureCount[]> {
    const now = Date.now();
    return Promise.resolve(
      keys.map((key) => {
        const count = this.counts.get(key);
        if (!count || count.until <= now) return { failures: 0, remainingMs: 0 };
        return { failures: count.failures, remainingMs: count.until - now };
      }),
    );
  }

  increment(keys: readonly string[], windowMs: number): Promise<void> {
    const now = Date.now();
    if (this.counts.size > 100_000) {
      for (const [key, count] of this.counts) if (count.until <= now) this.counts.delete(key);
    }
    for (const key of keys) {
      const count = this.counts.get(key);
      if (!count || count.until <= now) this.counts.set(key, { failures: 1, until: now + windowMs });
      else count.failures += 1;
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * In Redis, under the queue's key prefix: `<prefix>:credential-failures:<key>` with a PX expiry. Each
 * key is read and counted on its own (no transaction or pipeline spans two keys), so that the keys may
 * live on different nodes of a Redis Cluster.
 */
export class RedisFailureCounterStore implements FailureCounterStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {}

  read(keys: readonly string[]): Promise<FailureCount[]> {
    return Promise.all(
      keys.map(async (key) => {
        const [[countError, count], [ttlError, ttl]] = await this.exec(
          this.redis.multi().get(this.name(key)).pttl(this.name(key)),
        );
        if (countError) throw countError;
        if (ttlError) throw ttlError;
        const failures = Number(count ?? 0);
        return { failures, remainingMs: failures > 0 && Number(ttl) > 0 ? Number(ttl) : 0 };
      }),
    );
  }

  async increment(keys: readonly string[], windowMs: number): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        // The window starts with the first failure: the expiry is set only when the key is created.
        const results = await this.exec(
          this.redis.multi().set(this.name(key), 0, 'PX', windowMs, 'NX').incr(this.name(key)),
        );
        const error = results.map(([failure]) => failure).find((failure) => failure !== null);
        if (error) throw error;
      }),
    );
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async exec(transaction: ChainableCommander): Promise<[Error | null, unknown][]> {
    const results = await transaction.exec();
    if (!results) throw new Error('the transaction was discarded');
    return results;
  }

  private name(key: string): string {
    return `${this.prefix}:credential-failures:${key}`;
  }
}

/** In PostgreSQL (public.credential_failures), when the queues are there too (QUEUE_BACKEND=postgres). */
export class PostgresFailureCounterStore implements FailureCounterStore {
  private lastPurge = 0;

  constructor(private readonly dataSource: DataSource) {}

  async read(keys: readonly string[]): Promise<FailureCount[]> {
    const rows = await this.dataSource.query<{ key: string; failures: number; remaining_ms: number }[]>(
      `SELECT key, failures, (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS remaining_ms
         FROM public.credential_failures WHERE key = ANY($1) AND expires_at > clock_timestamp()`,
      [keys],
    );
    const byKey = new Map(rows.map((row) => [row.key, row]));
    return keys.map((key) => {
      const row = byKey.get(key);
      return row
        ? { failures: Number(row.failures), remainingMs: Math.max(0, Number(row.remaining_ms)) }
        : { failures: 0, remainingMs: 0 };
    });
  }

  async increment(keys: readonly string[], windowMs: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO public.credential_failures AS c (key, failures, expires_at)
         SELECT key, 1, clock_timestamp() + $2 * interval '1 millisecond' FROM unnest($1::text[]) AS key
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN c.expires_at <= clock_timestamp() THEN 1 ELSE c.failures + 1 END,
         expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at ELSE c.expires_at END`,
      [[...new Set(keys)], windowMs],
    );
    // Forgotten windows are removed now and then (at most once a minute per process).
    if (Date.now() - this.lastPurge > 60_000) {
      this.lastPurge = Date.now();
      await this.dataSource.query(
        `DELETE FROM public.credential_failures WHERE expires_at < clock_timestamp() - interval '1 minute'`,
      );
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
