/**
 * The worker as deployed: with MPCB_ENABLED it schedules the acquisition and transmission jobs on the
 * `mpcb` queue (BullMQ on Redis), which read the iServer 2 simulator and upload to the central simulator.
 */
import { INestApplication } from '@nestjs/common';
import { GatewayRepository } from '@hes/database';
import { MpcbReadingRepository, MpcbSiteRepository, toDataRow } from '@hes/mpcb';
import { createWorkerApp } from '../apps/worker/src/bootstrap';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';

const KEY = 'QmFzZTY0S2V5T2ZUZXN0U2l0ZU51bWJlcjEyMzQ1Ng';

describe('MPCB jobs in the worker', () => {
  let database: TestDatabase;
  let iserver: IServer2SimulatorHandle;
  let central: MpcbCentralSimulatorHandle;
  let worker: INestApplication | undefined;

  beforeAll(async () => {
    database = await createMigratedDatabase('mpcb_worker');
    iserver = await startIServer2Simulator({ port: 0, probeCount: 1 });
    central = await startMpcbCentralSimulator({
      port: 0,
      basePath: '/MPCBServer',
      sites: [{ siteId: 'site_77', siteKey: KEY, softwareVersionId: 'v2', monitoringIds: ['ETP_PLANT'] }],
    });
    applyEnvironment(
      testEnvironment(database.url, {
        MPCB_ENABLED: 'true',
        MPCB_BASE_URL: central.baseUrl,
        // The document's other spelling of the diagnostics route, as a full URL: routes are configurable.
        MPCB_ROUTE_UPLOAD_DIAGNOSTIC_INFO: `${central.url}/MPCBServer/uploadDiagnosticsInfo`,
        MPCB_ACQUISITION_SECONDS: '1',
        MPCB_TRANSMISSION_SECONDS: '2',
        MPCB_TIMESTAMP_LAG_SECONDS: '5',
      }),
    );
    worker = await createWorkerApp();
    await worker.init();
  });

  afterAll(async () => {
    await worker?.close();
    await central?.stop();
    await iserver?.stop();
    await database?.drop();
  });

  it('acquires and uploads on schedule, and answers a flag', async () => {
    const app = worker!;
    const gateway = await app.get(GatewayRepository).create({
      name: 'iserver2-worker',
      driver: 'OMEGA_ISERVER2',
      endpoint: iserver.endpoint,
      username: 'admin',
      password: '00000000',
    });
    const sites = app.get(MpcbSiteRepository);
    const site = await sites.createSite({
      siteId: 'site_77',
      softwareVersionId: 'v2',
      siteKey: KEY,
      authorizationEncoding: 'pkcs7',
    });
    const unit = await sites.addMonitoringUnit(site.id, 'ETP_PLANT');
    const analyser = await sites.addAnalyser(unit.id, 'analyzer_1');
    await sites.addParameter(analyser.id, {
      parameterId: 'parameter_1',
      parameterName: 'Temperature',
      unit: 'C',
      source: { kind: 'sensor', gatewayId: gateway.id, channel: 'p1ch0' },
    });
    central.raiseFlag('site_77', 'ETP_PLANT', 'diagnosticUpdate');

    await waitFor(
      () => Promise.resolve(central.rows('site_77').length >= 2),
      'two readings at the central server',
      30000,
    );
    await waitFor(
      () => Promise.resolve(central.documents('uploadDiagnosticInfo').length === 1),
      'the diagnostics upload',
      30000,
    );
    expect(central.flags('site_77', 'ETP_PLANT').diagnosticUpdate).toBe(false);
    expect(central.uploads('site_77')[0].route).toBe('realtime');

    const readings = app.get(MpcbReadingRepository);
    const sent = (await readings.readings(unit.id)).filter((r) => r.sentAt !== null);
    const received = central.rows('site_77');
    for (const reading of sent) expect(received).toContainEqual(toDataRow(site, unit, reading));
    expect(central.duplicates('site_77')).toEqual([]);
  });
});
