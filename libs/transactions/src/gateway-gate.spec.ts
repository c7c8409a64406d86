import { Job } from 'bullmq';
import { AppConfig } from '@hes/config';
import { GatewayEndpoint } from '@hes/drivers';
import { GatewayCoordination } from '@hes/queue';
import { QueueUnavailableError } from '@hes/queue';
import { GatewayGate } from './gateway-gate';

const GATEWAY = { id: 'g1', name: 'gw-1', maxInFlight: 2 } as GatewayEndpoint;
const CONFIG = { GATEWAY_BUSY_DELAY_MS: 500 } as AppConfig;

describe('GatewayGate when the queue store fails (Redis flushed or down)', () => {
  it('says the queue failed, not the device, when the leases cannot be read', async () => {
    const coordination = {
      admit: () => Promise.reject(new Error('Connection is closed.')),
    } as unknown as GatewayCoordination;
    const gate = new GatewayGate(coordination, CONFIG);
    await expect(gate.enter(GATEWAY, 'job-1')).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('says the queue failed when a busy job cannot be put back (its key is gone)', async () => {
    const gate = new GatewayGate({} as GatewayCoordination, CONFIG);
    const job = {
      id: 'j1',
      moveToDelayed: () => Promise.reject(new Error('Missing key for job j1. moveToDelayed')),
    } as unknown as Job;
    await expect(gate.postpone(job, 'token', Date.now() + 500)).rejects.toThrow(
      /job j1 could not be put back in the queue: Missing key for job j1/,
    );
  });
});
