import { GatewayEndpoint } from '../driver.contract';
import { ClientCache, connectionKey } from './client-cache';

class FakeClient {
  closed = 0;
  constructor(readonly gateway: GatewayEndpoint) {}
  close(): void {
    this.closed += 1;
  }
}

const base: GatewayEndpoint = {
  id: 'gw-1',
  name: 'g',
  driver: 'ABB_G13',
  endpoint: 'https://10.0.0.1',
  tlsMode: 'pinned',
  tlsFingerprintSha256: 'AA'.repeat(32),
  username: 'hes',
  password: 'one',
  maxInFlight: 1,
  requestTimeoutMs: 1000,
  clockTimeZone: 'Asia/Karachi',
};

describe('ClientCache', () => {
  it('keeps one client while nothing that defines the connection changes', () => {
    const cache = new ClientCache((gateway) => new FakeClient(gateway));
    const first = cache.get(base);
    expect(cache.get({ ...base, name: 'renamed' })).toBe(first);
    expect(first.closed).toBe(0);
  });

  it.each<[string, Partial<GatewayEndpoint>]>([
    ['endpoint', { endpoint: 'https://10.0.0.2' }],
    ['password', { password: 'two' }],
    ['username', { username: 'other' }],
    ['pin', { tlsFingerprintSha256: 'BB'.repeat(32) }],
    ['CA', { tlsMode: 'verify', tlsCaPem: '-----BEGIN CERTIFICATE-----' }],
    ['TLS mode', { tlsMode: 'insecure' }],
    ['clock zone', { clockTimeZone: 'UTC' }],
  ])('a changed %s gives a new client and closes the stale one', (_name, change) => {
    const cache = new ClientCache((gateway) => new FakeClient(gateway));
    const stale = cache.get(base);
    const fresh = cache.get({ ...base, ...change });
    expect(fresh).not.toBe(stale);
    expect(fresh.gateway).toMatchObject(change);
    expect(stale.closed).toBe(1);
    expect(cache.size).toBe(1);
    expect(connectionKey({ ...base, ...change })).not.toBe(connectionKey(base));
  });

  it('closes every client on closeAll', async () => {
    const cache = new ClientCache((gateway) => new FakeClient(gateway));
    const a = cache.get(base);
    const b = cache.get({ ...base, id: 'gw-2' });
    await cache.closeAll();
    expect([a.closed, b.closed]).toEqual([1, 1]);
    expect(cache.size).toBe(0);
  });
});
