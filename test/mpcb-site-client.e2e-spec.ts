/**
 * iServer 2 simulator → MPCB site client → central server simulator, with one fake clock shared by the
 * client and the central simulator: real-time uploads, a 20-minute outage caught up through delayedUpload,
 * refusals, and the four flag flows with their acknowledgements.
 */
import { Logger } from '@nestjs/common';
import { DateTime } from 'luxon';
import {
  ManualClock,
  MpcbAnalyser,
  MpcbDataRow,
  MpcbMonitoringUnit,
  MpcbSite,
  StoredReading,
  toDataRow,
} from '@hes/mpcb';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { SiteClient, createSiteClient, mpcbSettings, registerIServer2 } from './mpcb-support';

const KEY = 'c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy#####';

/** The suite's fake clock; while `tick` is set, every reading of it moves it on by that much (a slow server). */
class TickingClock extends ManualClock {
  tick = 0;
  /** The time, without moving it: the iServer 2 simulator's own clock reads it. */
  peek(): Date {
    return super.now();
  }
  override now(): Date {
    const at = this.peek();
    if (this.tick > 0) this.set(new Date(at.getTime() + this.tick));
    return at;
  }
}
const SITE_ID = 'site_1234';
const UNIT_ID = 'Stack1';

describe('MPCB site client against the iServer 2 and central server simulators', () => {
  let database: TestDatabase;
  let iserver: IServer2SimulatorHandle;
  let central: MpcbCentralSimulatorHandle;
  let client: SiteClient;
  let clock: TickingClock;
  let site: MpcbSite;
  let unit: MpcbMonitoringUnit;
  let analyser: MpcbAnalyser;

  const rowKey = (row: MpcbDataRow) => `${row.analyzerId}/${row.parameterId}@${row.unixTimestamp}`;
  const stored = () => client.readings.readings(unit.id);
  const asRows = (readings: StoredReading[]) => readings.map((r) => toDataRow(site, unit, r));
  /** Acquisition every 10 s for `seconds`, on the fake clock. */
  const acquireFor = async (seconds: number) => {
    for (let elapsed = 0; elapsed < seconds; elapsed += 10) {
      const result = await client.acquisition.acquire();
      expect(result.failures).toEqual([]);
      clock.advance(10_000);
    }
  };
  const transmit = async () => {
    const [result] = await client.transmission.transmitAll();
    expect(result.ran).toBe(true);
    return result.units[0];
  };

  beforeAll(async () => {
    Logger.overrideLogger(false); // the refusals this suite provokes are logged as warnings
    database = await createMigratedDatabase('mpcb_client');
    clock = new TickingClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    // The unit's clock agrees with the site client's: its readings are valid (U), not clock-suspect (S).
    iserver = await startIServer2Simulator({ port: 0, probeCount: 1, now: () => clock.peek() });
    central = await startMpcbCentralSimulator({
      port: 0,
      now: () => clock.now(),
      sites: [{ siteId: SITE_ID, siteKey: KEY, softwareVersionId: 'ver_1.0', monitoringIds: [UNIT_ID] }],
    });
    client = await createSiteClient(
      database.url,
      mpcbSettings(central.baseUrl, { delayedBatchSize: 50, delayedBatchesPerCycle: 3 }),
      clock,
    );
    const gateway = await registerIServer2(client, 'iserver2-sim', iserver.endpoint);
    site = await client.sites.createSite({
      siteId: SITE_ID,
      siteName: 'Test industry',
      softwareVersionId: 'ver_1.0',
      siteKey: KEY,
    });
    unit = await client.sites.addMonitoringUnit(site.id, UNIT_ID, 'Emission');
    analyser = await client.sites.addAnalyser(unit.id, 'analyzer_8', 'Weather station');
    await client.sites.addParameter(analyser.id, {
      parameterId: 'parameter_10',
      parameterName: 'TEMP',
      unit: 'C',
      coefficientA: 2,
      coefficientB: 1,
      source: { kind: 'sensor', gatewayId: gateway.id, channel: 'p1ch0' },
    });
    await client.sites.addParameter(analyser.id, {
      parameterId: 'parameter_11',
      parameterName: 'RH',
      unit: '%',
      source: { kind: 'sensor', gatewayId: gateway.id, channel: 'p1ch1' },
    });
  });

  afterAll(async () => {
    await client?.close();
    await central?.stop();
    await iserver?.stop();
    await database?.drop();
  });

  it('stores raw and linearised readings, then uploads them real-time: they arrive decrypted and equal', async () => {
    iserver.setTrueValue('p1ch0', 20.5);
    await acquireFor(60);
    const readings = await stored();
    expect(readings).toHaveLength(12);
    const temperature = readings.find((r) => r.parameterId === 'parameter_10');
    expect(temperature).toMatchObject({
      rawReading: 20.5,
      validatedReading: 42,
      qualityCode: 'U',
      calibrationFlag: 0,
    });
    expect(readings.every((r) => r.sentAt === null)).toBe(true); // stored before anything is sent

    const result = await transmit();
    expect(result.batches).toEqual([
      expect.objectContaining({ status: 'accepted', route: 'realtime', readings: 12 }),
    ]);
    const [upload] = central.uploads(SITE_ID);
    expect(upload.route).toBe('realtime');
    expect(upload.zipName).toMatch(/^site_1234_Stack1_\d{14}\.zip$/);
    expect(upload.zipName.slice(17, 31)).toBe(
      DateTime.fromJSDate(clock.now(), { zone: 'Asia/Kolkata' }).toFormat('yyyyLLddHHmmss'),
    );
    expect(upload.timestamp).toBe(
      DateTime.fromMillis(clock.now().getTime() - 30_000, { zone: 'Asia/Kolkata' }).toFormat(
        "yyyy-LL-dd'T'HH:mm:ss'Z'",
      ),
    );
    expect(upload.rows).toEqual(asRows(readings));
    expect((await stored()).every((r) => r.sentAt !== null)).toBe(true);
    iserver.setTrueValue('p1ch0', null);
  });

  it('loses nothing in a 20-minute outage: late readings go through delayedUpload, in order, none twice', async () => {
    await central.goDown();
    for (let minute = 0; minute < 20; minute++) {
      await acquireFor(60);
      const result = await transmit();
      expect(result.batches.map((b) => b.status)).toEqual(['unreachable']);
    }
    expect((await stored()).filter((r) => r.sentAt === null)).toHaveLength(240);

    const unsentDuringOutage = (await stored()).filter((r) => r.sentAt === null);
    await central.comeUp();
    let cycles = 0;
    let firstTransmissionAt: number | null = null;
    do {
      await acquireFor(60);
      firstTransmissionAt ??= clock.now().getTime();
      const result = await transmit();
      expect(result.batches.every((b) => b.status === 'accepted')).toBe(true);
      cycles++;
    } while ((await stored()).some((r) => r.sentAt === null) && cycles < 10);
    expect(cycles).toBe(2); // 232 late readings at 3 files of 50 per cycle

    const all = await stored();
    expect(all.every((r) => r.sentAt !== null)).toBe(true);
    const received = central.rows(SITE_ID);
    expect(central.duplicates(SITE_ID)).toEqual([]);
    const byKey = (a: MpcbDataRow, b: MpcbDataRow) => rowKey(a).localeCompare(rowKey(b));
    expect([...received].sort(byKey)).toEqual(asRows(all).sort(byKey));

    const uploadsOf = (route: 'realtime' | 'delayed') =>
      central.uploads(SITE_ID).filter((u) => u.route === route);
    // Files sent within one second still get names of their own, a second apart.
    const names = central.uploads(SITE_ID).map((u) => u.zipName);
    expect(new Set(names).size).toBe(names.length);
    const delayedRows = uploadsOf('delayed').flatMap((u) => u.rows);
    const delayedTimes = delayedRows.map((r) => r.unixTimestamp);
    expect(delayedTimes).toEqual([...delayedTimes].sort((a, b) => a - b)); // in time order
    // Readings of the outage beyond the real-time window at reconnection came through delayedUpload only.
    const late = unsentDuringOutage.filter(
      (r) => r.readingTime.getTime() < (firstTransmissionAt ?? 0) - 100_000,
    );
    expect(late.length).toBeGreaterThanOrEqual(230);
    const delayedKeys = new Set(delayedRows.map(rowKey));
    const realtimeKeys = new Set(uploadsOf('realtime').flatMap((u) => u.rows.map(rowKey)));
    for (const row of asRows(late)) {
      expect(delayedKeys.has(rowKey(row))).toBe(true);
      expect(realtimeKeys.has(rowKey(row))).toBe(false);
    }
    // and every upload real-time carried readings at most 2 minutes old when it arrived
    for (const upload of uploadsOf('realtime'))
      for (const row of upload.rows)
        expect(upload.receivedAt.getTime() - row.unixTimestamp * 1000).toBeLessThanOrEqual(120_000);
    const uploads = await client.readings.uploads(unit.id);
    expect(uploads.filter((u) => u.status === 'unreachable')).toHaveLength(20);
  });

  it('stops catching up at half the transmission interval when the server is slow, and goes on next cycle', async () => {
    await central.goDown();
    await acquireFor(900); // 180 readings
    await central.comeUp();
    // Real-time: the last 30 s (6 readings), so that they are still fresh after the slow cycle; the other
    // 174 go delayed, 4 files of at most 50.
    client.settings.realtimeWindowSeconds = 30;
    clock.tick = 10_000; // each reading of the clock takes 10 s: the cycle's 30 s are gone after one file
    let result: Awaited<ReturnType<typeof transmit>>;
    try {
      result = await transmit();
    } finally {
      clock.tick = 0;
      client.settings.realtimeWindowSeconds = 100;
    }
    expect(result.batches.map((b) => `${b.route} ${b.status}`)).toEqual([
      'realtime accepted',
      'delayed accepted',
    ]);
    expect((await stored()).filter((r) => r.sentAt === null)).toHaveLength(124);
    // the next cycle, at normal speed, takes up to the file cap (3)
    result = await transmit();
    expect(result.batches.map((b) => `${b.route} ${b.status}`)).toEqual([
      'delayed accepted',
      'delayed accepted',
      'delayed accepted',
    ]);
    expect((await stored()).every((r) => r.sentAt !== null)).toBe(true);
    expect(central.duplicates(SITE_ID)).toEqual([]);
  });

  it('sends through delayedUpload what the server refuses as too old for real-time', async () => {
    client.settings.realtimeWindowSeconds = 600; // wider than the server's 2 minutes
    try {
      await client.acquisition.acquire();
      clock.advance(200_000);
      const result = await transmit();
      expect(result.batches.map((b) => `${b.route} ${b.status}`)).toEqual([
        'realtime rejected',
        'delayed accepted',
      ]);
      const refusal = central.requests().filter((r) => r.route === 'realtimeUpload' && r.httpStatus === 400);
      expect(refusal.at(-1)?.reason).toMatch(/Delayed data must be uploaded through delayedUpload/);
      expect(central.duplicates(SITE_ID)).toEqual([]);
      expect((await stored()).every((r) => r.sentAt !== null)).toBe(true);
    } finally {
      client.settings.realtimeWindowSeconds = 100;
    }
  });

  it('keeps readings the server refuses for an old timestamp or an unregistered version, and sends them later', async () => {
    client.settings.timestampLagSeconds = 16 * 60;
    await acquireFor(20);
    let result = await transmit();
    expect(result.batches).toEqual([expect.objectContaining({ status: 'rejected', httpStatus: 401 })]);
    expect(central.requests().at(-1)?.reason).toMatch(/from the server time/);
    client.settings.timestampLagSeconds = 30;

    central.setSoftwareVersion(SITE_ID, 'ver_2.0');
    result = await transmit();
    expect(result.batches).toEqual([expect.objectContaining({ status: 'rejected', httpStatus: 401 })]);
    expect(central.requests().at(-1)?.reason).toMatch(
      /software version ver_1.0 is not the registered ver_2.0/,
    );
    expect((await stored()).filter((r) => r.sentAt === null)).toHaveLength(4);

    await client.sites.setSoftwareVersion(site.id, 'ver_2.0');
    site = (await client.sites.findSite(site.id))!;
    result = await transmit();
    expect(result.batches).toEqual([expect.objectContaining({ status: 'accepted', readings: 4 })]);
    expect(central.duplicates(SITE_ID)).toEqual([]);
  });

  it('ConfigurationDownloadFlag: getConfig, applies it, completedConfig; a failed download is retried', async () => {
    central.raiseFlag(SITE_ID, UNIT_ID, 'configurationDownload');
    await acquireFor(10);
    let result = await transmit();
    expect(result.instructions).toEqual([
      expect.objectContaining({
        flag: 'ConfigurationDownloadFlag',
        status: 'failed',
        detail: expect.stringMatching(/getConfig/),
      }),
    ]);
    expect(central.flags(SITE_ID, UNIT_ID).configurationDownload).toBe(true);

    central.setConfiguration(SITE_ID, UNIT_ID, {
      SiteDetails: {
        siteName: 'Renamed industry',
        siteLabel: 'Plant A',
        siteConfigLastUpdatedTime: '2026-11-21T10:00:00Z',
        siteId: SITE_ID,
        customparameters: {},
      },
      CollectorDetails: [],
      configJson: {
        id: { required: 'True', padding: '-', start_pos: 1, end_pos: 8, type: 'string', alignment: 'left' },
      },
      AcquisitionSystemDetails: { AcquisitionVersion: '1', AcquisitionSystem: 'central' },
      SensorA: {
        collectorType: 'Emission',
        monitoringType: 'Emission',
        monitoringId: UNIT_ID,
        ChannelNo: '0',
        GaugeMinimum: '',
        CoefficientA: '3',
        parameterId: 'parameter_10',
        GaugeMaximum: '1000',
        MeasurementUnit: 'degC',
        compPort: '',
        parameterName: 'TEMP',
        CoefficientB: '0',
        analyzerId: 'analyzer_8',
        customparameters: {},
      },
      SensorB: {
        monitoringType: 'Emission',
        monitoringId: UNIT_ID,
        ChannelNo: '1',
        GaugeMinimum: '',
        CoefficientA: '1',
        parameterId: 'parameter_12',
        GaugeMaximum: '',
        MeasurementUnit: 'mg/Nm3',
        compPort: '',
        parameterName: 'SO2',
        CoefficientB: '0',
        analyzerId: 'analyzer_9',
        customparameters: {},
      },
    });
    await acquireFor(10);
    result = await transmit();
    expect(result.instructions).toEqual([
      expect.objectContaining({ flag: 'ConfigurationDownloadFlag', status: 'completed' }),
    ]);
    expect(central.flags(SITE_ID, UNIT_ID).configurationDownload).toBe(false);
    expect(central.documents('completedConfig').map((d) => d.body)).toEqual([
      { siteId: SITE_ID, monitoringid: UNIT_ID, ConfigUpdated: 'True' },
    ]);
    const tree = await client.sites.siteTree(site.id);
    expect(tree.site.siteName).toBe('Renamed industry');
    const parameters = tree.monitoringUnits[0].analysers.flatMap((a) =>
      a.parameters.map((p) => ({ a: a.analyzerId, ...p })),
    );
    expect(parameters.find((p) => p.parameterId === 'parameter_10')).toMatchObject({
      coefficientA: 3,
      coefficientB: 0,
      unit: 'degC',
      gaugeMaximum: 1000,
      source: { kind: 'sensor', channel: 'p1ch0' },
    });
    expect(parameters.find((p) => p.parameterId === 'parameter_12')).toMatchObject({
      a: 'analyzer_9',
      source: null,
    });

    iserver.setTrueValue('p1ch0', 10);
    await acquireFor(10);
    const latest = (await stored()).filter((r) => r.parameterId === 'parameter_10').at(-1);
    expect(latest).toMatchObject({ rawReading: 10, validatedReading: 30, readingUnit: 'degC' });
    iserver.setTrueValue('p1ch0', null);
    const log = await client.calibrations.instructions(unit.id);
    expect(log.map((l) => `${l.flag} ${l.status}`)).toEqual([
      'ConfigurationDownloadFlag failed',
      'ConfigurationDownloadFlag completed',
    ]);
  });

  it('ConfigurationUpdateFlag: uploadConfig with the current configuration', async () => {
    central.raiseFlag(SITE_ID, UNIT_ID, 'configurationUpdate');
    await acquireFor(10); // flags come with the answer to an upload
    const result = await transmit();
    expect(result.instructions).toEqual([
      expect.objectContaining({ flag: 'ConfigurationUpdateFlag', status: 'completed' }),
    ]);
    expect(central.flags(SITE_ID, UNIT_ID).configurationUpdate).toBe(false);
    const [document] = central.documents('uploadConfig');
    expect(document.body).toMatchObject({
      Command: 'ConfigFetch',
      SiteDetails: { siteId: SITE_ID, monitoringId: UNIT_ID, siteName: 'Renamed industry' },
      CollectorDetails: [
        expect.objectContaining({
          CollectorType: 'OMEGA_ISERVER2',
          CollectorName: 'iserver2-sim',
          ConfiguredChannels: '2',
          PollingStep: '10',
        }),
      ],
      configJson: { id: expect.objectContaining({ start_pos: 1 }) },
      SensorA: expect.objectContaining({
        analyzerId: 'analyzer_8',
        parameterId: 'parameter_10',
        CoefficientA: '3',
        MeasurementUnit: 'degC',
      }),
      SensorB: expect.objectContaining({ analyzerId: 'analyzer_8', parameterId: 'parameter_11' }),
      SensorC: expect.objectContaining({ analyzerId: 'analyzer_9', parameterId: 'parameter_12' }),
    });
  });

  it('RemoteCalibrationUpdateFlag: downloads, schedules and acknowledges; readings during calibration are flagged', async () => {
    const india = (at: Date) => DateTime.fromJSDate(at, { zone: 'Asia/Kolkata' });
    const start = new Date(clock.now().getTime() + 60_000);
    const end = new Date(clock.now().getTime() + 11 * 60_000);
    central.setCalibration(
      SITE_ID,
      UNIT_ID,
      {
        calibratorName: 'Cal-1',
        sequence: [
          {
            function: 'zero',
            duration_secs: '300',
            gas: 'N2',
            value: '0',
            delay: '0',
            sequenceName: 'Zero',
            duration: '5',
            type: 'zero',
            unit: '%',
          },
        ],
        siteName: 'Renamed industry',
        monitoringType: 'Emission',
        frequency: '1',
        analyzerId: 'analyzer_8',
        parameterId: 'parameter_11',
        remoteCalibrationId: 'rc-7',
        parameterName: 'RH',
        siteId: SITE_ID,
        startTime: { date: india(start).toFormat('yyyy-MM-dd'), time: india(start).toFormat('HH:mm:ss') },
        endTime: { date: india(end).toFormat('yyyy-MM-dd'), time: india(end).toFormat('HH:mm:ss') },
        executeImmediate: 'False',
      },
      'Scheduled',
    );
    central.raiseFlag(SITE_ID, UNIT_ID, 'remoteCalibrationUpdate');
    await acquireFor(10);
    const result = await transmit();
    expect(result.instructions).toEqual([
      expect.objectContaining({ flag: 'RemoteCalibrationUpdateFlag', status: 'completed' }),
    ]);
    expect(central.flags(SITE_ID, UNIT_ID).remoteCalibrationUpdate).toBe(false);
    expect(central.documents('updateCalibrationConfig').map((d) => d.body)).toEqual([
      { siteId: SITE_ID, monitoringid: UNIT_ID, CalibrationType: 'Scheduled' },
    ]);

    await acquireFor(10); // before the start: not flagged
    clock.set(new Date(start.getTime() + 30_000));
    await acquireFor(10);
    const readings = await stored();
    const [before, during] = readings.filter((r) => r.parameterId === 'parameter_11').slice(-2);
    expect(before).toMatchObject({ calibrationFlag: 0, qualityCode: 'U' });
    expect(during).toMatchObject({ calibrationFlag: 1, qualityCode: 'C' });
    expect(readings.filter((r) => r.parameterId === 'parameter_10').at(-1)).toMatchObject({
      calibrationFlag: 0,
    });
    await transmit();
    const sent = central
      .rows(SITE_ID)
      .filter((r) => r.parameterId === 'parameter_11')
      .at(-1);
    expect(sent).toMatchObject({ calibrationFlag: 1, dataQualityCode: 'C' });
  });

  it('DiagnosticUpdateFlag: uploads analyser diagnostics from the iServer 2 metadata and alarm status', async () => {
    await client.sites.setMaintenance(analyser.id, true);
    await acquireFor(10);
    expect((await stored()).at(-1)).toMatchObject({ maintenanceFlag: 1, qualityCode: 'M' });
    await client.sites.setMaintenance(analyser.id, false);

    central.raiseFlag(SITE_ID, UNIT_ID, 'diagnosticUpdate');
    await acquireFor(10);
    const result = await transmit();
    expect(result.instructions).toEqual([
      expect.objectContaining({ flag: 'DiagnosticUpdateFlag', status: 'completed' }),
    ]);
    expect(central.flags(SITE_ID, UNIT_ID).diagnosticUpdate).toBe(false);
    const [document] = central.documents('uploadDiagnosticInfo');
    const entries = document.body.diagnosticJson as {
      analyserId: string;
      diagnostics: { key: string; value: string; category: string }[];
    }[];
    expect(entries.map((e) => e.analyserId)).toEqual(['analyzer_8', 'analyzer_9']);
    const items = entries[0].diagnostics;
    expect(items).toContainEqual({ key: 'status', value: 'reachable', category: 'communication' });
    expect(items.some((i) => i.category === 'unit')).toBe(true); // systemMeta
    // alarm status of each sensor (alarmStatus), under the probes category
    expect(items.filter((i) => /^probes\.\d+\.sensors\.\d+\.alarm$/.test(i.key))).toHaveLength(3);
    expect(items.find((i) => i.key.endsWith('.sensors.0.alarm'))).toMatchObject({
      category: 'probes',
      value: '0',
    });
    expect(items.find((i) => i.key === 'parameter_10.lastReadingTime')?.value).toMatch(/^\d{4}-/);
    // analyzer_9 came from the server's configuration and has no source: acquisition state only.
    expect(entries[1].diagnostics.map((i) => i.category)).toEqual(['status', 'acquisition']);
  });
  it('prunes readings the server accepted, and their uploads, after the retention; never a reading still owed', async () => {
    await acquireFor(10); // readings not transmitted: owed to the server
    const count = async () => {
      const [row] = await client.dataSource.query<
        { sent: number; unsent: number; uploads: number; referenced: number }[]
      >(
        `SELECT (SELECT count(*)::int FROM mpcb.readings WHERE sent_at IS NOT NULL) AS sent,
                (SELECT count(*)::int FROM mpcb.readings WHERE sent_at IS NULL) AS unsent,
                (SELECT count(*)::int FROM mpcb.uploads) AS uploads,
                (SELECT count(DISTINCT upload_ref)::int FROM mpcb.readings) AS referenced`,
      );
      return row;
    };
    const before = await count();
    expect(before.sent).toBeGreaterThan(0);
    expect(before.unsent).toBeGreaterThan(0);
    const [{ first, last }] = await client.dataSource.query<{ first: Date; last: Date }[]>(
      `SELECT min(sent_at) AS first, max(sent_at) AS last FROM mpcb.readings`,
    );
    expect(first.getTime()).toBeLessThan(last.getTime());
    // Nothing was sent before the first send.
    expect(await client.readings.pruneSent(first)).toEqual({ readings: 0, uploads: 0 });
    // Up to the last send (excluded), in batches of 7: what it carried stays, with its upload.
    const some = await client.readings.pruneSent(last, 7);
    expect(some.readings).toBeGreaterThan(7);
    const middle = await count();
    expect(middle.sent).toBe(before.sent - some.readings);
    expect(middle.sent).toBeGreaterThan(0);
    expect(middle.unsent).toBe(before.unsent);
    expect(middle.uploads).toBe(before.uploads - some.uploads);
    expect(middle.uploads).toBeGreaterThanOrEqual(middle.referenced);
    // Everything sent: the owed readings stay, every upload goes (none is referred to any more).
    const rest = await client.readings.pruneSent(new Date(last.getTime() + 1));
    expect(await count()).toEqual({ sent: 0, unsent: before.unsent, uploads: 0, referenced: 0 });
    expect(rest.readings).toBe(middle.sent);
    // What is owed still goes out, and the next transmission records its upload anew.
    const sent = await transmit();
    expect(sent.batches).toEqual([expect.objectContaining({ status: 'accepted', readings: before.unsent })]);
    expect(await count()).toMatchObject({ sent: before.unsent, unsent: 0, uploads: 1 });
  });
});
