import type { LevelTimes } from './transaction-status.repository';

/** A level of a device's row written with the statement of the next one (2 with 3, 4 with 5). */
export type LaterLevel = 2 | 4;

/**
 * The levels of one device's row that ride on the statement of the next level instead of a statement of
 * their own (docs/udil.md, "Levels written with the next one"): level 2 (communication request sent) on
 * level 3's, which every driver awaits before it writes anything to the device (the statement that decides
 * a cancel racing the command), and level 4 (command sent) on the completion's. A level whose next one does
 * not come within `delayMs` is written on its own then, so a device slow to connect or to answer shows how
 * far it got within that time. Whichever statement writes a level stamps it with the time it was reached.
 */
export class LaterLevels {
  private reached: LevelTimes = {};
  private highest: LaterLevel | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Writes `level` (the highest reached and not written) and stamps the levels of `reached`. */
    private readonly write: (level: LaterLevel, reached: LevelTimes) => void,
    private readonly delayMs: number,
  ) {}

  /** `level` was reached now: written with the next level's statement, or on its own after the delay. */
  reach(level: LaterLevel, at: Date = new Date()): void {
    this.reached[level] = at;
    if (this.highest === undefined || level > this.highest) this.highest = level;
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /**
   * The levels reached and not written yet, for the statement of a later level to stamp (afterwards none
   * is left to write); undefined when there is none.
   */
  take(): LevelTimes | undefined {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.highest === undefined) return undefined;
    const reached = this.reached;
    this.reached = {};
    this.highest = undefined;
    return reached;
  }

  /** Writes the levels reached and not written yet on their own, now (the delay is over, or the operation failed). */
  flush(): void {
    const level = this.highest;
    const reached = this.take();
    if (level !== undefined && reached) this.write(level, reached);
  }
}
