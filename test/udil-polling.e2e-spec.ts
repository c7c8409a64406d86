import request from 'supertest';
import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '@hes/database';
import { PollScheduleRepository } from '@hes/transactions';
import { G13HeadEnd, startG13HeadEnd } from './support/g13-head-end';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { waitFor } from './support/test-environment';

const SERIALS = ['3100001001', '3100001002', '3100001003'];
/** The third meter's id has a ':', as the registry allows and discovered meters' prefixes make. */
const COLON_ID = 'f12:3100001003';

/** Poll schedules read meters on their own, skip inactive ones, and catch up after an outage. */
describe('polling schedules against the G13 simulator', () => {
  let headEnd: G13HeadEnd;

  beforeAll(async () => {
    // m2 is inactive from its registration on: the worker, which polls every second, never sees it active.
    headEnd = await startG13HeadEnd(
      'udil_poll',
      SERIALS,
      {
        POLLING_ENABLED: 'true',
        POLL_TICK_SECONDS: '1',
        POLL_DEFAULT_MINUTES_LPRO: '60',
        POLL_DEFAULT_MINUTES_INST: '600',
        POLL_DEFAULT_MINUTES_BILL: '600',
        POLL_DEFAULT_MINUTES_MBIL: '600',
        POLL_DEFAULT_MINUTES_EVNT: '600',
        POLL_FIRST_LOOKBACK_HOURS: '12',
      },
      [],
      { inactive: ['m2'], globalDeviceIds: ['m1', 'm2', COLON_ID] },
    );
  });

  afterAll(() => headEnd?.stop());

  const schedule = async (device: string, type: string) =>
    (
      await headEnd.db.query<{
        last_polled_at: Date | null;
        last_outcome: string | null;
        consecutive_failures: number;
      }>(
        `SELECT last_polled_at, last_outcome, consecutive_failures FROM public.poll_schedules WHERE global_device_id = $1 AND data_type = $2`,
        [device, type],
      )
    ).rows[0];

  const storedTimes = async () =>
    (
      await headEnd.db.query<{ t: Date }>(
        `SELECT meter_datetime AS t FROM udil.load_profile_data WHERE global_device_id = 'm1' AND channel_id = 1 ORDER BY meter_datetime`,
      )
    ).rows.map((r) => r.t.getTime());

  /** The meter's own 15-minute load-profile times (its channel 1) within [from, to]. */
  const meterTimes = (from: number, to: number) =>
    headEnd.gateway
      .meter(SERIALS[0])
      .loadProfile(1)
      .map((item) => item.time)
      .filter((time) => time >= from && time <= to);

  it('gives meters default schedules for what their driver reads, and reads the first load profile', async () => {
    await waitFor(
      async () => (await schedule('m1', 'LPRO'))?.last_outcome?.includes('LPRO row(s) read'),
      'the first LPRO poll',
    );
    const { rows } = await headEnd.db.query<{ data_type: string }>(
      `SELECT data_type FROM public.poll_schedules WHERE global_device_id = 'm1' ORDER BY data_type`,
    );
    expect(rows.map((r) => r.data_type)).toEqual(['BILL', 'EVNT', 'INST', 'LPRO', 'MBIL']);
    const times = await storedTimes();
    expect(times.length).toBeGreaterThanOrEqual(40);
    expect(times).toEqual(meterTimes(times[0], times[times.length - 1]));
  });

  it("reads a meter whose id has a ':' (refused in a BullMQ job id as it is), in the same ticks as the others", async () => {
    const polled = async () =>
      (
        await headEnd.db.query<{ data_type: string; consecutive_failures: number }>(
          `SELECT data_type, consecutive_failures FROM public.poll_schedules
            WHERE global_device_id = $1 AND last_polled_at IS NOT NULL ORDER BY data_type`,
          [COLON_ID],
        )
      ).rows;
    const rows = await waitFor(async () => {
      const found = await polled();
      return found.length === 5 ? found : undefined;
    }, `the first poll of each type of ${COLON_ID}`);
    expect(rows).toEqual(
      ['BILL', 'EVNT', 'INST', 'LPRO', 'MBIL'].map((type) => ({ data_type: type, consecutive_failures: 0 })),
    );
    expect((await schedule(COLON_ID, 'LPRO')).last_outcome).toMatch(/LPRO row\(s\) read/);
  });

  it('makes claims whose reads could not be queued due again (the next tick queues them)', async () => {
    const dataSource = new DataSource(createDataSourceOptions(headEnd.databaseUrl, 'poll-release-test'));
    await dataSource.initialize();
    try {
      // Four schedules claimed a day ahead; the reads of two of them could not be queued.
      await headEnd.db.query(
        `UPDATE public.poll_schedules SET next_due_at = now() + interval '1 day'
          WHERE global_device_id IN ('m1', $1) AND data_type IN ('INST', 'BILL')`,
        [COLON_ID],
      );
      await new PollScheduleRepository(dataSource).releaseClaims([
        { global_device_id: COLON_ID, data_type: 'INST' },
        { global_device_id: 'm1', data_type: 'BILL' },
      ]);
      // Released: due now, or already claimed again by a tick (due one 10-hour interval later); the others
      // still a day ahead.
      const { rows } = await headEnd.db.query<{ key: string; released: boolean }>(
        `SELECT global_device_id || '/' || data_type AS key, next_due_at < now() + interval '20 hours' AS released
           FROM public.poll_schedules
          WHERE global_device_id IN ('m1', $1) AND data_type IN ('INST', 'BILL') ORDER BY 1`,
        [COLON_ID],
      );
      expect(rows).toEqual([
        { key: `${COLON_ID}/BILL`, released: false },
        { key: `${COLON_ID}/INST`, released: true },
        { key: 'm1/BILL', released: true },
        { key: 'm1/INST', released: false },
      ]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('never reads an inactive meter', async () => {
    expect((await schedule('m2', 'LPRO')).last_polled_at).toBeNull();
    const { rows } = await headEnd.db.query(
      `SELECT count(*)::int AS n FROM udil.load_profile_data WHERE global_device_id = 'm2'`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('catches up from the last stored timestamp after an outage, leaving no gap', async () => {
    const before = await storedTimes();
    // The head-end lost its last six hours (as if it had not read them), and the meter stops answering.
    const cut = before[before.length - 1] - 6 * 3600_000;
    await headEnd.db.query(
      `DELETE FROM udil.load_profile_data WHERE global_device_id = 'm1' AND meter_datetime > $1`,
      [new Date(cut)],
    );
    headEnd.gateway.setMeterFaults(SERIALS[0], { offline: true });
    await headEnd.db.query(
      `UPDATE public.poll_schedules SET next_due_at = now() WHERE global_device_id = 'm1' AND data_type = 'LPRO'`,
    );
    await waitFor(
      async () => (await schedule('m1', 'LPRO')).consecutive_failures > 0,
      'a failed poll during the outage',
    );
    expect((await storedTimes()).at(-1)).toBe(cut);

    headEnd.gateway.clearFaults();
    await headEnd.db.query(
      `UPDATE public.poll_schedules SET next_due_at = now() WHERE global_device_id = 'm1' AND data_type = 'LPRO'`,
    );
    await waitFor(
      async () => (await schedule('m1', 'LPRO')).consecutive_failures === 0,
      'a successful poll after the outage',
    );
    const after = await storedTimes();
    expect(after.at(-1)).toBeGreaterThanOrEqual(before[before.length - 1]);
    expect(after).toEqual(meterTimes(after[0], after[after.length - 1]));
  });

  it('goes on reading a load profile that has a row stamped in the future (a meter clock that jumped)', async () => {
    const before = await storedTimes();
    // A record from a clock set to 2036, and the last two hours not stored (as if not read yet).
    await headEnd.db.query(
      `INSERT INTO udil.load_profile_data (msn, global_device_id, meter_datetime, channel_id, interval)
       VALUES ($1, 'm1', '2036-01-01T00:00:00Z', 1, 15)`,
      [SERIALS[0]],
    );
    const cut = before[before.length - 1] - 2 * 3600_000;
    await headEnd.db.query(
      `DELETE FROM udil.load_profile_data
        WHERE global_device_id = 'm1' AND meter_datetime > $1 AND meter_datetime < '2030-01-01'`,
      [new Date(cut)],
    );
    await headEnd.db.query(
      `UPDATE public.poll_schedules SET next_due_at = now() WHERE global_device_id = 'm1' AND data_type = 'LPRO'`,
    );
    await waitFor(
      async () => (await storedTimes()).filter((time) => time < Date.UTC(2030, 0)).at(-1)! > cut,
      'the two hours read again',
    );
    const now = await storedTimes();
    const present = now.filter((time) => time < Date.UTC(2030, 0));
    expect(present).toEqual(meterTimes(present[0], present[present.length - 1]));
    expect(present.at(-1)).toBeGreaterThanOrEqual(before[before.length - 1]);
    expect(now.at(-1)).toBe(Date.UTC(2036, 0)); // kept: the meter's record, however wrong its clock
  });

  it('reads as often as meter_data_sampling tells the meter to record', async () => {
    const transactionid = `mdsm-${Date.now()}`;
    await request(headEnd.api.getHttpServer())
      .post('/meter_data_sampling')
      .set('privatekey', headEnd.key)
      .set('transactionid', transactionid)
      .send({
        global_device_id: 'm1',
        request_datetime: '2026-11-21 10:00:00',
        activation_datetime: '2026-11-21 10:00:00',
        data_type: 'LPRO',
        sampling_interval: '15',
        sampling_initial_time: '0',
      })
      .expect(200);
    const [row] = await headEnd.finished(transactionid, ['m1']);
    expect(row).toMatchObject({ status_level: 5, indv_status: 1 });
    const { rows } = await headEnd.db.query(
      `SELECT interval_minutes FROM public.poll_schedules WHERE global_device_id = 'm1' AND data_type = 'LPRO'`,
    );
    expect(rows[0].interval_minutes).toBe(15);
  });
});

/** The claim of a poll read, on a database of its own (no worker claims beside the test). */
describe('poll claims', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let schedules: PollScheduleRepository;

  beforeAll(async () => {
    database = await createMigratedDatabase('poll_claims');
    dataSource = new DataSource(createDataSourceOptions(database.url, 'poll-claims-test'));
    await dataSource.initialize();
    schedules = new PollScheduleRepository(dataSource);
    await dataSource.query(
      `INSERT INTO public.devices (global_device_id, msn, driver) VALUES ('p1', 3100009001, 'ABB_G13')`,
    );
    await dataSource.query(
      `INSERT INTO public.poll_schedules (global_device_id, data_type, interval_minutes, next_due_at)
       VALUES ('p1', 'BILL', 1440, now() - interval '1 minute'), ('p1', 'LPRO', 30, now() - interval '1 minute')`,
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const minutesAfterClaim = async (type: string, claimedAt: string) =>
    Number(
      (
        await dataSource.query<{ minutes: string }[]>(
          `SELECT extract(epoch FROM next_due_at - $2::timestamptz) / 60 AS minutes
             FROM public.poll_schedules WHERE global_device_id = 'p1' AND data_type = $1`,
          [type, claimedAt],
        )
      )[0].minutes,
    );

  it('holds a claim for its interval at most POLL_CLAIM_LEASE_MINUTES; its outcome sets the next due a whole interval on', async () => {
    const claimed = await schedules.claimDue(100, 60);
    expect(claimed.map((read) => read.data_type).sort()).toEqual(['BILL', 'LPRO']);
    const bill = claimed.find((read) => read.data_type === 'BILL')!;
    const lpro = claimed.find((read) => read.data_type === 'LPRO')!;
    expect(bill.claimed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    // A daily read whose job is lost (Redis emptied, its worker killed) is due again in an hour, not a day.
    expect(await minutesAfterClaim('BILL', bill.claimed_at!)).toBe(60);
    expect(await minutesAfterClaim('LPRO', lpro.claimed_at!)).toBe(30);
    expect(await schedules.claimDue(100, 60)).toEqual([]);
    const billClaim = { at: bill.claimed_at!, leaseMinutes: 60 };
    expect(await schedules.holdsClaim('p1', 'BILL', billClaim)).toBe(true);
    // Its outcome recorded (a read or a failure): due the interval after the claim; a retry of the same read
    // (a transient fault: the job's second attempt) still holds it, and its outcome leaves the due time.
    await schedules.recordOutcome('p1', 'BILL', false, 'device: no answer', billClaim);
    expect(await minutesAfterClaim('BILL', bill.claimed_at!)).toBe(1440);
    expect(await schedules.holdsClaim('p1', 'BILL', billClaim)).toBe(true);
    await schedules.recordOutcome('p1', 'BILL', true, '1 BILL row(s) read', billClaim);
    expect(await minutesAfterClaim('BILL', bill.claimed_at!)).toBe(1440);
  });

  it("keeps an operator's poll now, and leaves out a read claimed again since its claim", async () => {
    await dataSource.query(
      `UPDATE public.poll_schedules SET next_due_at = now() - interval '1 minute' WHERE global_device_id = 'p1'`,
    );
    const [first] = (await schedules.claimDue(100, 60)).filter((read) => read.data_type === 'LPRO');
    const firstClaim = { at: first.claimed_at!, leaseMinutes: 60 };
    // An operator asks for a read now while the claimed read waits; the read then records its outcome.
    await dataSource.query(
      `UPDATE public.poll_schedules SET next_due_at = now() WHERE global_device_id = 'p1' AND data_type = 'LPRO'`,
    );
    expect(await schedules.holdsClaim('p1', 'LPRO', firstClaim)).toBe(false);
    await schedules.recordOutcome('p1', 'LPRO', true, '2 LPRO row(s) read', firstClaim);
    const [{ due }] = await dataSource.query<{ due: boolean }[]>(
      `SELECT next_due_at <= now() AS due FROM public.poll_schedules WHERE global_device_id = 'p1' AND data_type = 'LPRO'`,
    );
    expect(due).toBe(true);
    // Claimed again (as after a lease that ran out): the first claim's read is left out, the second's is not.
    const [second] = (await schedules.claimDue(100, 60)).filter((read) => read.data_type === 'LPRO');
    expect(second.claimed_at).not.toBe(first.claimed_at);
    expect(await schedules.holdsClaim('p1', 'LPRO', firstClaim)).toBe(false);
    expect(await schedules.holdsClaim('p1', 'LPRO', { at: second.claimed_at!, leaseMinutes: 60 })).toBe(true);
  });
});
