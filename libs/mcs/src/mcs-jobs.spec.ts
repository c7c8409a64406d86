import { AppConfig } from '@hes/config';
import { collectionJobId, collectionJobOptions, deliveryBackoffMs, deliveryJobId } from './mcs-jobs';

describe('MCS job options', () => {
  const config = { MCS_COLLECTION_ATTEMPTS: 3, MCS_COLLECTION_BACKOFF_MS: 100 } as AppConfig;

  it('maps the MCS priority and delayUntil onto BullMQ priority and delay', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(
      collectionJobOptions(
        config,
        { requestReference: 'a', priority: 5, delayUntil: '2026-11-21T10:00:30Z' },
        now,
      ),
    ).toEqual({
      jobId: collectionJobId('a'),
      priority: 5,
      delay: 30_000,
      attempts: 3,
      backoff: { type: 'exponential', delay: 100 },
    });
    const past = collectionJobOptions(
      config,
      { requestReference: 'a', priority: 1, delayUntil: '2020-01-01T00:00:00Z' },
      now,
    );
    expect(past.delay).toBeUndefined();
  });

  it('gives deterministic ids without colons and a capped doubling backoff', () => {
    expect(collectionJobId('x:y')).toMatch(/^mcs-c-[0-9a-f]{40}$/);
    expect(deliveryJobId('x', 2)).toMatch(/^mcs-d-[0-9a-f]{40}-2$/);
    expect([1, 2, 3, 4, 5].map((n) => deliveryBackoffMs(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
  });
});
