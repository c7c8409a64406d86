import { AppConfig } from '@hes/config';
import { MonthPartitionRepository } from '@hes/database';
import { MpcbReadingRepository } from '@hes/mpcb';
import { ScheduleSupervisor } from '@hes/queue';
import { PartitionMaintenanceJob } from './partition-maintenance.job';

/** The job with recorders for its repositories; `days` is MPCB_RETENTION_DAYS. */
function jobWith(days: number) {
  const pruned: Date[] = [];
  const partitions = {
    ensureAhead: () => Promise.resolve([]),
    dropExpired: () => Promise.resolve([]),
  } as unknown as MonthPartitionRepository;
  const readings = {
    pruneSent: (before: Date) => {
      pruned.push(before);
      return Promise.resolve({ readings: 12, uploads: 2 });
    },
  } as unknown as MpcbReadingRepository;
  const config = {
    PARTITION_MONTHS_AHEAD: 2,
    PARTITION_RETENTION_MONTHS_LOAD_PROFILE_DATA: 0,
    PARTITION_RETENTION_MONTHS_INSTANTANEOUS_DATA: 0,
    PARTITION_RETENTION_MONTHS_EVENTS: 0,
    PARTITION_RETENTION_MONTHS_DEVICE_COMMUNICATION_HISTORY: 0,
    PARTITION_RETENTION_MONTHS_TRANSACTION_STATUS: 0,
    MPCB_RETENTION_DAYS: days,
  } as AppConfig;
  const job = new PartitionMaintenanceJob(partitions, readings, {} as ScheduleSupervisor, config);
  return { job, pruned };
}

describe('the hourly maintenance: MPCB retention', () => {
  const now = new Date('2026-12-01T10:00:00Z');

  it('removes sent MPCB readings older than MPCB_RETENTION_DAYS', async () => {
    const { job, pruned } = jobWith(90);
    expect((await job.maintain(now)).mpcb).toEqual({ readings: 12, uploads: 2 });
    expect(pruned).toEqual([new Date('2026-09-02T10:00:00Z')]);
  });

  it('keeps every reading with MPCB_RETENTION_DAYS=0 (the default)', async () => {
    const { job, pruned } = jobWith(0);
    expect((await job.maintain(now)).mpcb).toEqual({ readings: 0, uploads: 0 });
    expect(pruned).toEqual([]);
  });
});
