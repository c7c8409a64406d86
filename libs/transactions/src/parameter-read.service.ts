import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { PARAMETER_COLUMNS, PARAMETER_DESCRIPTIONS, ParameterType, UdilValue } from '@hes/udil';
import { TransactionAcceptanceService } from './transaction-acceptance.service';
import { TransactionStatusRow } from './transaction-status.repository';
import { TransactionWaiter } from './transaction-waiter';
import { ParameterItem } from './udil-parameter-runner';

export interface ParameterReadRequest {
  type: ParameterType;
  transactionid: string;
  clientId: string;
  globalDeviceIds: string[];
}

export interface ParameterReadAnswer {
  [key: string]: UdilValue;
  status: '0' | '1';
  transactionid: string;
  data: ParameterItem[];
  message: string;
}

/**
 * on_demand_parameter_read (§3.4.2; synchronous per 3.3): the read runs through the transaction engine
 * (a TRANSACTION_STATUS row per device, levels 0–5, response_data carrying the answer) and the request
 * waits up to UDIL_ON_DEMAND_WAIT_SECONDS for it. A device that has not answered by then is reported as
 * still being read; transaction_status carries its answer when it comes.
 */
@Injectable()
export class ParameterReadService {
  constructor(
    private readonly acceptance: TransactionAcceptanceService,
    private readonly waiter: TransactionWaiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `signal`: aborted when the client went away; the wait ends early, the read goes on. */
  async read(request: ParameterReadRequest, signal?: AbortSignal): Promise<ParameterReadAnswer> {
    const { type, transactionid } = request;
    await this.acceptance.accept(
      {
        operation: { kind: 'parameter', type },
        transactionid,
        clientId: request.clientId,
        parameters: { type },
        devices: request.globalDeviceIds.map((globalDeviceId) => ({ globalDeviceId })),
      },
      () => `${PARAMETER_DESCRIPTIONS[type]} will be read`,
    );
    const wait = this.config.UDIL_ON_DEMAND_WAIT_SECONDS;
    const { rows } = await this.waiter.wait(transactionid, request.globalDeviceIds, wait * 1000, signal);
    const byDevice = new Map(rows.map((row) => [row.global_device_id, row]));
    const data = request.globalDeviceIds.map((id) => this.item(type, id, byDevice.get(id), wait));
    const answered = data.filter((item) => item.indv_status === '1').length;
    const pending = data.filter((item) => item.indv_status === '0').length;
    const parts = [
      answered > 0
        ? `${PARAMETER_DESCRIPTIONS[type]} is provided for ${answered} device(s)`
        : `${PARAMETER_DESCRIPTIONS[type]} is not provided`,
    ];
    if (pending > 0)
      parts.push(
        `time-out: ${pending} device(s) did not answer within ${wait} s; the read goes on and transaction_status will carry the result`,
      );
    // "0" only when no device answered nor is still being read: every one failed or was refused.
    return {
      status: answered + pending > 0 ? '1' : '0',
      transactionid,
      data,
      message: parts.join('; '),
    };
  }

  /**
   * One device's item: its answer (indv_status "1"), or every column empty with why there is none, with
   * indv_status as TRANSACTION_STATUS has it (UDIL 3.2 §3.4.3): "0" still in progress, "2" failed, refused
   * or cancelled.
   */
  private item(
    type: ParameterType,
    globalDeviceId: string,
    row: TransactionStatusRow | undefined,
    waitSeconds: number,
  ): ParameterItem {
    if (row?.indv_status === 1 && row.response_data) {
      const [answer] = JSON.parse(row.response_data) as ParameterItem[];
      if (answer) return answer;
    }
    const empty = (indv_status: '0' | '2', remarks: string): ParameterItem => {
      const item: ParameterItem = {
        global_device_id: globalDeviceId,
        msn: row?.msn ?? '',
        indv_status,
        remarks,
      };
      for (const name of PARAMETER_COLUMNS[type]) item[name] = name === 'major_alarms_list' ? [] : '';
      return item;
    };
    if (!row) return empty('2', 'not part of this transaction');
    if (row.request_cancelled === 1) return empty('2', row.request_cancel_reason ?? 'cancelled');
    if (row.indv_status !== 0) return empty('2', `read failed: ${row.response_data ?? 'no reason recorded'}`);
    return empty(
      '0',
      `in progress: the device has not answered within ${waitSeconds} s (status_level ${row.status_level}); the read goes on and transaction_status will carry the result`,
    );
  }
}
