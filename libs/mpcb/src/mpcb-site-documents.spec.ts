import {
  MpcbDocumentError,
  flattenDiagnostics,
  readCalibration,
  readDateTime,
  readServerConfiguration,
  sensorKey,
} from './mpcb-site-documents';
import { DEFAULT_MPCB_ROUTES, routeUrl, siteRouteUrl } from './mpcb-settings';
import { linearise, qualityOf } from './mpcb-acquisition.service';
import { inCalibration } from './mpcb-calibration.repository';

const ZONE = 'Asia/Kolkata';

describe('MPCB documents', () => {
  it('names sensors SensorA … SensorZ, SensorAA …', () => {
    expect([0, 1, 25, 26, 27, 51, 52].map(sensorKey)).toEqual([
      'SensorA',
      'SensorB',
      'SensorZ',
      'SensorAA',
      'SensorAB',
      'SensorAZ',
      'SensorBA',
    ]);
  });

  it('reads the Sensor entries of one monitoring unit from a getConfig answer', () => {
    const configuration = readServerConfiguration(
      {
        status: 'Success',
        serverConfigLastUpdatedTime: '2015-02-24T13:21:19Z',
        SiteDetails: { siteName: 'Plant', siteLabel: 'P', siteConfigLastUpdatedTime: 'x', siteId: 's' },
        SensorA: {
          monitoringId: 'Stack1',
          parameterId: 'parameter_10',
          parameterName: 'PM',
          MeasurementUnit: 'mg/Nm3',
          analyzerId: 'analyzer_8',
          CoefficientA: '',
          CoefficientB: '',
          GaugeMinimum: '',
          GaugeMaximum: '500',
          ChannelNo: '2',
        },
        SensorB: {
          monitoringId: 'Stack2',
          parameterId: 'x',
          parameterName: 'y',
          MeasurementUnit: 'z',
          analyzerId: 'a',
        },
      },
      'Stack1',
    );
    expect(configuration).toEqual({
      serverConfigLastUpdatedTime: '2015-02-24T13:21:19Z',
      siteConfigLastUpdatedTime: 'x',
      siteName: 'Plant',
      siteLabel: 'P',
      sensors: [
        {
          analyzerId: 'analyzer_8',
          parameterId: 'parameter_10',
          parameterName: 'PM',
          unit: 'mg/Nm3',
          coefficientA: 1,
          coefficientB: 0,
          gaugeMinimum: null,
          gaugeMaximum: 500,
          channelNo: '2',
        },
      ],
    });
    expect(() => readServerConfiguration({ SensorA: { monitoringId: 'Stack1' } }, 'Stack1')).toThrow(
      MpcbDocumentError,
    );
    expect(() =>
      readServerConfiguration(
        {
          SensorA: {
            parameterId: 'p',
            parameterName: 'n',
            MeasurementUnit: 'u',
            analyzerId: 'a',
            CoefficientA: 'two',
          },
        },
        'Stack1',
      ),
    ).toThrow(/CoefficientA "two" is not a number/);
    expect(() => readServerConfiguration({ status: 'Success' }, 'Stack1')).toThrow(/no sensor/);
  });

  it('reads calibration start and end as wall-clock time of the zone', () => {
    const now = new Date('2026-11-21T06:00:00Z');
    const scheduled = readCalibration(
      {
        status: 'Success',
        calibration: {
          analyzerId: 'analyzer_8',
          parameterId: 'parameter_10',
          remoteCalibrationId: 'rc-1',
          startTime: { date: '2026-11-22', time: '10:30' },
          endTime: { date: '22-11-2026', time: '10:45:00' },
        },
      },
      'unit-ref',
      'Scheduled',
      now,
      ZONE,
    );
    expect(scheduled).toMatchObject({
      analyzerId: 'analyzer_8',
      parameterId: 'parameter_10',
      remoteCalibrationId: 'rc-1',
      startsAt: new Date('2026-11-22T05:00:00Z'),
      endsAt: new Date('2026-11-22T05:15:00Z'),
    });
    const immediate = readCalibration(
      {
        calibration: {
          executeImmediate: 'True',
          sequence: [
            { duration_secs: '120', delay: '1' },
            { duration: '2', delay: '0' },
          ],
        },
      },
      'unit-ref',
      'Scheduled',
      now,
      ZONE,
    );
    // 1 min delay + 120 s, then 2 min: 5 minutes from now; no analyser named = every analyser.
    expect(immediate).toMatchObject({
      startsAt: now,
      endsAt: new Date('2026-11-21T06:05:00Z'),
      analyzerId: null,
    });
    expect(
      readCalibration(
        { calibration: { executeImmediate: 'True', total_duration: '15' } },
        'u',
        'Immediate',
        now,
        ZONE,
      ).endsAt,
    ).toEqual(new Date('2026-11-21T06:15:00Z'));
    expect(() => readCalibration({ status: 'Success' }, 'u', 'Scheduled', now, ZONE)).toThrow(
      /no "calibration"/,
    );
    expect(() =>
      readCalibration({ calibration: { executeImmediate: 'True' } }, 'u', 'Immediate', now, ZONE),
    ).toThrow(/neither an endTime/);
    expect(() => readDateTime({ date: '31/31/2026', time: '10:00' }, ZONE)).toThrow(MpcbDocumentError);
  });

  it('flattens driver diagnostics into key, value and category', () => {
    expect(
      flattenDiagnostics({
        unit: { model: 'iServer 2', lastSeen: new Date('2026-11-21T06:00:00Z') },
        probes: [{ connected: false, name: null }],
      }),
    ).toEqual([
      { key: 'unit.model', value: 'iServer 2', category: 'unit' },
      { key: 'unit.lastSeen', value: '2026-11-21T06:00:00.000Z', category: 'unit' },
      { key: 'probes.0.connected', value: 'false', category: 'probes' },
      { key: 'probes.0.name', value: '', category: 'probes' },
    ]);
  });
});

