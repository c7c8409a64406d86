import request from 'supertest';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';
import { DEVICE_CREATION_ATTRIBUTES } from './support/udil-client';

const REGISTERED = ['3100001001'];
const ON_THE_BUS = '3100001099';

/** device_creation: the head-end finds the meter's gateway, registers it there and in its registry. */
describe('UDIL device_creation against the G13 simulator', () => {
  let headEnd: G13HeadEnd;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_create', REGISTERED, {}, [ON_THE_BUS]);
  });

  afterAll(() => headEnd?.stop());

  const send = (transactionid: string, identities: { dsn: string; global_device_id: string }[]) =>
    request(headEnd.api.getHttpServer())
      .post('/device_creation')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send({
        device_identity: JSON.stringify(identities),
        ...DEVICE_CREATION_ATTRIBUTES,
      });
  const create = (transactionid: string, identities: { dsn: string; global_device_id: string }[]) =>
    send(transactionid, identities).expect(200);

  it('registers a meter found on a gateway, with its attributes, and fails one on no gateway', async () => {
    const accepted = await create('create-1', [
      { dsn: ON_THE_BUS, global_device_id: 'new-1' },
      { dsn: '3999999999', global_device_id: 'ghost-1' },
    ]);
    expect((accepted.body.data as { indv_status: string }[]).map((d) => d.indv_status)).toEqual(['1', '1']);
    const rows = await headEnd.finished('create-1', ['ghost-1', 'new-1']);
    expect(rows[1]).toMatchObject({ global_device_id: 'new-1', status_level: 5, indv_status: 1 });
    expect(rows[1].response_data).toBe(`meter ${ON_THE_BUS} created on gateway feeder-1`);
    expect(rows[0]).toMatchObject({ global_device_id: 'ghost-1', indv_status: 2 });
    expect(rows[0].response_data).toMatch(/meter 3999999999 is on none of the 1 gateway\(s\)/);

    expect(headEnd.gateway.meter(ON_THE_BUS).registered).toBe(true);
    const { rows: devices } = await headEnd.db.query(
      `SELECT msn::text, driver, serial_on_gateway, device_type, communication_mode, sim_number, mdi_reset_date, phase, meter_type, activation_status
         FROM public.devices WHERE global_device_id = 'new-1'`,
    );
    expect(devices[0]).toEqual({
      msn: ON_THE_BUS,
      driver: 'ABB_G13',
      serial_on_gateway: ON_THE_BUS,
      device_type: 1,
      communication_mode: 4,
      sim_number: '03218090100',
      mdi_reset_date: 1,
      phase: 1,
      meter_type: 2,
      activation_status: 1,
    });
    const { rows: visuals } = await headEnd.db.query(
      `SELECT msim_id, dmdt_meter_type FROM udil.meter_visuals WHERE global_device_id = 'new-1'`,
    );
    expect(visuals[0]).toEqual({ msim_id: '11199oijjh78', dmdt_meter_type: '2' });
  });

  it('commands the created meter like any other', async () => {
    await request(headEnd.api.getHttpServer())
      .post('/aux_relay_operations')
      .set('privatekey', headEnd.key)
      .set('transactionid', 'create-relay')
      .send({ global_device_id: 'new-1', request_datetime: '2026-11-21 10:00:00', relay_operate: '0' })
      .expect(200);
    const [row] = await headEnd.finished('create-relay', ['new-1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(headEnd.gateway.readOutput(ON_THE_BUS, 1)).toBe(0);
  });

  it('refuses a global_device_id already registered with another serial', async () => {
    const answer = await create('create-2', [{ dsn: ON_THE_BUS, global_device_id: 'm1' }]);
    expect(answer.body.data[0]).toEqual({
      global_device_id: 'm1',
      msn: REGISTERED[0],
      indv_status: '0',
      remarks: `global_device_id m1 is already registered with msn ${REGISTERED[0]}`,
    });
  });

  it('takes device_identity as a set, and refuses one id with two dsns, one dsn for two ids, a dsn beyond bigint (400)', async () => {
    // The same entry twice is one device (once it answered 500: the second row's key was taken).
    const twice = await create('create-3', [
      { dsn: '3100001098', global_device_id: 'twice-1' },
      { dsn: '3100001098', global_device_id: 'twice-1' },
    ]);
    expect((twice.body.data as { global_device_id: string }[]).map((d) => d.global_device_id)).toEqual([
      'twice-1',
    ]);
    const refusals: [{ dsn: string; global_device_id: string }[], string][] = [
      [
        [
          { dsn: '3100001097', global_device_id: 'two-dsns' },
          { dsn: '3100001096', global_device_id: 'two-dsns' },
        ],
        'device_identity: global_device_id two-dsns is listed twice, with dsn 3100001097 and 3100001096',
      ],
      [
        [
          { dsn: '3100001095', global_device_id: 'one-dsn-a' },
          { dsn: '3100001095', global_device_id: 'one-dsn-b' },
        ],
        'device_identity: dsn 3100001095 is listed for two devices, one-dsn-a and one-dsn-b',
      ],
      [
        [{ dsn: '9999999999999999999', global_device_id: 'too-big' }],
        'device_identity[0].dsn: dsn must be a meter serial number (digits, at most 9223372036854775807)',
      ],
    ];
    for (const [index, [identities, message]] of refusals.entries()) {
      const answer = await send(`create-refused-${index}`, identities);
      expect({ status: answer.status, body: answer.body as unknown }).toEqual({
        status: 400,
        body: { status: '0', transactionid: `create-refused-${index}`, message },
      });
    }
  });
});
