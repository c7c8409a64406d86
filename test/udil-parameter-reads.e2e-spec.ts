import { XMLParser } from 'fast-xml-parser';
import request from 'supertest';
import { G13_THRESHOLD_ALARMS } from '@hes/drivers';
import { GatewayRepository } from '@hes/database';
import {
  APMS_FUNCTIONS,
  ApmsType,
  PARAMETER_COLUMNS,
  UDIL_RECORD_KEYS,
  ParameterType,
  formatUdilDatetime,
  parseUdilDatetime,
} from '@hes/udil';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';

const SERIALS = ['3100001001', '3100001002'];
const ZONE = 'Asia/Karachi';

type Item = Record<string, string | Array<Record<string, string>>>;
interface Answer {
  status: string;
  transactionid: string;
  message: string;
  data: Item[];
}

/** Every key of a parameter read's item, in order: the identity, the outcome, the type's columns. */
const keysOf = (type: ParameterType) => [
  'global_device_id',
  'msn',
  'indv_status',
  'remarks',
  ...PARAMETER_COLUMNS[type],
];

/**
 * on_demand_parameter_read (UDIL 3.2 §3.4.2, PMAL of 3.3) against the G13 simulator: what the driver can
 * read comes from the simulated meter's own state; the rest is the head-end's record in METER_VISUALS,
 * and every answer says which.
 */
