import { OperationContext, ProgressLevel } from '../driver.contract';

/**
 * The awaited, monotone progress reporter every driver uses (ARCHITECTURE.md, core idea 2): levels only
 * go up, each at most once, and the caller's answer is awaited. When it rejects (the transaction was
 * cancelled meanwhile) the rejection propagates unchanged and the operation stops there.
 */
export class ProgressTracker {
  private reached = 1;
  /** The caller's answer to the highest level reached: concurrent steps all wait for it. */
  private last: Promise<void> = Promise.resolve();
  constructor(private readonly ctx: OperationContext) {}

  /** The highest level reported so far (1 before any). */
  get level(): number {
    return this.reached;
  }

  reach(level: ProgressLevel, note?: string): Promise<void> {
    if (level > this.reached) {
      this.reached = level;
      this.last = Promise.resolve(this.ctx.progress(level, note));
    }
    return this.last;
  }
}
