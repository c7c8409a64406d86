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
 * One client per gateway, keyed by everything that defines the connection. When a gateway's settings
 * change, the stale client is closed at once: by `settingsChanged` when the head-end learns of the change
 * (the admin API's PATCH, through `DriverRegistry.gatewayChanged`), at the latest by the next `get` with
 * the new settings. Its pooled connections are never handed to a request made with the new settings, so
 * credentials cannot follow a changed endpoint or pin. Used by the G13 and iServer 2 drivers.
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
    if (cached) void this.closeQuietly(cached.client);
    return client;
  }

  /**
   * The gateway's settings are now `gateway`: a client made with other settings is closed now (the work
   * it has in hand finishes first, see CachedClient.close) and the next operation makes a new one. A client
   * with the same settings is kept. Answers whether a client was closed.
   */
  async settingsChanged(gateway: GatewayEndpoint): Promise<boolean> {
    const cached = this.clients.get(gateway.id);
    if (!cached || cached.key === connectionKey(gateway)) return false;
    this.clients.delete(gateway.id);
    await this.closeQuietly(cached.client);
    return true;
  }

  /** Closes the gateway's client now, whatever its settings (a gateway deleted or disabled). */
  async release(gatewayId: string): Promise<boolean> {
    const cached = this.clients.get(gatewayId);
    if (!cached) return false;
    this.clients.delete(gatewayId);
    await this.closeQuietly(cached.client);
    return true;
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

  /** A stale client that fails to close is gone anyway: nothing will use it again. */
  private async closeQuietly(client: C): Promise<void> {
    try {
      await client.close();
    } catch {
      // Its sockets are destroyed or already closed; there is nothing more to do with it.
    }
  }
}
