import { AppConfig } from '@hes/config';
import { GatewayEndpoint } from '@hes/drivers';
import { GatewayLease, LocalGatewayCoordination } from '@hes/queue';
import { GatewayGate } from './gateway-gate';

const GATEWAY = { id: 'g1', name: 'gw-1', maxInFlight: 1 } as GatewayEndpoint;
const CONFIG = { GATEWAY_BUSY_DELAY_MS: 200 } as AppConfig;

/** Lets a job that entered find every lease held and start waiting. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** A gate whose only lease of GATEWAY is held, and a second job already waiting for it. */
async function gatewayHeldWithAWaiter() {
  const coordination = new LocalGatewayCoordination();
  const gate = new GatewayGate(coordination, CONFIG);
  const first = await gate.enter(GATEWAY, 'job-1');
  if (first.kind !== 'admitted') throw new Error('expected a lease');
  const holder: GatewayLease = first.lease;
  const waiting = gate.enter(GATEWAY, 'job-2');
  await settled();
  return { coordination, gate, holder, waiting };
}

describe('GatewayGate hands a lease over to a job of the same process waiting for its gateway', () => {
  it('admits the waiting job with the lease its holder leaves after the gateway answered, never above max_in_flight', async () => {
    const { coordination, gate, holder, waiting } = await gatewayHeldWithAWaiter();
    holder.answered();
    await gate.leave(holder);
    const second = await waiting;
    expect(second.kind).toBe('admitted');
    expect(await coordination.held(GATEWAY.id)).toBe(1);
    if (second.kind === 'admitted') await gate.leave(second.lease);
    expect(await coordination.held(GATEWAY.id)).toBe(0);
  });

  it('hands nothing over from an exchange the gateway did not answer: the waiting job asks the store, which has marked the gateway down', async () => {
    const { coordination, gate, holder, waiting } = await gatewayHeldWithAWaiter();
    // A timeout that trips the breaker: the lease goes back to the store, not to the waiter.
    expect(await coordination.recordFailure(GATEWAY.id, { failures: 1, downMs: 60_000 })).toBeDefined();
    await gate.leave(holder);
    expect(await coordination.held(GATEWAY.id)).toBe(0);
    expect((await waiting).kind).toBe('busy');
    expect(await coordination.held(GATEWAY.id)).toBe(0);
  });

  it('admits a waiting job with a lease freed in the store (as by another worker), without a hand-over', async () => {
    const coordination = new LocalGatewayCoordination();
    const gate = new GatewayGate(coordination, CONFIG);
    const elsewhere = await coordination.admit(GATEWAY.id, 1);
    if (!('lease' in elsewhere)) throw new Error('expected a lease');
    const waiting = gate.enter(GATEWAY, 'job-2');
    await settled();
    await elsewhere.lease.release();
    const second = await waiting;
    expect(second.kind).toBe('admitted');
    expect(await coordination.held(GATEWAY.id)).toBe(1);
    if (second.kind === 'admitted') await gate.leave(second.lease);
    expect(await coordination.held(GATEWAY.id)).toBe(0);
  });

  it('keeps no lease for its holder while a job of this process waits for the gateway: it is handed over', async () => {
    const { gate, holder, waiting } = await gatewayHeldWithAWaiter();
    holder.answered();
    expect(await gate.keep(holder)).toBeUndefined();
    await gate.leave(holder);
    const second = await waiting;
    expect(second.kind).toBe('admitted');
    if (second.kind !== 'admitted') return;
    // Nobody waits now: the new holder's lease is carried on for its next exchange.
    second.lease.answered();
    const kept = await gate.keep(second.lease);
    expect(kept).toBeDefined();
    await gate.leave(kept!);
  });

  it('lets at most max_in_flight jobs wait for a gateway: the others are put back at once', async () => {
    const { gate, holder, waiting } = await gatewayHeldWithAWaiter();
    expect((await gate.enter(GATEWAY, 'job-3')).kind).toBe('busy');
    expect((await waiting).kind).toBe('busy');
    await gate.leave(holder);
  });
});
