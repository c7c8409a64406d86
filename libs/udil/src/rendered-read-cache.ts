import { LRUCache } from 'lru-cache';

/**
 * SQL of a stored row's version (a `bigint` expression, in a query over one table or its partitions): a hash
 * of the tuple's identity, its partition (`tableoid`) and place (`ctid`), and of the transaction that wrote it
 * (`xmin`). Every change of a row writes a new tuple (PostgreSQL's MVCC: a new place, a new `xmin`), and a
 * place freed by a deleted tuple is reused only by a later transaction, so two different tuples never share
 * the three: the sum of the versions of a set of rows, with their count, changes whenever a row of the set
 * changes, leaves or joins it (a collision of 64-bit hashes aside).
 */
export const ROW_VERSION_SQL = `hashtextextended(tableoid::text || ':' || ctid::text || ':' || xmin::text, 0)`;

/** The version of a set of rows as a query returns it: their count and the sum of {@link ROW_VERSION_SQL}. */
export interface RowSetVersion {
  rows: number;
  /** The sum as text (a `numeric`: a sum of 64-bit hashes overflows `bigint`); null for no row. */
  version: string | null;
}

/** One text for a row set's version, comparable with `===`. */
export function rowSetVersion(set: RowSetVersion): string {
  return `${set.rows}/${set.version ?? ''}`;
}

/**
 * Answers of reads rendered from the database, kept with the version of the rows they were rendered from
 * (see {@link ROW_VERSION_SQL}): a read asks the database for the current version of its rows, which costs
 * an index scan, and renders them again only when it differs. Nothing is ever answered from rows that have
 * changed since: the version is taken in the same statement as the rendering, and compared before every use.
 * Bounded in size (least recently used first out; an answer over a quarter of the bound is not kept), and
 * per process: several apis each keep their own, which the versions keep right.
 */
export class RenderedReadCache<V extends object> {
  private readonly answers: LRUCache<string, { version: string; value: V }>;

  /** `maxSize`: the sum of the entries' sizes (as `size` of {@link set} gives them, e.g. characters). */
  constructor(maxSize: number) {
    this.answers = new LRUCache({
      maxSize,
      maxEntrySize: Math.max(1, Math.floor(maxSize / 4)),
      sizeCalculation: (_entry, key) => key.length,
    });
  }

  /** Whether an answer is kept for `key`, whatever its version (its recency unchanged). */
  has(key: string): boolean {
    return this.answers.has(key);
  }

  /** The answer kept for `key` and the version of the rows it was rendered from, whatever that version. */
  kept(key: string): { version: string; value: V } | undefined {
    return this.answers.get(key);
  }

  /** The answer kept for `key` if it was rendered from rows at `version`. */
  get(key: string, version: string): V | undefined {
    const entry = this.answers.get(key);
    return entry?.version === version ? entry.value : undefined;
  }

  /** Keeps `value`, rendered from rows at `version`, about `size` long (too large: not kept). */
  set(key: string, version: string, value: V, size: number): void {
    this.answers.set(key, { version, value }, { size: Math.max(1, size + key.length) });
  }

  /** The number of answers kept (for tests and metrics). */
  get size(): number {
    return this.answers.size;
  }
}

/** A cache of `megabytes` (characters counted as bytes); none for 0. */
export function renderedReadCache<V extends object>(
  megabytes: number | undefined,
): RenderedReadCache<V> | undefined {
  return megabytes !== undefined && megabytes > 0
    ? new RenderedReadCache<V>(megabytes * 1024 * 1024)
    : undefined;
}
