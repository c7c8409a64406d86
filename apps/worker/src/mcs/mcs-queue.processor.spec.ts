import { Job } from 'bullmq';
import { AppConfig } from '@hes/config';
import { JobDispatcher, JobName } from '@hes/queue';
import { McsDeliverResultJob } from './mcs-deliver-result.job';
import { McsQueueProcessor } from './mcs-queue.processor';

describe('the MCS queue processor', () => {
  it('delivers a result job queued in the mcs queue before deliveries had their own (an upgrade, a rolling deploy)', async () => {
    const delivered: unknown[] = [];
    const dispatched: string[] = [];
    const processor = new McsQueueProcessor(
      {
        dispatch: (_queue: string, job: Job) => {
          dispatched.push(job.name);
          return Promise.resolve('dispatched');
        },
      } as unknown as JobDispatcher,
      {
        deliver: (data: unknown) => {
          delivered.push(data);
          return Promise.resolve('delivered');
        },
      } as unknown as McsDeliverResultJob,
      {} as AppConfig,
    );
    const legacy = { name: JobName.McsDeliverResult, data: { requestReference: 'r1' } } as Job;
    expect(await processor.process(legacy)).toBe('delivered');
    expect(delivered).toEqual([{ requestReference: 'r1' }]);
    expect(await processor.process({ name: JobName.McsCollect, data: {} } as Job)).toBe('dispatched');
    expect(dispatched).toEqual([JobName.McsCollect]);
  });
});
