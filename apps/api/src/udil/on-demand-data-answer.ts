import { AcceptanceAnswer, TransactionWait } from '@hes/transactions';
import { OnDemandType, UdilBody, UdilValue } from '@hes/udil';

/**
 * The answer of on_demand_data_read (UDIL 3.2 §3.4.1, examples 4.14–4.15) once the wait is over:
 * - the meter answered: `data` holds the rows read (every key of the type's record, as stored), each with
 *   `indv_status` "1" (UDIL 3.2: complete) and a remark;
 * - the read failed or was cancelled: status "0", one item with `indv_status` "2" and the reason;
 * - the meter has not answered yet (UDIL 3.3: the MDC answers with a time-out and carries on): status "1",
 *   one item with `indv_status` "0" (in progress) saying that transaction_status will carry the rows.
 */
export function onDemandDataAnswer(
  type: OnDemandType,
  accepted: AcceptanceAnswer,
  wait: TransactionWait,
  waitSeconds: number,
): UdilBody {
  const { transactionid } = accepted;
  const [device] = accepted.data;
  const [row] = wait.rows;
  const base = { global_device_id: device.global_device_id, msn: row?.msn ?? device.msn };
  if (!wait.finished || !row) {
    const remarks = `the meter has not answered within ${waitSeconds} s: the read goes on (status_level ${row?.status_level ?? 0}) and transaction_status ${transactionid} will carry its rows`;
    return {
      status: '1',
      transactionid,
      data: [{ ...base, indv_status: '0', remarks }],
      message: `time-out: ${remarks}`,
    };
  }
  if (row.request_cancelled === 1 || row.indv_status !== 1) {
    const reason =
      row.request_cancelled === 1
        ? `cancelled: ${row.request_cancel_reason ?? ''}`
        : `failed: ${row.response_data ?? 'no reason recorded'}`;
    return {
      status: '0',
      transactionid,
      data: [{ ...base, indv_status: '2', remarks: reason }],
      message: `${type} read of ${device.global_device_id} ${reason}`,
    };
  }
  const rows = JSON.parse(row.response_data ?? '[]') as Record<string, string>[];
  const data: UdilValue[] = rows.map((item) => ({
    ...item,
    indv_status: '1',
    remarks: 'read from the meter',
  }));
  return {
    status: '1',
    transactionid,
    data,
    message:
      rows.length > 0
        ? `${rows.length} ${type} row(s) read from meter ${device.global_device_id}`
        : `the meter holds no ${type} data for the request`,
  };
}
