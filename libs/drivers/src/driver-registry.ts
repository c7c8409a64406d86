import {
  DeviceDriver,
  DriverName,
  UdilCommand,
  OnDemandType,
  UnsupportedOperationError,
} from './driver.contract';

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

  /** Refuses, with a remark naming driver and command, a UDIL command the driver does not carry out. */
  assertCommand(name: DriverName, command: UdilCommand): DeviceDriver {
    const driver = this.get(name);
    if (!driver.capabilities.udilCommands.includes(command))
      throw new UnsupportedOperationError(name, command);
    return driver;
  }

  assertOnDemand(name: DriverName, type: OnDemandType): DeviceDriver {
    const driver = this.get(name);
    if (!driver.capabilities.onDemandTypes.includes(type))
      throw new UnsupportedOperationError(name, `on-demand ${type}`);
    return driver;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.drivers.values()].map(async (driver) => driver.close?.()));
  }
}
