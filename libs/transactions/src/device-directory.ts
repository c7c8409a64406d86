import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Device, GatewayRepository } from '@hes/database';
import { DeviceAddress, DriverError } from '@hes/drivers';

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
    const device = await this.devices.findOne({ where: { globalDeviceId }, relations: { gateway: true } });
    if (!device)
      throw new DriverError('refused', `global_device_id ${globalDeviceId} is no longer registered`, false);
    const gateway = device.gateway;
    if (!gateway)
      throw new DriverError('refused', `meter ${globalDeviceId} has no gateway in the registry`, false);
    if (!gateway.enabled)
      throw new DriverError('refused', `gateway ${gateway.name} of ${globalDeviceId} is disabled`, false);
    const credentials = this.gateways.credentialsOf(gateway);
    return {
      device,
      address: {
        globalDeviceId,
        msn: device.msn,
        serial: device.serialOnGateway ?? device.msn,
        gateway: {
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
        },
      },
    };
  }
}
