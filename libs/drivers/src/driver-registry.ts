import {
  DeviceDriver,
  DriverDescription,
  DriverName,
  DriverOperation,
  GatewayEndpoint,
  MeterOperation,
  SensorOperation,
  implementsOperation,
  operationRefusal,
} from './driver.contract';

/** Every operation of the contract, in the contract's order (`satisfies`: none missing, none extra). */
const METER_OPERATIONS = {
  discoverMeters: true,
  discoverResources: true,
  registerMeter: true,
  readClock: true,
  setClock: true,
  readInstantaneous: true,
  readBilling: true,
  readMonthlyBilling: true,
  readLoadProfile: true,
  readEvents: true,
  operateRelay: true,
  setLoadLimit: true,
  setTimeOfUse: true,
  configureSampling: true,
  resetTimeOfUse: true,
  setThresholdAlarm: true,
  clearThresholdAlarm: true,
  setBillingReset: true,
  setCommunicationAddress: true,
  activateOpticalPort: true,
  setWakeUpNumbers: true,
  readSupplyRelay: true,
  readLoadLimit: true,
  readSampling: true,
  readTimeOfUse: true,
  readThresholdAlarm: true,
} as const satisfies Record<MeterOperation, true>;
const SENSOR_OPERATIONS = {
  readSensors: true,
  readCalibration: true,
  writeCalibration: true,
  readHistory: true,
  readDiagnostics: true,
} as const satisfies Record<SensorOperation, true>;

export const DRIVER_OPERATIONS: readonly DriverOperation[] = [
  ...(Object.keys(METER_OPERATIONS) as MeterOperation[]),
  ...(Object.keys(SENSOR_OPERATIONS) as SensorOperation[]),
];

/** A driver as the installation shows it (GET /admin/drivers): everything derived from the driver itself. */
export interface DriverProfile extends DriverDescription {
  name: DriverName;
  /** The operations it implements. */
  operations: DriverOperation[];
  /** Why each missing operation (or refused variant) is missing, in the driver's words. */
  refusals: Record<string, string>;
}

/** The settings of a gateway that its driver's schema constrains. */
export interface GatewaySettings {
  endpoint: string;
  username?: string | null;
  password?: string | null;
  maxInFlight?: number;
}

/** A setting a driver refuses: the field and the message of the 400. */
export interface SettingsProblem {
  field: keyof GatewaySettings;
  message: string;
}

/**
 * The first setting of a gateway that its driver does not accept (endpoint scheme, credentials,
 * in-flight limit), or undefined when all are acceptable.
 */
export function gatewaySettingsProblem(
  driver: DeviceDriver,
  settings: GatewaySettings,
): SettingsProblem | undefined {
  const schema = driver.description.settings;
  let scheme: string;
  try {
    scheme = new URL(settings.endpoint).protocol.replace(/:$/, '');
  } catch {
    return { field: 'endpoint', message: 'endpoint must be a URL' };
  }
  if (!schema.endpointSchemes.includes(scheme))
    return {
      field: 'endpoint',
      message: `endpoint must start with ${schema.endpointSchemes.map((s) => `${s}://`).join(' or ')} for driver ${driver.name} (e.g. ${schema.endpointExample})`,
    };
  const hasUsername = Boolean(settings.username);
  const hasPassword = Boolean(settings.password);
  if (schema.credentials === 'none' && (hasUsername || hasPassword))
    return {
      field: hasUsername ? 'username' : 'password',
      message: `${hasUsername ? 'username' : 'password'} must not be given: driver ${driver.name} takes no credentials`,
    };
  if (schema.credentials === 'required' && !hasUsername)
    return { field: 'username', message: `username is required for driver ${driver.name}` };
  if (schema.credentials === 'required' && !hasPassword)
    return { field: 'password', message: `password is required for driver ${driver.name}` };
  if (
    schema.maxInFlightLimit !== undefined &&
    settings.maxInFlight !== undefined &&
    settings.maxInFlight > schema.maxInFlightLimit
  )
    return {
      field: 'maxInFlight',
      message: `maxInFlight must not be greater than ${schema.maxInFlightLimit} for driver ${driver.name}`,
    };
  return undefined;
}

/**
 * The drivers of this installation, by name: the one place that knows them. The admin API's driver
 * list, gateway validation and capability checks, the UDIL and MPCB acceptance all ask it.
 */
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

  has(name: DriverName): boolean {
    return this.drivers.has(name);
  }

  names(): DriverName[] {
    return [...this.drivers.keys()];
  }

  /** Every installed driver with its label, gateway settings, operations and refusals. */
  profiles(): DriverProfile[] {
    return [...this.drivers.values()].map((driver) => ({
      name: driver.name,
      label: driver.description.label,
      settings: driver.description.settings,
      operations: DRIVER_OPERATIONS.filter((operation) => implementsOperation(driver, operation)),
      refusals: Object.fromEntries(
        Object.entries(driver.capabilities.refusals).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      ),
    }));
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

  /** A gateway's settings changed: its driver closes at once the connections made with the old ones. */
  async gatewayChanged(gateway: GatewayEndpoint): Promise<void> {
    const driver = this.drivers.get(gateway.driver);
    await driver?.gatewayChanged?.(gateway);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.drivers.values()].map(async (driver) => driver.close?.()));
  }
}
