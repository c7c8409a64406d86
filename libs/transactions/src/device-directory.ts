import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { Device, Gateway, GatewayCredentials, GatewayRepository, StatementBatcher } from '@hes/database';
import { DeviceAddress, DriverError, GatewayEndpoint } from '@hes/drivers';

/** What a driver needs to reach a gateway: its registry row with the credentials decrypted. */
export function gatewayEndpointOf(
  gateway: Gateway,
  credentials: GatewayCredentials,
  clockTimeZone: string,
): GatewayEndpoint {
  return {
    id: gateway.id,
    name: gateway.name,
    driver: gateway.driver,
    endpoint: gateway.endpoint,
    tlsMode: gateway.tlsMode,
    tlsCaPem: gateway.tlsCaPem,
    tlsFingerprintSha256: gateway.tlsFingerprintSha256,
    username: credentials.username,
    password: credentials.password,
    maxInFlight: gateway.maxInFlight,
    requestTimeoutMs: gateway.requestTimeoutMs,
    clockTimeZone,
  };
}

export interface ResolvedDevice {
  device: Device;
  address: DeviceAddress;
}

/** Turns a global_device_id into what a driver needs: its gateway's endpoint and decrypted credentials. */
@Injectable()
export class DeviceDirectory {
  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly gateways: GatewayRepository,
  ) {}

  async resolve(globalDeviceId: string): Promise<ResolvedDevice> {
    const device = await this.lookups.submit(globalDeviceId);
    if (!device)
      throw new DriverError('refused', `global_device_id ${globalDeviceId} is no longer registered`, false);
    const gateway = device.gateway;
    if (!gateway)
      throw new DriverError('refused', `meter ${globalDeviceId} has no gateway in the registry`, false);
    if (!gateway.enabled)
      throw new DriverError('refused', `gateway ${gateway.name} of ${globalDeviceId} is disabled`, false);
    return {
      device,
      address: {
        globalDeviceId,
        msn: device.msn,
        serial: device.serialOnGateway ?? device.msn,
        gateway: gatewayEndpointOf(
          gateway,
          this.gateways.credentialsOf(gateway),
          this.gateways.clockZoneOf(gateway),
        ),
      },
    };
  }

  /**
   * Devices looked up by concurrent jobs are read together, with their gateways, in one query: plain SQL
   * whose rows are mapped onto the entities by their column metadata (what TypeORM's find with the
   * relation did, without building the query and hydrating through its transformer on every call: every
   * job of a fan-out resolves its device).
   */
  private readonly lookups = new StatementBatcher<string, Device | null>({
    single: async (globalDeviceId) => (await this.read([globalDeviceId]))[0] ?? null,
    many: async (ids) => {
      const byId = new Map((await this.read(ids)).map((device) => [device.globalDeviceId, device]));
      return ids.map((id) => byId.get(id) ?? null);
    },
  });

  private lookupSql?: { sql: string; device: ColumnMetadata[]; gateway: ColumnMetadata[] };

  private async read(ids: string[]): Promise<Device[]> {
    const { sql, device, gateway } = (this.lookupSql ??= this.buildLookupSql());
    const rows = await this.devices.query<Record<string, unknown>[]>(sql, [ids]);
    return rows.map((row) => {
      const found = entityOf(new Device(), device, row, 'd.');
      found.gateway = row['g.id'] === null ? null : entityOf(new Gateway(), gateway, row, 'g.');
      return found;
    });
  }

  private buildLookupSql(): { sql: string; device: ColumnMetadata[]; gateway: ColumnMetadata[] } {
    const device = this.devices.metadata.columns;
    const gateway = this.devices.manager.connection.getMetadata(Gateway).columns;
    // The rows are mapped as node-postgres typed them: a column with a transformer would silently skip it.
    const transformed = [...device, ...gateway].filter((c) => c.transformer !== undefined);
    if (transformed.length > 0)
      throw new Error(
        `DeviceDirectory maps rows without TypeORM's transformers; map ${transformed
          .map((c) => `${c.entityMetadata.tableName}.${c.databaseName}`)
          .join(', ')} explicitly`,
      );
    const select = (alias: string, columns: ColumnMetadata[]) =>
      columns.map((c) => `${alias}."${c.databaseName}" AS "${alias}.${c.databaseName}"`);
    return {
      device,
      gateway,
      sql: `SELECT ${[...select('d', device), ...select('g', gateway)].join(', ')}
              FROM public.devices d LEFT JOIN public.gateways g ON g.id = d.gateway_id
             WHERE d.global_device_id = ANY($1::varchar[])`,
    };
  }
}

/** The row's columns (named `<prefix><column>`) set on the entity's properties, as node-postgres typed them. */
function entityOf<T extends object>(
  entity: T,
  columns: ColumnMetadata[],
  row: Record<string, unknown>,
  prefix: string,
): T {
  for (const column of columns)
    (entity as Record<string, unknown>)[column.propertyName] = row[prefix + column.databaseName];
  return entity;
}
