import { AppConfig } from '@hes/config';
import { ParameterType } from '@hes/udil';
import { ParameterReadService } from './parameter-read.service';
import { TransactionAcceptanceService } from './transaction-acceptance.service';
import { TransactionStatusRow } from './transaction-status.repository';
import { TransactionWaiter } from './transaction-waiter';

const row = (global_device_id: string, changes: Partial<TransactionStatusRow>) =>
  ({
    transactionid: 't1',
    global_device_id,
    msn: '42',
    status_level: 1,
    indv_status: 0,
    request_cancelled: 0,
    request_cancel_reason: null,
    response_data: null,
    ...changes,
  }) as TransactionStatusRow;

function serviceOver(rows: TransactionStatusRow[]) {
  const accept = jest.fn(() => Promise.resolve({}));
  const wait = jest.fn(() => Promise.resolve({ finished: false, rows }));
  const service = new ParameterReadService(
    { accept } as unknown as TransactionAcceptanceService,
    { wait } as unknown as TransactionWaiter,
    { UDIL_ON_DEMAND_WAIT_SECONDS: 7 } as AppConfig,
  );
  return { service, accept, wait };
}

const request = (ids: string[]) => ({
  type: ParameterType.DeviceTime,
  transactionid: 't1',
  clientId: 'c1',
  globalDeviceIds: ids,
});

describe('ParameterReadService', () => {
  it('accepts the read as a transaction and waits for its rows for UDIL_ON_DEMAND_WAIT_SECONDS', async () => {
    const answer = { global_device_id: 'm1', msn: '42', indv_status: '1', remarks: 'r', dvtm_datetime: 'a' };
    const { service, accept, wait } = serviceOver([
      row('m1', { indv_status: 1, status_level: 5, response_data: JSON.stringify([answer]) }),
    ]);
    const result = await service.read(request(['m1']));
    expect(accept).toHaveBeenCalledWith(
      expect.objectContaining({
        operation: { kind: 'parameter', type: 'DVTM' },
        devices: [{ globalDeviceId: 'm1' }],
      }),
      expect.any(Function),
    );
    expect(wait).toHaveBeenCalledWith('t1', ['m1'], 7000, undefined);
    expect(result).toEqual({
      status: '1',
      transactionid: 't1',
      data: [answer],
      message: 'Device Time is provided for 1 device(s)',
    });
  });

  it('in progress, failed and refused devices: every key, indv_status 0 or 2, and why', async () => {
    const { service } = serviceOver([
      row('m1', { status_level: 2 }),
      row('m2', { indv_status: 2, response_data: 'timeout: no answer after 2 attempt(s)' }),
      row('m3', { request_cancelled: 1, request_cancel_reason: 'global_device_id m3 is not registered' }),
    ]);
    const result = await service.read(request(['m1', 'm2', 'm3']));
    const empty = { dvtm_datetime: '', dvtm_meter_clock: '' };
    expect(result.data).toEqual([
      {
        global_device_id: 'm1',
        msn: '42',
        indv_status: '0',
        remarks:
          'in progress: the device has not answered within 7 s (status_level 2); the read goes on and transaction_status will carry the result',
        ...empty,
      },
      {
        global_device_id: 'm2',
        msn: '42',
        indv_status: '2',
        remarks: 'read failed: timeout: no answer after 2 attempt(s)',
        ...empty,
      },
      {
        global_device_id: 'm3',
        msn: '42',
        indv_status: '2',
        remarks: 'global_device_id m3 is not registered',
        ...empty,
      },
    ]);
    expect(result.status).toBe('1');
    expect(result.message).toBe(
      'Device Time is not provided; time-out: 1 device(s) did not answer within 7 s; the read goes on and transaction_status will carry the result',
    );
  });

  it('status 0 when every device failed or was refused', async () => {
    const { service } = serviceOver([row('m1', { indv_status: 2, response_data: 'refused' })]);
    const result = await service.read(request(['m1']));
    expect(result.status).toBe('0');
    expect(result.message).toBe('Device Time is not provided');
  });
});
