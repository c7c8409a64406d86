import { GatewayEndpoint } from '../driver.contract';

export interface CachedClient {
  /** Stops taking new work and releases its connections once the work in hand is done. */
  close(): void | Promise<void>;
}

/**
 * Everything that defines a connection to a gateway: two endpoints with the same key may share a
 * client (and its pooled sockets); any difference (address, credentials, TLS mode, pin, CA, limits,
 * clock zone) needs another client.
 */
export function connectionKey(gateway: GatewayEndpoint): string {
  return JSON.stringify([
    gateway.endpoint,
    gateway.username ?? null,
    gateway.password ?? null,
    gateway.tlsMode,
    gateway.tlsCaPem ?? null,
    gateway.tlsFingerprintSha256 ?? null,
    gateway.maxInFlight,
    gateway.requestTimeoutMs,
    gateway.clockTimeZone ?? null,
  ]);
}

/**
 * One client per gateway, keyed by everything that defines the connection: when a gateway's settings
 * change the next operation gets a new client and the stale one is closed (its pooled connections
 * are never handed to a request made with the new settings, so credentials cannot follow a changed
 * endpoint or pin). Used by the G13 and iServer 2 drivers.
 */
export class ClientCache<C extends CachedClient> {
  private readonly clients = new Map<string, { key: string; client: C }>();

  constructor(private readonly create: (gateway: GatewayEndpoint) => C) {}

  get(gateway: GatewayEndpoint): C {
    const key = connectionKey(gateway);
    const cached = this.clients.get(gateway.id);
    if (cached?.key === key) return cached.client;
    const client = this.create(gateway);
    this.clients.set(gateway.id, { key, client });
    if (cached) void Promise.resolve(cached.client.close()).catch(() => undefined);
    return client;
  }

  /** Number of live clients (tests, metrics). */
  get size(): number {
    return this.clients.size;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.clients.values()].map((entry) => entry.client);
    this.clients.clear();
    await Promise.all(clients.map((client) => Promise.resolve(client.close())));
  }
}
