import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { InjectRepository } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { Repository } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { CredentialCipher } from '../credential-cipher';
import { Gateway, TlsMode } from '../entities';

export interface NewGateway {
  name: string;
  driver: string;
  endpoint: string;
  tlsMode?: TlsMode;
  tlsCaPem?: string | null;
  tlsFingerprintSha256?: string | null;
  username?: string | null;
  /** Plain password; stored encrypted. */
  password?: string | null;
  maxInFlight?: number;
  requestTimeoutMs?: number;
  clockTimeZone?: string | null;
}

/** A partial change of a gateway's settings (PATCH /admin/gateways/:id); the driver never changes. */
export type GatewayChanges = Partial<Omit<NewGateway, 'driver'>> & { enabled?: boolean };

/** Decrypted gateway passwords kept in memory at most (one per gateway of a large fleet). */
const DECRYPTED_PASSWORDS_KEPT = 20_000;

/** The PostgreSQL notification channel of committed gateway changes (payload: the gateway id). */
export const GATEWAY_CHANGES_CHANNEL = 'hes_gateway_changes';

/** A subscription to gateway changes: `stop` releases its connection. */
export interface GatewayChangeWatch {
  stop(): Promise<void>;
}

export interface GatewayCredentials {
  username: string | null;
  password: string | null;
}

@Injectable()
export class GatewayRepository {
  constructor(
    @InjectRepository(Gateway) private readonly gateways: Repository<Gateway>,
    private readonly cipher: CredentialCipher,
    /** Absent (a repository made by hand in a test): the clocks default to UTC. */
    @Optional() @Inject(APP_CONFIG) private readonly config?: Pick<AppConfig, 'TIME_ZONE'>,
  ) {}

  /** The IANA zone the clocks behind the gateway keep: its own setting, else the head-end's TIME_ZONE. */
  clockZoneOf(gateway: Gateway): string {
    return gateway.clockTimeZone ?? this.config?.TIME_ZONE ?? 'UTC';
  }

  async create(input: NewGateway): Promise<Gateway> {
    const { password, ...rest } = input;
    return this.gateways.save(
      this.gateways.create({
        ...rest,
        passwordEncrypted: password ? this.cipher.encrypt(password) : null,
      }),
    );
  }

  /**
   * Changes the given settings of a gateway (a field left out keeps its value; null clears it); the
   * password is stored encrypted. Answers the gateway as stored afterwards, or null when there is none.
   */
  async update(id: string, changes: GatewayChanges): Promise<Gateway | null> {
    const { password, ...rest } = changes;
    const columns: Partial<Gateway> = { ...rest };
    if (password !== undefined) columns.passwordEncrypted = password ? this.cipher.encrypt(password) : null;
    if (Object.keys(columns).length > 0) await this.gateways.update({ id }, columns);
    // In the change's transaction: every process hears of it once it commits, never before, never if not.
    await this.gateways.query('SELECT pg_notify($1, $2)', [GATEWAY_CHANGES_CHANNEL, id]);
    return this.findById(id);
  }

  /**
   * Calls `changed(id)` for every committed `update` of a gateway, by any process of the installation,
   * on a connection of its own (LISTEN) held until `stop`. `lost` is called once if that connection
   * fails; the caller then watches again.
   */
  async watchChanges(
    changed: (id: string) => void,
    lost: (error: Error) => void,
  ): Promise<GatewayChangeWatch> {
    const driver = this.gateways.manager.connection.driver as PostgresDriver;
    const [client, release] = (await driver.obtainMasterConnection()) as [
      PoolClient,
      (error?: unknown) => void,
    ];
    let released = false;
    const drop = (error?: Error) => {
      if (released) return;
      released = true;
      client.off('notification', onNotification);
      client.off('error', onError);
      // A listening connection is not handed back to the pool: it is closed.
      release(error ?? true);
    };
    const onNotification = (message: { channel: string; payload?: string }) => {
      if (message.channel === GATEWAY_CHANGES_CHANNEL && message.payload) changed(message.payload);
    };
    const onError = (error: Error) => {
      drop(error);
      lost(error);
    };
    client.on('notification', onNotification);
    client.on('error', onError);
    try {
      await client.query(`LISTEN ${GATEWAY_CHANGES_CHANNEL}`);
    } catch (error) {
      drop(error as Error);
      throw error;
    }
    return {
      stop: () => {
        drop();
        return Promise.resolve();
      },
    };
  }

  findById(id: string): Promise<Gateway | null> {
    return this.gateways.findOneBy({ id });
  }

  findByName(name: string): Promise<Gateway | null> {
    return this.gateways.findOneBy({ name });
  }

  /** The credentials a driver needs to log in, decrypted only at the moment of use. */
  credentialsOf(gateway: Gateway): GatewayCredentials {
    return {
      username: gateway.username,
      password: gateway.passwordEncrypted ? this.decrypted(gateway.passwordEncrypted) : null,
    };
  }

  /**
   * Stored passwords decrypted once per stored value (every job resolves its device's gateway: an AES-GCM
   * decryption each time was ≈ 1 % of a worker's CPU in a fan-out). Keyed by the stored text, so a changed
   * password (new IV, new text) is decrypted afresh; bounded, emptied when full.
   */
  private readonly passwords = new Map<string, string>();

  private decrypted(stored: string): string {
    let plain = this.passwords.get(stored);
    if (plain === undefined) {
      plain = this.cipher.decrypt(stored);
      if (this.passwords.size >= DECRYPTED_PASSWORDS_KEPT) this.passwords.clear();
      this.passwords.set(stored, plain);
    }
    return plain;
  }
}
