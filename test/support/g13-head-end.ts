import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { App } from 'supertest/types';
import { createApiApp } from '../../apps/api/src/bootstrap';
import { createWorkerApp } from '../../apps/worker/src/bootstrap';
import { G13SimulatorHandle, startG13Simulator } from '../../apps/simulator/src/g13';
import { GatewayRepository, NewGateway } from '@hes/database';
import { DisposableRedis } from './redis-server';
import { TestDatabase, createMigratedDatabase } from './test-database';
import { applyEnvironment, testEnvironment, waitFor } from './test-environment';
import { authorizedKey } from './udil-client';

/** A whole head-end (api + worker in-process) in front of one simulated G13 gateway, meters m1…mN. */
export interface G13HeadEnd {
  api: INestApplication<App>;
  /** The registry id of the gateway. */
  gatewayId: string;
  gateway: G13SimulatorHandle;
  redis: DisposableRedis;
  db: Client;
  /** The head-end's database, for a data source of a test's own. */
  databaseUrl: string;
  /** A valid UDIL privatekey of the test MDM account. */
  key: string;
  serials: string[];
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Waits until every listed device of the transaction is finished (complete, failed or cancelled). */
  finished(transactionid: string, devices: string[], timeoutMs?: number): Promise<TransactionRow[]>;
  stop(): Promise<void>;
}

export interface TransactionRow {
  global_device_id: string;
  status_level: number;
  indv_status: number;
  request_cancelled: number;
  response_data: string | null;
  status_1_datetime: Date | null;
  status_5_datetime: Date | null;
}

/**
 * `serials` are on the gateway and in the registry as m1…mN; `unregisteredSerials` are on the gateway's bus
 * only (not registered on the gateway, not in the registry), for device_creation.
 */
export async function startG13HeadEnd(
  label: string,
  serials: string[],
  environment: Record<string, string> = {},
  unregisteredSerials: string[] = [],
  setup: {
    /** Serials served by the manual-only meter model (the manual's example answers, 404 for the rest). */
    manualOnly?: string[];
    /** Gateway registry settings, e.g. clockTimeZone. */
    gateway?: Partial<NewGateway>;
    /** Global device ids registered inactive (activation_status 0) before the worker starts. */
    inactive?: string[];
    /** The global device id of each serial, by index (default m1, m2, …). */
    globalDeviceIds?: string[];
  } = {},
): Promise<G13HeadEnd> {
  const database: TestDatabase = await createMigratedDatabase(label);
  const redis = await DisposableRedis.start();
  const gateway = await startG13Simulator({
    meters: [
      ...serials.map((serial) => ({
        serial,
        phases: 3 as const,
        model: setup.manualOnly?.includes(serial) ? ('manual-only' as const) : undefined,
      })),
      ...unregisteredSerials.map((serial) => ({ serial, phases: 1 as const, registered: false })),
    ],
    users: [{ name: 'hes', password: 'gateway-secret' }],
  });
  applyEnvironment(
    testEnvironment(database.url, {
      REDIS_URL: redis.url,
      TRANSACTION_ATTEMPTS: '2',
      TRANSACTION_BACKOFF_MS: '50',
      RECONCILE_INTERVAL_SECONDS: '1',
      ...environment,
    }),
  );
  const api = (await createApiApp()) as INestApplication<App>;
  await api.init();
  const registered = await api.get(GatewayRepository).create({
    name: 'feeder-1',
    driver: 'ABB_G13',
    endpoint: gateway.url,
    tlsMode: 'pinned',
    tlsFingerprintSha256: gateway.certificateFingerprintSha256,
    username: 'hes',
    password: 'gateway-secret',
    maxInFlight: 2,
    requestTimeoutMs: 3000,
    // The simulated meters' clocks run on UTC (a gateway left to the default would be TIME_ZONE).
    clockTimeZone: 'UTC',
    ...setup.gateway,
  });
  const db = new Client({ connectionString: database.url });
  await db.connect();
  for (const [index, serial] of serials.entries()) {
    const globalDeviceId = setup.globalDeviceIds?.[index] ?? `m${index + 1}`;
    await db.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway, activation_status)
       VALUES ($1, $2::bigint, 'ABB_G13', $3, $2::text, $4)`,
      [globalDeviceId, serial, registered.id, setup.inactive?.includes(globalDeviceId) ? 0 : 1],
    );
  }
  const key = await authorizedKey(api);
  let worker: INestApplication | undefined;
  const headEnd: G13HeadEnd = {
    api,
    gatewayId: registered.id,
    gateway,
    redis,
    db,
    databaseUrl: database.url,
    key,
    serials,
    async startWorker() {
      worker = await createWorkerApp();
      await worker.init();
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    finished: (transactionid, devices, timeoutMs) =>
      waitFor(
        async () => {
          const { rows } = await db.query<TransactionRow>(
            `SELECT * FROM udil.transaction_status WHERE transactionid = $1 AND global_device_id = ANY($2) ORDER BY global_device_id`,
            [transactionid, devices],
          );
          return rows.length === devices.length &&
            rows.every((r) => r.indv_status !== 0 || r.request_cancelled === 1)
            ? rows
            : undefined;
        },
        `transaction ${transactionid} to finish`,
        timeoutMs,
      ),
    async stop() {
      await headEnd.stopWorker();
      await db.end();
      await api.close();
      await gateway.stop();
      await redis.stop();
      await database.drop();
    },
  };
  await headEnd.startWorker();
  return headEnd;
}
