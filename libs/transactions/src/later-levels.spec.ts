import { LaterLevels, LaterLevel } from './later-levels';
import type { LevelTimes } from './transaction-status.repository';

describe('LaterLevels', () => {
  let writes: { level: LaterLevel; reached: LevelTimes }[];
  let levels: LaterLevels;

  beforeEach(() => {
    jest.useFakeTimers();
    writes = [];
    levels = new LaterLevels((level, reached) => writes.push({ level, reached }), 1000);
  });
  afterEach(() => jest.useRealTimers());

  const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, 0, ms));

  it('gives the next statement the levels reached, with their times, and writes nothing of its own', () => {
    levels.reach(2, at(10));
    expect(levels.take()).toEqual({ 2: at(10) });
    levels.reach(4, at(50));
    jest.advanceTimersByTime(999);
    expect(levels.take()).toEqual({ 4: at(50) });
    jest.advanceTimersByTime(5000);
    expect(writes).toEqual([]);
    expect(levels.take()).toBeUndefined();
  });

  it('writes a level whose next one did not come within the delay, once, with its time', () => {
    levels.reach(2, at(10));
    jest.advanceTimersByTime(999);
    expect(writes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(writes).toEqual([{ level: 2, reached: { 2: at(10) } }]);
    // Written: the next statement has nothing to stamp, and the timer does not write it again.
    expect(levels.take()).toBeUndefined();
    jest.advanceTimersByTime(5000);
    expect(writes).toHaveLength(1);
  });

  it('writes the highest level reached with the times of every level not written yet', () => {
    levels.reach(2, at(10));
    levels.reach(4, at(20)); // a driver that went on without level 3's statement
    jest.advanceTimersByTime(1000);
    expect(writes).toEqual([{ level: 4, reached: { 2: at(10), 4: at(20) } }]);
  });

  it('counts the delay from the first level not written, not from the last', () => {
    levels.reach(2, at(10));
    jest.advanceTimersByTime(600);
    levels.reach(4, at(610));
    jest.advanceTimersByTime(400);
    expect(writes).toEqual([{ level: 4, reached: { 2: at(10), 4: at(610) } }]);
  });

  it('flush writes what is pending at once (a failure), and nothing when nothing is', () => {
    levels.flush();
    expect(writes).toEqual([]);
    levels.reach(4, at(30));
    levels.flush();
    expect(writes).toEqual([{ level: 4, reached: { 4: at(30) } }]);
    jest.advanceTimersByTime(5000);
    expect(writes).toHaveLength(1);
  });

  it('with a delay of 0 writes each level on the next turn of the timers', () => {
    const now = new LaterLevels((level, reached) => writes.push({ level, reached }), 0);
    now.reach(2, at(1));
    expect(writes).toEqual([]);
    jest.advanceTimersByTime(0);
    expect(writes).toEqual([{ level: 2, reached: { 2: at(1) } }]);
  });
});
