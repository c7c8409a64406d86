/**
 * The MPCB central server simulator through plain HTTP: it accepts what the Open API describes and
 * refuses, with the document's failure answers, what the real server would refuse.
 */
import AdmZip from 'adm-zip';
import {
  METADATA_CSV,
  MpcbAuthorizationEncoding,
  MpcbDataRow,
  authorizationHeader,
  buildUploadPackage,
  encryptHashPadded,
  formatDataCsv,
  headerTimestamp,
} from '@hes/mpcb';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';

const KEY = 'c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy#####';
const OTHER_KEY = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0';
const ZONE = 'Asia/Kolkata';

describe('MPCB central server simulator', () => {
  let sim: MpcbCentralSimulatorHandle;
  let now: Date;

  const row = (unixTimestamp: number, overrides: Partial<MpcbDataRow> = {}): MpcbDataRow => ({
    siteId: 'site_1234',
    siteUid: 'site_1234',
    monitoringUnitId: 'Stack1',
    analyzerId: 'analyzer_8',
    parameterId: 'parameter_10',
    parameterName: 'PM',
    rawReading: 15,
    readingUnit: 'mg/Nm3',
    dataQualityCode: 'U',
    validatedReading: 15,
    unixTimestamp,
    calibrationFlag: 0,
    maintenanceFlag: 0,
    ...overrides,
  });
  const nowSeconds = () => Math.floor(now.getTime() / 1000);

  const headers = (
    options: {
      key?: string;
      version?: string;
      at?: Date;
      encoding?: MpcbAuthorizationEncoding;
      siteId?: string;
    } = {},
  ): Record<string, string> => {
    const timestamp = headerTimestamp(options.at ?? now, ZONE);
    return {
      Timestamp: timestamp,
      Authorization: authorizationHeader(
        options.siteId ?? 'site_1234',
        options.version ?? 'ver_1.0',
        timestamp,
        options.key ?? KEY,
        options.encoding,
      ),
    };
  };

  const upload = async (
    route: string,
    zip: Buffer | null,
    zipName: string,
    requestHeaders: Record<string, string> = headers(),
  ) => {
    const form = new FormData();
    if (zip) form.append('file', new Blob([zip]), zipName);
    else form.append('note', 'no file');
    const response = await fetch(`${sim.baseUrl}/${route}`, {
      method: 'POST',
      headers: requestHeaders,
      body: form,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const post = async (path: string, body: unknown, requestHeaders: Record<string, string> = headers()) => {
    const response = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { ...requestHeaders, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const pack = (rows: MpcbDataRow[], monitoringId = 'Stack1') =>
    buildUploadPackage({ siteId: 'site_1234', monitoringId, siteKey: KEY, at: now, timeZone: ZONE, rows });

  beforeAll(async () => {
    now = new Date('2026-11-21T06:00:00Z');
    sim = await startMpcbCentralSimulator({
      port: 0,
      now: () => now,
      sites: [
        { siteId: 'site_1234', siteKey: KEY, softwareVersionId: 'ver_1.0', monitoringIds: ['Stack1'] },
        { siteId: 'site_9', siteKey: OTHER_KEY, softwareVersionId: 'ver_9' },
      ],
    });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('accepts a real-time upload with either Authorization encoding and answers the flags', async () => {
    const first = pack([row(nowSeconds() - 30), row(nowSeconds() - 20, { parameterId: 'parameter_11' })]);
    let answer = await upload('realtimeUpload', first.zip, first.zipName);
    expect(answer).toEqual({
      status: 200,
      body: {
        status: 'Success',
        serverConfigLastUpdatedTime: '2026-11-21T11:30:00Z',
        ConfigurationDownloadFlag: 'False',
        ConfigurationUpdateFlag: 'False',
        RemoteCalibrationUpdateFlag: 'False',
        DiagnosticUpdateFlag: 'False',
        statusMessage: 'file uploaded successfully.',
      },
    });
    sim.raiseFlag('site_1234', 'Stack1', 'diagnosticUpdate');
    const second = pack([row(nowSeconds() - 10)]);
    answer = await upload('realtimeUpload', second.zip, second.zipName, headers({ encoding: 'pkcs7' }));
    expect(answer.body).toMatchObject({ status: 'Success', DiagnosticUpdateFlag: 'True' });
    expect(sim.uploads('site_1234').map((u) => u.rows.length)).toEqual([2, 1]);
    expect(sim.rows('site_1234')[0]).toEqual(row(nowSeconds() - 30));
  });

  it('refuses bad authentication with 401 "Authentication Failure"', async () => {
    const file = pack([row(nowSeconds() - 5)]);
    const cases: [Record<string, string>, RegExp][] = [
      [headers({ key: 'k'.repeat(32) }), /does not decrypt with the key of any registered site/],
      [headers({ version: 'ver_0.9' }), /software version ver_0.9 is not the registered ver_1.0/],
      [headers({ at: new Date(now.getTime() - 16 * 60_000) }), /from the server time/],
      [headers({ at: new Date(now.getTime() + 16 * 60_000) }), /from the server time/],
      [
        { ...headers(), Timestamp: headerTimestamp(new Date(now.getTime() - 60_000), ZONE) },
        /is not the Timestamp header/,
      ],
      [{ Authorization: headers().Authorization }, /no Timestamp header/],
      [{ Timestamp: headers().Timestamp }, /no Authorization header/],
      [{ ...headers(), Authorization: 'Bearer abc' }, /any registered site/],
    ];
    for (const [requestHeaders, reason] of cases) {
      const answer = await upload('realtimeUpload', file.zip, file.zipName, requestHeaders);
      expect(answer).toEqual({
        status: 401,
        body: { status: 'Failed', statusMessage: 'Authentication Failure' },
      });
      expect(sim.requests().at(-1)?.reason).toMatch(reason);
    }
    // A digest made with site_9's key but claiming site_1234 authenticates nobody.
    const forged = await upload('realtimeUpload', file.zip, file.zipName, headers({ key: OTHER_KEY }));
    expect(forged.status).toBe(401);
    expect(sim.uploads('site_1234')).toHaveLength(2);
  });

  it('refuses delayed data on the real-time route and takes it on delayedUpload', async () => {
    const late = pack([row(nowSeconds() - 600)]);
    const refused = await upload('realtimeUpload', late.zip, late.zipName);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      status: 'Failed',
      statusMessage: expect.stringMatching(/delayedUpload.*600 s old/),
    });
    const accepted = await upload('delayedUpload', late.zip, late.zipName);
    expect(accepted.body.status).toBe('Success');
    expect(sim.uploads('site_1234').at(-1)?.route).toBe('delayed');
    const future = pack([row(nowSeconds() + 3600)]);
    expect((await upload('delayedUpload', future.zip, future.zipName)).body.statusMessage).toMatch(/future/);
  });

  it('refuses malformed uploads with the document failure answer', async () => {
    const good = pack([row(nowSeconds())]);
    const zipWith = (files: Record<string, string>) => {
      const zip = new AdmZip();
      for (const [name, content] of Object.entries(files)) zip.addFile(name, Buffer.from(content));
      return zip.toBuffer();
    };
    const name = good.dataFileName;
    const cases: [Buffer | null, string, RegExp][] = [
      [null, good.zipName, /^No files were uploaded\.$/],
      [Buffer.from('garbage'), good.zipName, /not a readable zip/],
      [good.zip, 'upload.txt', /not a \.zip file/],
      [good.zip, 'site_1234_Stack1_20000101000000.zip', /does not carry the data file/],
      [zipWith({ [name]: good.encryptedData }), good.zipName, /exactly one metadata.csv/],
      [
        zipWith({ 'metadata.csv': 'SITE_ID,PARAMETER_ID\n', [name]: good.encryptedData }),
        good.zipName,
        /header/,
      ],
      [
        zipWith({ 'metadata.csv': METADATA_CSV, [name]: formatDataCsv([row(nowSeconds())]) }),
        good.zipName,
        /cannot be decrypted/,
      ],
      [
        zipWith({ 'metadata.csv': METADATA_CSV, [name]: encryptHashPadded('a,b,c\n', KEY) }),
        good.zipName,
        /line 1 has 3 fields/,
      ],
      [
        zipWith({
          'metadata.csv': METADATA_CSV,
          [name]: encryptHashPadded(formatDataCsv([row(nowSeconds(), { siteId: 'site_9' })]), KEY),
        }),
        good.zipName,
        /SITE_ID site_9 is not the authenticated site/,
      ],
      [
        pack([row(nowSeconds(), { monitoringUnitId: 'Stack9' })], 'Stack9').zip,
        pack([row(nowSeconds(), { monitoringUnitId: 'Stack9' })], 'Stack9').zipName,
        /Stack9 is not registered/,
      ],
      [
        zipWith({ 'metadata.csv': METADATA_CSV, 'other_Stack1_20261121113000.csv': good.encryptedData }),
        'other_Stack1_20261121113000.zip',
        /is not named site_1234_/,
      ],
    ];
    for (const [zip, zipName, message] of cases) {
      const answer = await upload('realtimeUpload', zip, zipName);
      expect(answer.status).toBe(400);
      expect(answer.body.status).toBe('Failed');
      expect(answer.body.statusMessage).toMatch(message);
    }
  });

  it('serves configuration and calibration, receives configuration and diagnostics, and clears the flags', async () => {
    const ids = { siteId: 'site_1234', monitoringid: 'Stack1' };
    expect(await post('/mpcb/getConfig', ids)).toEqual({ status: 404, body: { status: 'Failed' } });
    sim.setConfiguration('site_1234', 'Stack1', {
      SiteDetails: { siteId: 'site_1234' },
      SensorA: { parameterId: 'p' },
    });
    sim.raiseFlag('site_1234', 'Stack1', 'configurationDownload');
    // The document also writes http://ipaddress:port/MPCBServer/getConfig: that prefix is accepted too.
    expect((await post('/MPCBServer/getConfig', ids)).body).toMatchObject({
      status: 'Success',
      SensorA: { parameterId: 'p' },
    });
    expect(sim.flags('site_1234', 'Stack1').configurationDownload).toBe(true); // until completedConfig
    expect((await post('/mpcb/completedConfig', { ...ids, ConfigUpdated: 'False' })).body).toEqual({
      status: 'Failed',
      calibrationUpdateStatus: 'Failed to update Configuration status',
    });
    expect((await post('/mpcb/completedConfig', { ...ids, ConfigUpdated: 'True' })).body).toEqual({
      status: 'Success',
      calibrationUpdateStatus: 'Server and Site Configuration Synchronized',
    });
    expect(sim.flags('site_1234', 'Stack1').configurationDownload).toBe(false);

    const calibrationRequest = { ...ids, CalibrationType: 'Immediate' };
    expect((await post('/mpcb/getcalibrationconfig', calibrationRequest)).body).toEqual({
      status: 'Failed. Calibration configuration not available',
    });
    sim.setCalibration('site_1234', 'Stack1', { analyzerId: 'analyzer_8', executeImmediate: 'True' });
    expect((await post('/mpcb/getCalibrationConfig', calibrationRequest)).body).toMatchObject({
      status: 'Success',
      calibration: { analyzerId: 'analyzer_8' },
      siteId: 'site_1234',
    });
    expect((await post('/mpcb/getCalibrationConfig', { ...ids, CalibrationType: 'Sometime' })).status).toBe(
      400,
    );
    sim.raiseFlag('site_1234', 'Stack1', 'remoteCalibrationUpdate');
    expect((await post('/mpcb/updateCalibrationConfig', calibrationRequest)).body).toEqual({
      status: 'Success',
      calibrationUpdateStatus: 'Server and Site Calibration Synchronized',
    });
    expect(sim.flags('site_1234', 'Stack1').remoteCalibrationUpdate).toBe(false);

    sim.raiseFlag('site_1234', 'Stack1', 'configurationUpdate');
    const details = { siteId: 'site_1234', monitoringId: 'Stack1' };
    expect((await post('/mpcb/uploadConfig', { Command: 'ConfigFetch', SiteDetails: details })).body).toEqual(
      {
        status: 'Failed',
        configUpdateStatus: 'Failed to receive Site Configuration. Please retry',
      },
    );
    const sensor = {
      monitoringId: 'Stack1',
      parameterId: 'p',
      parameterName: 'PM',
      analyzerId: 'a',
      MeasurementUnit: 'mg',
    };
    const config = {
      Command: 'ConfigFetch',
      SiteDetails: details,
      CollectorDetails: [],
      AcquisitionSystemDetails: {},
      SensorA: sensor,
    };
    expect((await post('/mpcb/uploadConfig', config)).body).toEqual({
      status: 'Success',
      configUpdateStatus: 'Received Site configuration successfully',
    });
    expect(sim.flags('site_1234', 'Stack1').configurationUpdate).toBe(false);

    sim.raiseFlag('site_1234', 'Stack1', 'diagnosticUpdate');
    const diagnostics = {
      Command: 'DiagnosticFetch',
      SiteDetails: details,
      CollectorDetails: [],
      diagnosticJson: [
        {
          analyserId: 'a',
          parameterName: '',
          diagnostics: [{ key: 'lamp', value: 'ok', category: 'optics' }],
        },
      ],
    };
    expect(
      (await post('/mpcb/uploadDiagnosticsInfo', { ...diagnostics, diagnosticJson: [{ analyserId: 'a' }] }))
        .body,
    ).toEqual({
      status: 'Failed',
      diagnosticUpdateStatus: 'Failed to receive Site diagnostics. Please retry',
    });
    expect((await post('/mpcb/uploadDiagnosticInfo', diagnostics)).body).toEqual({
      status: 'Success',
      diagnosticUpdateStatus: 'Received Site diagnostics successfully',
    });
    expect(sim.flags('site_1234', 'Stack1').diagnosticUpdate).toBe(false);
    expect(sim.documents('uploadDiagnosticInfo')[0].body).toEqual(diagnostics);
  });

  it('refuses another site id in the body, unknown routes, other methods and bad JSON', async () => {
    expect((await post('/mpcb/getConfig', { siteId: 'site_9', monitoringid: 'Stack1' })).status).toBe(403);
    expect((await post('/mpcb/getConfig', { siteId: 'site_1234', monitoringid: 'Stack7' })).status).toBe(400);
    expect((await post('/mpcb/nothingHere', {})).status).toBe(404);
    expect((await fetch(`${sim.baseUrl}/getConfig`)).status).toBe(405);
    const bad = await fetch(`${sim.baseUrl}/getConfig`, {
      method: 'POST',
      headers: headers(),
      body: '{not json',
    });
    expect(bad.status).toBe(400);
  });

  it('goes down and comes back on the same port, keeping what it received', async () => {
    const before = sim.uploads().length;
    await sim.goDown();
    await expect(fetch(`${sim.baseUrl}/getConfig`, { method: 'POST' })).rejects.toThrow();
    await sim.comeUp();
    const file = pack([row(nowSeconds())]);
    expect((await upload('realtimeUpload', file.zip, file.zipName)).status).toBe(200);
    expect(sim.uploads()).toHaveLength(before + 1);
  });

  it('going down also ends a connection kept alive through it: no request is served until it comes up', async () => {
    const slow = await startMpcbCentralSimulator({ port: 0, sites: [], latencyMs: 300 });
    try {
      const requestsUrl = `${slow.url}/_simulator/requests`;
      expect((await fetch(requestsUrl)).status).toBe(200); // the client now keeps a connection alive
      const inFlight = fetch(requestsUrl);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const down = slow.goDown();
      expect((await inFlight).status).toBe(200); // answered: the outage starts after it
      // A client that keeps its connection busy (an upload every few seconds) is refused all the same.
      for (let attempt = 0; attempt < 4; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await expect(fetch(requestsUrl)).rejects.toThrow();
      }
      await down; // the server has no connection left: goDown() finishes
      await slow.comeUp();
      expect((await fetch(requestsUrl)).status).toBe(200);
    } finally {
      await slow.stop();
    }
  });

  it('can be driven over HTTP control routes (CLI use)', async () => {
    const raise = await fetch(`${sim.url}/_simulator/flags`, {
      method: 'POST',
      body: JSON.stringify({ siteId: 'site_9', monitoringId: 'Main', flag: 'configurationUpdate' }),
    });
    expect(raise.status).toBe(200);
    expect(sim.flags('site_9', 'Main').configurationUpdate).toBe(true);
    const wrong = await fetch(`${sim.url}/_simulator/flags`, {
      method: 'POST',
      body: JSON.stringify({ siteId: 'site_9', monitoringId: 'Main', flag: 'everything' }),
    });
    expect(wrong.status).toBe(400);
    const uploads = (await (await fetch(`${sim.url}/_simulator/sites/site_1234/uploads`)).json()) as {
      uploads: unknown[];
    };
    expect(uploads.uploads.length).toBe(sim.uploads('site_1234').length);
  });
});
