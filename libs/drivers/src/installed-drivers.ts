import { DeviceDriver, DriverServices } from './driver.contract';
import { G13Driver } from './g13';
import { IServer2Driver } from './iserver2';

/** Every driver of this installation. Adding a vendor = a folder under libs/drivers/src and a line here. */
export const INSTALLED_DRIVERS: ((services: DriverServices) => DeviceDriver)[] = [
  (services) =>
    new G13Driver({
      meterResources: services.meterResources,
      meterResourcesMaxAgeMs: services.meterResourcesMaxAgeMs,
    }),
  () => new IServer2Driver(),
];
