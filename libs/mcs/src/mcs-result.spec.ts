import { McsCollectionRequest } from './mcs-request';
import {
  clockOffsetSeconds,
  decideTimeAdjustment,
  formatMcsTime,
  formatMeterTime,
  statusDocument,
} from './mcs-result';

describe('MCS result formatting', () => {
  it('formats times in UTC and the meter time with its offset', () => {
    expect(formatMcsTime(new Date('2019-01-02T04:00:00.700Z'))).toBe('2019-01-02T04:00:00Z');
    expect(formatMeterTime(new Date('2014-10-31T23:33:32Z'), -203)).toBe('2014-10-31T23:33:32 -203s');
    expect(formatMeterTime(new Date('2014-10-31T23:33:32Z'), 10)).toBe('2014-10-31T23:33:32 +10s');
    expect(formatMeterTime(new Date('2014-10-31T23:33:32Z'), 0)).toBe('2014-10-31T23:33:32 +0s');
  });

  it('measures the offset against the middle of the exchange', () => {
    const sent = Date.parse('2026-11-21T10:00:00Z');
    expect(clockOffsetSeconds(new Date('2026-11-21T10:01:00Z'), sent, sent + 2000)).toBe(59);
    expect(clockOffsetSeconds(new Date('2026-11-21T09:59:00Z'), sent, sent)).toBe(-60);
  });

  it('adjusts only between the minimum (exclusive) and the maximum (inclusive) threshold', () => {
    expect(decideTimeAdjustment(5, 10, 600)).toEqual({ adjust: false, result: 'NOT REQUIRED' });
    expect(decideTimeAdjustment(-10, 10, 600)).toEqual({ adjust: false, result: 'NOT REQUIRED' });
    expect(decideTimeAdjustment(11, 10, 600)).toEqual({ adjust: true });
    expect(decideTimeAdjustment(-600, 10, 600)).toEqual({ adjust: true });
    expect(decideTimeAdjustment(601, 10, 600)).toEqual({
      adjust: false,
      result: 'ERROR: meter time is 601s ahead, more than the maximum threshold of 600s',
    });
    expect(decideTimeAdjustment(-700, 10, 600)).toMatchObject({
      result: 'ERROR: meter time is 700s behind, more than the maximum threshold of 600s',
    });
  });

  it('emits the result as result and resultSummary, with the request repeated', () => {
    const request: McsCollectionRequest = {
      requestReference: 'r1',
      mpan: '12345',
      responseUrl: 'http://master/results',
      priority: 2,
      delayUntil: null,
      meterType: 'ABB_G13',
      remoteAddress: '10.0.0.1:443',
      remoteAddressKind: 'ip',
      comsSettings: null,
      outstationAddress: null,
      serialNumber: '3100001001',
      password: null,
      surveyDays: 0,
      surveyDate: null,
      adjustTime: false,
    };
    const document = statusDocument(
      request,
      { result: 'SUCCESS', serialNumber: '3100001001' },
      { start: new Date('2026-11-21T10:00:00Z'), end: new Date('2026-11-21T10:00:05Z') },
    );
    expect(document).toMatchObject({
      requestReference: 'r1',
      mpan: '12345',
      comsSettings: '',
      outstationAddress: '',
      password: '',
      surveyDays: 0,
      surveyDate: '',
      adjustTime: false,
      result: 'SUCCESS',
      resultSummary: 'SUCCESS',
      collectionStartTime: '2026-11-21T10:00:00Z',
      collectionEndTime: '2026-11-21T10:00:05Z',
      serialNumber: '3100001001',
    });
  });
});
