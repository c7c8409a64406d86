import { OperationContext, ProgressLevel } from '../driver.contract';
import { ProgressTracker } from './progress';

function recording(answer: (level: ProgressLevel) => void | Promise<void> = () => undefined) {
  const reported: [number, string | undefined][] = [];
  const ctx: OperationContext = {
    progress: (level, note) => {
      reported.push([level, note]);
      return answer(level);
    },
  };
  return { ctx, reported };
}

describe('ProgressTracker', () => {
  it('reports the levels below one reached directly, in order, the note on the level reached', async () => {
    const { ctx, reported } = recording();
    const progress = new ProgressTracker(ctx);
    await progress.reach(4, 'sensorData');
    expect(reported).toEqual([
      [2, undefined],
      [3, undefined],
      [4, 'sensorData'],
    ]);
    expect(progress.level).toBe(4);
  });

  it('is monotone: a level at or below the highest reached is not reported again', async () => {
    const { ctx, reported } = recording();
    const progress = new ProgressTracker(ctx);
    await progress.reach(2, 'GET /about');
    await progress.reach(2, 'GET /about');
    await progress.reach(3);
    await progress.reach(2);
    expect(reported.map(([level]) => level)).toEqual([2, 3]);
  });

  it("waits for the caller's answer to each level before reporting the next", async () => {
    const order: string[] = [];
    let release!: () => void;
    const { ctx } = recording((level) =>
      level === 2
        ? new Promise<void>((resolve) => {
            release = () => {
              order.push('2 answered');
              resolve();
            };
          })
        : void order.push(`${level} reported`),
    );
    const progress = new ProgressTracker(ctx);
    const reached = progress.reach(4);
    await Promise.resolve();
    expect(order).toEqual([]);
    release();
    await reached;
    expect(order).toEqual(['2 answered', '3 reported', '4 reported']);
  });

  it('stops at a rejected level: the levels above it are never reported, later steps reject too', async () => {
    const cancelled = new Error('transaction cancelled');
    const { ctx, reported } = recording((level) => (level === 3 ? Promise.reject(cancelled) : undefined));
    const progress = new ProgressTracker(ctx);
    await expect(progress.reach(4, 'PUT /meters/1/relay')).rejects.toBe(cancelled);
    expect(reported.map(([level]) => level)).toEqual([2, 3]);
    await expect(progress.reach(4)).rejects.toBe(cancelled);
    expect(reported.map(([level]) => level)).toEqual([2, 3]);
  });
});
