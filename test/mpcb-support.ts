/** Shared by the MPCB suites: the site client's services built on a migrated database, with a fake clock. */
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CredentialCipher, Gateway, GatewayRepository, createDataSourceOptions } from '@hes/database';
import { DriverRegistry, IServer2Driver } from '@hes/drivers';
import {
  DEFAULT_MPCB_ROUTES,
  ManualClock,
  MpcbAcquisitionService,
  MpcbCalibrationRepository,
  MpcbCentralClient,
  MpcbInstructionService,
  MpcbReadingRepository,
  MpcbSettings,
  MpcbSiteRepository,
  MpcbTransmissionService,
} from '@hes/mpcb';

export interface SiteClient {
  dataSource: DataSource;
  clock: ManualClock;
  settings: MpcbSettings;
  gateways: GatewayRepository;
  sites: MpcbSiteRepository;
  readings: MpcbReadingRepository;
  calibrations: MpcbCalibrationRepository;
  central: MpcbCentralClient;
  acquisition: MpcbAcquisitionService;
  instructions: MpcbInstructionService;
  transmission: MpcbTransmissionService;
  drivers: DriverRegistry;
  close(): Promise<void>;
}

export function mpcbSettings(baseUrl: string, overrides: Partial<MpcbSettings> = {}): MpcbSettings {
  return {
    enabled: true,
    baseUrl,
    routes: { ...DEFAULT_MPCB_ROUTES },
    acquisitionIntervalSeconds: 10,
    transmissionIntervalSeconds: 60,
    realtimeWindowSeconds: 100,
    timeZone: 'Asia/Kolkata',
    timestampLagSeconds: 30,
    requestTimeoutMs: 3000,
    clockToleranceSeconds: 900,
    delayedBatchSize: 1000,
    delayedBatchesPerCycle: 20,
    uploadFieldName: 'file',
    ...overrides,
  };
}

export async function createSiteClient(
  databaseUrl: string,
  settings: MpcbSettings,
  clock: ManualClock,
  /** CREDENTIALS_ENCRYPTION_KEY of an api sharing the database (site keys it stored are read back). */
  encryptionKey: Buffer = randomBytes(32),
): Promise<SiteClient> {
  const dataSource = new DataSource(
    createDataSourceOptions(databaseUrl, `mpcb-${randomBytes(3).toString('hex')}`),
  );
  await dataSource.initialize();
  const cipher = new CredentialCipher(encryptionKey);
  const gateways = new GatewayRepository(dataSource.getRepository(Gateway), cipher);
  const drivers = new DriverRegistry();
  drivers.register(new IServer2Driver());
  const sites = new MpcbSiteRepository(dataSource, cipher);
  const readings = new MpcbReadingRepository(dataSource);
  const calibrations = new MpcbCalibrationRepository(dataSource);
  const central = new MpcbCentralClient(settings, clock);
  const acquisition = new MpcbAcquisitionService(
    sites,
    readings,
    calibrations,
    gateways,
    drivers,
    settings,
    clock,
  );
  const instructions = new MpcbInstructionService(
    sites,
    readings,
    calibrations,
    gateways,
    acquisition,
    central,
    settings,
    clock,
  );
  const transmission = new MpcbTransmissionService(
    dataSource,
    sites,
    readings,
    central,
    instructions,
    settings,
    clock,
  );
  return {
    dataSource,
    clock,
    settings,
    gateways,
    sites,
    readings,
    calibrations,
    central,
    acquisition,
    instructions,
    transmission,
    drivers,
    close: async () => {
      await drivers.closeAll();
      await dataSource.destroy();
    },
  };
}

/** Registers an iServer 2 (simulator) as a gateway of the site client, with the guide's credentials. */
export function registerIServer2(client: SiteClient, name: string, endpoint: string): Promise<Gateway> {
  return client.gateways.create({
    name,
    driver: 'OMEGA_ISERVER2',
    endpoint,
    username: 'admin',
    password: '00000000',
    requestTimeoutMs: 3000,
  });
}
