import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Job } from 'bullmq';
import { JobDispatcher, JobHandler, JobHandlerRegistrationError } from './job-handler';
import { ALL_JOBS, JobName, QueueName } from './jobs';

@Injectable()
class HeartbeatHandler {
  readonly seen: unknown[] = [];
  @JobHandler(JobName.WorkerHeartbeat)
  handle(data: unknown) {
    this.seen.push(data);
    return Promise.resolve('done');
  }
}

/** A handler for every other job, so that each job has exactly one (whatever jobs exist). */
@Injectable()
class TransactionHandlers {}
for (const name of ALL_JOBS.filter((job) => job !== JobName.WorkerHeartbeat)) {
  const key = `handle:${name}`;
  Object.defineProperty(TransactionHandlers.prototype, key, {
    value: () => Promise.resolve(),
    writable: true,
    configurable: true,
  });
  JobHandler(name)(
    TransactionHandlers.prototype,
    key,
    Object.getOwnPropertyDescriptor(TransactionHandlers.prototype, key)!,
  );
}

@Injectable()
class SecondHeartbeatHandler {
  @JobHandler(JobName.WorkerHeartbeat)
  handle() {
    return Promise.resolve();
  }
}

async function boot(providers: (new (...args: never[]) => unknown)[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [JobDispatcher, ...providers],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

const job = (name: string, data: unknown) => ({ name, data, id: '1', attemptsMade: 0 }) as unknown as Job;

describe('JobDispatcher', () => {
  it('routes a job to its handler', async () => {
    const moduleRef = await boot([HeartbeatHandler, TransactionHandlers]);
    const result = await moduleRef
      .get(JobDispatcher)
      .dispatch(QueueName.System, job(JobName.WorkerHeartbeat, { scheduledBy: 'x' }));
    expect(result).toBe('done');
    expect(moduleRef.get(HeartbeatHandler).seen).toEqual([{ scheduledBy: 'x' }]);
  });

  it('refuses to start when a job has no handler', async () => {
    await expect(boot([])).rejects.toThrow(JobHandlerRegistrationError);
    await expect(boot([TransactionHandlers])).rejects.toThrow(
      /^no handler registered for job\(s\): system.worker-heartbeat$/,
    );
  });

  it('refuses to start when a job has two handlers', async () => {
    await expect(boot([HeartbeatHandler, SecondHeartbeatHandler, TransactionHandlers])).rejects.toThrow(
      /has two handlers/,
    );
  });

  it('refuses a job of another name', async () => {
    const moduleRef = await boot([HeartbeatHandler, TransactionHandlers]);
    await expect(moduleRef.get(JobDispatcher).dispatch(QueueName.System, job('unknown', {}))).rejects.toThrow(
      /is not a job of queue system/,
    );
  });
});
