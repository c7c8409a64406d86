import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
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

  /** Devices looked up by concurrent jobs are read together, with their gateways, in one query. */
  private readonly lookups = new StatementBatcher<string, Device | null>({
    single: (globalDeviceId) =>
      this.devices.findOne({ where: { globalDeviceId }, relations: { gateway: true } }),
    many: async (ids) => {
      const found = await this.devices.find({
        where: { globalDeviceId: In(ids) },
        relations: { gateway: true },
      });
      const byId = new Map(found.map((device) => [device.globalDeviceId, device]));
      return ids.map((id) => byId.get(id) ?? null);
    },
  });
}