describe('MPCB acquisition rules', () => {
  it('linearises without float noise and sets the quality code', () => {
    expect(linearise(1.1, 3, 0)).toBe(3.3);
    expect(linearise(20.5, 2, 1)).toBe(42);
    const captureTime = new Date('2026-02-13T12:25:20Z');
    const reading = {
      validated: 5,
      gaugeMinimum: 0,
      gaugeMaximum: 10,
      calibrating: false,
      maintenance: false,
      deviceTime: captureTime,
      captureTime,
      clockToleranceSeconds: 900,
    };
    const off = (seconds: number): Date => new Date(captureTime.getTime() + seconds * 1000);
    expect(qualityOf(reading)).toBe('U');
    expect(qualityOf({ ...reading, validated: 11 })).toBe('O');
    expect(qualityOf({ ...reading, gaugeMinimum: null, gaugeMaximum: null, calibrating: true })).toBe('C');
    expect(qualityOf({ ...reading, calibrating: true, maintenance: true })).toBe('M');
    // The device clock: within the tolerance either way is valid, beyond it suspect.
    expect(qualityOf({ ...reading, deviceTime: off(-900) })).toBe('U');
    expect(qualityOf({ ...reading, deviceTime: off(900) })).toBe('U');
    expect(qualityOf({ ...reading, deviceTime: off(-901) })).toBe('S');
    expect(qualityOf({ ...reading, deviceTime: off(3 * 365 * 86400) })).toBe('S');
    expect(qualityOf({ ...reading, deviceTime: null })).toBe('U'); // no device time, nothing to doubt
    // Precedence M > C > S > O.
    expect(qualityOf({ ...reading, deviceTime: off(-3600), validated: 11 })).toBe('S');
    expect(qualityOf({ ...reading, deviceTime: off(-3600), calibrating: true })).toBe('C');
    expect(qualityOf({ ...reading, deviceTime: off(-3600), maintenance: true })).toBe('M');
  });

  it('matches calibration windows by analyser, parameter and time', () => {
    const window = {
      id: '1',
      analyzerId: 'a',
      parameterId: null,
      startsAt: new Date('2026-01-01T00:00:00Z'),
      endsAt: new Date('2026-01-01T00:10:00Z'),
    };
    expect(inCalibration([window], 'a', 'p', new Date('2026-01-01T00:05:00Z'))).toBe(true);
    expect(inCalibration([window], 'b', 'p', new Date('2026-01-01T00:05:00Z'))).toBe(false);
    expect(inCalibration([window], 'a', 'p', new Date('2026-01-01T00:10:01Z'))).toBe(false);
  });

  it('joins relative routes to the base URL and keeps absolute ones', () => {
    const settings = {
      baseUrl: 'https://onlinecems.ecmpcb.in/mpcb/',
      routes: {
        ...DEFAULT_MPCB_ROUTES,
        getConfig: '/MPCBServer/getConfig',
        uploadConfig: 'http://10.0.0.1:8080/x/uploadConfig',
      },
    };
    expect(routeUrl(settings, 'realtimeUpload')).toBe('https://onlinecems.ecmpcb.in/mpcb/realtimeUpload');
    expect(routeUrl(settings, 'getConfig')).toBe('https://onlinecems.ecmpcb.in/mpcb/MPCBServer/getConfig');
    expect(routeUrl(settings, 'uploadConfig')).toBe('http://10.0.0.1:8080/x/uploadConfig');
  });

  it("sends every route of a site with its own central server there, the site's address winning", () => {
    const settings = {
      baseUrl: 'https://onlinecems.ecmpcb.in/mpcb',
      routes: { ...DEFAULT_MPCB_ROUTES, uploadConfig: 'http://10.0.0.1:8080/x/uploadConfig?v=2' },
    };
    const site = { centralServerUrl: 'http://127.0.0.1:9001/test-board/' };
    expect(siteRouteUrl(settings, site, 'realtimeUpload')).toBe(
      'http://127.0.0.1:9001/test-board/realtimeUpload',
    );
    expect(siteRouteUrl(settings, site, 'uploadConfig')).toBe('http://127.0.0.1:9001/x/uploadConfig?v=2');
    expect(siteRouteUrl(settings, { centralServerUrl: null }, 'realtimeUpload')).toBe(
      'https://onlinecems.ecmpcb.in/mpcb/realtimeUpload',
    );
    expect(siteRouteUrl(settings, {}, 'uploadConfig')).toBe('http://10.0.0.1:8080/x/uploadConfig?v=2');
  });
});
