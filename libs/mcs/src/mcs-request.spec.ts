import { McsRequestError } from './mcs-error';
import { classifyRemoteAddress, parseCollectionRequest, parseDelayUntil } from './mcs-request';

const TYPES = ['ABB_G13', 'OMEGA_ISERVER2'];
const NOW = new Date('2026-11-21T10:00:00Z');
const valid = {
  requestReference: '0001',
  responseUrl: 'https://www.company.com/MCSresults',
  mpan: '12345',
  priority: 1,
  meterType: 'ABB_G13',
  remoteAddress: '10.2.34.4:3400',
  outstationAddress: '1',
  serialNumber: '12345678',
  password: 'AAAA0000',
  surveyDays: 10,
  surveyDate: '2019-12-01',
  adjustTime: true,
};

function refusal(body: Record<string, unknown>): string {
  try {
    parseCollectionRequest(body, TYPES, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(McsRequestError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('parseCollectionRequest', () => {
  it('accepts the spec sample and makes implicit values explicit', () => {
    expect(parseCollectionRequest(valid, TYPES, NOW)).toEqual({
      ...valid,
      remoteAddressKind: 'ip',
      delayUntil: null,
      comsSettings: null,
    });
    const implicit = parseCollectionRequest({ ...valid, surveyDate: undefined, surveyDays: 3 }, TYPES, NOW);
    expect(implicit.surveyDate).toBe('2026-11-18');
    const none = parseCollectionRequest(
      { ...valid, surveyDays: undefined, adjustTime: undefined },
      TYPES,
      NOW,
    );
    expect(none).toMatchObject({ surveyDays: 0, adjustTime: false });
  });

  it('accepts numbers as strings and the spec spaced field names', () => {
    const parsed = parseCollectionRequest(
      {
        ...valid,
        priority: '7',
        surveyDays: '2',
        adjustTime: 'false',
        remoteAddress: undefined,
        'remote Address': '07711000001',
        serialNumber: undefined,
        'serial Number': 12345678,
        comsSettings: '7e1',
      },
      TYPES,
      NOW,
    );
    expect(parsed).toMatchObject({
      priority: 7,
      surveyDays: 2,
      adjustTime: false,
      remoteAddress: '07711000001',
      remoteAddressKind: 'phone',
      serialNumber: '12345678',
      comsSettings: '7E1',
    });
  });

  it.each([
    [{ requestReference: undefined }, 'requestReference is mandatory'],
    [{ requestReference: '  ' }, 'requestReference is mandatory'],
    [{ requestReference: 'x'.repeat(101) }, 'requestReference must be at most 100 characters'],
    [{ mpan: undefined }, 'mpan is mandatory'],
    [{ responseUrl: undefined }, 'responseUrl is mandatory'],
    [{ responseUrl: 'not a url' }, 'responseUrl must be an http:// or https:// URL'],
    [{ responseUrl: 'ftp://x.example/results' }, 'responseUrl must be an http:// or https:// URL'],
    [{ priority: undefined }, 'priority is mandatory'],
    [{ priority: 0 }, 'priority must be >= 1 (0 is reserved for interactive requests)'],
    [{ priority: -3 }, 'priority must be an integer from 1 to'],
    [{ priority: 1.5 }, 'priority must be an integer'],
    [{ priority: 'high' }, 'priority must be an integer'],
    [{ delayUntil: 'tonight' }, 'delayUntil must be an ISO-8601 date-time'],
    [{ delayUntil: '2026-02-30T22:00:00Z' }, 'delayUntil must be an ISO-8601 date-time'],
    [{ meterType: undefined }, 'meterType is mandatory'],
    [
      { meterType: 'ELSTER_A1700' },
      'meterType ELSTER_A1700 is not supported (supported: ABB_G13, OMEGA_ISERVER2)',
    ],
    [{ remoteAddress: undefined }, 'remoteAddress is mandatory'],
    [{ remoteAddress: 'abc' }, 'Remote address is not in a recognised format'],
    [{ remoteAddress: '10.2.34.256:3400' }, 'Remote address is not in a recognised format'],
    [{ remoteAddress: '10.2.34.4:70000' }, 'Remote address is not in a recognised format'],
    [{ remoteAddress: '10.2.34.4' }, 'Remote address is not in a recognised format'],
    [{ remoteAddress: '7711000001' }, 'Remote address is not in a recognised format'],
    [{ remoteAddress: '2300000012345' }, 'Remote address is not in a recognised format'],
    [{ comsSettings: '9X3' }, 'comsSettings must be data bits, parity and stop bits such as 7E1'],
    [{ surveyDays: -1 }, 'surveyDays must be an integer from 0 to 366'],
    [{ surveyDays: 'ten' }, 'surveyDays must be an integer'],
    [{ surveyDate: '01/12/2019' }, 'surveyDate must be a date in the form yyyy-MM-dd'],
    [{ surveyDate: '2019-02-29' }, 'surveyDate must be a date in the form yyyy-MM-dd'],
    [{ adjustTime: 'yes' }, 'adjustTime must be true or false'],
    [{ mpan: { id: 1 } }, 'mpan must be a string'],
  ])('refuses %j: %s', (change, details) => {
    expect(refusal({ ...valid, ...change })).toContain(details);
  });

  it('refuses a body that is not an object', () => {
    expect(() => parseCollectionRequest([valid], TYPES)).toThrow('the request body must be a JSON object');
    expect(() => parseCollectionRequest('x', TYPES)).toThrow('the request body must be a JSON object');
  });
});

describe('remote addresses and delayUntil', () => {
  it.each([
    ['07711000001', 'phone'],
    ['077777000000', 'phone'],
    ['23000000123456', 'paknet'],
    ['10.2.34.4:3400', 'ip'],
    ['255.255.255.255:65535', 'ip'],
    ['abc', undefined],
    ['1.2.3.4:0', undefined],
  ])('%s is %s', (address, kind) => {
    expect(classifyRemoteAddress(address)).toBe(kind);
  });

  it('reads delayUntil as UTC unless a zone is given', () => {
    expect(parseDelayUntil('2026-11-21T22:00:00')?.toISOString()).toBe('2026-11-21T22:00:00.000Z');
    expect(parseDelayUntil('2026-11-21 22:00')?.toISOString()).toBe('2026-11-21T22:00:00.000Z');
    expect(parseDelayUntil('2026-11-21T22:00:00+0500')?.toISOString()).toBe('2026-11-21T17:00:00.000Z');
    expect(parseDelayUntil('2026-11-21T22:00:00.250Z')?.toISOString()).toBe('2026-11-21T22:00:00.250Z');
    expect(parseDelayUntil('2026-11-21T25:00:00Z')).toBeUndefined();
  });
});
