import request from 'supertest';
import { UDIL_RECORD_KEYS, UdilRecord, formatUdilDatetime, formatUdilRecord } from '@hes/udil';
import { LOAD_PROFILE_COLUMNS } from '../libs/drivers/src/g13/g13-mappers';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';

const SERIALS = ['3100002001', '3100002002'];
const ZONE = 'Asia/Karachi';

type Item = Record<string, string>;

/** The keys of an on_demand_data_read item: its record's, and the indv_status and remarks of every item. */
const itemKeys = (record: UdilRecord) => [...UDIL_RECORD_KEYS[record], 'indv_status', 'remarks'].sort();
const withoutItemFields = ({ indv_status: _status, remarks: _remarks, ...record }: Item) => record;

/**
 * on_demand_data_read (UDIL 3.2 §3.4.1) against the G13 simulator: the rows come back in `data` of the
 * same answer, equal to the simulated meter's and to the stored rows, with every key of their record.
 */
describe('UDIL on_demand_data_read against the G13 simulator', () => {
  let headEnd: G13HeadEnd;
  let sequence = 0;
  const nextId = () => `oddr-${Date.now()}-${(sequence += 1)}`;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_oddr', SERIALS);
  });

  afterAll(() => headEnd?.stop());

  function dataRead(fields: Record<string, string>, transactionid = nextId()) {
    return request(headEnd.api.getHttpServer())
      .post('/on_demand_data_read')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send(fields);
  }

  const range = (from: Date, to: Date) => ({
    start_datetime: formatUdilDatetime(from, ZONE),
    end_datetime: formatUdilDatetime(to, ZONE),
  });

  async function storedRows(record: UdilRecord, where: string, parameters: unknown[]) {
    const { rows } = await headEnd.db.query<Record<string, unknown>>(
      `SELECT * FROM udil.${record} WHERE ${where}`,
      parameters,
    );
    return rows.map((row) => formatUdilRecord(record, row, ZONE));
  }

  it('INST (lower case, id in a JSON array): one row with the 22 keys of 3.2 and the rest, equal to the stored row', async () => {
    const response = await dataRead({ global_device_id: '["m1"]', type: 'inst' }).expect(200);
    expect(response.body).toMatchObject({ status: '1' });
    const data = response.body.data as Item[];
    expect(data).toHaveLength(1);
    const [item] = data;
    expect(Object.keys(item).sort()).toEqual(itemKeys('instantaneous_data'));
    expect(item).toMatchObject({ global_device_id: 'm1', msn: SERIALS[0], indv_status: '1', is_synced: '0' });
    // A G13 meter has no modem: signal_strength is one of the keys left empty.
    for (const key of [
      'frequency',
      'current_tariff_register',
      'mdc_read_datetime',
      'db_datetime',
      'meter_datetime',
    ])
      expect(item[key]).toMatch(/\S/);
    expect(Number(item.voltage_phase_a)).toBeGreaterThan(180);
    const stored = await storedRows('instantaneous_data', `global_device_id = 'm1' AND meter_datetime = $1`, [
      new Date(`${item.meter_datetime.replace(' ', 'T')}+05:00`),
    ]);
    expect(stored).toEqual([withoutItemFields(item)]);
  });

  it('BILL: the meter registers of the time of the read, MDI totals among the 66 keys, equal to the stored row', async () => {
    const before = headEnd.gateway.readRegisters(SERIALS[0]).activeImport;
    const response = await dataRead({ global_device_id: 'm1', type: 'BILL' }).expect(200);
    const after = headEnd.gateway.readRegisters(SERIALS[0]).activeImport;
    const [item] = response.body.data as Item[];
    expect(Object.keys(item).sort()).toEqual(itemKeys('billing_data'));
    for (const key of [
      'active_mdi_pos_tl',
      'active_mdi_neg_tl',
      'cumulative_mdi_pos_tl',
      'cumulative_mdi_neg_tl',
    ])
      expect(item).toHaveProperty(key);
    // The G13 answers energy registers with 0.01 kWh resolution.
    expect(Number(item.active_energy_pos_tl)).toBeGreaterThanOrEqual(before - 0.01);
    expect(Number(item.active_energy_pos_tl)).toBeLessThanOrEqual(after + 0.01);
    const stored = await storedRows('billing_data', `global_device_id = 'm1'`, []);
    expect(stored).toContainEqual(withoutItemFields(item));
  });

  it("MBIL: the meter's monthly snapshots, 73 keys of 3.2 each, equal to the stored rows", async () => {
    const meter = headEnd.gateway.meter(SERIALS[0]);
    const to = new Date(meter.meterNow());
    const from = new Date(to.getTime() - 40 * 24 * 3600_000);
    const response = await dataRead({ global_device_id: 'm1', type: 'Mbil', ...range(from, to) }).expect(200);
    const data = response.body.data as Item[];
    const snapshots = meter
      .previousValues()
      .filter((s) => s.time >= from.getTime() && s.time <= to.getTime());
    expect(snapshots.length).toBeGreaterThan(0);
    expect(data.map((item) => item.meter_datetime)).toEqual(
      snapshots.map((s) => formatUdilDatetime(new Date(s.time), ZONE)),
    );
    for (const item of data) expect(Object.keys(item).sort()).toEqual(itemKeys('monthly_billing_data'));
    const stored = await storedRows(
      'monthly_billing_data',
      `global_device_id = 'm1' AND meter_datetime BETWEEN $1 AND $2 ORDER BY meter_datetime`,
      [from, to],
    );
    expect(stored).toEqual(data.map(withoutItemFields));
  });

  it("LPRO: every channel of the meter, two channels at one time both stored, both generations' names filled", async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    const to = new Date(Math.floor(meter.meterNow() / 3600_000) * 3600_000);
    const from = new Date(to.getTime() - 4 * 3600_000);
    const response = await dataRead({ global_device_id: 'm2', type: 'LPRO', ...range(from, to) }).expect(200);
    const data = response.body.data as Item[];

    // What the simulated meter holds: each of its numbered load profiles is the UDIL channel of that number.
    const expected = meter.lpConfig.flatMap(([, quantity], index) =>
      LOAD_PROFILE_COLUMNS[quantity] === undefined
        ? []
        : meter
            .loadProfile(index + 1)
            // Snapshots that exist (bit0), in the range.
            .filter(
              (item) =>
                (item.status & 0x01) !== 0 && item.time >= from.getTime() && item.time <= to.getTime(),
            )
            .map((item) => ({
              channel: index + 1,
              time: item.time,
              // A value the meter marks bad (bit5) is left empty.
              value: (item.status & 0x20) !== 0 ? undefined : item.value,
              column: LOAD_PROFILE_COLUMNS[quantity],
            })),
    );
    const key = (time: number, channel: number) => `${formatUdilDatetime(new Date(time), ZONE)}|${channel}`;
    expect(data.map((item) => `${item.meter_datetime}|${item.channel_id}`).sort()).toEqual(
      expected.map((e) => key(e.time, e.channel)).sort(),
    );
    for (const item of data) expect(Object.keys(item).sort()).toEqual(itemKeys('load_profile_data'));
    const byKey = new Map(data.map((item) => [`${item.meter_datetime}|${item.channel_id}`, item]));
    for (const e of expected) {
      const item = byKey.get(key(e.time, e.channel))!;
      if (e.value === undefined) {
        expect(item[e.column.column]).toBe('');
        continue;
      }
      // Registers in Wh on the G13, kWh in UDIL; instrument values as they are.
      const value = e.column.kind === 'register' ? e.value / 1000 : e.value;
      expect(Number(item[e.column.column])).toBeCloseTo(value, 3);
    }

    // At a full hour the 15-minute channel 1 and an hourly channel are two rows of the same time.
    const hourlyChannel = String(meter.lpConfig.findIndex(([interval]) => interval === 3600) + 1);
    expect(hourlyChannel).not.toBe('0');
    const hour = formatUdilDatetime(to, ZONE);
    expect(data.filter((item) => item.meter_datetime === hour).map((item) => item.channel_id)).toEqual(
      expect.arrayContaining(['1', hourlyChannel]),
    );
    const stored = await storedRows(
      'load_profile_data',
      `global_device_id = 'm2' AND meter_datetime BETWEEN $1 AND $2 ORDER BY meter_datetime, channel_id`,
      [from, to],
    );
    expect(stored).toEqual(data.map(withoutItemFields));
    const energies = stored.filter((row) => row.channel_id === '1');
    expect(energies.length).toBeGreaterThan(0);
    for (const row of energies) {
      expect(row.active_energy_tl).toMatch(/\d/);
      expect(row.active_energy_tl).toBe(row.active_energy_pos_tl);
    }
    const reactive = stored.filter((row) => row.reactive_energy_pos_tl !== '');
    expect(reactive.length).toBeGreaterThan(0);
    for (const row of reactive) expect(row.reactive_energy_tl).toBe(row.reactive_energy_pos_tl);

    // One channel: on_demand_data_read and the API read filter by channel_id.
    const channel6 = await dataRead({
      global_device_id: 'm2',
      type: 'lpro',
      channel_id: hourlyChannel,
      ...range(from, to),
    }).expect(200);
    const hourly = channel6.body.data as Item[];
    expect(hourly.map((item) => item.channel_id)).toEqual(
      expected.filter((e) => String(e.channel) === hourlyChannel).map(() => hourlyChannel),
    );
    const read = await request(headEnd.api.getHttpServer())
      .post('/load_profile_data')
      .set('privatekey', headEnd.key)
      .type('form')
      .send({ global_device_id: 'm2', channel_id: hourlyChannel, ...range(from, to) })
      .expect(200);
    const rows = read.body.data as Item[];
    expect(rows.map(({ meter_datetime, channel_id }) => [meter_datetime, channel_id])).toEqual(
      hourly.map(({ meter_datetime, channel_id }) => [meter_datetime, channel_id]),
    );
    for (const row of rows)
      expect(Object.keys(row).sort()).toEqual([...UDIL_RECORD_KEYS.load_profile_data].sort());
    expect(rows).toEqual(hourly.map(withoutItemFields));
  });

  it('EVNT: a power failure in the meter comes back as events 111 and 112 with the 9 keys of 3.2', async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    const at = new Date(Math.floor(meter.meterNow() / 1000) * 1000 - 3600_000);
    headEnd.gateway.injectPowerFailure(SERIALS[1], 90, at);
    const response = await dataRead({
      global_device_id: '["m2"]',
      type: ' evnt ',
      ...range(new Date(at.getTime() - 60_000), new Date(meter.meterNow())),
    }).expect(200);
    const data = response.body.data as Item[];
    for (const item of data) expect(Object.keys(item).sort()).toEqual(itemKeys('events'));
    expect(
      data
        .filter((item) => ['111', '112'].includes(item.event_code))
        .map((item) => [item.event_code, item.event_datetime]),
    ).toEqual([
      ['111', formatUdilDatetime(at, ZONE)],
      ['112', formatUdilDatetime(new Date(at.getTime() + 90_000), ZONE)],
    ]);
    const stored = await storedRows(
      'events',
      `global_device_id = 'm2' AND event_datetime >= $1 ORDER BY event_datetime, event_code`,
      [new Date(at.getTime() - 60_000)],
    );
    expect(stored).toEqual(expect.arrayContaining(data.map(withoutItemFields)));
  });

  it('transaction_status carries the same rows with every key, and its own 16 keys of 3.2 (and 2019 type_parameters)', async () => {
    const transactionid = nextId();
    const answer = await dataRead({ global_device_id: 'm1', type: 'INST' }, transactionid).expect(200);
    const status = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .expect(200);
    const [row] = status.body.data as Record<string, unknown>[];
    expect(Object.keys(row).sort()).toEqual([...UDIL_RECORD_KEYS.transaction_status].sort());
    expect(row).toMatchObject({ status_level: '5', indv_status: '1', type: 'INST' });
    expect(row.response_data).toEqual((answer.body.data as Item[]).map(withoutItemFields));

    // on_demand_request's response_data has the same shape.
    const other = nextId();
    await request(headEnd.api.getHttpServer())
      .post('/on_demand_request')
      .set('privatekey', headEnd.key)
      .set('transactionid', other)
      .type('form')
      .send({ global_device_id: 'm2', type: 'BILL' })
      .expect(200);
    await headEnd.finished(other, ['m2']);
    const request2 = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', other)
      .expect(200);
    const [billing] = request2.body.data[0].response_data as Item[];
    expect(Object.keys(billing).sort()).toEqual([...UDIL_RECORD_KEYS.billing_data].sort());

    // A repeated request with the same transactionid answers the same rows and reads nothing again.
    const again = await dataRead({ global_device_id: 'm1', type: 'INST' }, transactionid).expect(200);
    expect(again.body.data).toEqual(answer.body.data);
  });

  it('the API table reads carry every key of their record', async () => {
    const to = new Date(Date.now() + 3600_000);
    const from = new Date(to.getTime() - 400 * 24 * 3600_000);
    for (const record of ['instantaneous_data', 'billing_data', 'monthly_billing_data', 'events'] as const) {
      const read = await request(headEnd.api.getHttpServer())
        .post(`/${record}`)
        .set('privatekey', headEnd.key)
        .type('form')
        .send({ global_device_id: '["m1","m2"]', ...range(from, to) });
      expect(read.body.message).toMatch(/row/);
      const rows = read.body.data as Item[];
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(Object.keys(row).sort()).toEqual([...UDIL_RECORD_KEYS[record]].sort());
    }
  });

  it.each([
    [{ global_device_id: '["m1","m2"]', type: 'INST' }, 'global_device_id'],
    [{ global_device_id: 'm1', type: 'VISL' }, 'type'],
    [{ global_device_id: 'm1', type: 'LPRO', end_datetime: '2026-11-30 10:00:00' }, 'start_datetime'],
    [
      {
        global_device_id: 'm1',
        type: 'LPRO',
        start_datetime: '2026-11-30 08:00:00',
        end_datetime: '2026-11-30 10:00:00',
        channel_id: 'one',
      },
      'channel_id',
    ],
  ])('a bad request %j is a 400 naming %s', async (fields, field) => {
    const response = await dataRead(fields).expect(400);
    expect(response.body).toMatchObject({ status: '0' });
    expect(response.body.message).toContain(field);
  });

  it('/load_profile_data refuses a channel_id that is not a channel number, naming it', async () => {
    const response = await request(headEnd.api.getHttpServer())
      .post('/load_profile_data')
      .set('privatekey', headEnd.key)
      .type('form')
      .send({
        global_device_id: 'm2',
        channel_id: '-1',
        start_datetime: '2026-11-30 08:00:00',
        end_datetime: '2026-11-30 10:00:00',
      })
      .expect(400);
    expect(response.body.message).toContain('channel_id');
  });

  it('an unregistered device is refused in the answer, nothing is waited for', async () => {
    const response = await dataRead({ global_device_id: 'm404', type: 'INST' }).expect(200);
    expect(response.body).toMatchObject({
      status: '0',
      data: [
        { global_device_id: 'm404', indv_status: '0', remarks: expect.stringContaining('not registered') },
      ],
    });
  });
});

