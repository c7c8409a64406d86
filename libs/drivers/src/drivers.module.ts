import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { DriverRegistry } from './driver-registry';
import { INSTALLED_DRIVERS } from './installed-drivers';

/** The driver registry of this installation (api: capabilities; worker: execution). */
@Global()
@Module({
  providers: [
    {
      provide: DriverRegistry,
      useFactory: () => {
        const registry = new DriverRegistry();
        for (const create of INSTALLED_DRIVERS) registry.register(create());
        return registry;
      },
    },
  ],
  exports: [DriverRegistry],
})
export class DriversModule implements OnApplicationShutdown {
  constructor(private readonly registry: DriverRegistry) {}

  async onApplicationShutdown(): Promise<void> {
    await this.registry.closeAll();
  }
}
