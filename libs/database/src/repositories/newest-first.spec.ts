import { newestFirst, newestFirstBounds } from './month-partitions.repository';

const utc = (text: string) => new Date(`${text}Z`);

describe('newestFirst: reading the latest months of a partitioned table first', () => {
  const now = utc('2026-03-10T08:00:00');

  it('widens from the previous month to a year back to no bound', () => {
    expect(newestFirstBounds(now)).toEqual([
      utc('2026-02-01T00:00:00'),
      utc('2025-03-01T00:00:00'),
      undefined,
    ]);
    // January: the previous month is in the year before.
    expect(newestFirstBounds(utc('2026-01-31T23:59:59'))[0]).toEqual(utc('2025-12-01T00:00:00'));
  });

  it('stops at the first window whose answer is enough', async () => {
    const asked: (Date | undefined)[] = [];
    const answer = await newestFirst(
      (since) => {
        asked.push(since);
        return Promise.resolve(since && since < utc('2026-01-01T00:00:00') ? ['row'] : []);
      },
      (rows) => rows.length > 0,
      now,
    );
    expect(answer).toEqual(['row']);
    expect(asked).toEqual([utc('2026-02-01T00:00:00'), utc('2025-03-01T00:00:00')]);
  });

  it('returns the unbounded answer as it is when no window was enough', async () => {
    const asked: (Date | undefined)[] = [];
    const answer = await newestFirst(
      (since) => {
        asked.push(since);
        return Promise.resolve(since === undefined ? ['one'] : []);
      },
      (rows) => rows.length >= 20,
      now,
    );
    expect(answer).toEqual(['one']);
    expect(asked).toEqual([utc('2026-02-01T00:00:00'), utc('2025-03-01T00:00:00'), undefined]);
  });
});
