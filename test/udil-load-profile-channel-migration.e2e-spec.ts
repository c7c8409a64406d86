import { MIGRATIONS } from '../migrations';
import { LoadProfileChannel1764400000300 } from '../migrations/1764400000300-load-profile-channel';
import { TestDatabase, connectWithMigrations, createTestDatabase } from './support/test-database';

/** The migration that puts channel_id into LOAD_PROFILE_DATA's key, over rows stored before it. */
describe('migration LoadProfileChannel1764400000300', () => {
  let database: TestDatabase;
  const mine = MIGRATIONS.indexOf(LoadProfileChannel1764400000300);
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 6, minute));

  const connect = (count: number) => connectWithMigrations(database, count);

  beforeAll(async () => {
    database = await createTestDatabase('lp_channel');
  });

  afterAll(() => database?.drop());

  it('keeps existing rows (no channel → 0), fills both names, lets two channels share a time, and goes back down', async () => {
    expect(mine).toBeGreaterThan(0);
    const before = await connect(mine);
    await before.runMigrations();
    await before.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, channel_id, interval, active_energy_pos_tl)
       VALUES ('m1', 1, $1, NULL, 15, 5.25), ('m1', 1, $2, 1, 15, NULL)`,
      [at(0), at(15)],
    );
    await before.query(`UPDATE udil.load_profile_data SET active_energy_tl = 7.5 WHERE meter_datetime = $1`, [
      at(15),
    ]);
    await before.query(
      `INSERT INTO udil.meter_visuals (global_device_id, msn, last_active_energy_pos_tl, last_active_energy_pos_tl_datetime,
                                       meter_last_comm_datetime)
       VALUES ('m1', 1, 42.125, $1, $1)`,
      [at(0)],
    );
    await before.destroy();

    const after = await connect(mine + 1);
    await after.runMigrations();
    const rows = await after.query(
      `SELECT meter_datetime, channel_id, active_energy_tl::text, active_energy_pos_tl::text
         FROM udil.load_profile_data ORDER BY meter_datetime`,
    );
    expect(rows).toEqual([
      { meter_datetime: at(0), channel_id: 0, active_energy_tl: '5.250', active_energy_pos_tl: '5.250' },
      { meter_datetime: at(15), channel_id: 1, active_energy_tl: '7.500', active_energy_pos_tl: '7.500' },
    ]);
    const [visuals] = await after.query(
      `SELECT active_energy_pos_tl::text, active_energy_pos_tl_datetime, meter_datetime FROM udil.meter_visuals`,
    );
    expect(visuals).toEqual({
      active_energy_pos_tl: '42.125',
      active_energy_pos_tl_datetime: at(0),
      meter_datetime: at(0),
    });
    // A second channel at the same time is a row of its own; a row without a channel is channel 0.
    await after.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, channel_id, voltage_phase_b)
       VALUES ('m1', 1, $1, 6, 231)`,
      [at(0)],
    );
    await after.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime) VALUES ('m1', 1, $1)`,
      [at(30)],
    );
    await expect(
      after.query(
        `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime) VALUES ('m1', 1, $1)`,
        [at(30)],
      ),
    ).rejects.toThrow(/load_profile_data_pkey/);

    // Down: the old key holds one row per time, the lowest channel's.
    await after.undoLastMigration();
    const kept = await after.query(
      `SELECT meter_datetime, channel_id FROM udil.load_profile_data ORDER BY meter_datetime`,
    );
    expect(kept).toEqual([
      { meter_datetime: at(0), channel_id: 0 },
      { meter_datetime: at(15), channel_id: 1 },
      { meter_datetime: at(30), channel_id: 0 },
    ]);
    const [{ key }] = await after.query(
      `SELECT pg_get_constraintdef(oid) AS key FROM pg_constraint WHERE conname = 'load_profile_data_pkey'`,
    );
    expect(key).toBe('PRIMARY KEY (global_device_id, meter_datetime)');
    await after.destroy();
  });
});
