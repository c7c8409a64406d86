import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DeviceDirectory, ResolvedDevice } from '@hes/transactions';
import { McsCollectionError } from './mcs-error';
import { McsCollectionRequest } from './mcs-request';

interface GatewayRow {
  id: string;
  name: string;
  endpoint: string;
}

interface DeviceRow {
  global_device_id: string;
  msn: string;
  serial_on_gateway: string | null;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  'https:': '443',
  'http:': '80',
  'wss:': '443',
  'ws:': '80',
};

/** host:port of a gateway endpoint URL (default port of its scheme when none is written). */
export function endpointHostPort(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    const port = url.port || DEFAULT_PORTS[url.protocol];
    return port ? `${url.hostname}:${port}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An MCS request names its meter by meterType and remoteAddress: `x.x.x.x:port` is the host:port of
 * a registered, enabled gateway of that driver; the meter is the device on it whose serial on the
 * gateway (or MSN) is the outstationAddress, else the serialNumber; with neither, the gateway's only
 * meter. Phone (modem) and PAKNET addresses cannot be dialled by any installed driver.
 */
@Injectable()
export class McsMeterResolver {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly directory: DeviceDirectory,
  ) {}

  async resolve(request: McsCollectionRequest): Promise<ResolvedDevice> {
    if (request.remoteAddressKind === 'phone')
      throw new McsCollectionError(
        `remote address ${request.remoteAddress} is a phone number (modem connection); no installed driver dials modems`,
      );
    if (request.remoteAddressKind === 'paknet')
      throw new McsCollectionError(
        `remote address ${request.remoteAddress} is a PAKNET number; no installed driver dials PAKNET`,
      );
    const gateways = (
      await this.dataSource.query<GatewayRow[]>(
        `SELECT id, name, endpoint FROM public.gateways WHERE driver = $1 AND enabled ORDER BY name`,
        [request.meterType],
      )
    ).filter((g) => endpointHostPort(g.endpoint) === request.remoteAddress);
    if (gateways.length === 0)
      throw new McsCollectionError(
        `no enabled ${request.meterType} gateway is registered at ${request.remoteAddress}`,
      );
    const key = request.outstationAddress ?? request.serialNumber;
    const devices = await this.dataSource.query<DeviceRow[]>(
      `SELECT global_device_id, msn::text AS msn, serial_on_gateway FROM public.devices
        WHERE gateway_id = ANY($1) AND driver = $2
          AND ($3::text IS NULL OR serial_on_gateway = $3 OR msn::text = $3)
        ORDER BY global_device_id`,
      [gateways.map((g) => g.id), request.meterType, key],
    );
    const where = gateways.map((g) => g.name).join(', ');
    if (devices.length === 0)
      throw new McsCollectionError(
        key
          ? `no meter ${key} is registered on gateway ${where} (${request.remoteAddress})`
          : `no meter is registered on gateway ${where} (${request.remoteAddress})`,
      );
    if (devices.length > 1)
      throw new McsCollectionError(
        key
          ? `${devices.length} meters match ${key} on gateway ${where}`
          : `gateway ${where} has ${devices.length} meters: give the serialNumber or outstationAddress`,
      );
    return this.directory.resolve(devices[0].global_device_id);
  }
}
