import { DeviceDriver, DriverName, DriverOperation, operationRefusal } from './driver.contract';

/** The drivers of this installation, by name. Adding a vendor = adding a folder and registering it here. */
export class DriverRegistry {
  private readonly drivers = new Map<DriverName, DeviceDriver>();

  register(driver: DeviceDriver): void {
    if (this.drivers.has(driver.name)) throw new Error(`driver ${driver.name} is registered twice`);
    this.drivers.set(driver.name, driver);
  }

  get(name: DriverName): DeviceDriver {
    const driver = this.drivers.get(name);
    if (!driver) throw new Error(`no driver named ${name} (known: ${this.names().join(', ') || 'none'})`);
    return driver;
  }

  names(): DriverName[] {
    return [...this.drivers.keys()];
  }

  /**
   * The driver, when it implements `operation` (and does not refuse its `variant`); otherwise an
   * UnsupportedOperationError whose remark names the driver, the operation and the driver's reason.
   */
  assertOperation(name: DriverName, operation: DriverOperation, variant?: string): DeviceDriver {
    const driver = this.get(name);
    const refusal = operationRefusal(driver, operation, variant);
    if (refusal) throw refusal;
    return driver;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.drivers.values()].map(async (driver) => driver.close?.()));
  }
}
