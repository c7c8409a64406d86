import { queueBoardAction } from './queue-board';

describe('queueBoardAction', () => {
  it.each([
    ['PUT', '/api/queues/pause', 'queue.pause', null],
    ['PUT', '/api/queues/resume', 'queue.resume', null],
    ['POST', '/api/queues/transactions/add', 'queue.add', 'transactions'],
    ['PUT', '/api/queues/transactions/retry/failed', 'queue.retry.failed', 'transactions'],
    ['PUT', '/api/queues/transactions/clean/completed', 'queue.clean.completed', 'transactions'],
    ['PUT', '/api/queues/mpcb/rate-limit/release', 'queue.rate-limit.release', 'mpcb'],
    ['PUT', '/api/queues/mpcb/obliterate', 'queue.obliterate', 'mpcb'],
    ['PUT', '/api/queues/system/job-schedulers/heartbeat/remove', 'queue.job-scheduler.remove', 'system'],
    ['PATCH', '/api/queues/system/job-schedulers/heartbeat', 'queue.job-scheduler.update', 'system'],
    ['PUT', '/api/queues/transactions/T1%3Adev-1/retry', 'queue.job.retry', 'transactions'],
    ['PATCH', '/api/queues/transactions/42/update-data?x=1', 'queue.job.update-data', 'transactions'],
    ['DELETE', '/api/queues/transactions', 'queue.delete', 'transactions'],
  ])('%s %s is %s on %s', (method, path, action, queue) => {
    expect(queueBoardAction(method, path)).toEqual({ action, queue });
  });
});
