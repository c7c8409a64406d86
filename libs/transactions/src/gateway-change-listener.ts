import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { GatewayChangeWatch, GatewayRepository } from '@hes/database';
import { DriverRegistry } from '@hes/drivers';
import { gatewayEndpointOf } from './device-directory';

/** Delay before listening again after the listening connection was lost. */
const RELISTEN_MS = 5_000;

/**
 * Closes at once, in this process, the driver client of a gateway whose settings were changed by any
 * process (PATCH /admin/gateways/:id in the API; a PostgreSQL notification sent in the change's
 * transaction): old credentials, endpoint or pin do not stay in use until the gateway's next operation.
 * While the listening connection is down, a stale client is still replaced at the gateway's next
 * operation (ClientCache.get compares the settings).
 */
@Injectable()
export class GatewayChangeListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GatewayChangeListener.name);
  private watch?: GatewayChangeWatch;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly gateways: GatewayRepository,
    private readonly drivers: DriverRegistry,
  ) {}

  /** Listening before the application serves: a change made once it is up is heard. */
  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.watch?.stop();
    this.watch = undefined;
  }

  /** A gateway's settings changed: its driver closes the client made with other settings. */
  async changed(id: string): Promise<void> {
    const gateway = await this.gateways.findById(id);
    if (!gateway || !this.drivers.has(gateway.driver)) return;
    await this.drivers.gatewayChanged(
      gatewayEndpointOf(gateway, this.gateways.credentialsOf(gateway), this.gateways.clockZoneOf(gateway)),
    );
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      const watch = await this.gateways.watchChanges(
        (id) =>
          void this.changed(id).catch((error: Error) =>
            this.logger.warn(
              { gatewayId: id, error: error.message },
              'could not close a stale gateway client',
            ),
          ),
        (error) => {
          this.watch = undefined;
          this.logger.warn(
            { error: error.message },
            'lost the gateway-change notifications; listening again',
          );
          this.relisten();
        },
      );
      // Shut down while the connection was being made (a retry under way): it must not outlive the app.
      if (this.stopped) await watch.stop();
      else this.watch = watch;
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'cannot listen for gateway changes yet');
      this.relisten();
    }
  }

  private relisten(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.listen(), RELISTEN_MS);
    this.retry.unref();
  }
}
