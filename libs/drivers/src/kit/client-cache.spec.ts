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

  it.each<[string, Partial<GatewayEndpoint>]>([
    ['endpoint', { endpoint: 'https://10.0.0.2' }],
    ['password', { password: 'two' }],
    ['pin', { tlsFingerprintSha256: 'BB'.repeat(32) }],
    ['CA', { tlsMode: 'verify', tlsCaPem: '-----BEGIN CERTIFICATE-----' }],
    ['clock zone', { clockTimeZone: 'UTC' }],
  ])('closes the stale client at once when told the %s changed, before any next use', async (_n, change) => {
    const cache = new ClientCache((gateway) => new FakeClient(gateway));
    const stale = cache.get(base);
    expect(await cache.settingsChanged({ ...base, ...change })).toBe(true);
    expect(stale.closed).toBe(1);
    expect(cache.size).toBe(0);
    const fresh = cache.get({ ...base, ...change });
    expect(fresh).not.toBe(stale);
    expect(stale.closed).toBe(1);
  });

  it('keeps the client when told of a change that does not define the connection', async () => {
    const cache = new ClientCache((gateway) => new FakeClient(gateway));
    const client = cache.get(base);
    expect(await cache.settingsChanged({ ...base, name: 'renamed' })).toBe(false);
    expect(client.closed).toBe(0);
    expect(cache.get(base)).toBe(client);
  });

  it("releases a gateway's client at once, and a failing close does not escape", async () => {
    const cache = new ClientCache((gateway) => ({
      gateway,
      close: () => Promise.reject(new Error('socket already gone')),
    }));
    cache.get(base);
    await expect(cache.release(base.id)).resolves.toBe(true);
    await expect(cache.release(base.id)).resolves.toBe(false);
    expect(cache.size).toBe(0);
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
