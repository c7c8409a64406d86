import request from 'supertest';
import { formatUdilDatetime } from '@hes/udil';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';

const SERIALS = ['3100001001', '3100001002'];
const ZONE = 'Asia/Karachi';

/**
 * on_demand_request against the G13 simulator: what lands in the UDIL tables and in response_data is
 * what the simulated meter holds; a repeated request adds no rows.
 */
describe('UDIL on-demand reads against the G13 simulator', () => {
  let headEnd: G13HeadEnd;
  let sequence = 0;
  const nextId = () => `od-${Date.now()}-${(sequence += 1)}`;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_od', SERIALS);
  });

  afterAll(() => headEnd?.stop());

  async function onDemand(type: string, device: string, range?: { from: Date; to: Date }) {
    const transactionid = nextId();
    await request(headEnd.api.getHttpServer())
      .post('/on_demand_request')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send({
        global_device_id: device,
        type: type.toLowerCase(),
        start_datetime: range ? formatUdilDatetime(range.from, ZONE) : '',
        end_datetime: range ? formatUdilDatetime(range.to, ZONE) : '',
      })
      .expect(200);
    const [row] = await headEnd.finished(transactionid, [device]);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    const status = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .expect(200);
    return status.body.data[0].response_data as Record<string, string>[];
  }

  it("LPRO: the stored load profile equals the meter's own, and a repeat adds no rows", async () => {
    const meter = headEnd.gateway.meter(SERIALS[0]);
    const to = new Date(Math.floor(meter.meterNow() / 900_000) * 900_000);
    const from = new Date(to.getTime() - 6 * 3600_000);
    const response = await onDemand('LPRO', 'm1', { from, to });

    const expected = meter
      .loadProfile(1)
      .filter(
        (item) => item.time >= from.getTime() && item.time <= to.getTime() && (item.status & 0x20) === 0,
      );
    expect(expected.length).toBeGreaterThanOrEqual(20);
    const { rows } = await headEnd.db.query<{ meter_datetime: Date; active_energy_pos_tl: string }>(
      `SELECT meter_datetime, active_energy_pos_tl::text FROM udil.load_profile_data
        WHERE global_device_id = 'm1' AND channel_id = 1 AND meter_datetime BETWEEN $1 AND $2 ORDER BY meter_datetime`,
      [from, to],
    );
    expect(rows.map((r) => r.meter_datetime.getTime())).toEqual(expected.map((item) => item.time));
    // The G13 records Wh; UDIL holds kWh with three decimals.
    for (const [i, item] of expected.entries())
      expect(Number(rows[i].active_energy_pos_tl)).toBeCloseTo(item.value / 1000, 3);
    // The meter's hourly channel (voltage L2): its number is the UDIL channel_id.
    const hourlyChannel = String(
      meter.lpConfig.findIndex(([interval, quantity]) => interval === 3600 && quantity === 72) + 1,
    );
    // response_data is the rows as stored: one row per timestamp and channel (the hourly voltage channel
    // beside the 15-minute energy channel 1 at every full hour).
    const energy = response.filter((row) => row.channel_id === '1');
    expect(energy).toHaveLength(expected.length);
    expect(energy.every((row) => row.interval === '15')).toBe(true);
    const hour = energy.find((row) => row.meter_datetime.endsWith(':00:00'))!;
    const hourly = response.find(
      (row) => row.channel_id === hourlyChannel && row.meter_datetime === hour.meter_datetime,
    );
    expect(hourly).toMatchObject({ interval: '60', active_energy_pos_tl: '' });
    expect(Number(hourly?.voltage_phase_b)).toBeGreaterThan(180);
    expect(energy[0]).toMatchObject({
      global_device_id: 'm1',
      msn: SERIALS[0],
      meter_datetime: formatUdilDatetime(new Date(expected[0].time), ZONE),
    });

    const count = async () =>
      (
        await headEnd.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM udil.load_profile_data WHERE global_device_id = 'm1'`,
        )
      ).rows[0].n;
    const before = await count();
    await onDemand('LPRO', 'm1', { from, to });
    expect(await count()).toBe(before);
  });

  it('EVNT: a power failure in the meter arrives as UDIL events 111 and 112', async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    const at = new Date(Math.floor(meter.meterNow() / 1000) * 1000 - 3600_000);
    headEnd.gateway.injectPowerFailure(SERIALS[1], 120, at);
    await onDemand('EVNT', 'm2', { from: new Date(at.getTime() - 60_000), to: new Date(meter.meterNow()) });
    const { rows } = await headEnd.db.query<{ event_code: number; event_datetime: Date }>(
      `SELECT event_code, event_datetime FROM udil.events WHERE global_device_id = 'm2' AND event_code IN (111, 112) ORDER BY event_datetime`,
    );
    expect(rows.map((r) => [r.event_code, r.event_datetime.getTime()])).toEqual([
      [111, at.getTime()],
      [112, at.getTime() + 120_000],
    ]);
  });

  it('BILL: the stored import total is what the meter registered at the time of the read', async () => {
    const before = headEnd.gateway.readRegisters(SERIALS[0]).activeImport;
    const [row] = await onDemand('BILL', 'm1');
    const after = headEnd.gateway.readRegisters(SERIALS[0]).activeImport;
    const stored = Number(row.active_energy_pos_tl);
    // The G13 answers energy registers with 0.01 kWh resolution.
    expect(stored).toBeGreaterThanOrEqual(before - 0.01);
    expect(stored).toBeLessThanOrEqual(after + 0.01);
    const visuals = await headEnd.db.query(
      `SELECT last_active_energy_pos_tl::text, active_energy_pos_tl::text, last_active_energy_pos_tl_datetime FROM udil.meter_visuals WHERE global_device_id = 'm1'`,
    );
    expect(Number(visuals.rows[0].last_active_energy_pos_tl)).toBe(stored);
    expect(Number(visuals.rows[0].active_energy_pos_tl)).toBe(stored);
    expect(visuals.rows[0].last_active_energy_pos_tl_datetime).toBeInstanceOf(Date);
  });

  it('INST and VISL: instantaneous values land in their table and in the visuals the MDM gets back', async () => {
    const [inst] = await onDemand('INST', 'm2');
    expect(inst).toMatchObject({ global_device_id: 'm2', msn: SERIALS[1] });
    expect(Number(inst.voltage_phase_a)).toBeGreaterThan(180);
    const stored = await headEnd.db.query(
      `SELECT count(*)::int AS n FROM udil.instantaneous_data WHERE global_device_id = 'm2'`,
    );
    expect(stored.rows[0].n).toBe(1);

    const [visuals] = await onDemand('VISL', 'm2');
    expect(visuals).toMatchObject({ global_device_id: 'm2', msn: SERIALS[1] });
    expect(Number(visuals.aggregate_active_pwr_pos)).toBeGreaterThanOrEqual(0);
    expect(visuals.last_communication_datetime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(visuals.voltage_phase_a).toBeDefined();
  });

  it('MBIL: monthly snapshots land in monthly_billing_data', async () => {
    const meter = headEnd.gateway.meter(SERIALS[0]);
    const snapshots = meter.previousValues();
    expect(snapshots.length).toBeGreaterThan(0);
    const to = new Date(meter.meterNow());
    const from = new Date(to.getTime() - 40 * 24 * 3600_000);
    const response = await onDemand('MBIL', 'm1', { from, to });
    const { rows } = await headEnd.db.query<{ meter_datetime: Date }>(
      `SELECT meter_datetime FROM udil.monthly_billing_data WHERE global_device_id = 'm1' ORDER BY meter_datetime`,
    );
    expect(rows.map((r) => r.meter_datetime.getTime())).toEqual(
      snapshots.filter((s) => s.time >= from.getTime() && s.time <= to.getTime()).map((s) => s.time),
    );
    expect(response).toHaveLength(rows.length);
  });
});
