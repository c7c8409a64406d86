/**
 * A reading whose device timestamp is far from its capture time (a unit whose clock stopped or was never
 * set) is uploaded with the suspect data quality code S; within MPCB_CLOCK_TOLERANCE_SECONDS it is U.
 * Two iServer 2 simulators with their own clocks feed one site; the codes are read back from the file the
 * central server simulator decrypted.
 */
import { Logger } from '@nestjs/common';
import { ManualClock, MpcbMonitoringUnit } from '@hes/mpcb';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { SiteClient, createSiteClient, mpcbSettings, registerIServer2 } from './mpcb-support';

const KEY = 'c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy#####';
const SITE_ID = 'site_1234';
const UNIT_ID = 'Stack1';
const TOLERANCE_SECONDS = 900;

describe('MPCB: readings from a unit with a wrong clock are suspect', () => {
  let database: TestDatabase;
  let central: MpcbCentralSimulatorHandle;
  let client: SiteClient;
  let clock: ManualClock;
  let unit: MpcbMonitoringUnit;
  /** Its clock runs 10 minutes fast: within the tolerance. */
  let closeClock: IServer2SimulatorHandle;
  /** Its clock stopped two hours ago. */
  let stoppedClock: IServer2SimulatorHandle;

  const codeOf = async (parameterId: string): Promise<string | undefined> =>
    (await client.readings.readings(unit.id)).filter((r) => r.parameterId === parameterId).at(-1)
      ?.qualityCode;
  const uploadedCodes = (parameterId: string): string[] =>
    central
      .rows(SITE_ID)
      .filter((row) => row.parameterId === parameterId)
      .map((row) => row.dataQualityCode);

  beforeAll(async () => {
    Logger.overrideLogger(false);
    database = await createMigratedDatabase('mpcb_clock');
    clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    const stoppedAt = new Date(clock.now().getTime() - 2 * 3600_000);
    closeClock = await startIServer2Simulator({
      port: 0,
      probeCount: 1,
      now: () => new Date(clock.now().getTime() + 600_000),
    });
    stoppedClock = await startIServer2Simulator({ port: 0, probeCount: 1, now: () => stoppedAt });
    central = await startMpcbCentralSimulator({
      port: 0,
      now: () => clock.now(),
      sites: [{ siteId: SITE_ID, siteKey: KEY, softwareVersionId: 'ver_1.0', monitoringIds: [UNIT_ID] }],
    });
    client = await createSiteClient(
      database.url,
      mpcbSettings(central.baseUrl, { clockToleranceSeconds: TOLERANCE_SECONDS }),
      clock,
    );
    const site = await client.sites.createSite({
      siteId: SITE_ID,
      siteName: 'Test industry',
      softwareVersionId: 'ver_1.0',
      siteKey: KEY,
    });
    unit = await client.sites.addMonitoringUnit(site.id, UNIT_ID, 'Emission');
    const analyser = await client.sites.addAnalyser(unit.id, 'analyzer_8', 'Weather stations');
    for (const [parameterId, sim] of [
      ['parameter_close', closeClock],
      ['parameter_stopped', stoppedClock],
    ] as const) {
      const gateway = await registerIServer2(client, parameterId, sim.endpoint);
      await client.sites.addParameter(analyser.id, {
        parameterId,
        parameterName: 'TEMP',
        unit: 'C',
        source: { kind: 'sensor', gatewayId: gateway.id, channel: 'p1ch0' },
      });
    }
  });

  afterAll(async () => {
    await client?.close();
    await central?.stop();
    await closeClock?.stop();
    await stoppedClock?.stop();
    await database?.drop();
  });

  it('stores and uploads U within the tolerance and S beyond it', async () => {
    const result = await client.acquisition.acquire();
    expect(result.failures).toEqual([]);
    expect(await codeOf('parameter_close')).toBe('U');
    expect(await codeOf('parameter_stopped')).toBe('S');
    const stored = await client.readings.readings(unit.id);
    expect(stored.find((r) => r.parameterId === 'parameter_stopped')?.deviceTime).toEqual(
      new Date(clock.now().getTime() - 2 * 3600_000),
    );

    const [transmission] = await client.transmission.transmitAll();
    expect(transmission.units[0].batches).toEqual([
      expect.objectContaining({ status: 'accepted', route: 'realtime', readings: 2 }),
    ]);
    expect(uploadedCodes('parameter_close')).toEqual(['U']);
    expect(uploadedCodes('parameter_stopped')).toEqual(['S']);
  });

  it('follows the tolerance setting', async () => {
    clock.advance(10_000);
    client.settings.clockToleranceSeconds = 3 * 3600;
    try {
      await client.acquisition.acquire();
    } finally {
      client.settings.clockToleranceSeconds = TOLERANCE_SECONDS;
    }
    expect(await codeOf('parameter_stopped')).toBe('U');
    clock.advance(10_000);
    client.settings.clockToleranceSeconds = 60;
    try {
      await client.acquisition.acquire();
    } finally {
      client.settings.clockToleranceSeconds = TOLERANCE_SECONDS;
    }
    expect(await codeOf('parameter_close')).toBe('S'); // 10 minutes fast is beyond one minute
    await client.transmission.transmitAll();
    expect(uploadedCodes('parameter_stopped')).toEqual(['S', 'U', 'S']);
    expect(uploadedCodes('parameter_close')).toEqual(['U', 'U', 'S']);
  });
});
