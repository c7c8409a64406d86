import { AppConfig } from '@hes/config';
import { DriverError, DriverRegistry } from '@hes/drivers';
import { GatewayLease } from '@hes/queue';
import { UdilReadingsRepository } from '@hes/readings';
import { GatewayGate, MeterVisualsRepository, ResolvedDevice } from '@hes/transactions';
import { McsCollectionService } from './mcs-collection.service';
import { McsMeterResolver } from './mcs-meter-resolver';
import { McsCollectionRequest } from './mcs-request';

const REQUEST: McsCollectionRequest = {
  requestReference: 'r1',
  mpan: '1200012345678',
  responseUrl: 'http://127.0.0.1:9/master',
  priority: 1,
  delayUntil: null,
  meterType: 'TEST',
  remoteAddress: '10.0.0.1:443',
  remoteAddressKind: 'ip',
  comsSettings: null,
  outstationAddress: null,
  serialNumber: null,
  password: null,
  surveyDays: 0,
  surveyDate: null,
  adjustTime: false,
};

/** A collection whose meter answers its clock and events (its driver reads no registers); `store` plays the UDIL tables' writes. */
function collectionWith(
  store: (table: string) => Promise<void>,
  readEvents: () => Promise<unknown[]> = () =>
    Promise.resolve([{ event_code: '111', event_description: 'Power fail start' }]),
) {
  const target = {
    device: { msn: '1', driver: 'TEST' },
    address: { globalDeviceId: 'm1', msn: '1', serial: '3100001001', gateway: { id: 'g', name: 'gw' } },
  } as unknown as ResolvedDevice;
  const driver = {
    name: 'TEST',
    readClock: () => Promise.resolve(new Date()),
    readEvents,
  };
  const service = new McsCollectionService(
    { resolve: () => Promise.resolve(target) } as unknown as McsMeterResolver,
    { names: () => ['TEST'], get: () => driver } as unknown as DriverRegistry,
    { upsert: (table: string) => store(table) } as unknown as UdilReadingsRepository,
    { update: () => Promise.resolve() } as unknown as MeterVisualsRepository,
    { observe: () => Promise.resolve(undefined) } as unknown as GatewayGate,
    { MCS_STATUS_EVENTS_HOURS: 24 } as AppConfig,
  );
  const lease = { release: () => Promise.resolve() } as unknown as GatewayLease;
  return () => service.collect(REQUEST, false, () => Promise.resolve(lease));
}

describe('McsCollectionService: storing what the meter answered', () => {
  it('ends the run with the error when the database cannot be reached, instead of a PARTIAL SUCCESS', async () => {
    const collect = collectionWith((table) =>
      table === 'events'
        ? Promise.reject(new Error('Connection terminated unexpectedly'))
        : Promise.resolve(),
    );
    await expect(collect()).rejects.toThrow('Connection terminated unexpectedly');
  });

  it("names the step of a PARTIAL SUCCESS when the meter's connection was reset (the device's fault, not the database's)", async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const collect = collectionWith(
      () => Promise.resolve(),
      () => Promise.reject(new DriverError('unreachable', 'GET /log: read ECONNRESET', true, reset)),
    );
    const { outcome } = await collect();
    expect(outcome.result).toBe('PARTIAL SUCCESS');
    expect(outcome.errors?.[0]).toBe('status events: unreachable: GET /log: read ECONNRESET');
  });

  it('names the step of a PARTIAL SUCCESS when the database refused its rows', async () => {
    const collect = collectionWith((table) =>
      table === 'events'
        ? Promise.reject(Object.assign(new Error('value too long'), { code: '22001' }))
        : Promise.resolve(),
    );
    const { outcome } = await collect();
    expect(outcome.result).toBe('PARTIAL SUCCESS');
    expect(outcome.errors).toEqual([
      'status events: value too long',
      'register values: the TEST driver does not read registers',
    ]);
    expect(outcome).not.toHaveProperty('statusEvents');
  });
});
