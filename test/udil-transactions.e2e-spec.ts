import Redis from 'ioredis';
import request from 'supertest';
import { G13HeadEnd, TransactionRow, startG13HeadEnd } from './support/g13-head-end';
import { GatewayCoordination, GatewayLease, JobQueueRepository, QueueName } from '@hes/queue';
import { transactionJobId, transactionSliceJobId } from '@hes/transactions';
import { formatUdilDatetime } from '@hes/udil';
import { waitFor } from './support/test-environment';

const SERIALS = ['3100001001', '3100001002', '3100001003'];
const RELAY_PORT = 1;

/**
 * UDIL write commands end to end: api → Postgres → queue → worker → G13 driver → G13 simulator,
 * with the simulator's own state as the proof that the meter was (or was not) touched.
 */
describe('UDIL transactions against the G13 simulator', () => {
  let headEnd: G13HeadEnd;
  let sequence = 0;
  const nextId = () => `g13-${Date.now()}-${(sequence += 1)}`;

  beforeAll(async () => {
    headEnd = await startG13HeadEnd('udil_tx', SERIALS);
  });

  afterAll(() => headEnd?.stop());

  afterEach(() => headEnd.gateway.clearFaults());

  const relay = (transactionid: string, devices: string[], operate: 0 | 1) =>
    request(headEnd.api.getHttpServer())
      .post('/aux_relay_operations')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send({
        global_device_id: JSON.stringify(devices),
        request_datetime: '2026-11-21 10:00:00',
        relay_operate: String(operate),
      })
      .expect(200);

  const rowsOf = async (transactionid: string) =>
    (
      await headEnd.db.query<TransactionRow>(
        `SELECT * FROM udil.transaction_status WHERE transactionid = $1 ORDER BY global_device_id`,
        [transactionid],
      )
    ).rows;

  const finished = (transactionid: string, devices: string[], timeoutMs?: number) =>
    headEnd.finished(transactionid, devices, timeoutMs);

  it('disconnects two meters (level 5, relay open in the meter) and refuses the unknown one', async () => {
    const transactionid = nextId();
    const accepted = await relay(transactionid, ['m1', 'm2', 'm-unknown'], 0);
    expect(accepted.body.data).toEqual([
      { global_device_id: 'm1', msn: SERIALS[0], indv_status: '1', remarks: 'accepted' },
      { global_device_id: 'm2', msn: SERIALS[1], indv_status: '1', remarks: 'accepted' },
      {
        global_device_id: 'm-unknown',
        msn: '',
        indv_status: '0',
        remarks: 'global_device_id m-unknown is not registered (create it with device_creation)',
      },
    ]);
    const rows = await finished(transactionid, ['m1', 'm2']);
    for (const row of rows) {
      expect(row).toMatchObject({ status_level: 5, indv_status: 1, request_cancelled: 0 });
      expect(row.status_1_datetime).toBeInstanceOf(Date);
      expect(row.status_5_datetime!.getTime()).toBeGreaterThanOrEqual(row.status_1_datetime!.getTime());
    }
    expect(headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT)).toBe(0);
    expect(headEnd.gateway.readOutput(SERIALS[1], RELAY_PORT)).toBe(0);

    const status = await request(headEnd.api.getHttpServer())
      .post('/transaction_status')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .expect(200);
    const m1 = (status.body.data as Record<string, string>[]).find((d) => d.global_device_id === 'm1');
    expect(m1).toMatchObject({ status_level: '5', indv_status: '1', response_data: 'relay disconnected' });
    for (const level of [1, 2, 3, 4, 5]) expect(m1?.[`status_${level}_datetime`]).not.toBe('');

    const visuals = await headEnd.db.query(
      `SELECT auxr_status, last_command, last_contactor_off_datetime FROM udil.meter_visuals WHERE global_device_id = 'm1'`,
    );
    expect(visuals.rows[0]).toMatchObject({ auxr_status: 0, last_command: 'AUX_RELAY_OPERATIONS' });
    expect(visuals.rows[0].last_contactor_off_datetime).toBeInstanceOf(Date);
    const history = await headEnd.db.query(
      `SELECT communication_status, message_log, bytes_sent, bytes_received, connection_duration
         FROM udil.device_communication_history WHERE global_device_id = 'm1'`,
    );
    const success = (
      history.rows as {
        communication_status: number;
        message_log: string;
        bytes_sent: number;
        bytes_received: number;
      }[]
    ).find((r) => r.communication_status === 1 && /\/io/.test(r.message_log));
    // The relay command's JSON was sent and the gateway's answers were received.
    expect(success?.bytes_sent).toBeGreaterThan(0);
    expect(success?.bytes_received).toBeGreaterThan(0);

    await relay(nextId(), ['m1', 'm2'], 1);
    await waitFor(
      () =>
        Promise.resolve(
          headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT) === 1 &&
            headEnd.gateway.readOutput(SERIALS[1], RELAY_PORT) === 1,
        ),
      'relays closed again',
    );
  });

  it('cancels at level 0–2 without touching the meter, and refuses to cancel at level 3 or more', async () => {
    const before = headEnd.gateway.readOutput(SERIALS[2], RELAY_PORT);
    headEnd.gateway.setGatewayFaults({ latencyMs: 1500 });
    const cancelled = nextId();
    await relay(cancelled, ['m3'], before === 1 ? 0 : 1);
    await waitFor(
      async () => (await rowsOf(cancelled))[0].status_level >= 1,
      'the worker to pick the row up',
    );
    const cancel = await request(headEnd.api.getHttpServer())
      .post('/transaction_cancel')
      .set('privatekey', headEnd.key)
      .set('transactionid', cancelled)
      .send({ global_device_id: ['m3'], request_datetime: '2026-11-21 10:00:00' })
      .expect(200);
    expect(cancel.body.data[0]).toMatchObject({ indv_status: '1', remarks: 'cancelled' });
    // The worker notices at its next level and stops: the output never changes.
    await waitFor(async () => {
      const history = await headEnd.db.query(
        `SELECT message_log FROM udil.device_communication_history WHERE message_log LIKE '%STOPPED%'`,
      );
      return history.rows.length > 0;
    }, 'the worker to stop on the cancelled row');
    headEnd.gateway.clearFaults();
    expect(headEnd.gateway.readOutput(SERIALS[2], RELAY_PORT)).toBe(before);
    const [row] = await rowsOf(cancelled);
    expect(row).toMatchObject({ request_cancelled: 1, indv_status: 0 });
    expect(row.status_level).toBeLessThanOrEqual(2);

    // Level 3 or more: too late to cancel.
    headEnd.gateway.setGatewayFaults({ latencyMs: 400 });
    const late = nextId();
    await relay(late, ['m3'], before === 1 ? 0 : 1);
    await waitFor(async () => (await rowsOf(late))[0].status_level >= 3, 'level 3');
    const refused = await request(headEnd.api.getHttpServer())
      .post('/transaction_cancel')
      .set('privatekey', headEnd.key)
      .set('transactionid', late)
      .send({ global_device_id: 'm3', request_datetime: '2026-11-21 10:00:00' })
      .expect(200);
    expect(refused.body.data[0].indv_status).toBe('0');
    expect(refused.body.data[0].remarks).toMatch(/only levels 0, 1 and 2 can be cancelled|already executed/);
    const [done] = await finished(late, ['m3']);
    expect(done).toMatchObject({ status_level: 5, indv_status: 1, request_cancelled: 0 });
  });

  it('shows level 2 while the gateway is slow to answer and 4 while the meter is, each stamped when it was reached (TRANSACTION_LEVEL_DELAY_MS)', async () => {
    // Every request takes 2 s: a level whose next one does not come within the delay (1 s) is written on
    // its own, after it was reached; otherwise it rides on the next level's statement. Each level is then
    // there to be seen for about a second (polled every 100 ms).
    headEnd.gateway.setGatewayFaults({ latencyMs: 2000 });
    const transactionid = nextId();
    const before = headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT);
    await relay(transactionid, ['m1'], before === 1 ? 0 : 1);
    type Stamped = TransactionRow &
      Record<'status_2_datetime' | 'status_3_datetime' | 'status_4_datetime' | 'db_datetime', Date | null>;
    const at = (level: number) =>
      waitFor(async () => {
        const [row] = (await rowsOf(transactionid)) as Stamped[];
        return row.status_level === level ? row : undefined;
      }, `level ${level}`);
    const connecting = await at(2);
    expect(connecting.status_3_datetime).toBeNull();
    // Written by its own statement, about a second after the request went out: stamped with the latter.
    expect(
      connecting.db_datetime!.getTime() - connecting.status_2_datetime!.getTime(),
    ).toBeGreaterThanOrEqual(500);
    const commanded = await at(4);
    expect(commanded.status_5_datetime).toBeNull();
    expect(commanded.db_datetime!.getTime() - commanded.status_4_datetime!.getTime()).toBeGreaterThanOrEqual(
      500,
    );
    headEnd.gateway.clearFaults();
    const [done] = (await finished(transactionid, ['m1'])) as Stamped[];
    expect(done).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(done.status_2_datetime).toEqual(connecting.status_2_datetime);
    expect(done.status_4_datetime).toEqual(commanded.status_4_datetime);
  });

  it('ends failed (indv_status 2) with a reason when the meter stays offline', async () => {
    headEnd.gateway.setMeterFaults(SERIALS[1], { offline: true });
    const transactionid = nextId();
    await relay(transactionid, ['m2'], 0);
    const [row] = await finished(transactionid, ['m2']);
    expect(row.indv_status).toBe(2);
    expect(row.status_level).toBeLessThan(5);
    expect(row.response_data).toMatch(/device: .*3100001002/);
    const history = await headEnd.db.query(
      `SELECT count(*)::int AS n FROM udil.device_communication_history WHERE global_device_id = 'm2' AND communication_status = 0`,
    );
    expect(history.rows[0].n).toBeGreaterThanOrEqual(2); // both attempts are on record
  });

  it('completes a transaction whose jobs Redis lost (FLUSHALL) through the reconciler', async () => {
    await headEnd.stopWorker();
    const transactionid = nextId();
    await relay(transactionid, ['m1'], 0);
    const flush = new Redis(headEnd.redis.url);
    await flush.flushall();
    flush.disconnect();
    expect((await rowsOf(transactionid))[0].status_level).toBe(0);
    await headEnd.startWorker();
    const [row] = await finished(transactionid, ['m1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT)).toBe(0);
  });

  it('a transaction committed but never queued (the api stopped or lost Redis after the commit) is queued by the reconciler, each meter written once', async () => {
    await headEnd.stopWorker();
    const queuedAt = async (transactionid: string) =>
      (
        await headEnd.db.query<{ queued_at: Date | null }>(
          `SELECT queued_at FROM public.udil_transactions WHERE transactionid = $1`,
          [transactionid],
        )
      ).rows[0].queued_at;
    // The one job the api adds after the commit (the worker queues the device jobs) does not reach Redis.
    const add = jest
      .spyOn(headEnd.api.get(JobQueueRepository), 'add')
      .mockRejectedValueOnce(new Error('Connection is closed.'));
    const transactionid = nextId();
    try {
      const answer = await relay(transactionid, ['m1', 'm2'], 1);
      expect(answer.body).toMatchObject({ status: '1', transactionid });
      expect(add).toHaveBeenCalledTimes(1);
    } finally {
      add.mockRestore();
    }
    expect(await queuedAt(transactionid)).toBeNull();
    expect((await rowsOf(transactionid)).map((r) => r.status_level)).toEqual([0, 0]);
    headEnd.gateway.resetStats();
    await headEnd.startWorker();
    const rows = await finished(transactionid, ['m1', 'm2']);
    expect(rows.map((r) => [r.status_level, r.indv_status])).toEqual([
      [5, 1],
      [5, 1],
    ]);
    expect(await queuedAt(transactionid)).toBeInstanceOf(Date);
    for (const serial of SERIALS.slice(0, 2)) {
      expect(headEnd.gateway.readOutput(serial, RELAY_PORT)).toBe(1);
      const writes = headEnd.gateway.requests.filter(
        (r) => r.method === 'POST' && r.path.endsWith(`/meters/${serial}/io`),
      );
      expect(writes).toHaveLength(1);
    }
  });

  /** The io writes the gateway received for each serial since its last resetStats. */
  const relayWrites = (serials: string[]) =>
    serials.map(
      (serial) =>
        headEnd.gateway.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/meters/${serial}/io`))
          .length,
    );
  const queuedSlices = async (transactionid: string) =>
    (
      await headEnd.db.query<{ queued_slices: number }>(
        `SELECT queued_slices FROM public.udil_transactions WHERE transactionid = $1`,
        [transactionid],
      )
    ).rows[0].queued_slices;
  const transactionsQueue = () => headEnd.api.get(JobQueueRepository).queue(QueueName.Transactions);
  const SLICE = ['m1', 'm2', 'm3'];
  /** Waits until the transaction's (only) slice is put back in the queue (delayed), and returns it. */
  const slicePutBack = (transactionid: string) =>
    waitFor(async () => {
      const job = await transactionsQueue().getJob(transactionSliceJobId(transactionid, 0));
      return job && (await job.getState()) === 'delayed' ? job : undefined;
    }, 'the slice to be put back');
  /** A relay command on m1–m3 at 400 ms per answer, once the slice's two lanes are talking to two meters. */
  const sliceInHand = async (operate: 0 | 1) => {
    headEnd.gateway.resetStats();
    headEnd.gateway.setGatewayFaults({ latencyMs: 400 });
    const transactionid = nextId();
    await relay(transactionid, SLICE, operate);
    await waitFor(async () => {
      const rows = await rowsOf(transactionid);
      return rows.filter((r) => r.status_level >= 1).length >= 2 ? rows : undefined;
    }, 'two meters to start');
    return transactionid;
  };
  /** Every row at level 5, complete. */
  const expectComplete = (rows: TransactionRow[]) =>
    expect(rows.map((r) => [r.status_level, r.indv_status])).toEqual(rows.map(() => [5, 1]));

  it("runs a gateway's meters as one slice: never more than max_in_flight at the gateway, each meter written once while the reconciler looks every second", async () => {
    headEnd.gateway.resetStats();
    // Seconds per meter: the third meter waits in the slice, at level 0, while the reconciler (every second,
    // rows older than a second) looks at its rows.
    headEnd.gateway.setGatewayFaults({ latencyMs: 600 });
    const transactionid = nextId();
    await relay(transactionid, SLICE, 0);
    expectComplete(await finished(transactionid, SLICE));
    expect(await queuedSlices(transactionid)).toBe(1);
    const slice = await transactionsQueue().getJob(transactionSliceJobId(transactionid, 0));
    expect(slice?.name).toBe('transaction.execute-slice');
    expect(await slice?.getState()).toBe('completed');
    // The reconciler found the rows carried by the slice: it queued no job of their own.
    for (const device of SLICE)
      expect(await transactionsQueue().getJob(transactionJobId(transactionid, device))).toBeUndefined();
    expect(relayWrites(SERIALS)).toEqual([1, 1, 1]);
    expect(headEnd.gateway.peakConcurrency()).toBeLessThanOrEqual(2);
    for (const serial of SERIALS) expect(headEnd.gateway.readOutput(serial, RELAY_PORT)).toBe(0);
  });

  it('puts a slice back while its gateway is busy, and runs the meters of a slice Redis lost through the reconciler', async () => {
    const coordination = headEnd.api.get(GatewayCoordination, { strict: false });
    const hold = async () => {
      const leases: GatewayLease[] = [];
      for (let i = 0; i < 2; i += 1) {
        const lease = await coordination.tryAcquire(headEnd.gatewayId, 2);
        expect(lease).toBeDefined();
        leases.push(lease!);
      }
      return leases;
    };
    // Busy: both leases are held elsewhere; the slice is put back with all three meters, untouched.
    let leases = await hold();
    headEnd.gateway.resetStats();
    const busy = nextId();
    await relay(busy, SLICE, 1);
    const putBack = await slicePutBack(busy);
    const { devices: kept } = putBack.data as { devices: { globalDeviceId: string }[] };
    expect(kept.map((d) => d.globalDeviceId)).toEqual(SLICE);
    expect(relayWrites(SERIALS)).toEqual([0, 0, 0]);
    await Promise.all(leases.map((lease) => lease.release()));
    await finished(busy, SLICE);
    expect(relayWrites(SERIALS)).toEqual([1, 1, 1]);

    // Lost: the slice is put back, then Redis loses everything; the reconciler runs each meter once.
    leases = await hold();
    headEnd.gateway.resetStats();
    const lost = nextId();
    await relay(lost, SLICE, 0);
    await slicePutBack(lost);
    const flush = new Redis(headEnd.redis.url);
    await flush.flushall();
    flush.disconnect();
    expectComplete(await finished(lost, SLICE));
    expect(relayWrites(SERIALS)).toEqual([1, 1, 1]);
    // Each meter ran in a job of its own, queued by the reconciler.
    for (const device of SLICE)
      expect(await transactionsQueue().getJob(transactionJobId(lost, device))).toBeDefined();
    void leases; // their keys went with the flush
  });

  it('a worker stopped in the middle of a slice finishes the meters it is talking to and puts the others back; the next worker runs them, each meter written once', async () => {
    // The first two meters (the slice's two lanes) are being talked to.
    const transactionid = await sliceInHand(1);
    await headEnd.stopWorker();
    const rows = await rowsOf(transactionid);
    // The meters it was talking to were finished before it stopped; the third was never started.
    expect(rows.map((r) => [r.global_device_id, r.status_level])).toEqual([
      ['m1', 5],
      ['m2', 5],
      ['m3', 0],
    ]);
    const slice = await transactionsQueue().getJob(transactionSliceJobId(transactionid, 0));
    expect(await slice?.getState()).toBe('delayed');
    expect((slice?.data as { devices: { globalDeviceId: string }[] }).devices).toEqual([
      expect.objectContaining({ globalDeviceId: 'm3' }),
    ]);
    await headEnd.startWorker();
    expectComplete(await finished(transactionid, SLICE));
    expect(relayWrites(SERIALS)).toEqual([1, 1, 1]);
  });

  it("stops a slice whose lock Redis lost (a failover's lost write) and runs its other meters once the stalled check takes it back", async () => {
    const transactionid = await sliceInHand(0);
    const sliceId = transactionSliceJobId(transactionid, 0);
    const redis = new Redis(headEnd.redis.url);
    try {
      expect(await redis.del(`${transactionsQueue().toKey(sliceId)}:lock`)).toBe(1);
    } finally {
      redis.disconnect();
    }
    // The meters in hand finish; the third waits for the stalled check (every 10 s), not for the reconciler,
    // which leaves a row an active slice lists alone.
    const rows = await finished(transactionid, SLICE, 45_000);
    expectComplete(rows);
    const slice = await transactionsQueue().getJob(sliceId);
    expect(slice?.stalledCounter).toBe(1);
    expect(await slice?.getState()).toBe('completed');
    // m1 and m2 were started by the first run, m3 only by the run after the stalled check (processedOn).
    const rerunAt = slice?.processedOn ?? 0;
    expect(rows.map((r) => r.status_1_datetime!.getTime() >= rerunAt)).toEqual([false, false, true]);
    expect(relayWrites(SERIALS)).toEqual([1, 1, 1]);
    for (const device of SLICE)
      expect(await transactionsQueue().getJob(transactionJobId(transactionid, device))).toBeUndefined();
  }, 60_000);

  it("hands a slice's meter that failed on to a job of its own for its retries, and fails it after all its attempts", async () => {
    headEnd.gateway.setMeterFaults(SERIALS[1], { offline: true });
    const transactionid = nextId();
    await relay(transactionid, SLICE, 0);
    const rows = await finished(transactionid, SLICE);
    expect(rows.map((r) => [r.global_device_id, r.indv_status])).toEqual([
      ['m1', 1],
      ['m2', 2],
      ['m3', 1],
    ]);
    // TRANSACTION_ATTEMPTS is 2 here: the slice's attempt and its own job's.
    expect(rows[1].response_data).toMatch(/^device: .*3100001002.* after 2 attempt\(s\)$/);
    const retry = await transactionsQueue().getJob(transactionJobId(transactionid, 'm2'));
    expect(retry?.data).toMatchObject({ globalDeviceId: 'm2', attemptsBefore: 1 });
    const history = await headEnd.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM udil.device_communication_history
        WHERE global_device_id = 'm2' AND communication_status = 0 AND mdc_read_datetime >= $1`,
      [rows[1].status_1_datetime],
    );
    expect(history.rows[0].n).toBe(2);
  });

  it('records when every job of an accepted transaction is in the queue', async () => {
    const transactionid = nextId();
    await relay(transactionid, ['m3'], 1);
    await finished(transactionid, ['m3']);
    const { rows } = await headEnd.db.query<{ queued_at: Date | null; created_at: Date }>(
      `SELECT queued_at, created_at FROM public.udil_transactions WHERE transactionid = $1`,
      [transactionid],
    );
    expect(rows[0].queued_at).toBeInstanceOf(Date);
    expect(rows[0].queued_at!.getTime()).toBeGreaterThanOrEqual(rows[0].created_at.getTime());
  });

  it('synchronises the meter clock with the head-end', async () => {
    const transactionid = nextId();
    await request(headEnd.api.getHttpServer())
      .post('/time_synchronization')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .send({ global_device_id: ['m1'], request_datetime: '2026-11-21 10:00:00' })
      .expect(200);
    const [row] = await finished(transactionid, ['m1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(Math.abs(headEnd.gateway.readClock(SERIALS[0]).getTime() - Date.now())).toBeLessThan(5000);
  });

  it('answers each meter of a large request once, in its order: unknown, repeated and inactive ones with their own remarks; a retry gets the same text', async () => {
    const transactionid = nextId();
    const unknown = Array.from({ length: 5000 }, (_, i) => `unknown-${i}`);
    // m1 and unknown-7 are repeated: each is answered (and gets a row) once, where it first appears.
    const requested = [
      'm1',
      ...unknown.slice(0, 2500),
      'm2',
      'unknown-7',
      'm3',
      'm1',
      ...unknown.slice(2500),
    ];
    const answered = ['m1', ...unknown.slice(0, 2500), 'm2', 'm3', ...unknown.slice(2500)];
    const send = () =>
      request(headEnd.api.getHttpServer())
        .post('/time_synchronization')
        .set('privatekey', headEnd.key)
        .set('transactionid', transactionid)
        .type('form')
        .send({ global_device_id: JSON.stringify(requested), request_datetime: '2026-11-21 10:00:00' })
        .expect(200);
    await headEnd.db.query(`UPDATE public.devices SET activation_status = 0 WHERE global_device_id = 'm3'`);
    try {
      const first = await send();
      const remarks = (id: string) =>
        id === 'm3'
          ? {
              msn: SERIALS[2],
              indv_status: '0',
              remarks: 'meter m3 is inactive (meter_status_update 1 activates it)',
            }
          : id.startsWith('unknown-')
            ? {
                msn: '',
                indv_status: '0',
                remarks: `global_device_id ${id} is not registered (create it with device_creation)`,
              }
            : { msn: SERIALS[id === 'm1' ? 0 : 1], indv_status: '1', remarks: 'accepted' };
      const body = first.body as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['status', 'transactionid', 'data', 'message']);
      expect(body).toMatchObject({ status: '1', transactionid });
      expect(body.data).toEqual(answered.map((id) => ({ global_device_id: id, ...remarks(id) })));

      const rows = await rowsOf(transactionid);
      expect(rows).toHaveLength(answered.length);
      const refused = rows.filter((r) => r.request_cancelled === 1);
      expect(refused.map((r) => r.global_device_id).sort()).toEqual(
        answered.filter((id) => remarks(id).indv_status === '0').sort(),
      );
      for (const row of refused) expect(row.response_data).toBe(remarks(row.global_device_id).remarks);
      const { rows: m3 } = await headEnd.db.query<{ msn: string }>(
        `SELECT msn::text AS msn FROM udil.transaction_status WHERE transactionid = $1 AND global_device_id = 'm3'`,
        [transactionid],
      );
      expect(m3).toEqual([{ msn: SERIALS[2] }]);

      // The same request again: the stored answer, byte for byte, and no second set of rows.
      const retry = await send();
      expect(retry.text).toBe(first.text);
      expect(await rowsOf(transactionid)).toHaveLength(answered.length);
      await finished(transactionid, ['m1', 'm2']);
    } finally {
      await headEnd.db.query(`UPDATE public.devices SET activation_status = 1 WHERE global_device_id = 'm3'`);
    }
  });

  it("carries out load shedding itself: the relay opens and closes at the slabs' action times", async () => {
    const zone = 'Asia/Karachi';
    const at = (offsetMs: number) => formatUdilDatetime(new Date(Date.now() + offsetMs), zone);
    const timeOf = (offsetMs: number) => at(offsetMs).slice(11);
    if (headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT) !== 1) {
      await relay(nextId(), ['m1'], 1);
      await waitFor(
        () => Promise.resolve(headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT) === 1),
        'relay closed',
      );
    }
    const transactionid = nextId();
    const accepted = await request(headEnd.api.getHttpServer())
      .post('/load_shedding_scheduling')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .type('form')
      .send({
        global_device_id: '["m1"]',
        request_datetime: at(0),
        start_datetime: at(-60_000),
        end_datetime: at(10 * 60_000),
        load_shedding_slabs: JSON.stringify([
          { action_time: timeOf(10_000), relay_operate: '0' },
          { action_time: timeOf(16_000), relay_operate: '1' },
        ]),
      })
      .expect(200);
    expect(accepted.body.data[0]).toMatchObject({ indv_status: '1', remarks: 'accepted' });
    const [row] = await finished(transactionid, ['m1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    expect(row.response_data).toMatch(/2 slab\(s\) scheduled by the head-end/);
    await waitFor(
      () => Promise.resolve(headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT) === 0),
      'the first slab to open the relay',
    );
    await waitFor(
      () => Promise.resolve(headEnd.gateway.readOutput(SERIALS[0], RELAY_PORT) === 1),
      'the second slab to close it',
    );
    // The relay is closed in the meter before the action job records it in METER_VISUALS.
    const visuals = await waitFor(async () => {
      const { rows } = await headEnd.db.query<{ lsch_load_shedding_slabs: string; auxr_status: number }>(
        `SELECT lsch_load_shedding_slabs, auxr_status FROM udil.meter_visuals WHERE global_device_id = 'm1'`,
      );
      return rows[0]?.auxr_status === 1 ? rows[0] : undefined;
    }, 'the visuals to show the relay closed');
    expect(JSON.parse(visuals.lsch_load_shedding_slabs)).toHaveLength(2);
  });
});
