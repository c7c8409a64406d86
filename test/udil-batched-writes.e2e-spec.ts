import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CredentialCipher, Device, Gateway, GatewayRepository, createDataSourceOptions } from '@hes/database';
import {
  CommunicationHistoryRepository,
  DeviceDirectory,
  MeterVisualsRepository,
  TransactionStatusRepository,
} from '@hes/transactions';
import { TestDatabase, createMigratedDatabase } from './support/test-database';

/**
 * The repositories that many concurrent jobs call one row at a time send those calls together as set
 * statements (StatementBatcher). These calls are made all at once, so the set paths run, and each
 * caller must still get its own row's answer.
 */
describe('UDIL writes and reads grouped across concurrent jobs', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const ids = Array.from({ length: 60 }, (_, i) => `dev-${String(i).padStart(3, '0')}`);
  const at = (second: number) => new Date(Date.UTC(2026, 10, 21, 5, 0, second));

  beforeAll(async () => {
    database = await createMigratedDatabase('batched');
    dataSource = new DataSource(createDataSourceOptions(database.url));
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  /** Accepts `devices` in a new transaction of `type` (rows at level 0), as the api does. */
  const accept = (
    statuses: TransactionStatusRepository,
    transactionid: string,
    type: string,
    devices: string[],
  ) =>
    dataSource.transaction((manager) =>
      statuses.insert(
        manager,
        transactionid,
        type,
        '{}',
        devices.map((id, i) => ({ globalDeviceId: id, msn: String(i) })),
      ),
    );

  /** One device's row accepted and started (level 1): its status_1_datetime. */
  const startedAlone = async (statuses: TransactionStatusRepository, transactionid: string, type: string) => {
    await accept(statuses, transactionid, type, [ids[0]]);
    await statuses.start(transactionid, ids[0]);
    const [{ s1 }] = await dataSource.query<{ s1: Date }[]>(
      `SELECT status_1_datetime AS s1 FROM udil.transaction_status WHERE transactionid = $1`,
      [transactionid],
    );
    return s1;
  };

  it('METER_VISUALS: concurrent upserts land per device, in call order, typed, keeping a known msn', async () => {
    const visuals = new MeterVisualsRepository(dataSource);
    await Promise.all(
      ids.map((id, i) => visuals.update(id, String(3_100_000_000 + i), { last_command: 'first' })),
    );
    await Promise.all(
      ids.flatMap((id, i) => [
        visuals.update(id, null, {
          last_command: 'AUX_RELAY_OPERATIONS',
          last_command_resp: `resp ${i}`,
          last_command_resp_datetime: at(i),
        }),
        // a second update of the same device, made at the same moment: it must win, being later
        visuals.update(id, null, { last_command: 'TIME_SYNCHRONIZATION', active_energy_pos_tl: i + 0.125 }),
      ]),
    );
    const rows = await dataSource.query<Record<string, unknown>[]>(
      `SELECT global_device_id, msn::text AS msn, last_command, last_command_resp, last_command_resp_datetime,
              active_energy_pos_tl::text AS energy
         FROM udil.meter_visuals ORDER BY global_device_id`,
    );
    expect(rows).toEqual(
      ids.map((id, i) => ({
        global_device_id: id,
        msn: String(3_100_000_000 + i),
        last_command: 'TIME_SYNCHRONIZATION',
        last_command_resp: `resp ${i}`,
        last_command_resp_datetime: at(i),
        energy: (i + 0.125).toFixed(3),
      })),
    );
  });

  it('DEVICE_COMMUNICATION_HISTORY: every concurrent record becomes its own row', async () => {
    const history = new CommunicationHistoryRepository(dataSource);
    await Promise.all(
      ids.map((id, i) =>
        history.record({
          globalDeviceId: id,
          msn: String(3_100_000_000 + i),
          successful: i % 3 !== 0,
          messageLog: [`line 1 of ${id}`, `line 2 of ${id}`],
          startedAt: at(0),
          endedAt: at(i),
          bytesSent: i * 10,
          bytesReceived: i * 20,
        }),
      ),
    );
    const rows = await dataSource.query<Record<string, unknown>[]>(
      `SELECT global_device_id, msn::text AS msn, communication_status, message_log, connection_duration,
              mdc_read_datetime, bytes_sent, bytes_received
         FROM udil.device_communication_history ORDER BY global_device_id`,
    );
    expect(rows).toEqual(
      ids.map((id, i) => ({
        global_device_id: id,
        msn: String(3_100_000_000 + i),
        communication_status: i % 3 !== 0 ? 1 : 0,
        message_log: `line 1 of ${id}\nline 2 of ${id}`,
        connection_duration: i,
        mdc_read_datetime: at(i),
        bytes_sent: i * 10,
        bytes_received: i * 20,
      })),
    );
  });

  it('TRANSACTION_STATUS: concurrent reads and conditional level changes answer per row', async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    await dataSource.transaction((manager) =>
      statuses.insert(
        manager,
        'T-batch',
        'TIME_SYNCHRONIZATION',
        '{}',
        ids.map((id, i) => ({
          globalDeviceId: id,
          msn: String(i),
          refusal: i % 10 === 0 ? 'refused' : undefined,
        })),
      ),
    );
    const found = await Promise.all([...ids, 'unknown'].map((id) => statuses.find('T-batch', id)));
    expect(found.map((row) => row?.global_device_id)).toEqual([...ids, undefined]);
    expect(found.slice(0, -1).map((row) => row?.request_cancelled)).toEqual(
      ids.map((_, i) => (i % 10 === 0 ? 1 : 0)),
    );

    const advanced = await Promise.all(ids.map((id) => statuses.advance('T-batch', id, 1)));
    expect(advanced).toEqual(ids.map((_, i) => i % 10 !== 0));
    // the same row asked twice at once: the first call moves it, the second finds it there already
    const twice = await Promise.all([
      statuses.advance('T-batch', ids[1], 2),
      statuses.advance('T-batch', ids[1], 2),
    ]);
    expect(twice).toEqual([true, false]);
    const completed = await Promise.all(ids.map((id) => statuses.complete('T-batch', id, `done ${id}`)));
    expect(completed).toEqual(ids.map((_, i) => i % 10 !== 0));
    const [summary] = await dataSource.query<{ done: number; with_answer: number }[]>(
      `SELECT count(*) FILTER (WHERE status_level = 5 AND indv_status = 1)::int AS done,
              count(*) FILTER (WHERE response_data = 'done ' || global_device_id)::int AS with_answer
         FROM udil.transaction_status WHERE transactionid = 'T-batch'`,
    );
    expect(summary).toEqual({ done: 54, with_answer: 54 });
  });

  it("TRANSACTION_STATUS: the reconciler's pages of pending rows go through rows that share their datetime, each row once", async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    // One transaction's rows share one command_receiving_datetime, to the microsecond (now()).
    await accept(statuses, 'T-pages', 'AUX_RELAY_OPERATIONS', ids);
    const later = new Date(Date.now() + 60_000);
    const seen: string[] = [];
    let page = await statuses.pending(later, 25);
    for (let pages = 1; page.rows.length > 0; pages += 1) {
      expect(pages).toBeLessThan(20); // a page cut inside the shared datetime would start over for ever
      seen.push(...page.rows.filter((r) => r.transactionid === 'T-pages').map((r) => r.global_device_id));
      page = await statuses.pending(later, 25, page.last);
    }
    expect(seen).toEqual(ids);
  });

  it('TRANSACTION_STATUS: a completion writes its METER_VISUALS and history in the statement of level 5', async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    const devices = ids.slice(0, 30);
    for (const transactionid of ['T-traced', 'T-traced-2'])
      await dataSource.transaction((manager) =>
        statuses.insert(
          manager,
          transactionid,
          'AUX_RELAY_OPERATIONS',
          '{}',
          devices.map((id, i) => ({ globalDeviceId: id, msn: String(3_200_000_000 + i) })),
        ),
      );
    const traces = (id: string, i: number, relay: 0 | 1, log: string) => ({
      msn: String(3_200_000_000 + i),
      visuals: {
        auxr_status: relay,
        last_command: 'AUX_RELAY_OPERATIONS',
        last_command_resp: `${log} ${id}`,
      },
      communication: {
        globalDeviceId: id,
        msn: String(3_200_000_000 + i),
        successful: true,
        messageLog: [`${log} ${id}`],
        startedAt: at(0),
        endedAt: at(i),
        bytesSent: 10,
        bytesReceived: 20,
      },
    });
    // Both transactions complete every device at once: each device's two completions must not share a statement.
    const completed = await Promise.all(
      devices.flatMap((id, i) => [
        statuses.complete('T-traced', id, `done ${id}`, undefined, traces(id, i, 1, 'first')),
        statuses.complete('T-traced-2', id, `done ${id}`, undefined, traces(id, i, 0, 'second')),
      ]),
    );
    expect(completed).toEqual(devices.flatMap(() => [true, true]));
    const rows = await dataSource.query<Record<string, unknown>[]>(
      `SELECT v.global_device_id, v.msn::text AS msn, v.auxr_status, v.last_command_resp,
              (SELECT count(*)::int FROM udil.device_communication_history h
                WHERE h.global_device_id = v.global_device_id AND h.message_log IN ('first ' || v.global_device_id, 'second ' || v.global_device_id)) AS history,
              (SELECT count(*)::int FROM udil.transaction_status t
                WHERE t.global_device_id = v.global_device_id AND t.transactionid LIKE 'T-traced%'
                  AND t.status_level = 5 AND t.indv_status = 1) AS completed
         FROM udil.meter_visuals v WHERE v.global_device_id = ANY($1) ORDER BY v.global_device_id`,
      [devices],
    );
    expect(rows).toEqual(
      devices.map((id, i) => ({
        global_device_id: id,
        msn: String(3_200_000_000 + i),
        // the later call wins, as for METER_VISUALS updates
        auxr_status: 0,
        last_command_resp: `second ${id}`,
        history: 2,
        completed: 2,
      })),
    );

    // One statement: when it fails, neither the traces nor level 5 are written.
    await dataSource.transaction((manager) =>
      statuses.insert(manager, 'T-traced-3', 'AUX_RELAY_OPERATIONS', '{}', [
        { globalDeviceId: devices[0], msn: null },
      ]),
    );
    const broken = traces(devices[0], 0, 1, 'broken');
    await expect(
      statuses.complete('T-traced-3', devices[0], 'done', undefined, {
        ...broken,
        visuals: { ...broken.visuals, auxr_status: 'not a number' },
      }),
    ).rejects.toThrow();
    const [after] = await dataSource.query<{ level: number; history: number }[]>(
      `SELECT (SELECT status_level FROM udil.transaction_status WHERE transactionid = 'T-traced-3') AS level,
              (SELECT count(*)::int FROM udil.device_communication_history WHERE message_log LIKE 'broken %') AS history`,
    );
    expect(after).toEqual({ level: 0, history: 0 });
  });

  it('TRANSACTION_STATUS: concurrent starts move live rows to level 1 and answer nothing for the others', async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    const devices = ids.slice(0, 20);
    await dataSource.transaction((manager) =>
      statuses.insert(
        manager,
        'T-start',
        'AUX_RELAY_OPERATIONS',
        '{}',
        devices.map((id, i) => ({
          globalDeviceId: id,
          msn: String(i),
          refusal: i === 0 ? 'refused' : undefined,
        })),
      ),
    );
    await statuses.advance('T-start', devices[1], 3); // a retry: the previous attempt got to level 3
    await statuses.complete('T-start', devices[2], 'done'); // finished
    const [before] = await dataSource.query<{ db_datetime: Date }[]>(
      `SELECT db_datetime FROM udil.transaction_status WHERE transactionid = 'T-start' AND global_device_id = $1`,
      [devices[1]],
    );
    const started = await Promise.all([...devices, 'unknown'].map((id) => statuses.start('T-start', id)));
    expect(started.map((row) => row?.status_level)).toEqual([
      undefined, // refused at acceptance (cancelled by the MDC)
      3,
      undefined, // finished
      ...devices.slice(3).map(() => 1),
      undefined,
    ]);
    expect(started[3]?.status_1_datetime).toBeInstanceOf(Date);
    expect(started[1]?.db_datetime).toEqual(before.db_datetime); // a row already under way is left as it was
  });

  it('TRANSACTION_STATUS: levels written with the next one are stamped with the times they were reached, kept in order', async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    const devices = ids.slice(0, 8);
    await accept(statuses, 'T-later', 'AUX_RELAY_OPERATIONS', devices);
    // One at a time (the single-row statements), then all at once (the set statements).
    for (const id of devices.slice(0, 4)) await statuses.start('T-later', id);
    await Promise.all(devices.slice(4).map((id) => statuses.start('T-later', id)));
    const [{ now }] = await dataSource.query<{ now: Date }[]>(`SELECT now() AS now`);
    const ms = (offset: number) => new Date(now.getTime() + offset);
    const [started] = await dataSource.query<{ s1: Date }[]>(
      `SELECT max(status_1_datetime) AS s1 FROM udil.transaction_status WHERE transactionid = 'T-later'`,
    );
    const reached2 = (i: number) =>
      i % 4 === 0
        ? new Date(started.s1.getTime() - 60_000) // a worker clock behind the database's: kept at level 1's
        : i % 4 === 1
          ? ms(3_600_000) // ahead of it: kept at the statement's now()
          : new Date(started.s1.getTime() + 1); // in between: as reached
    const level3 = (id: string, i: number) =>
      statuses.advance('T-later', id, 3, undefined, { 2: reached2(i) });
    for (const [i, id] of devices.slice(0, 4).entries()) expect(await level3(id, i)).toBe(true);
    expect(await Promise.all(devices.slice(4).map((id, i) => level3(id, i + 4)))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const stamp4 = async (id: string) => {
      const [row] = await dataSource.query<{ s3: Date }[]>(
        `SELECT status_3_datetime AS s3 FROM udil.transaction_status WHERE transactionid = 'T-later' AND global_device_id = $1`,
        [id],
      );
      return new Date(row.s3.getTime() + 1);
    };
    const reached4 = await Promise.all(devices.map(stamp4));
    // Level 4 with the completion (one at a time, then as a set), and level 2 of a driver that reached 4
    // without level 3's statement: the times given, within the levels below and now().
    for (const [i, id] of devices.slice(0, 4).entries())
      expect(await statuses.complete('T-later', id, 'done', undefined, undefined, { 4: reached4[i] })).toBe(
        true,
      );
    expect(
      await Promise.all(
        devices
          .slice(4)
          .map((id, i) =>
            statuses.complete('T-later', id, 'done', undefined, undefined, { 4: reached4[i + 4] }),
          ),
      ),
    ).toEqual([true, true, true, true]);
    const rows = await dataSource.query<
      { global_device_id: string; status_level: number; s1: Date; s2: Date; s3: Date; s4: Date; s5: Date }[]
    >(
      `SELECT global_device_id, status_level, status_1_datetime AS s1, status_2_datetime AS s2,
              status_3_datetime AS s3, status_4_datetime AS s4, status_5_datetime AS s5
         FROM udil.transaction_status WHERE transactionid = 'T-later' ORDER BY global_device_id`,
    );
    for (const [i, row] of rows.entries()) {
      expect(row.status_level).toBe(5);
      const expected2 = i % 4 === 0 ? row.s1 : i % 4 === 1 ? row.s3 : reached2(i);
      expect([row.global_device_id, row.s2.getTime()]).toEqual([row.global_device_id, expected2.getTime()]);
      expect(row.s4.getTime()).toBe(reached4[i].getTime());
      const stages = [row.s1, row.s2, row.s3, row.s4, row.s5].map((d) => d.getTime());
      expect(stages).toEqual([...stages].sort((a, b) => a - b));
    }
  });

  it('TRANSACTION_STATUS: a level written with its own time, on its own (its next one did not come in time)', async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    const s1 = await startedAlone(statuses, 'T-alone', 'AUX_RELAY_OPERATIONS');
    const reached = new Date(s1.getTime() + 1);
    expect(await statuses.advance('T-alone', ids[0], 2, undefined, { 2: reached })).toBe(true);
    const [row] = await dataSource.query<{ status_level: number; s2: Date; s3: Date | null }[]>(
      `SELECT status_level, status_2_datetime AS s2, status_3_datetime AS s3
         FROM udil.transaction_status WHERE transactionid = 'T-alone'`,
    );
    expect(row).toEqual({ status_level: 2, s2: reached, s3: null });
  });

  it('TRANSACTION_STATUS: level 4 reached without a statement of level 3 before it (device_creation) is stamped with the levels it passed, in order', async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    const s1 = await startedAlone(statuses, 'T-four', 'DEVICE_CREATION');
    expect(
      await statuses.complete('T-four', ids[0], 'created', undefined, undefined, {
        4: new Date(s1.getTime() + 1),
      }),
    ).toBe(true);
    const [row] = await dataSource.query<{ s2: Date; s3: Date; s4: Date; s5: Date }[]>(
      `SELECT status_2_datetime AS s2, status_3_datetime AS s3, status_4_datetime AS s4, status_5_datetime AS s5
         FROM udil.transaction_status WHERE transactionid = 'T-four'`,
    );
    // Levels 2 and 3 passed in the completion's statement (its now()): level 4 is not earlier than they are.
    expect(row.s4.getTime()).toBeGreaterThanOrEqual(row.s3.getTime());
    expect([row.s2, row.s3, row.s4, row.s5]).toEqual([row.s5, row.s5, row.s5, row.s5]);
  });

  it('TRANSACTION_STATUS: rows inserted from columns keep every text as sent, in any characters', async () => {
    const statuses = new TransactionStatusRepository(dataSource);
    const awkward = ['q"uote', 'back\\slash', 'com,ma', '{brace}', 'NULL', 'ümlaut-ß', 'tab\tin', ' spaced '];
    const refusals = awkward.map((id, i) => (i % 2 === 0 ? `refused "${id}" \\ ${'x'.repeat(300)}` : null));
    await dataSource.transaction((manager) =>
      statuses.insertColumns(manager, 'T-columns', 'AUX_RELAY_OPERATIONS', '{"relay_operate":"0"}', {
        globalDeviceIds: awkward,
        msns: awkward.map((_, i) => (i === 3 ? null : String(3_100_000_000 + i))),
        refusals,
      }),
    );
    const rows = await dataSource.query<
      {
        global_device_id: string;
        msn: string | null;
        request_cancelled: number;
        request_cancel_reason: string | null;
        response_data: string | null;
      }[]
    >(
      `SELECT global_device_id, msn::text AS msn, request_cancelled, request_cancel_reason, response_data
         FROM udil.transaction_status WHERE transactionid = 'T-columns'`,
    );
    const byId = new Map(rows.map((row) => [row.global_device_id, row]));
    expect(rows).toHaveLength(awkward.length);
    awkward.forEach((id, i) =>
      expect(byId.get(id)).toEqual({
        global_device_id: id,
        msn: i === 3 ? null : String(3_100_000_000 + i),
        request_cancelled: refusals[i] ? 1 : 0,
        request_cancel_reason: refusals[i]?.slice(0, 255) ?? null,
        response_data: refusals[i],
      }),
    );
  });

  it('device lookups made at once are read together, each with its own gateway and credentials', async () => {
    const cipher = new CredentialCipher(randomBytes(32));
    const gateways = new GatewayRepository(dataSource.getRepository(Gateway), cipher);
    const [east, west] = await Promise.all([
      gateways.create({
        name: 'east',
        driver: 'g13',
        endpoint: 'https://east.example',
        username: 'e',
        password: 'pe',
      }),
      gateways.create({
        name: 'west',
        driver: 'g13',
        endpoint: 'https://west.example',
        username: 'w',
        password: 'pw',
      }),
    ]);
    await dataSource.getRepository(Device).save(
      ids.map((id, i) => ({
        globalDeviceId: id,
        msn: String(3_100_000_000 + i),
        driver: 'g13',
        gatewayId: i % 2 === 0 ? east.id : west.id,
        // one device with a value in columns of every kind (time, boolean, smallint, integer, timestamptz)
        ...(i === 1
          ? {
              initialCommunicationTime: '06:30:00',
              bidirectionalDevice: true,
              phase: 3,
              communicationInterval: 900,
              opticalPortOnDatetime: at(7),
              serialOnGateway: 'G13-1',
            }
          : {}),
      })),
    );
    const directory = new DeviceDirectory(dataSource.getRepository(Device), gateways);
    const resolved = await Promise.all(ids.map((id) => directory.resolve(id)));
    expect(
      resolved.map((r) => [r.device.globalDeviceId, r.address.gateway.name, r.address.gateway.password]),
    ).toEqual(ids.map((id, i) => [id, i % 2 === 0 ? 'east' : 'west', i % 2 === 0 ? 'pe' : 'pw']));
    // The devices as TypeORM's find with the relation gives them, every column typed alike.
    for (const i of [0, 1])
      expect(resolved[i].device).toStrictEqual(
        await dataSource
          .getRepository(Device)
          .findOne({ where: { globalDeviceId: ids[i] }, relations: { gateway: true } }),
      );
    // An acceptance's lookup: the registered ones of the ids asked, whatever their order or repetition.
    const registered = await dataSource.transaction((manager) =>
      new TransactionStatusRepository(dataSource).registeredDevices(manager, ['nobody', ids[3], ids[0]]),
    );
    expect(registered.sort((a, b) => a.global_device_id.localeCompare(b.global_device_id))).toEqual(
      [0, 3].map((i) => ({
        global_device_id: ids[i],
        msn: String(3_100_000_000 + i),
        driver: 'g13',
        activation_status: 1,
      })),
    );
    const missing = await Promise.allSettled([directory.resolve(ids[0]), directory.resolve('nobody')]);
    expect(missing[0].status).toBe('fulfilled');
    expect(missing[1]).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/nobody is no longer registered/) },
    });
    // The rows are mapped without TypeORM: a column given a transformer one day is refused, not skipped.
    const devices = dataSource.getRepository(Device);
    const msn = devices.metadata.columns.find((c) => c.propertyName === 'msn')!;
    msn.transformer = { to: (value: unknown) => value, from: (value: unknown) => value };
    try {
      await expect(new DeviceDirectory(devices, gateways).resolve(ids[0])).rejects.toThrow(
        "DeviceDirectory maps rows without TypeORM's transformers; map devices.msn explicitly",
      );
    } finally {
      delete msn.transformer;
    }
  });
});
