import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { MeterResourceRepository } from '@hes/database';
import { DriverRegistry } from './driver-registry';
import { INSTALLED_DRIVERS } from './installed-drivers';

/** The driver registry of this installation (api: capabilities; worker: execution). */
@Global()
@Module({
  providers: [
    {
      provide: DriverRegistry,
      // Drivers keep each meter's discovered resources in PostgreSQL, shared by every worker.
      inject: [{ token: MeterResourceRepository, optional: true }],
      useFactory: (meterResources?: MeterResourceRepository) => {
        const registry = new DriverRegistry();
        for (const create of INSTALLED_DRIVERS) registry.register(create({ meterResources }));
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
