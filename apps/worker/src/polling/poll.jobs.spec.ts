import { AppConfig } from '@hes/config';
import { DriverRegistry } from '@hes/drivers';
import { JobQueueRepository } from '@hes/queue';
import { DueRead, PollScheduleRepository } from '@hes/transactions';
import { PollJobs, pollJobId } from './poll.jobs';

const DUE: DueRead[] = [
  { global_device_id: 'f12:3100001003', data_type: 'LPRO', claimed_at: '2026-12-03T21:00:00.123456Z' },
  { global_device_id: 'm1', data_type: 'INST' },
];

/** A tick over two due reads, with recorders for what it queued and released. */
function tickWith(addBulk: (items: { data?: unknown; opts?: { jobId?: string } }[]) => Promise<void>) {
  const released: DueRead[][] = [];
  const schedules = {
    ensureDefaults: () => Promise.resolve(0),
    claimDue: () => Promise.resolve(DUE),
    releaseClaims: (reads: DueRead[]) => {
      released.push(reads);
      return Promise.resolve();
    },
  } as unknown as PollScheduleRepository;
  const queues = { addBulk } as unknown as JobQueueRepository;
  const drivers = { names: () => [] } as unknown as DriverRegistry;
  const jobs = new PollJobs(
    schedules,
    queues,
    undefined as never,
    drivers,
    undefined as never,
    undefined as never,
    undefined as never,
    undefined as never,
    { POLLING_ENABLED: true, POLL_CLAIM_LEASE_MINUTES: 60 } as AppConfig,
  );
  return { jobs, released };
}

describe('the poll tick', () => {
  it('queues every due read under a job id without the device id (no ":" whatever the id)', async () => {
    const ids: string[] = [];
    const { jobs, released } = tickWith((items) => {
      ids.push(...items.map((item) => item.opts?.jobId ?? ''));
      return Promise.resolve();
    });
    expect(await jobs.tick()).toEqual({ created: 0, queued: 2 });
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^poll-(LPRO|INST)-[0-9a-f]{40}-\d+$/);
    expect(released).toEqual([]);
  });

  it("gives each read its claim's time, for the outcome to set the next due time from", async () => {
    const data: unknown[] = [];
    const { jobs } = tickWith((items) => {
      data.push(...items.map((item) => item.data));
      return Promise.resolve();
    });
    await jobs.tick();
    expect(data).toEqual([
      {
        globalDeviceId: 'f12:3100001003',
        dataType: 'LPRO',
        claimedAt: '2026-12-03T21:00:00.123456Z',
        leaseMinutes: 60,
      },
      { globalDeviceId: 'm1', dataType: 'INST' },
    ]);
  });

  it('makes the claims due again when their reads could not be queued, and fails the tick', async () => {
    const { jobs, released } = tickWith(() => Promise.reject(new Error('Connection is closed.')));
    await expect(jobs.tick()).rejects.toThrow('Connection is closed.');
    expect(released).toEqual([DUE]);
  });

  it('names each device, type and claim apart', () => {
    expect(pollJobId('LPRO', 'a:b', 1)).not.toBe(pollJobId('LPRO', 'a:c', 1));
    expect(pollJobId('LPRO', 'a:b', 1)).not.toBe(pollJobId('INST', 'a:b', 1));
    expect(pollJobId('LPRO', 'a:b', 1)).not.toBe(pollJobId('LPRO', 'a:b', 2));
  });
});
