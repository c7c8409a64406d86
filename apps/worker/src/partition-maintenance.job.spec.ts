import { AppConfig } from '@hes/config';
import { MonthPartitionRepository, UdilPrivateKeyRepository } from '@hes/database';
import { McsRequestRepository } from '@hes/mcs';
import { MpcbReadingRepository } from '@hes/mpcb';
import { ScheduleSupervisor } from '@hes/queue';
import { PartitionMaintenanceJob } from './partition-maintenance.job';

/**
 * The job with recorders for its repositories; `days` is MPCB_RETENTION_DAYS; the tables in `failing` fail
 * their month's creation.
 */
function jobWith(days: number, failing: string[] = []) {
  const pruned: Date[] = [];
  const partitions = {
    ensureAhead: (table: string) =>
      failing.includes(table)
        ? Promise.reject(new Error(`cannot create a month of ${table}`))
        : Promise.resolve([`${table}_p202701`]),
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
    MCS_RETENTION_DAYS: 90,
  } as AppConfig;
  const finishedBefore: Date[] = [];
  const mcsRequests = {
    pruneFinished: (before: Date) => {
      finishedBefore.push(before);
      return Promise.resolve(7);
    },
  } as unknown as McsRequestRepository;
  const spentBefore: Date[] = [];
  const privatekeys = {
    pruneSpent: (before: Date) => {
      spentBefore.push(before);
      return Promise.resolve(3);
    },
  } as unknown as UdilPrivateKeyRepository;
  const job = new PartitionMaintenanceJob(
    partitions,
    readings,
    privatekeys,
    mcsRequests,
    {} as ScheduleSupervisor,
    config,
  );
  return { job, pruned, spentBefore, finishedBefore };
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

describe('the hourly maintenance: a step that fails', () => {
  const now = new Date('2026-12-01T10:00:00Z');

  it('does the tables after it and the MPCB pruning all the same, and says which failed', async () => {
    const { job, pruned } = jobWith(90, ['instantaneous_data']);
    const outcome = await job.maintain(now);
    expect(outcome.failed).toEqual([
      { step: 'instantaneous_data', error: 'cannot create a month of instantaneous_data' },
    ]);
    expect(outcome.created).toEqual([
      'load_profile_data_p202701',
      'events_p202701',
      'device_communication_history_p202701',
      'transaction_status_p202701',
    ]);
    expect(pruned).toHaveLength(1);
  });

  it('fails the job (seen in the queue) once the other steps are done', async () => {
    const { job, pruned } = jobWith(90, ['load_profile_data']);
    await expect(job.run()).rejects.toThrow(
      'partition maintenance failed for load_profile_data (cannot create a month of load_profile_data)',
    );
    expect(pruned).toHaveLength(1);
  });
});

describe('the hourly maintenance: UDIL privatekeys', () => {
  it('removes the privatekeys that expired or were revoked more than a week ago', async () => {
    const { job, spentBefore } = jobWith(0);
    expect((await job.maintain(new Date('2026-12-01T10:00:00Z'))).privatekeys).toBe(3);
    expect(spentBefore).toEqual([new Date('2026-11-24T10:00:00Z')]);
  });
});

describe('the hourly maintenance: MCS requests', () => {
  it('removes finished MCS requests older than MCS_RETENTION_DAYS (90 by default)', async () => {
    const { job, finishedBefore } = jobWith(0);
    expect((await job.maintain(new Date('2026-12-01T10:00:00Z'))).mcs).toBe(7);
    expect(finishedBefore).toEqual([new Date('2026-09-02T10:00:00Z')]);
  });
});
