import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
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
      inject: [
        { token: MeterResourceRepository, optional: true },
        { token: APP_CONFIG, optional: true },
      ],
      useFactory: (meterResources?: MeterResourceRepository, config?: AppConfig) => {
        const registry = new DriverRegistry();
        const meterResourcesMaxAgeMs = config ? config.METER_RESOURCES_MAX_AGE_HOURS * 3_600_000 : undefined;
        for (const create of INSTALLED_DRIVERS)
          registry.register(create({ meterResources, meterResourcesMaxAgeMs }));
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