describe('UDIL parameter reads against the G13 simulator', () => {
  let headEnd: G13HeadEnd;
  let sequence = 0;
  const nextId = () => `pr-${Date.now()}-${(sequence += 1)}`;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_params', SERIALS);
  });

  afterAll(() => headEnd?.stop());

  const post = (path: string, transactionid: string, fields: Record<string, string>) =>
    request(headEnd.api.getHttpServer())
      .post(path)
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send(fields);

  async function read(type: string, device = 'm1', transactionid = nextId()): Promise<Answer> {
    const response = await post('/on_demand_parameter_read', transactionid, {
      global_device_id: device,
      type,
    }).expect(200);
    const answer = response.body as Answer;
    expect(answer.transactionid).toBe(transactionid);
    return answer;
  }

  /** One device's item of a read that answered in time, with every key of its type. */
  async function readItem(type: ParameterType, device = 'm1'): Promise<Item> {
    const answer = await read(type.toLowerCase(), device);
    expect(answer.status).toBe('1');
    expect(answer.data).toHaveLength(1);
    const [item] = answer.data;
    expect(Object.keys(item)).toEqual(keysOf(type));
    expect(item).toMatchObject({ global_device_id: device, indv_status: '1' });
    return item;
  }

  const visualsOf = async (device: string) =>
    (
      await headEnd.db.query<Record<string, unknown>>(
        `SELECT * FROM udil.meter_visuals WHERE global_device_id = $1`,
        [device],
      )
    ).rows[0];

  /** Writes METER_VISUALS columns as the head-end's write services leave them. */
  async function record(device: string, columns: Record<string, string | Date | null>): Promise<void> {
    const names = Object.keys(columns);
    await headEnd.db.query(
      `INSERT INTO udil.meter_visuals (global_device_id, ${names.join(', ')})
       VALUES ($1, ${names.map((_, i) => `$${i + 2}`).join(', ')})
       ON CONFLICT (global_device_id) DO UPDATE SET ${names.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}`,
      [device, ...names.map((n) => columns[n])],
    );
  }

  const udil = (at: Date) => formatUdilDatetime(at, ZONE);
  /** A UDIL datetime read back: whole seconds, in the configured zone. */
  const instant = (text: unknown) => {
    const parsed = parseUdilDatetime(String(text), ZONE);
    expect(parsed).toBeDefined();
    return parsed!.getTime();
  };

  it("AUXR: the relay state is the meter's supply output, and METER_VISUALS takes it", async () => {
    const meter = headEnd.gateway.meter(SERIALS[0]);
    meter.ioState[0] = 0;
    const open = await readItem(ParameterType.AuxRelay);
    expect(headEnd.gateway.readOutput(SERIALS[0], 1)).toBe(0);
    expect(open.auxr_status).toBe('0');
    expect(open.remarks).toBe('Auxiliary Relay Status read from the meter through the ABB_G13 driver');
    expect(open.msn).toBe(SERIALS[0]);
    expect((await visualsOf('m1')).auxr_status).toBe(0);

    meter.ioState[0] = 1;
    const closed = await readItem(ParameterType.AuxRelay);
    expect(closed.auxr_status).toBe('1');
    expect(instant(closed.auxr_datetime)).toBeGreaterThanOrEqual(instant(open.auxr_datetime));
    expect((await visualsOf('m1')).auxr_status).toBe(1);
  });

  it("DVTM: the meter's own clock, not the head-end's", async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    // Seven hours behind: the answer must be the meter's time.
    meter.setClock(Date.now() - 7 * 3600_000);
    const before = Math.floor(meter.meterNow() / 1000) * 1000;
    const item = await readItem(ParameterType.DeviceTime, 'm2');
    const after = meter.meterNow();
    expect(instant(item.dvtm_meter_clock)).toBeGreaterThanOrEqual(before);
    expect(instant(item.dvtm_meter_clock)).toBeLessThanOrEqual(after);
    expect(instant(item.dvtm_datetime)).toBeGreaterThan(after);
    const stored = (await visualsOf('m2')).dvtm_meter_clock as Date;
    expect(udil(stored)).toBe(item.dvtm_meter_clock);
    meter.setClock(Date.now());
  });

  it('SANC: the limit and its delays from the meter, retries from what the write recorded', async () => {
    const transactionid = nextId();
    await post('/sanctioned_load_control', transactionid, {
      global_device_id: '["m1"]',
      request_datetime: udil(new Date()),
      load_limit: '7.5',
      maximum_retries: '3',
      retry_interval: '90',
      threshold_duration: '20',
      retry_clear_interval: '600',
    }).expect(200);
    await headEnd.finished(transactionid, ['m1']);
    // Changed on the meter since: the read must show the meter's value, not the one written.
    const meter = headEnd.gateway.meter(SERIALS[0]);
    const alarm = meter.alarms[24];
    expect(alarm).toMatchObject({ id: 25, quantity: 96, onthreshold: 7500, ondelay: 20, offdelay: 90 });
    if ('quantity' in alarm) meter.alarms[24] = { ...alarm, onthreshold: 9000 };

    const item = await readItem(ParameterType.SanctionedLoad);
    expect(item).toMatchObject({
      sanc_load_limit: '9',
      sanc_threshold_duration: '20',
      sanc_retry_interval: '90',
      sanc_maximum_retries: '3',
      sanc_retry_clear_interval: '600',
    });
    expect(item.remarks).toMatch(
      /sanc_datetime, sanc_load_limit, sanc_retry_interval, sanc_threshold_duration read from the meter through the ABB_G13 driver; sanc_maximum_retries, sanc_retry_clear_interval from the head-end's record \(the meter has no such setting\)/,
    );
    const visuals = await visualsOf('m1');
    expect(visuals.sanc_load_limit).toBe('9');
    expect(Number(visuals.meter_load_limit_set)).toBe(9);
  });

  it("TIOU: the meter's tariff calendar in the structure of update_time_of_use", async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    const item = await readItem(ParameterType.TimeOfUse, 'm2');
    const days = [...meter.dayProfiles.values()].sort((a, b) => a.profile - b.profile);
    expect(JSON.parse(item.tiou_day_profile as string)).toEqual(
      days.map((d) => ({ name: `d${d.profile}`, tariff_slabs: d.actions.map((a) => a[1]).sort() })),
    );
    expect(JSON.parse(item.tiou_week_profile as string)).toEqual(
      meter.weekProfiles.map((w) => ({ name: w.profile, weekly_day_profile: w.dayid.map((d) => `d${d}`) })),
    );
    expect(JSON.parse(item.tiou_season_profile as string)).toEqual(
      meter.seasonProfiles.map((s) => ({
        name: s.profile,
        week_profile_name: s.weekprofile,
        start_date: `${String(s.day).padStart(2, '0')}-${String(s.month).padStart(2, '0')}`,
      })),
    );
    expect(JSON.parse(item.tiou_holiday_profile as string)).toEqual([]);
    // The G13 has no passive calendar: the activation datetime is the head-end's record (none yet).
    expect(item.tiou_activation_datetime).toBe('');
    expect(item.remarks).toMatch(/tiou_activation_datetime from the head-end's record/);
  });

  it('APMS types: thresholds from the G13 alarms where it can watch the function, the record otherwise', async () => {
    const meter = headEnd.gateway.meter(SERIALS[0]);
    for (const [index, apms] of Object.values(ApmsType).entries()) {
      const type = apms as string as ParameterType;
      const prefix = type.toLowerCase();
      const layout = G13_THRESHOLD_ALARMS[APMS_FUNCTIONS[apms]];
      if (layout) {
        // As apms_tripping_events programs them: a critical and a tripping alarm on the first quantity.
        const critical = 100 + index * 10;
        const tripping = critical + 5;
        const alarm = (id: number, threshold: number, delay: number, output: number) => {
          const on = threshold * layout.scale;
          return {
            id,
            quantity: layout.quantities[0],
            onthreshold: on,
            offthreshold: layout.under ? on + 1 : on,
            ondelay: delay,
            offdelay: 0,
            log: true,
            output,
          };
        };
        const first = layout.firstAlarm;
        meter.alarms[first - 1] = alarm(first, critical, 60 + index, 0);
        meter.alarms[first] = alarm(first + 1, tripping, 120 + index, index % 2 === 0 ? 2 : 0);
        const item = await readItem(type);
        expect(item).toMatchObject({
          [`${prefix}_critical_event_threshold_limit`]: String(critical),
          [`${prefix}_critical_event_log_time`]: String(60 + index),
          [`${prefix}_tripping_event_threshold_limit`]: String(tripping),
          [`${prefix}_tripping_event_log_time`]: String(120 + index),
          [`${prefix}_enable_tripping`]: index % 2 === 0 ? '1' : '0',
        });
        expect(item.remarks).toMatch(/read from the meter through the ABB_G13 driver$/);
        const visuals = await visualsOf('m1');
        expect(visuals[`${prefix}_critical_event_threshold_limit`]).toBe(String(critical));
      } else {
        // Unbalance (no G13 quantity) and phase failure (no alarm left): what the write recorded is answered.
        const at = new Date('2026-11-01T05:00:00Z');
        await record('m1', {
          [`${prefix}_datetime`]: at,
          [`${prefix}_critical_event_threshold_limit`]: '10',
          [`${prefix}_critical_event_log_time`]: '180',
          [`${prefix}_tripping_event_threshold_limit`]: '15',
          [`${prefix}_tripping_event_log_time`]: '240',
          [`${prefix}_enable_tripping`]: '1',
        });
        const item = await readItem(type);
        expect(item).toMatchObject({
          [`${prefix}_datetime`]: udil(at),
          [`${prefix}_critical_event_threshold_limit`]: '10',
          [`${prefix}_critical_event_log_time`]: '180',
          [`${prefix}_tripping_event_threshold_limit`]: '15',
          [`${prefix}_tripping_event_log_time`]: '240',
          [`${prefix}_enable_tripping`]: '1',
        });
        expect(item.remarks).toMatch(
          /from the head-end's record of what it last programmed \(METER_VISUALS\): ABB_G13 driver does not support threshold alarms of (voltageUnbalance|currentUnbalance|phaseFailure): /,
        );
      }
    }
  });

  it('an APMS function not configured on the meter answers empty thresholds and tripping disabled', async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    const { firstAlarm, quantities } = G13_THRESHOLD_ALARMS.underVoltage!;
    for (let id = firstAlarm; id < firstAlarm + 2 * quantities.length; id++) meter.alarms[id - 1] = { id };
    const item = await readItem(ParameterType.UnderVoltage, 'm2');
    expect(item).toMatchObject({
      uvfc_critical_event_threshold_limit: '',
      uvfc_critical_event_log_time: '',
      uvfc_tripping_event_threshold_limit: '',
      uvfc_tripping_event_log_time: '',
      uvfc_enable_tripping: '0',
    });
    expect(item.uvfc_datetime).not.toBe('');
    expect(item.remarks).toMatch(/the function is not configured on the meter/);
  });

  it('MDSM: the interval the meter stores the last programmed data type at, the activation from the record', async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    meter.configureLoadProfile(
      meter.lpConfig.map(([, quantity, count]): [number, number, number] => [1800, quantity, count]),
    );
    const activation = new Date('2026-11-21T00:00:00Z');
    await record('m2', {
      mdsm_datetime: new Date('2026-11-20T07:30:00Z'),
      mdsm_activation_datetime: activation,
      mdsm_data_type: 'LPRO',
      mdsm_sampling_interval: '15',
      mdsm_sampling_initial_time: '0',
    });
    const lpro = await readItem(ParameterType.DataSampling, 'm2');
    expect(lpro).toMatchObject({
      mdsm_data_type: 'LPRO',
      mdsm_sampling_interval: '30',
      mdsm_sampling_initial_time: '0',
      mdsm_activation_datetime: udil(activation),
    });
    expect(lpro.remarks).toMatch(
      /mdsm_datetime, mdsm_data_type, mdsm_sampling_interval, mdsm_sampling_initial_time read from the meter through the ABB_G13 driver; mdsm_activation_datetime from the head-end's record/,
    );
    await record('m2', { mdsm_data_type: 'BILL' });
    meter.pvInterval = 'weekly';
    const bill = await readItem(ParameterType.DataSampling, 'm2');
    expect(bill).toMatchObject({ mdsm_data_type: 'BILL', mdsm_sampling_interval: '10080' });
    expect((await visualsOf('m2')).mdsm_sampling_interval).toBe('10080');
  });

  it('what the 3.x writes programmed is what the reads answer: apms_tripping_events, update_major_alarms', async () => {
    const apms = nextId();
    await post('/apms_tripping_events', apms, {
      global_device_id: '["m2"]',
      request_datetime: udil(new Date()),
      type: 'olfc',
      critical_event_threshold_limit: '4.5',
      critical_event_log_time: '30',
      tripping_event_threshold_limit: '6',
      tripping_event_log_time: '90',
      enable_tripping: '1',
    }).expect(200);
    const alarms = nextId();
    await post('/update_major_alarms', alarms, {
      global_device_id: '["m2"]',
      request_datetime: udil(new Date()),
      major_alarms_list: '[111, 113]',
    }).expect(200);
    const [apmsRow] = await headEnd.finished(apms, ['m2']);
    const [alarmsRow] = await headEnd.finished(alarms, ['m2']);
    expect([apmsRow.indv_status, alarmsRow.indv_status]).toEqual([1, 1]);

    const olfc = await readItem(ParameterType.OverLoad, 'm2');
    expect(olfc).toMatchObject({
      olfc_critical_event_threshold_limit: '4.5',
      olfc_critical_event_log_time: '30',
      olfc_tripping_event_threshold_limit: '6',
      olfc_tripping_event_log_time: '90',
      olfc_enable_tripping: '1',
    });
    expect(olfc.remarks).toMatch(/read from the meter through the ABB_G13 driver$/);
    const pmal = await readItem(ParameterType.MajorAlarms, 'm2');
    expect((pmal.major_alarms_list as Array<Record<string, string>>).map((a) => a.event_code)).toEqual([
      '111',
      '113',
    ]);
  });

  it('LSCH and MTST: what the head-end recorded when it carried out the writes', async () => {
    const start = new Date(Date.now() + 86_400_000);
    const end = new Date(Date.now() + 2 * 86_400_000);
    const slabs = [
      { action_time: '10:00:00', relay_operate: '0' },
      { action_time: '11:00:00', relay_operate: '1' },
    ];
    const shedding = nextId();
    await post('/load_shedding_scheduling', shedding, {
      global_device_id: '["m2"]',
      request_datetime: udil(new Date()),
      start_datetime: udil(start),
      end_datetime: udil(end),
      load_shedding_slabs: JSON.stringify(slabs),
    }).expect(200);
    const status = nextId();
    await post('/meter_status_update', status, {
      global_device_id: '["m2"]',
      request_datetime: udil(new Date()),
      meter_activation_status: '1',
    }).expect(200);
    await headEnd.finished(shedding, ['m2']);
    await headEnd.finished(status, ['m2']);

    const lsch = await readItem(ParameterType.LoadShedding, 'm2');
    expect(lsch).toMatchObject({ lsch_start_datetime: udil(start), lsch_end_datetime: udil(end) });
    expect(JSON.parse(lsch.lsch_load_shedding_slabs as string)).toEqual(
      slabs.map((s) => ({ ...s, relay_operate: Number(s.relay_operate) })),
    );
    expect(lsch.remarks).toMatch(/^Programmed Load Shedding Schedule from the head-end's record/);
    const mtst = await readItem(ParameterType.MeterStatus, 'm2');
    expect(mtst.mtst_meter_activation_status).toBe('1');
    expect(mtst.mtst_datetime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('IPPO, OPPO, WSIM, MSIM, DMDT, MDI: the recorded values, with a remark naming the source', async () => {
    const at = new Date('2026-11-20T07:30:00Z');
    const columns: Record<string, string | Date> = {
      ippo_datetime: at,
      ippo_primary_ip_address: '10.0.0.1',
      ippo_secondary_ip_address: '10.0.0.2',
      ippo_primary_port: '9001',
      ippo_secondary_port: '9002',
      oppo_datetime: at,
      oppo_optical_port_on_datetime: new Date('2026-11-22T00:00:00Z'),
      oppo_optical_port_off_datetime: new Date('2026-11-22T01:00:00Z'),
      wsim_datetime: at,
      wsim_wakeup_number_1: '923001234567',
      wsim_wakeup_number_2: '923007654321',
      msim_id: '8991006090527906588',
      dmdt_datetime: at,
      dmdt_communication_mode: '4',
      dmdt_bidirectional_device: '1',
      dmdt_communication_type: '2',
      dmdt_communication_interval: '0',
      dmdt_initial_communication_time: '00:00:00',
      dmdt_phase: '3',
      dmdt_meter_type: '1',
      mdi_reset_time: '00:00:00',
    };
    await record('m1', columns);
    await headEnd.db.query(`UPDATE udil.meter_visuals SET mdi_reset_date = 5 WHERE global_device_id = 'm1'`);
    const expected = { ...columns, mdi_reset_date: '5' } as Record<string, string | Date>;
    const types = [
      ParameterType.IpPort,
      ParameterType.OpticalPort,
      ParameterType.WakeUpSim,
      ParameterType.SimId,
      ParameterType.DeviceMetadata,
      ParameterType.MdiReset,
    ];
    for (const type of types) {
      const item = await readItem(type);
      for (const name of PARAMETER_COLUMNS[type]) {
        const value = expected[name];
        expect([name, item[name]]).toEqual([
          name,
          value === undefined ? '' : value instanceof Date ? udil(value) : value,
        ]);
      }
      expect(item.remarks).toMatch(/from the head-end's record of what it last programmed \(METER_VISUALS\)/);
    }
    // wsim_wakeup_number_3 was never recorded: present, empty.
    expect((await readItem(ParameterType.WakeUpSim)).wsim_wakeup_number_3).toBe('');
  });

  it('PMAL: the major alarms list update_major_alarms recorded, as objects', async () => {
    const empty = await readItem(ParameterType.MajorAlarms);
    expect(empty.major_alarms_list).toEqual([]);
    await record('m1', {
      pmal_datetime: new Date(),
      pmal_major_alarms_list: JSON.stringify([
        { event_code: '111', event_description: 'Power fail start' },
        { event_code: 113, event_description: 'Phase failure' },
      ]),
    });
    const item = await readItem(ParameterType.MajorAlarms);
    expect(item.major_alarms_list).toEqual([
      { event_code: '111', event_description: 'Power fail start' },
      { event_code: '113', event_description: 'Phase failure' },
    ]);
  });

  it('runs through the engine: a TRANSACTION_STATUS row at level 5 carrying the answer', async () => {
    const transactionid = nextId();
    const answer = await read('AUXR', '["m2"]', transactionid);
    const status = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .expect(200);
    const [row] = status.body.data as Record<string, unknown>[];
    expect(row).toMatchObject({ type: 'AUXR', status_level: '5', indv_status: '1', global_device_id: 'm2' });
    for (const level of [1, 2, 3, 4, 5]) expect(row[`status_${level}_datetime`]).not.toBe('');
    expect(row.response_data).toEqual(answer.data);
    // The same transactionid again: the same answer, no second read.
    const again = await read('AUXR', '["m2"]', transactionid);
    expect(again.data).toEqual(answer.data);
    const { rows } = await headEnd.db.query(
      `SELECT count(*)::int AS n FROM udil.transaction_status WHERE transactionid = $1`,
      [transactionid],
    );
    expect(rows[0].n).toBe(1);
  });

  it('serves a few devices in one read, one item each, in the order asked', async () => {
    headEnd.gateway.meter(SERIALS[0]).ioState[0] = 1;
    headEnd.gateway.meter(SERIALS[1]).ioState[0] = 0;
    const answer = await read('auxr', '["m2","m1"]');
    expect(answer.status).toBe('1');
    expect(answer.data.map((item) => [item.global_device_id, item.indv_status, item.auxr_status])).toEqual([
      ['m2', '1', '0'],
      ['m1', '1', '1'],
    ]);
    headEnd.gateway.meter(SERIALS[1]).ioState[0] = 1;
  });

  it('answers in XML when asked', async () => {
    const response = await post('/on_demand_parameter_read', nextId(), {
      global_device_id: 'm2',
      type: 'mtst',
    })
      .set('Accept', 'application/xml')
      .expect(200);
    expect(response.headers['content-type']).toMatch(/application\/xml/);
    const parsed = new XMLParser({ parseTagValue: false }).parse(response.text) as {
      root: { status: string; data: { element: Record<string, string> } };
    };
    expect(parsed.root.status).toBe('1');
    expect(parsed.root.data.element).toMatchObject({
      global_device_id: 'm2',
      mtst_meter_activation_status: '1',
    });
  });

  it('refuses a bad type or device with a 400 naming the field; an unknown device is refused with a remark', async () => {
    const bad = await post('/on_demand_parameter_read', nextId(), {
      global_device_id: 'm1',
      type: 'INST',
    }).expect(400);
    expect(bad.body).toMatchObject({ status: '0' });
    expect(bad.body.message).toMatch(/^type: must be one of AUXR, DVTM/);
    const noDevice = await post('/on_demand_parameter_read', nextId(), {
      global_device_id: '',
      type: 'AUXR',
    }).expect(400);
    expect(noDevice.body.message).toMatch(/^global_device_id: /);
    const noType = await post('/on_demand_parameter_read', nextId(), { global_device_id: 'm1' }).expect(400);
    expect(noType.body.message).toBe('type: is required');

    const unknown = await read('DVTM', 'm-unknown');
    expect(unknown.status).toBe('0');
    expect(unknown.data).toEqual([
      {
        global_device_id: 'm-unknown',
        msn: '',
        indv_status: '2',
        remarks: 'global_device_id m-unknown is not registered (create it with device_creation)',
        dvtm_datetime: '',
        dvtm_meter_clock: '',
      },
    ]);
  });

  it('a meter that fails answers indv_status 0 with the reason, every key present', async () => {
    headEnd.gateway.setMeterFaults(SERIALS[1], { offline: true });
    try {
      const answer = await read('AUXR', 'm2');
      expect(answer.status).toBe('0');
      const [item] = answer.data;
      expect(Object.keys(item)).toEqual(keysOf(ParameterType.AuxRelay));
      expect(item).toMatchObject({ indv_status: '2', auxr_status: '', auxr_datetime: '' });
      expect(item.remarks).toMatch(/^read failed: device: /);
    } finally {
      headEnd.gateway.clearFaults();
    }
  });

  it('AUXR on a meter whose relay port is wired as an input fails with the reason, not a guess', async () => {
    const meter = headEnd.gateway.meter(SERIALS[1]);
    meter.ioConfig[0] = 'input';
    try {
      const answer = await read('AUXR', 'm2');
      expect(answer.status).toBe('0');
      expect(answer.data[0]).toMatchObject({ indv_status: '2', auxr_status: '' });
      expect(answer.data[0].remarks).toMatch(/port 1 is input, not the supply relay output/);
    } finally {
      meter.ioConfig[0] = 'communication_out';
    }
  });

  it('an iServer 2 channel is answered from the head-end record: its driver reads no meter parameter', async () => {
    // The gateway is unreachable: any attempt to reach it would fail the read.
    const gateway = await headEnd.api.get(GatewayRepository).create({
      name: 'stack-1',
      driver: 'OMEGA_ISERVER2',
      endpoint: 'ws://127.0.0.1:1',
      tlsMode: 'insecure',
      maxInFlight: 1,
      requestTimeoutMs: 1000,
    });
    await headEnd.db.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
       VALUES ('probe-1', 42, 'OMEGA_ISERVER2', $1, 'p1ch0')`,
      [gateway.id],
    );
    await record('probe-1', { mtst_datetime: new Date(), mtst_meter_activation_status: '1' });
    for (const type of [ParameterType.AuxRelay, ParameterType.DeviceTime, ParameterType.MeterStatus]) {
      const item = await readItem(type, 'probe-1');
      expect(item.msn).toBe('42');
      expect(item.remarks).toMatch(/from the head-end's record/);
    }
    const relay = await readItem(ParameterType.AuxRelay, 'probe-1');
    expect(relay.remarks).toMatch(
      /OMEGA_ISERVER2 driver does not support readSupplyRelay: the iServer 2 is an environmental sensor gateway/,
    );
    expect(relay.auxr_status).toBe('');
  });

  it('an inactive meter is not contacted: its parameters come from the record, with that reason', async () => {
    await headEnd.db.query(`UPDATE public.devices SET activation_status = 0 WHERE global_device_id = 'm1'`);
    try {
      const before = headEnd.gateway.requests.length;
      const item = await readItem(ParameterType.AuxRelay);
      expect(item.remarks).toMatch(/the meter is inactive and is not read/);
      expect(headEnd.gateway.requests.length).toBe(before);
    } finally {
      await headEnd.db.query(`UPDATE public.devices SET activation_status = 1 WHERE global_device_id = 'm1'`);
    }
  });

  describe('device_communication_history', () => {
    const history = (fields: Record<string, string>, accept = 'application/json') =>
      request(headEnd.api.getHttpServer())
        .post('/device_communication_history')
        .set('privatekey', headEnd.key)
        .set('Accept', accept)
        .type('form')
        .send(fields);

    // The 3.2 record's keys as every UDIL answer carries them (udil-records.ts: without the surrogate id).
    const DCH_KEYS = UDIL_RECORD_KEYS.device_communication_history;

    it('serves every communication of the devices in the range, every key as a string, a page at a time', async () => {
      const from = new Date(Date.now() - 3600_000);
      const to = new Date(Date.now() + 60_000);
      await read('AUXR', 'm1');
      const { rows } = await headEnd.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM udil.device_communication_history WHERE global_device_id = 'm1'`,
      );
      const response = await history({
        global_device_id: '["m1"]',
        start_datetime: udil(from),
        end_datetime: udil(to),
      }).expect(200);
      expect(response.body.status).toBe('1');
      const data = response.body.data as Record<string, string>[];
      expect(data).toHaveLength(rows[0].n);
      for (const row of data) {
        expect(Object.keys(row).sort()).toEqual([...DCH_KEYS].sort());
        for (const value of Object.values(row)) expect(typeof value).toBe('string');
      }
      const relayRead = data[data.length - 1];
      expect(relayRead).toMatchObject({ global_device_id: 'm1', msn: SERIALS[0], communication_status: '1' });
      expect(relayRead.message_log).toMatch(/GET \/meters\/3100001001\/io 200/);
      expect(Number(relayRead.bytes_received)).toBeGreaterThan(0);
      expect(relayRead.longitude).toBe('');

      const first = await history({
        global_device_id: 'm1',
        start_datetime: udil(from),
        end_datetime: udil(to),
        page_size: '1',
      }).expect(200);
      expect(first.body).toMatchObject({ more: '1', page: '1', page_size: '1' });
      expect(first.body.data).toEqual([data[0]]);
      const second = await history({
        global_device_id: 'm1',
        start_datetime: udil(from),
        end_datetime: udil(to),
        page: '2',
        page_size: '1',
      }).expect(200);
      expect(second.body.data).toEqual([data[1]]);

      const xml = await history(
        { global_device_id: 'm1', start_datetime: udil(from), end_datetime: udil(to), page_size: '1' },
        'application/xml',
      ).expect(200);
      const parsed = new XMLParser({ parseTagValue: false }).parse(xml.text) as {
        root: { data: { element: Record<string, string> } };
      };
      expect(parsed.root.data.element.mdc_read_datetime).toBe(data[0].mdc_read_datetime);
      expect(parsed.root.data.element.message_log).toBe(data[0].message_log);
    });

    it('names the missing or bad field', async () => {
      const missing = await history({ global_device_id: 'm1', end_datetime: udil(new Date()) }).expect(400);
      expect(missing.body).toMatchObject({ status: '0', message: 'start_datetime: is required' });
      const reversed = await history({
        global_device_id: 'm1',
        start_datetime: udil(new Date()),
        end_datetime: udil(new Date(Date.now() - 60_000)),
      }).expect(400);
      expect(reversed.body.message).toMatch(/^end_datetime: /);
      await request(headEnd.api.getHttpServer())
        .post('/device_communication_history')
        .type('form')
        .send({ global_device_id: 'm1' })
        .expect(401);
    });
  });
});

