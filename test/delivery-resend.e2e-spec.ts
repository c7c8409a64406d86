import request from 'supertest';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';

const SERIALS = ['3100005001'];
const RELAY_PORT = 1;

/**
 * Delivery is at least once (docs/reliability.md): a job run again after an attempt that may have reached
 * the meter (its row is already at level 2 or more) reads the state back first and does not write what the
 * meter already holds.
 */
describe('a command sent again reads the meter first', () => {
  let headEnd: G13HeadEnd;
  let sequence = 0;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('resend', SERIALS);
  });

  afterAll(() => headEnd?.stop());

  const send = (service: string, body: Record<string, unknown>) => {
    const transactionid = `resend-${Date.now()}-${(sequence += 1)}`;
    return request(headEnd.api.getHttpServer())
      .post(`/${service}`)
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .send({ global_device_id: ['m1'], request_datetime: '2026-11-21 10:00:00', ...body })
      .expect(200)
      .then(() => transactionid);
  };

  /** Accepts the command with the worker stopped, then marks its row as a previous attempt left it. */
  const resend = async (service: string, body: Record<string, unknown>) => {
    await headEnd.stopWorker();
    const transactionid = await send(service, body);
    await headEnd.db.query(
      `UPDATE udil.transaction_status SET status_level = 2, status_1_datetime = now(), status_2_datetime = now()
        WHERE transactionid = $1`,
      [transactionid],
    );
    headEnd.gateway.resetStats();
    await headEnd.startWorker();
    const [row] = await headEnd.finished(transactionid, ['m1']);
    const writes = (path: string) =>
      headEnd.gateway.requests.filter(
        (r) => r.method === 'POST' && r.path === `/meters/${SERIALS[0]}${path}`,
      );
    return { row, writes };
  };

  it('does not switch a relay again that is already in the asked state', async () => {
    const first = await send('aux_relay_operations', { relay_operate: '0' });
    await headEnd.finished(first, ['m1']);
    expect(headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT)).toBe(0);

    const { row, writes } = await resend('aux_relay_operations', { relay_operate: '0' });
    expect(row).toMatchObject({ status_level: 5, indv_status: 1, response_data: 'relay disconnected' });
    expect(writes('/io')).toEqual([]);
    expect(
      headEnd.gateway.requests.some((r) => r.method === 'GET' && r.path === `/meters/${SERIALS[0]}/io`),
    ).toBe(true);
  });

  it('does switch it when the earlier attempt did not reach the meter', async () => {
    const { row, writes } = await resend('aux_relay_operations', { relay_operate: '1' });
    expect(row).toMatchObject({ status_level: 5, indv_status: 1, response_data: 'relay connected' });
    expect(writes('/io')).toHaveLength(1);
    expect(headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT)).toBe(1);
  });

  it('does not set a meter clock again that is already on time', async () => {
    const first = await send('time_synchronization', {});
    await headEnd.finished(first, ['m1']);
    const { row, writes } = await resend('time_synchronization', {});
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(row.response_data).toMatch(/^meter clock already within 2 s of head-end time .*: not set again$/);
    expect(writes('/datetime')).toEqual([]);
  });
});
