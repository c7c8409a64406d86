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