/** The bounded wait: past UDIL_ON_DEMAND_WAIT_SECONDS the answer says the read goes on. */
describe('UDIL parameter reads past the bounded wait', () => {
  let headEnd: G13HeadEnd;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_params_wait', SERIALS, { UDIL_ON_DEMAND_WAIT_SECONDS: '1' });
  });

  afterAll(() => headEnd?.stop());

  it('answers that the read goes on, and transaction_status later carries the data', async () => {
    // No worker runs: nothing can answer within the wait, whatever the machine's speed.
    await headEnd.stopWorker();
    const transactionid = `late-${Date.now()}`;
    const response = await request(headEnd.api.getHttpServer())
      .post('/on_demand_parameter_read')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send({ global_device_id: '["m1"]', type: 'dvtm' })
      .expect(200);
    expect(response.body.status).toBe('1');
    expect(response.body.message).toMatch(
      /time-out: 1 device\(s\) did not answer within 1 s; the read goes on and transaction_status will carry the result/,
    );
    const [item] = response.body.data as Item[];
    expect(Object.keys(item)).toEqual(keysOf(ParameterType.DeviceTime));
    expect(item).toMatchObject({
      global_device_id: 'm1',
      msn: SERIALS[0],
      indv_status: '0',
      dvtm_meter_clock: '',
    });
    expect(item.remarks).toMatch(/^in progress: the device has not answered within 1 s \(status_level 0\)/);

    await headEnd.startWorker();
    const [row] = await headEnd.finished(transactionid, ['m1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    const status = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .expect(200);
    const [answer] = status.body.data[0].response_data as Item[];
    expect(Object.keys(answer)).toEqual(keysOf(ParameterType.DeviceTime));
    const clock = parseUdilDatetime(answer.dvtm_meter_clock as string, ZONE)!.getTime();
    expect(clock).toBeLessThanOrEqual(headEnd.gateway.readClock(SERIALS[0]).getTime());
    expect(answer.remarks).toBe('Device Time read from the meter through the ABB_G13 driver');
  });
});

