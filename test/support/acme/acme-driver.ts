/**
 * ACME_X1, a vendor that exists only in the test tree: the smallest driver a third vendor writes on the
 * kit (docs/drivers.md). Its gateway lists meters and answers each meter's clock and instantaneous
 * values as JSON over HTTP(S) with Basic authentication (AcmeGateway in ./acme-gateway.ts).
 */
import {
  DeviceAddress,
  DeviceDriver,
  DiscoveredMeter,
  DriverError,
  GatewayEndpoint,
  InstantaneousReading,
  OperationContext,
} from '@hes/drivers';
import { ClientCache, GatewayHttp, ProgressTracker } from '@hes/drivers/kit';

class AcmeClient {
  readonly http: GatewayHttp;
  private readonly authorization: string;
  private markClosed!: () => void;
  isClosed = false;
  /** Resolves when the client is closed. */
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));
  constructor(readonly gateway: GatewayEndpoint) {
    this.http = new GatewayHttp(gateway, gateway.endpoint, {
      keepAlive: true,
      label: `ACME ${gateway.name}`,
    });
    this.authorization = `Basic ${Buffer.from(`${gateway.username ?? ''}:${gateway.password ?? ''}`).toString('base64')}`;
  }

  async get<T>(path: string, ctx: OperationContext): Promise<T> {
    const progress = new ProgressTracker(ctx);
    await progress.reach(2, `GET ${path}`);
    const answer = await this.http.send(
      { method: 'GET', path, headers: { Authorization: this.authorization } },
      ctx,
    );
    ctx.log?.(`GET ${path} ${answer.status}`);
    if (answer.status === 401) throw new DriverError('authentication', 'ACME refused the credentials', false);
    if (answer.status !== 200) throw new DriverError('refused', `GET ${path}: ${answer.status}`, false);
    await progress.reach(4, `GET ${path}`);
    return JSON.parse(answer.body) as T;
  }

  close(): void {
    this.http.close();
    this.isClosed = true;
    this.markClosed();
  }
}

export class AcmeDriver implements DeviceDriver {
  readonly name = 'ACME_X1';
  readonly capabilities = { refusals: { operateRelay: 'ACME X1 meters have no supply relay' } };
  readonly description = {
    label: 'ACME X1 meter gateway (test vendor)',
    settings: {
      endpointSchemes: ['http', 'https'],
      endpointExample: 'http://10.20.0.99:8080',
      credentials: 'required' as const,
      maxInFlightLimit: 2,
    },
  };
  /** Every client ever made, for the tests to see which were closed. */
  readonly made: AcmeClient[] = [];
  private readonly clients = new ClientCache((gateway) => {
    const client = new AcmeClient(gateway);
    this.made.push(client);
    return client;
  });

  discoverMeters(gateway: GatewayEndpoint, ctx: OperationContext): Promise<DiscoveredMeter[]> {
    return this.clients.get(gateway).get<DiscoveredMeter[]>('/meters', ctx);
  }

  async readClock(device: DeviceAddress, ctx: OperationContext): Promise<Date> {
    const answer = await this.clients
      .get(device.gateway)
      .get<{ time: string }>(`/meters/${device.serial}/clock`, ctx);
    return new Date(answer.time);
  }

  async readInstantaneous(device: DeviceAddress, ctx: OperationContext): Promise<InstantaneousReading> {
    const answer = await this.clients
      .get(device.gateway)
      .get<{ time: string; voltage: number }>(`/meters/${device.serial}/instant`, ctx);
    return { meter_datetime: new Date(answer.time), voltage_a: answer.voltage };
  }

  async gatewayChanged(gateway: GatewayEndpoint): Promise<void> {
    await this.clients.settingsChanged(gateway);
  }

  async close(): Promise<void> {
    await this.clients.closeAll();
  }
}
