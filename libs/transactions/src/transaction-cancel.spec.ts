import { AppConfig } from '@hes/config';
import { DriverRegistry } from '@hes/drivers';
import { JobQueueRepository, QueueUnavailableError } from '@hes/queue';
import { DataSource } from 'typeorm';
import { TransactionAcceptanceService } from './transaction-acceptance.service';
import { TransactionStatusRepository } from './transaction-status.repository';

const DEVICES = ['m1', 'm2', 'm3', 'm4', 'm5'];

/** transaction_cancel of five live devices, with a queue whose remove answers as `remove` says. */
function cancelWith(remove: () => Promise<boolean>) {
  const removals: string[] = [];
  const service = new TransactionAcceptanceService(
    {
      query: () => Promise.resolve([{ client_id: 'c1', created_at: new Date('2026-12-03T10:00:00Z') }]),
    } as unknown as DataSource,
    {
      cancel: () => Promise.resolve(new Set(DEVICES)),
      findByTransactions: () =>
        Promise.resolve(DEVICES.map((id) => ({ global_device_id: id, msn: '1', request_cancelled: 1 }))),
    } as unknown as TransactionStatusRepository,
    {
      remove: (_name: string, jobId: string) => {
        removals.push(jobId);
        return remove();
      },
    } as unknown as JobQueueRepository,
    {} as DriverRegistry,
    { UDIL_READ_CACHE_MB: 0, TIME_ZONE: 'UTC' } as AppConfig,
  );
  return { cancel: () => service.cancel('T1', DEVICES, 'c1'), removals };
}

describe('transaction_cancel', () => {
  it("removes every cancelled device's job from the queue", async () => {
    const { cancel, removals } = cancelWith(() => Promise.resolve(true));
    const answer = await cancel();
    expect(removals).toHaveLength(5);
    expect(JSON.stringify(answer)).toContain('cancelled');
  });

  it('stops asking a queue that does not answer (each call would wait QUEUE_CALL_TIMEOUT_MS), and answers', async () => {
    const { cancel, removals } = cancelWith(() =>
      Promise.reject(
        new QueueUnavailableError('queue transactions: remove', new Error('no answer within 5000 ms')),
      ),
    );
    await cancel();
    expect(removals).toHaveLength(1);
  });
});
