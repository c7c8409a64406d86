import { DataSource } from 'typeorm';
import { AppConfig } from '@hes/config';
import { JobQueueRepository } from '@hes/queue';
import { LoadSheddingSchedules, isLoadSheddingSlabOf } from './load-shedding-schedules';

/** Scheduler ids in the queue: meter f12's slab, and two slabs of a meter whose id extends it with ':'. */
const IN_QUEUE = ['lsch:f12:0', 'lsch:f12:3100001003:0', 'lsch:f12:3100001003:1', 'lsch:m1:0'];

describe('load-shedding schedules of meters whose ids contain ":"', () => {
  it("tells a meter's slabs from those of a meter whose id starts with its id and ':'", () => {
    expect(IN_QUEUE.filter(isLoadSheddingSlabOf('f12'))).toEqual(['lsch:f12:0']);
    expect(IN_QUEUE.filter(isLoadSheddingSlabOf('f12:3100001003'))).toEqual([
      'lsch:f12:3100001003:0',
      'lsch:f12:3100001003:1',
    ]);
    expect(IN_QUEUE.filter(isLoadSheddingSlabOf('f1'))).toEqual([]);
  });

  it("removing a meter's schedule replaces only its own schedulers", async () => {
    const replaced: string[][] = [];
    const queues = {
      replaceCronSchedules: (_name: unknown, owns: (id: string) => boolean, schedules: unknown[]) => {
        expect(schedules).toEqual([]);
        replaced.push(IN_QUEUE.filter(owns));
        return Promise.resolve();
      },
    } as unknown as JobQueueRepository;
    const dataSource = { query: () => Promise.resolve([]) } as unknown as DataSource;
    await new LoadSheddingSchedules(dataSource, queues, {} as AppConfig).remove('f12');
    expect(replaced).toEqual([['lsch:f12:0']]);
  });
});

describe('load-shedding schedules: the supervisor pass', () => {
  /** A slab row as the table answers it. */
  const slab = (device: string, index: number) => ({
    global_device_id: device,
    slab_index: index,
    action_time: '08:00:00',
    relay_operate: 0,
    start_datetime: new Date('2026-12-01T00:00:00Z'),
    end_datetime: new Date('2027-01-01T00:00:00Z'),
    time_zone: 'Asia/Karachi',
  });

  /** The schedules over a table of `rows` and a queue holding the scheduler ids `queued`. */
  function passWith(rows: ReturnType<typeof slab>[], queued: string[]) {
    const listed: number[] = [];
    const upserted: string[] = [];
    const removed: string[] = [];
    const dataSource = {
      query: (sql: string) => Promise.resolve(sql.includes('count(*)') ? [{ n: rows.length }] : rows),
    } as unknown as DataSource;
    const queues = {
      schedulerCount: () => Promise.resolve(queued.length),
      schedulerIds: () => {
        listed.push(1);
        return Promise.resolve(new Set(queued));
      },
      upsertCronSchedules: (_name: unknown, schedules: { id: string }[]) => {
        for (const schedule of schedules) {
          upserted.push(schedule.id);
          queued.push(schedule.id);
        }
        return Promise.resolve();
      },
      removeSchedulers: (_queue: unknown, ids: string[]) => {
        removed.push(...ids);
        queued.splice(0, queued.length, ...queued.filter((id) => !ids.includes(id)));
        return Promise.resolve();
      },
    } as unknown as JobQueueRepository;
    return {
      schedules: new LoadSheddingSchedules(dataSource, queues, {} as AppConfig),
      listed,
      upserted,
      removed,
    };
  }

  it('puts back the lost schedulers and removes those of no live slab, then only counts', async () => {
    const queued = ['lsch:m1:0', 'lsch:gone:0', 'lsch:gone:1'];
    const pass = passWith([slab('m1', 0), slab('m1', 1)], queued);
    expect(await pass.schedules.restore()).toBe(1);
    expect(pass.upserted).toEqual(['lsch:m1:1']);
    expect(pass.removed).toEqual(['lsch:gone:0', 'lsch:gone:1']);
    expect(queued.sort()).toEqual(['lsch:m1:0', 'lsch:m1:1']);
    expect(await pass.schedules.restore()).toBe(0);
    expect(await pass.schedules.restore()).toBe(0);
    expect(pass.listed).toHaveLength(1); // the two later passes only counted
  });

  it('looks again when a count moves (Redis lost its data)', async () => {
    const queued = ['lsch:m1:0'];
    const pass = passWith([slab('m1', 0)], queued);
    expect(await pass.schedules.restore()).toBe(0);
    queued.splice(0);
    expect(await pass.schedules.restore()).toBe(1);
    expect(queued).toEqual(['lsch:m1:0']);
    expect(pass.listed).toHaveLength(2);
  });
});
