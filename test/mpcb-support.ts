/**
 * Shared by the MPCB suites: the site client's services built on a migrated database, with a fake clock; and
 * for the suites of sites changed through the admin API, the api beside it.
 */
import { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
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
import { createApiApp } from '../apps/api/src/bootstrap';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment } from './support/test-environment';

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

export const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';

type AdminMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The api and the worker's site client on one migrated database, an iServer 2 simulator registered as a gateway. */
export interface AdminSiteBench {
  database: TestDatabase;
  app: INestApplication<App>;
  /** A plain connection to the database, for what the suites read behind the api. */
  db: Client;
  client: SiteClient;
  iserver: IServer2SimulatorHandle;
  /** The iServer 2's gateway id. */
  gatewayId: string;
  /** An admin request with ADMIN_TOKEN. */
  call(method: AdminMethod, path: string, body?: object): request.Test;
  stop(): Promise<void>;
}

/**
 * Starts what the admin suites of MPCB sites share: a migrated database, the api with ADMIN_TOKEN, the
 * worker's site client (MPCB_BASE_URL at `baseUrl`, with the api's encryption key, so that it reads the
 * site keys the api stored) and a one-probe iServer 2 simulator registered through the admin API.
 */
export async function startAdminSiteBench(
  label: string,
  baseUrl: string,
  clock: ManualClock,
): Promise<AdminSiteBench> {
  const database = await createMigratedDatabase(label);
  const iserver = await startIServer2Simulator({ port: 0, probeCount: 1 });
  const environment = testEnvironment(database.url, { ADMIN_TOKEN });
  applyEnvironment(environment);
  const app = (await createApiApp()) as INestApplication<App>;
  await app.init();
  const db = new Client({ connectionString: database.url });
  await db.connect();
  const client = await createSiteClient(
    database.url,
    mpcbSettings(baseUrl),
    clock,
    Buffer.from(environment.CREDENTIALS_ENCRYPTION_KEY, 'hex'),
  );
  const call = (method: AdminMethod, path: string, body?: object) =>
    request(app.getHttpServer())[method](path).set('authorization', `Bearer ${ADMIN_TOKEN}`).send(body);
  const gatewayId = (
    await call('post', '/admin/gateways', {
      name: 'stack-iserver',
      driver: 'OMEGA_ISERVER2',
      endpoint: iserver.endpoint,
      username: 'admin',
      password: '00000000',
    }).expect(201)
  ).body.id as string;
  return {
    database,
    app,
    db,
    client,
    iserver,
    gatewayId,
    call,
    stop: async () => {
      await client.close();
      await db.end();
      await app.close();
      await iserver.stop();
      await database.drop();
    },
  };
}
