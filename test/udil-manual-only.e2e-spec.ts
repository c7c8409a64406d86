import request from 'supertest';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';

const MANUAL = '3100008008';
const ADMIN_TOKEN = 'admin-token-manual-only-0123456789ab';
const TOKEN = `Bearer ${ADMIN_TOKEN}`;

/**
 * The whole head-end in front of a G13 whose meter serves only the manual's example resources
 * (apps/simulator/src/g13/g13-manual-only-meter.ts): every on-demand read completes with what the meter
 * has, the manual's example values land in the UDIL rows, what it lacks is a remark, and the meter
 * clock is read in the gateway's zone (here the head-end's TIME_ZONE, Asia/Karachi, by default).
 */
describe('UDIL reads against a G13 serving only the manual examples', () => {
  let headEnd: G13HeadEnd;
  let sequence = 0;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_manual', [MANUAL], { ADMIN_TOKEN }, [], {
      manualOnly: [MANUAL],
      // Left to the default: the head-end's TIME_ZONE (Asia/Karachi).
      gateway: { clockTimeZone: null },
    });
  });
  afterAll(() => headEnd?.stop());

  async function onDemand(type: string, range?: [string, string]) {
    const transactionid = `manual-${Date.now()}-${(sequence += 1)}`;
    await request(headEnd.api.getHttpServer())
      .post('/on_demand_request')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send({
        global_device_id: 'm1',
        type: type.toLowerCase(),
        start_datetime: range?.[0] ?? '',
        end_datetime: range?.[1] ?? '',
      })
      .expect(200);
    const [row] = await headEnd.finished(transactionid, ['m1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    const status = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .expect(200);
    return status.body.data[0].response_data as Record<string, string>[] | string;
  }

  it('INST: the manual values, and the meter time 2012-08-05T01:11:31 answered as 01:11:31, not 06:11:31', async () => {
    const [row] = (await onDemand('INST')) as Record<string, string>[];
    // response_data is the row as stored (decimals with the table's three places).
    expect(row).toMatchObject({
      meter_datetime: '2012-08-05 01:11:31',
      voltage_phase_a: '227.100',
      voltage_phase_b: '56.800',
      voltage_phase_c: '42.900',
      frequency: '49.780',
      aggregate_active_pwr_pos: '2000.000',
      aggregate_reactive_pwr_pos: '100.000',
      current_tariff_register: '1',
    });
    expect(row.remarks).toBeUndefined();
    const { rows } = await headEnd.db.query<{ meter_datetime: Date; voltage_phase_a: string }>(
      `SELECT meter_datetime, voltage_phase_a::text FROM udil.instantaneous_data WHERE global_device_id = 'm1'`,
    );
    expect(rows).toEqual([{ meter_datetime: new Date('2012-08-04T20:11:31Z'), voltage_phase_a: '227.100' }]);
  });

  it('BILL: the active registers of 6.3.54 land in billing_data; reactive is a remark, not a failure', async () => {
    const [row] = (await onDemand('BILL')) as Record<string, string>[];
    expect(row).toMatchObject({
      active_energy_pos_tl: '1271.310',
      active_energy_neg_tl: '12718.360',
      active_energy_pos_t1: '0.160',
    });
    expect(row.remarks).toMatch(/does not provide reactive energy registers \(\/energy\/reactive\)/);
    const { rows } = await headEnd.db.query<{ pos: string; reactive: string | null }>(
      `SELECT active_energy_pos_tl::text AS pos, reactive_energy_pos_tl::text AS reactive
         FROM udil.billing_data WHERE global_device_id = 'm1'`,
    );
    expect(rows).toEqual([{ pos: '1271.310', reactive: null }]);
  });

  it('MBIL: the snapshots of 6.3.69 land in monthly_billing_data, without maximum demand', async () => {
    const response = (await onDemand('MBIL', ['2012-07-01 00:00:00', '2012-08-01 00:00:00'])) as Record<
      string,
      string
    >[];
    expect(response.map((r) => r.meter_datetime).sort()).toEqual([
      '2012-07-22 00:00:00',
      '2012-07-23 00:00:00',
      '2012-07-24 00:00:00',
    ]);
    for (const row of response) expect(row.remarks).toMatch(/maximum demand/);
    const { rows } = await headEnd.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM udil.monthly_billing_data WHERE global_device_id = 'm1' AND active_energy_pos_tl = 0`,
    );
    expect(rows[0].n).toBe(3);
  });

  it('EVNT: the events of 6.3.51 land in events, read in the meter zone', async () => {
    const response = (await onDemand('EVNT', ['2011-12-01 00:00:00', '2012-01-01 00:00:00'])) as Record<
      string,
      string
    >[];
    expect(response.map((r) => r.event_datetime).sort()).toEqual([
      '2011-12-18 10:12:00',
      '2011-12-19 10:12:00',
    ]);
    expect(response[0].remarks).toMatch(/alarm configuration/);
  });

  it('LPRO: a meter without load profiles completes with the remark as its response', async () => {
    const response = await onDemand('LPRO', ['2012-07-01 00:00:00', '2012-07-02 00:00:00']);
    expect(response).toMatch(/^no rows read: meter 3100008008 does not provide load profiles/);
  });

  it('keeps what the meter provides in PostgreSQL, discovered once, and an audited admin action rediscovers it', async () => {
    await onDemand('BILL');
    const stored = await headEnd.db.query<{ resources: Record<string, boolean>; discovered_at: Date }>(
      `SELECT resources, discovered_at FROM public.meter_resources WHERE serial = $1`,
      [MANUAL],
    );
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].resources).toMatchObject({
      activeEnergy: true,
      reactiveEnergy: false,
      loadProfiles: false,
    });
    const probes = headEnd.gateway.requests.filter((r) => r.path.endsWith('/energy/reactive'));
    expect(probes).toHaveLength(1);

    const answer = await request(headEnd.api.getHttpServer())
      .post(`/admin/gateways/${headEnd.gatewayId}/meters/${MANUAL}/rediscover`)
      .set('authorization', TOKEN)
      .expect(200);
    expect(answer.body).toMatchObject({
      serial: MANUAL,
      resources: { activeEnergy: true, reactiveEnergy: false, demand: false },
      message: expect.stringMatching(/lacks reactiveEnergy/),
    });
    const refreshed = await headEnd.db.query<{ discovered_at: Date }>(
      `SELECT discovered_at FROM public.meter_resources WHERE serial = $1`,
      [MANUAL],
    );
    expect(refreshed.rows[0].discovered_at.getTime()).toBeGreaterThan(stored.rows[0].discovered_at.getTime());
    const audit = await headEnd.db.query<{ action: string; result: string; target_id: string }>(
      `SELECT action, result, target_id FROM public.admin_audit_log WHERE action = 'gateway.rediscover-meter'`,
    );
    expect(audit.rows).toEqual([
      { action: 'gateway.rediscover-meter', result: 'success', target_id: headEnd.gatewayId },
    ]);

    await request(headEnd.api.getHttpServer())
      .post(`/admin/gateways/${headEnd.gatewayId}/meters/NO_SUCH_METER/rediscover`)
      .set('authorization', TOKEN)
      .expect(404);
  });

  it('the meter clock zone is a gateway setting: shown by the admin API, an unknown zone a 400 naming the field', async () => {
    const gateway = await request(headEnd.api.getHttpServer())
      .get(`/admin/gateways/${headEnd.gatewayId}`)
      .set('authorization', TOKEN)
      .expect(200);
    expect(gateway.body.clockTimeZone).toBe('Asia/Karachi');
    const refused = await request(headEnd.api.getHttpServer())
      .post('/admin/gateways')
      .set('authorization', TOKEN)
      .send({ name: 'zoned', driver: 'ABB_G13', endpoint: 'https://10.0.0.9', clockTimeZone: 'Mars/Olympus' })
      .expect(400);
    expect(JSON.stringify(refused.body.message)).toMatch(/clockTimeZone must be an IANA time zone/);
    const created = await request(headEnd.api.getHttpServer())
      .post('/admin/gateways')
      .set('authorization', TOKEN)
      .send({ name: 'zoned', driver: 'ABB_G13', endpoint: 'https://10.0.0.9', clockTimeZone: 'UTC' })
      .expect(201);
    expect(created.body.clockTimeZone).toBe('UTC');
  });
});
