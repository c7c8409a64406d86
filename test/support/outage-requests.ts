import { RawAnswer, RawRequest } from './raw-http';
import { MDM_USER } from './udil-client';

/**
 * One request of each API that needs the database, named: UDIL authorization_service and a UDIL command,
 * an MCS collection-request, an admin route and /health/worker. `reference` is the UDIL transactionid and
 * the MCS requestReference (a new one per round, so that an accepted round does not refuse the next).
 */
export function outageRequests(
  privatekey: string,
  reference: string,
  adminToken: string,
  mcsAuthorization: string,
): [string, RawRequest][] {
  return [
    [
      'UDIL authorization_service',
      {
        method: 'POST',
        path: '/authorization_service',
        headers: { username: MDM_USER.username, password: MDM_USER.password, code: MDM_USER.code },
      },
    ],
    [
      'UDIL command',
      {
        method: 'POST',
        path: '/time_synchronization',
        headers: { privatekey, transactionid: reference, 'content-type': 'application/json' },
        body: JSON.stringify({ global_device_id: 'm1', request_datetime: '2026-11-21 10:00:00' }),
      },
    ],
    [
      'MCS collection-request',
      {
        method: 'POST',
        path: '/mcs/collection-request',
        headers: { authorization: mcsAuthorization, 'content-type': 'application/json' },
        body: JSON.stringify({
          requestReference: reference,
          responseUrl: 'http://127.0.0.1:9/master',
          mpan: '12345',
          priority: 1,
          meterType: 'ABB_G13',
          remoteAddress: '10.2.34.4:3400',
          serialNumber: '12345678',
        }),
      },
    ],
    [
      'admin gateways',
      { method: 'GET', path: '/admin/gateways', headers: { authorization: `Bearer ${adminToken}` } },
    ],
    ['health of the workers', { method: 'GET', path: '/health/worker' }],
  ];
}

export const NOTHING_ACCEPTED = 'database: unavailable, nothing was accepted; retry in 5 seconds';

/** The UDIL, MCS and admin answers to outageRequests while the database cannot be reached: each API's envelope. */
export function expectNothingAccepted(answers: Map<string, RawAnswer>, reference: string): void {
  expect(answers.get('UDIL authorization_service')!.json).toEqual({ status: '0', message: NOTHING_ACCEPTED });
  expect(answers.get('UDIL command')!.json).toEqual({
    status: '0',
    transactionid: reference,
    message: NOTHING_ACCEPTED,
  });
  expect(answers.get('MCS collection-request')!.json).toEqual({ details: NOTHING_ACCEPTED });
  expect(answers.get('admin gateways')!.json).toEqual({ statusCode: 503, message: NOTHING_ACCEPTED });
}