describe('UDIL on_demand_data_read: a meter that answers after the wait', () => {
  let headEnd: G13HeadEnd;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_oddr_late', ['3100003001'], { UDIL_ON_DEMAND_WAIT_SECONDS: '1' });
  });

  afterAll(() => headEnd?.stop());

  it('answers that the read goes on; transaction_status later carries the rows, and they are stored', async () => {
    // The meter's first requests each take longer than the whole wait (then it answers promptly).
    headEnd.gateway.setMeterFaults('3100003001', { latencyMs: 1500, remaining: 2 });
    const transactionid = `oddr-late-${Date.now()}`;
    const response = await request(headEnd.api.getHttpServer())
      .post('/on_demand_data_read')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send({ global_device_id: 'm1', type: 'INST' })
      .expect(200);
    expect(response.body).toMatchObject({
      status: '1',
      transactionid,
      data: [
        {
          global_device_id: 'm1',
          msn: '3100003001',
          indv_status: '0',
          remarks: expect.stringMatching(/read goes on.*transaction_status/),
        },
      ],
    });
    expect(response.body.data[0]).not.toHaveProperty('voltage_phase_a');

    const [row] = await headEnd.finished(transactionid, ['m1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    headEnd.gateway.clearFaults();
    const status = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .expect(200);
    const [item] = status.body.data[0].response_data as Item[];
    expect(Object.keys(item).sort()).toEqual([...UDIL_RECORD_KEYS.instantaneous_data].sort());
    const { rows } = await headEnd.db.query<Record<string, unknown>>(
      `SELECT * FROM udil.instantaneous_data WHERE global_device_id = 'm1'`,
    );
    expect(rows.map((r) => formatUdilRecord('instantaneous_data', r, ZONE))).toEqual([item]);
  });
});
