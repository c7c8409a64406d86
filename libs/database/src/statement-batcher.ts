import { isDatabaseUnavailable } from './database-unavailable';

/** How one kind of statement is sent for one item, and for many items at once. */
export interface BatchedStatement<I, R> {
  /** The statement for one item. */
  single(item: I): Promise<R>;
  /** One statement for all `items`; answers one result per item, in the same order. */
  many(items: I[]): Promise<R[]>;
  /**
   * Items with the same key never share a statement (an `UPDATE … FROM unnest(…)` or an
   * `INSERT … ON CONFLICT DO UPDATE` may touch a row only once), nor run in two statements at once:
   * the later one waits until the earlier one's statement has finished.
   */
  key?(item: I): string;
  /** Items per statement (default 500) and statements in flight at once (default 2). */
  maxItems?: number;
  maxInFlight?: number;
}

interface Waiting<I, R> {
  item: I;
  key?: string;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit for statements that many concurrent jobs send one row at a time. A call made while
 * fewer than `maxInFlight` statements are running goes out at once (on the next turn of the event
 * loop, alone: the single-item statement); calls made meanwhile wait for a statement to finish and
 * then go together as one set statement. Each caller gets the result, or the error, of its own item:
 * if a set statement fails (a deadlock with a concurrent cancel, say), its items are retried one
 * statement each. Not when its connection was lost or it got no answer in time (DATABASE_QUERY_TIMEOUT_MS):
 * then it may have been applied all the same, and each caller gets that error rather than its row applied a
 * second time (a plain INSERT, as of the communication history, would be). The database still decides every row on its own condition; what is saved is the
 * round trips, and the commits (one WAL flush per statement instead of one per row).
 */
export class StatementBatcher<I, R> {
  private readonly waiting: Waiting<I, R>[] = [];
  private readonly maxItems: number;
  private readonly maxInFlight: number;
  private readonly keysInFlight = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly statement: BatchedStatement<I, R>) {
    this.maxItems = statement.maxItems ?? 500;
    this.maxInFlight = statement.maxInFlight ?? 2;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, key: this.statement.key?.(item), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // every waiting item's key is in a statement still running
      const keys = batch.flatMap((w) => (w.key === undefined ? [] : [w.key]));
      for (const key of keys) this.keysInFlight.add(key);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        for (const key of keys) this.keysInFlight.delete(key);
        this.inFlight -= 1;
        this.schedule();
      });
    }
  }

  /**
   * The next statement's items: in arrival order, at most maxItems, at most one per key, and none whose
   * key is in a statement still running (so that calls on one row are applied in the order made).
   */
  private take(): Waiting<I, R>[] {
    if (!this.statement.key) return this.waiting.splice(0, this.maxItems);
    const batch: Waiting<I, R>[] = [];
    const rest: Waiting<I, R>[] = [];
    const keys = new Set<string>();
    for (const waiting of this.waiting) {
      const key = waiting.key as string;
      if (batch.length < this.maxItems && !keys.has(key) && !this.keysInFlight.has(key)) {
        keys.add(key);
        batch.push(waiting);
      } else rest.push(waiting);
    }
    this.waiting.splice(0, this.waiting.length, ...rest);
    return batch;
  }

  private async run(batch: Waiting<I, R>[]): Promise<void> {
    if (batch.length > 1) {
      let results: R[] | undefined;
      try {
        results = await this.statement.many(batch.map((w) => w.item));
      } catch (error) {
        // Its outcome is unknown (it may have committed): no retry here, each caller decides.
        if (isDatabaseUnavailable(error)) {
          for (const waiting of batch) waiting.reject(error);
          return;
        }
        // the database refused the set statement: one statement per item, so that each caller gets its own
        // row's error
      }
      if (results) {
        const answered = results;
        batch.forEach((waiting, i) => waiting.resolve(answered[i]));
        return;
      }
    }
    await Promise.all(
      batch.map((waiting) => this.statement.single(waiting.item).then(waiting.resolve, waiting.reject)),
    );
  }
}