/**
 * A G13 meter that serves only the manual's example resources (no alarms, load profiles nor tariff
 * profiles): what it has is read from it, what it lacks comes from the record with the reason.
 */
describe('UDIL parameter reads against a G13 serving only the manual examples', () => {
  const MANUAL = '3100008008';
  let headEnd: G13HeadEnd;
  let sequence = 0;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_params_manual', [MANUAL], {}, [], { manualOnly: [MANUAL] });
  });

  afterAll(() => headEnd?.stop());

  async function readItem(type: ParameterType): Promise<Item> {
    const response = await request(headEnd.api.getHttpServer())
      .post('/on_demand_parameter_read')
      .set('privatekey', headEnd.key)
      .set('transactionid', `manual-${Date.now()}-${(sequence += 1)}`)
      .type('form')
      .send({ global_device_id: 'm1', type })
      .expect(200);
    const [item] = (response.body as Answer).data;
    expect(Object.keys(item)).toEqual(keysOf(type));
    return item;
  }

  it('reads the clock and the previous-value interval it has, answers the rest from the record with the reason', async () => {
    expect(await readItem(ParameterType.DeviceTime)).toMatchObject({
      indv_status: '1',
      dvtm_meter_clock: formatUdilDatetime(new Date('2012-08-05T01:11:31Z'), ZONE),
    });
    await headEnd.db.query(
      `UPDATE udil.meter_visuals SET mdsm_data_type = 'BILL' WHERE global_device_id = 'm1'`,
    );
    expect(await readItem(ParameterType.DataSampling)).toMatchObject({
      indv_status: '1',
      mdsm_data_type: 'BILL',
      mdsm_sampling_interval: '10080',
    });
    for (const type of [ParameterType.SanctionedLoad, ParameterType.OverVoltage, ParameterType.TimeOfUse]) {
      const item = await readItem(type);
      expect(item.indv_status).toBe('1');
      expect(item.remarks).toMatch(
        new RegExp(
          `from the head-end's record .*: ABB_G13 driver does not support reading .*: meter ${MANUAL} does not provide`,
        ),
      );
    }
  });

  it('AUXR: a supply port configured as a pulse output is not taken for the relay', async () => {
    const item = await readItem(ParameterType.AuxRelay);
    expect(item).toMatchObject({ indv_status: '2', auxr_status: '' });
    expect(item.remarks).toMatch(/port 1 is pulse_out, not the supply relay output/);
  });
});
