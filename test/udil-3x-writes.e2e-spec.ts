import request from 'supertest';
import { JobQueueRepository, QueueName } from '@hes/queue';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { GatewayRepository } from '@hes/database';
import { formatUdilDatetime } from '@hes/udil';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';
import { waitFor } from './support/test-environment';

const SERIALS = ['3200001001', '3200001002', '3200001003'];
const REQUESTED = '2026-11-21 10:00:00';

interface StatusRow {
  global_device_id: string;
  type: string;
  status_level: number;
  indv_status: number;
  request_cancelled: number;
  response_data: string | null;
  command_receiving_datetime: Date;
  status_1_datetime: Date | null;
  status_2_datetime: Date | null;
  status_3_datetime: Date | null;
  status_4_datetime: Date | null;
  status_5_datetime: Date | null;
}

/**
 * The UDIL 3.x write services (3.2 §3.3, 3.3) end to end against the G13 simulator: the answer, the
 * TRANSACTION_STATUS row at level 5 with every stage time present and in order, the meter's own state,
 * the METER_VISUALS columns the parameter reads answer from, refusals per driver and 400s per field.
 */
describe('UDIL 3.x writes against the G13 simulator', () => {
  let headEnd: G13HeadEnd;
  let sequence = 0;
  const nextId = () => `w3-${Date.now()}-${(sequence += 1)}`;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_3x_writes', SERIALS);
  });

  afterAll(() => headEnd?.stop());

  const zone = () => headEnd.api.get<AppConfig>(APP_CONFIG).TIME_ZONE;
  const meter = (index: number) => headEnd.gateway.meter(SERIALS[index]);

  const post = (service: string, transactionid: string, fields: Record<string, string>) =>
    request(headEnd.api.getHttpServer())
      .post(`/${service}`)
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send(fields);

  /** Posts a write for `devices`; the answer must be 200. */
  const write = async (service: string, devices: string[] | string, fields: Record<string, string>) => {
    const transactionid = nextId();
    const answer = await post(service, transactionid, {
      global_device_id: Array.isArray(devices) ? JSON.stringify(devices) : devices,
      request_datetime: REQUESTED,
      ...fields,
    }).expect(200);
    return { transactionid, body: answer.body as { status: string; data: Record<string, string>[] } };
  };

  /** Waits for level 5 and checks that all six datetimes are there and never go backwards. */
  const completed = async (transactionid: string, devices: string[]): Promise<StatusRow[]> => {
    await headEnd.finished(transactionid, devices);
    const { rows } = await headEnd.db.query<StatusRow>(
      `SELECT * FROM udil.transaction_status WHERE transactionid = $1 AND global_device_id = ANY($2)
        ORDER BY global_device_id`,
      [transactionid, devices],
    );
    for (const row of rows) {
      expect(row).toMatchObject({ status_level: 5, indv_status: 1, request_cancelled: 0 });
      const stages = [
        row.command_receiving_datetime,
        row.status_1_datetime,
        row.status_2_datetime,
        row.status_3_datetime,
        row.status_4_datetime,
        row.status_5_datetime,
      ];
      for (const stage of stages) expect(stage).toBeInstanceOf(Date);
      for (let i = 1; i < stages.length; i++)
        expect(stages[i]!.getTime()).toBeGreaterThanOrEqual(stages[i - 1]!.getTime());
    }
    return rows;
  };

  const visuals = async (globalDeviceId: string) =>
    (
      await headEnd.db.query<Record<string, unknown>>(
        `SELECT * FROM udil.meter_visuals WHERE global_device_id = $1`,
        [globalDeviceId],
      )
    ).rows[0];

  /** A 400 whose message names the field. */
  const rejected = async (service: string, fields: Record<string, string>, message: RegExp) => {
    const answer = await post(service, nextId(), {
      global_device_id: '["m1"]',
      request_datetime: REQUESTED,
      ...fields,
    }).expect(400);
    expect(answer.body.status).toBe('0');
    expect(answer.body.message).toMatch(message);
  };

  const thresholds = {
    critical_event_threshold_limit: '270',
    critical_event_log_time: '180',
    tripping_event_threshold_limit: '300',
    tripping_event_log_time: '240',
    enable_tripping: '1',
  };

  it('update_time_of_use programs the 3.2 calendar of example 4.7 into the meter', async () => {
    const calendar = {
      activation_datetime: '2026-11-21 00:00:00',
      day_profile: JSON.stringify([
        { name: 'd1', tariff_slabs: ['08:00', '17:00', '20:00'] },
        { name: 'd2', tariff_slabs: ['08:00', '17:00'] },
        { name: 'd3', tariff_slabs: ['06:00', '18:00', '20:00'] },
        { name: 'd4', tariff_slabs: ['08:00', '12:00', '17:00'] },
      ]),
      week_profile: JSON.stringify([
        { name: 'w1', weekly_day_profile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd2', 'd2'] },
        { name: 'w2', weekly_day_profile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd3', 'd3'] },
      ]),
      season_profile: JSON.stringify([
        { name: 's1', week_profile_name: 'w1', start_date: '01-01' },
        { name: 's2', week_profile_name: 'w2', start_date: '01-07' },
      ]),
      holiday_profile: JSON.stringify([
        { name: 'h1', date: '23-03', day_profile_name: 'd4' },
        { name: 'h2', date: '14-08', day_profile_name: 'd4' },
      ]),
    };
    const { transactionid, body } = await write('update_time_of_use', ['m1'], calendar);
    expect(body.data[0]).toMatchObject({ global_device_id: 'm1', indv_status: '1' });
    const [row] = await completed(transactionid, ['m1']);
    expect(row.type).toBe('UPDATE_TIME_OF_USE');
    expect(meter(0).tariffSource).toBe(0);
    // The G13 cannot delete a season: the one it had ("Year") now repeats the first season's week.
    const seasons = new Map(meter(0).seasonProfiles.map((s) => [s.profile, s.weekprofile]));
    expect([...seasons.keys()]).toEqual(expect.arrayContaining(['s1', 's2']));
    expect(seasons.get('Year') ?? seasons.get('s1')).toBe(seasons.get('s1'));
    expect(seasons.get('s2')).not.toBe(seasons.get('s1'));
    expect(meter(0).specialDays).toHaveLength(2);
    const row1 = await visuals('m1');
    expect(JSON.parse(row1.tiou_day_profile as string)).toHaveLength(4);
    expect(JSON.parse(row1.tiou_holiday_profile as string)[1]).toEqual({
      name: 'h2',
      date: '14-08',
      day_profile_name: 'd4',
    });
    expect(row1.tiou_datetime).toBeInstanceOf(Date);

    await rejected(
      'update_time_of_use',
      {
        ...calendar,
        week_profile: JSON.stringify([
          { name: 'w1', weekly_day_profile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd2', 'd9'] },
        ]),
      },
      /^week_profile\[0\]\.weekly_day_profile: names unknown day profile "d9"/,
    );
    await rejected(
      'update_time_of_use',
      { ...calendar, season_profile: '[{"name":"s1","week_profile_name":"w1","start_date":"31-02"}]' },
      /^season_profile\[0\]\.start_date: must be a date dd-MM/,
    );
    await rejected('update_time_of_use', { ...calendar, day_profile: '' }, /^day_profile: /);
  });

  it('update_meter_status and meter_status_update: the head-end passes every level itself', async () => {
    const off = await write('update_meter_status', ['m3'], { meter_activation_status: '0' });
    const [row] = await completed(off.transactionid, ['m3']);
    expect(row.type).toBe('UPDATE_METER_STATUS');
    const device = await headEnd.db.query(
      `SELECT activation_status FROM public.devices WHERE global_device_id = 'm3'`,
    );
    expect(device.rows[0].activation_status).toBe(0);
    expect(await visuals('m3')).toMatchObject({ mtst_meter_activation_status: '0' });

    const on = await write('meter_status_update', ['m3'], { meter_activation_status: '1' });
    await completed(on.transactionid, ['m3']);
    expect(await visuals('m3')).toMatchObject({ mtst_meter_activation_status: '1' });
    await rejected('update_meter_status', { meter_activation_status: '2' }, /^meter_activation_status: /);
  });

  it('refuses at acceptance, naming the driver, what a G13 meter cannot be programmed with', async () => {
    const refusals: Array<[string, Record<string, string>, RegExp]> = [
      [
        'update_wake_up_sim_number',
        { wakeup_number_1: '03346071928', wakeup_number_2: '03354445555', wakeup_number_3: '03212345686' },
        /^ABB_G13 driver does not support update_wake_up_sim_number: G13 meters have no SIM/,
      ],
      [
        'wake_up_sim_number_update',
        { wakeup_number_1: '03346071928' },
        /^ABB_G13 driver does not support wake_up_sim_number_update: /,
      ],
      [
        'update_ip_port',
        {
          primary_ip_address: '10.0.0.1',
          secondary_ip_address: '10.0.0.2',
          primary_port: '4059',
          secondary_port: '4060',
        },
        /^ABB_G13 driver does not support update_ip_port: meters behind a G13 have no IP address/,
      ],
      [
        'activate_meter_optical_port',
        { optical_port_on_datetime: '2026-11-21 10:00:00', optical_port_off_datetime: '2026-11-21 11:00:00' },
        /^ABB_G13 driver does not support activate_meter_optical_port: the G13 JSON API has no optical-port control/,
      ],
    ];
    for (const [service, fields, remark] of refusals) {
      const { transactionid, body } = await write(service, ['m1'], fields);
      expect(body.status).toBe('0');
      expect(body.data).toEqual([
        expect.objectContaining({
          global_device_id: 'm1',
          indv_status: '0',
          remarks: expect.stringMatching(remark),
        }),
      ]);
      const { rows } = await headEnd.db.query<StatusRow>(
        `SELECT * FROM udil.transaction_status WHERE transactionid = $1`,
        [transactionid],
      );
      expect(rows[0]).toMatchObject({ request_cancelled: 1, indv_status: 0, status_level: 0 });
    }
  });

  it('refuses per driver: an iServer 2 channel gets the iServer 2 reasons, and head-end services still run', async () => {
    const stack = await headEnd.api
      .get(GatewayRepository)
      .create({ name: 'stack-1', driver: 'OMEGA_ISERVER2', endpoint: 'ws://127.0.0.1:1' });
    await headEnd.db.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway)
       VALUES ('s1', 9100000001, 'OMEGA_ISERVER2', $1, 'p1ch0')`,
      [stack.id],
    );
    const relay = await write('aux_relay_operations', ['s1', 'm1'], { relay_operate: '1' });
    expect(relay.body.data).toEqual([
      expect.objectContaining({
        global_device_id: 's1',
        indv_status: '0',
        remarks: expect.stringMatching(
          /^OMEGA_ISERVER2 driver does not support aux_relay_operations: the iServer 2 is an environmental sensor gateway/,
        ),
      }),
      expect.objectContaining({ global_device_id: 'm1', indv_status: '1' }),
    ]);
    await completed(relay.transactionid, ['m1']);
    const apms = await write('apms_tripping_events', ['s1'], { type: 'HAPF', ...thresholds });
    expect(apms.body.data[0].remarks).toMatch(
      /^OMEGA_ISERVER2 driver does not support apms_tripping_events type HAPF: .*not supply quantities$/,
    );
    const lsch = await write('load_shedding_scheduling', ['s1'], {
      start_datetime: '2026-11-21 00:00:00',
      end_datetime: '2026-11-22 00:00:00',
      load_shedding_slabs: '[{"action_time":"13:00:00","relay_operate":"0"}]',
    });
    expect(lsch.body.data[0].remarks).toMatch(
      /^OMEGA_ISERVER2 driver supports neither load_shedding_scheduling nor the operateRelay the head-end would use for it: /,
    );
    // What the head-end does on its own needs nothing of the driver.
    const alarms = await write('update_major_alarms', ['s1'], { major_alarms_list: '[201]' });
    await completed(alarms.transactionid, ['s1']);
    expect(JSON.parse((await visuals('s1')).pmal_major_alarms_list as string)).toEqual([
      { event_code: '201', event_description: 'Time Synchronization' },
    ]);
  });

  it('update_device_metadata records the metadata in the registry and METER_VISUALS', async () => {
    const { transactionid } = await write('update_device_metadata', ['m1', 'm2'], {
      communication_mode: '4',
      bidirectional_device: '1',
      communication_type: '2',
      initial_communication_time: '00:15',
      communication_interval: '0',
      phase: '3',
      meter_type: '4',
    });
    await completed(transactionid, ['m1', 'm2']);
    const device = await headEnd.db.query(
      `SELECT communication_mode, bidirectional_device, communication_type, initial_communication_time::text AS t,
              phase, meter_type FROM public.devices WHERE global_device_id = 'm2'`,
    );
    expect(device.rows[0]).toEqual({
      communication_mode: 4,
      bidirectional_device: true,
      communication_type: 2,
      t: '00:15:00',
      phase: 3,
      meter_type: 4,
    });
    expect(await visuals('m2')).toMatchObject({
      dmdt_communication_mode: '4',
      dmdt_bidirectional_device: '1',
      dmdt_communication_type: '2',
      dmdt_initial_communication_time: '00:15:00',
      dmdt_communication_interval: '0',
      dmdt_phase: '3',
      dmdt_meter_type: '4',
    });
    await rejected(
      'update_device_metadata',
      {
        communication_mode: '4',
        bidirectional_device: '1',
        communication_type: '2',
        initial_communication_time: '00:15:00',
        communication_interval: '0',
        phase: '4',
        meter_type: '4',
      },
      /^phase: must be 1 \(single\), 2 \(other\) or 3 \(three phase\)$/,
    );
  });

  it('device_creation takes the 3.2 form of example 4.8 (device types 1–5, phase 2, bidirectional)', async () => {
    const transactionid = nextId();
    await post('device_creation', transactionid, {
      device_identity: JSON.stringify([{ dsn: SERIALS[2], global_device_id: 'm3' }]),
      request_datetime: REQUESTED,
      initial_communication_time: '05:15:41',
      communication_interval: '15',
      device_type: '4',
      mdi_reset_date: '1',
      mdi_reset_time: '00:00:00',
      sim_number: '03218090100',
      sim_id: '8991006090527906588',
      phase: '2',
      meter_type: '5',
      communication_mode: '1',
      communication_type: '1',
      bidirectional_device: '1',
    }).expect(200);
    await completed(transactionid, ['m3']);
    const device = await headEnd.db.query(
      `SELECT device_type, phase, meter_type, bidirectional_device, initial_communication_time::text AS t
         FROM public.devices WHERE global_device_id = 'm3'`,
    );
    expect(device.rows[0]).toEqual({
      device_type: 4,
      phase: 2,
      meter_type: 5,
      bidirectional_device: true,
      t: '05:15:41',
    });
    expect(await visuals('m3')).toMatchObject({
      dmdt_bidirectional_device: '1',
      dmdt_initial_communication_time: '05:15:41',
      dmdt_phase: '2',
    });
  });

  it('update_mdi_reset_date: day 1 makes the billing snapshots monthly; other days are refused per driver', async () => {
    meter(1).configurePreviousValues('daily', 1, [1, 2]);
    const { transactionid } = await write('update_mdi_reset_date', ['m2'], {
      mdi_reset_date: '1',
      mdi_reset_time: '00:00:00',
    });
    await completed(transactionid, ['m2']);
    expect(meter(1).pvInterval).toBe('monthly');
    expect(await visuals('m2')).toMatchObject({ mdi_reset_date: 1, mdi_reset_time: '00:00:00' });

    const other = await write('update_mdi_reset_date', ['m2'], {
      mdi_reset_date: '15',
      mdi_reset_time: '00:00:00',
    });
    expect(other.body.data[0]).toMatchObject({
      indv_status: '0',
      remarks: expect.stringMatching(
        /^ABB_G13 driver does not support update_mdi_reset_date: the G13 closes its monthly billing period/,
      ),
    });
    await rejected(
      'update_mdi_reset_date',
      { mdi_reset_date: '29', mdi_reset_time: '00:00:00' },
      /^mdi_reset_date: must be a day of the month from 1 to 28$/,
    );
    await rejected(
      'update_mdi_reset_date',
      { mdi_reset_date: '1', mdi_reset_time: '25:00' },
      /^mdi_reset_time: /,
    );
  });

  it('apms_tripping_events sets the G13 alarms of the function (any case) and refuses what it cannot watch', async () => {
    const { transactionid } = await write('apms_tripping_events', ['m1'], { type: 'ovfc', ...thresholds });
    await completed(transactionid, ['m1']);
    const alarms = meter(0).alarms;
    expect(alarms.slice(4, 10)).toEqual([
      expect.objectContaining({ id: 5, quantity: 69, onthreshold: 270, ondelay: 180, output: 0 }),
      expect.objectContaining({ id: 6, quantity: 69, onthreshold: 300, ondelay: 240, output: 2 }),
      expect.objectContaining({ id: 7, quantity: 72, onthreshold: 270 }),
      expect.objectContaining({ id: 8, quantity: 72, onthreshold: 300, output: 2 }),
      expect.objectContaining({ id: 9, quantity: 75, onthreshold: 270 }),
      expect.objectContaining({ id: 10, quantity: 75, onthreshold: 300, output: 2 }),
    ]);
    expect(await visuals('m1')).toMatchObject({
      ovfc_critical_event_threshold_limit: '270',
      ovfc_critical_event_log_time: '180',
      ovfc_tripping_event_threshold_limit: '300',
      ovfc_tripping_event_log_time: '240',
      ovfc_enable_tripping: '1',
    });

    const load = await write('apms_tripping_events', ['m1'], {
      type: 'OLFC',
      ...thresholds,
      critical_event_threshold_limit: '4.5',
      tripping_event_threshold_limit: '5',
      enable_tripping: '0',
    });
    await completed(load.transactionid, ['m1']);
    expect(alarms.slice(0, 2)).toEqual([
      expect.objectContaining({ id: 1, quantity: 96, onthreshold: 4500, output: 0 }),
      expect.objectContaining({ id: 2, quantity: 96, onthreshold: 5000, output: 0 }),
    ]);

    const unbalance = await write('apms_tripping_events', ['m1'], { type: 'VUFC', ...thresholds });
    expect(unbalance.body.data[0]).toMatchObject({
      indv_status: '0',
      remarks: expect.stringMatching(
        /^ABB_G13 driver does not support apms_tripping_events type VUFC: the G13 measures no unbalance quantity/,
      ),
    });
    await rejected(
      'apms_tripping_events',
      { type: 'XXXX', ...thresholds },
      /^type: must be an APMS type: OVFC/,
    );
    await rejected(
      'apms_tripping_events',
      { type: 'OVFC', ...thresholds, enable_tripping: '2' },
      /^enable_tripping: /,
    );
    await rejected(
      'apms_tripping_events',
      { type: 'OVFC', ...thresholds, critical_event_log_time: '-1' },
      /^critical_event_log_time: must be seconds from 0 to 86400$/,
    );
  });

  it('parameterization_cancellation puts each function back to its default and clears its state', async () => {
    // APMS, by an older code (OVVP = OVFC), one plain id.
    const apms = await write('apms_tripping_events', ['m2'], { type: 'OVFC', ...thresholds });
    await completed(apms.transactionid, ['m2']);
    const ovvp = nextId();
    await post('parameterization_cancellation', ovvp, { global_device_id: 'm2', type: 'ovvp' }).expect(200);
    const [row] = await completed(ovvp, ['m2']);
    expect(row.type).toBe('PARAMETERIZATION_CANCELLATION');
    expect(meter(1).alarms.slice(4, 10)).toEqual([5, 6, 7, 8, 9, 10].map((id) => ({ id })));
    const apmsState = await visuals('m2');
    expect(apmsState).toMatchObject({
      ovfc_critical_event_threshold_limit: null,
      ovfc_tripping_event_threshold_limit: null,
      ovfc_enable_tripping: null,
    });
    expect(apmsState.ovfc_datetime).toBeInstanceOf(Date);

    // SANC: the load-limit alarm is deactivated.
    const limit = await write('sanctioned_load_control', ['m2'], {
      load_limit: '7',
      maximum_retries: '0',
      retry_interval: '60',
      threshold_duration: '30',
      retry_clear_interval: '0',
    });
    await completed(limit.transactionid, ['m2']);
    expect(meter(1).alarms[24]).toMatchObject({ quantity: 96, onthreshold: 7000 });
    const sanc = await write('parameterization_cancellation', '["m2"]', { type: 'SANC' });
    await completed(sanc.transactionid, ['m2']);
    expect(meter(1).alarms[24]).toEqual({ id: 25 });
    expect(await visuals('m2')).toMatchObject({ sanc_load_limit: null, meter_load_limit_set: null });

    // TIOU: one tariff, held by communication.
    const tiou = await write('parameterization_cancellation', ['m2'], { type: 'tiou' });
    await completed(tiou.transactionid, ['m2']);
    expect(meter(1).tariffSource).toBe(1);
    expect(meter(1).communicationTariff).toBe(1);
    expect(await visuals('m2')).toMatchObject({ tiou_day_profile: null, meter_tariff_identification: null });

    // LSCH: the head-end's own schedule is removed.
    const schedule = await write('load_shedding_scheduling', ['m2'], {
      start_datetime: '2026-11-21 00:00:00',
      end_datetime: '2036-11-21 00:00:00',
      load_shedding_slabs: JSON.stringify([
        { action_time: '13:00:00', relay_operate: '0' },
        { action_time: '14:00:00', relay_operate: '1' },
      ]),
    });
    await completed(schedule.transactionid, ['m2']);
    const queue = headEnd.api.get(JobQueueRepository).queue(QueueName.Transactions);
    const schedulersOfM2 = async () =>
      (await queue.getJobSchedulers(0, -1)).filter((s) => s.key.startsWith('lsch:m2:')).length;
    expect(await schedulersOfM2()).toBe(2);
    const lsch = await write('parameterization_cancellation', ['m2'], { type: 'LSCH' });
    await completed(lsch.transactionid, ['m2']);
    expect(await schedulersOfM2()).toBe(0);
    expect(await visuals('m2')).toMatchObject({ lsch_load_shedding_slabs: null, lsch_start_datetime: null });

    // Refused per driver: the G13 has no unbalance alarm to clear.
    const cufc = await write('parameterization_cancellation', ['m2'], { type: 'CUNP' });
    expect(cufc.body.data[0]).toMatchObject({
      indv_status: '0',
      remarks: expect.stringMatching(
        /^ABB_G13 driver does not support parameterization_cancellation type CUFC: /,
      ),
    });
    await rejected(
      'parameterization_cancellation',
      { type: 'ABCD' },
      /^type: must be SANC, LSCH, TIOU or an APMS type/,
    );
  });

  it('update_major_alarms takes codes or objects, at most 10, and keeps them for the PMAL read', async () => {
    const codes = await write('update_major_alarms', ['m1'], { major_alarms_list: '101,113' });
    await completed(codes.transactionid, ['m1']);
    expect(JSON.parse((await visuals('m1')).pmal_major_alarms_list as string)).toEqual([
      { event_code: '101', event_description: 'MDI reset' },
      { event_code: '113', event_description: 'Phase failure' },
    ]);
    const objects = await write('update_major_alarms', ['m1'], {
      major_alarms_list: JSON.stringify([
        { event_code: '201', event_description: 'Cover open' },
        { event_code: 102 },
      ]),
    });
    await completed(objects.transactionid, ['m1']);
    const state = await visuals('m1');
    expect(JSON.parse(state.pmal_major_alarms_list as string)).toEqual([
      { event_code: '201', event_description: 'Cover open' },
      { event_code: '102', event_description: 'Parameterization' },
    ]);
    expect(state.pmal_datetime).toBeInstanceOf(Date);
    // The spec's own major alarms (§3.1.5: normal meters), and codes 3.3 added: each with the table's name.
    const major = await write('update_major_alarms', ['m1'], {
      major_alarms_list: '[207,202,203,206,117,209]',
    });
    await completed(major.transactionid, ['m1']);
    expect(JSON.parse((await visuals('m1')).pmal_major_alarms_list as string)).toEqual([
      { event_code: '207', event_description: 'Battery Low' },
      { event_code: '202', event_description: 'Contactor ON' },
      { event_code: '203', event_description: 'Contactor OFF' },
      { event_code: '206', event_description: 'Door Open' },
      { event_code: '117', event_description: 'Reverse energy' },
      { event_code: '209', event_description: 'SIM Removed' },
    ]);
    await rejected(
      'update_major_alarms',
      { major_alarms_list: JSON.stringify([101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111]) },
      /^major_alarms_list: must name at most 10 event codes$/,
    );
    await rejected(
      'update_major_alarms',
      { major_alarms_list: '[{"code":"x"}]' },
      /^major_alarms_list\[0\]: /,
    );
  });

  it('meter_data_sampling takes effect at activation_datetime, held in PostgreSQL across a restart', async () => {
    const intervals = () => meter(2).lpConfig.map(([seconds]) => seconds);
    const before = intervals();
    expect(before).not.toContain(300);
    const later = formatUdilDatetime(new Date(Date.now() + 2 * 3600_000), zone());
    const { transactionid } = await write('meter_data_sampling', ['m3'], {
      activation_datetime: later,
      data_type: 'LPRO',
      sampling_interval: '5',
      sampling_initial_time: '0',
    });
    const held = async () =>
      (
        await headEnd.db.query<{ due_at: Date }>(
          `SELECT due_at FROM public.udil_deferred_rows WHERE transactionid = $1 AND global_device_id = 'm3'`,
          [transactionid],
        )
      ).rows[0];
    await waitFor(held, 'the worker to hold the row');
    // Held: taken up, not carried out, still cancellable; the meter untouched.
    const { rows } = await headEnd.db.query<StatusRow>(
      `SELECT * FROM udil.transaction_status WHERE transactionid = $1`,
      [transactionid],
    );
    expect(rows[0]).toMatchObject({ status_level: 1, indv_status: 0, request_cancelled: 0 });
    expect(intervals()).toEqual(before);

    // The worker restarts after activation_datetime has passed (the clock moved on while it was down):
    // the row is applied from what PostgreSQL holds.
    await headEnd.stopWorker();
    const passed = formatUdilDatetime(new Date(Date.now() - 1000), zone());
    await headEnd.db.query(
      `UPDATE udil.transaction_status SET type_parameters = jsonb_set(type_parameters::jsonb, '{activation_datetime}', to_jsonb($2::text))::text
        WHERE transactionid = $1`,
      [transactionid, passed],
    );
    await headEnd.db.query(
      `UPDATE public.udil_deferred_rows SET due_at = now() - interval '1 second' WHERE transactionid = $1`,
      [transactionid],
    );
    await headEnd.startWorker();
    await completed(transactionid, ['m3']);
    expect(intervals().every((seconds) => seconds === 300)).toBe(true);
    expect(await visuals('m3')).toMatchObject({ mdsm_data_type: 'LPRO', mdsm_sampling_interval: '5' });
  });
});
