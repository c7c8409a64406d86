import { OperationContext, ProgressLevel } from '../driver.contract';

/**
 * The awaited, monotone progress reporter every driver uses (docs/architecture.md, core idea 2): levels only
 * go up, each is reported once, in order, and the caller's answer is awaited. A level reached directly
 * reports the levels below it first (a driver that reaches 4 at once reports 2, 3, 4), so no driver fills
 * gaps of its own. When the caller's answer rejects (the transaction was cancelled meanwhile) the
 * rejection propagates unchanged, to this and every later step, and the operation stops there.
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
      const from = this.reached;
      this.reached = level;
      this.last = this.last.then(async () => {
        for (let step = from + 1; step <= level; step++)
          await this.ctx.progress(step as ProgressLevel, step === level ? note : undefined);
      });
    }
    return this.last;
  }
}
