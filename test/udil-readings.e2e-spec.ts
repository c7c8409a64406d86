import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '@hes/database';
import { UdilReadingsRepository } from '@hes/readings';
import { TestDatabase, createMigratedDatabase } from './support/test-database';

describe('UdilReadingsRepository: idempotent set-based upserts into the UDIL tables', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let readings: UdilReadingsRepository;
  const meter = { globalDeviceId: 'm1', msn: '3100001001' };
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 5, minute));

  beforeAll(async () => {
    database = await createMigratedDatabase('readings');
    dataSource = new DataSource(createDataSourceOptions(database.url));
    await dataSource.initialize();
    readings = new UdilReadingsRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const profile = (minute: number, energy: number) => ({
    meter_datetime: at(minute),
    channel_id: 1,
    interval: 15,
    active_energy_pos_tl: energy,
    aggregate_active_pwr_pos: 1.25,
  });

  it('inserts, then a repeat of the same readings writes nothing and keeps db_datetime', async () => {
    const first = await readings.upsert('load_profile_data', meter, [profile(0, 10.5), profile(15, 10.75)]);
    expect(first).toMatchObject({ written: 2, received: 2 });
    const before = await dataSource.query(
      `SELECT meter_datetime, db_datetime, id FROM udil.load_profile_data ORDER BY meter_datetime`,
    );
    const again = await readings.upsert('load_profile_data', meter, [profile(0, 10.5), profile(15, 10.75)]);
    expect(again).toMatchObject({ written: 0, received: 2 });
    const after = await dataSource.query(
      `SELECT meter_datetime, db_datetime, id FROM udil.load_profile_data ORDER BY meter_datetime`,
    );
    expect(after).toEqual(before);
    const [row] = await dataSource.query(
      `SELECT msn::text, active_energy_pos_tl::text, is_synced, mdc_read_datetime FROM udil.load_profile_data LIMIT 1`,
    );
    expect(row).toMatchObject({ msn: '3100001001', active_energy_pos_tl: '10.500', is_synced: 0 });
    expect(row.mdc_read_datetime).toBeInstanceOf(Date);
  });

  it('completes a row of its key without erasing; another channel at the same time is a row of its own', async () => {
    await dataSource.query(`UPDATE udil.load_profile_data SET is_synced = 1`);
    const outcome = await readings.upsert('load_profile_data', meter, [
      { meter_datetime: at(0), channel_id: 1, voltage_phase_a: 231.4 },
      { meter_datetime: at(0), channel_id: 6, interval: 60, voltage_phase_b: 229.9 },
    ]);
    expect(outcome.written).toBe(2);
    const rows = await dataSource.query(
      `SELECT channel_id, active_energy_pos_tl::text, voltage_phase_a::text, voltage_phase_b::text, is_synced
         FROM udil.load_profile_data WHERE meter_datetime = $1 ORDER BY channel_id`,
      [at(0)],
    );
    // The energy stays, the voltage is added, and the changed row is offered to MDM pulls again.
    expect(rows).toEqual([
      {
        channel_id: 1,
        active_energy_pos_tl: '10.500',
        voltage_phase_a: '231.400',
        voltage_phase_b: null,
        is_synced: 0,
      },
      {
        channel_id: 6,
        active_energy_pos_tl: null,
        voltage_phase_a: null,
        voltage_phase_b: '229.900',
        is_synced: 0,
      },
    ]);
  });

  it("fills both generations' names of a quantity, and a load profile without a channel is channel 0", async () => {
    const outcome = await readings.upsert('load_profile_data', meter, [
      {
        meter_datetime: at(45),
        interval: 15,
        active_energy_pos_tl: 11.25,
        reactive_energy_t2: 3.5,
        cumulative_mdi_pos_tl: 0.9,
      },
    ]);
    const [row] = await dataSource.query(
      `SELECT channel_id, active_energy_tl::text, active_energy_pos_tl::text, reactive_energy_t2::text,
              reactive_energy_pos_t2::text, cumulative_mdi_tl::text, cumulative_mdi_pos_tl::text
         FROM udil.load_profile_data WHERE meter_datetime = $1`,
      [at(45)],
    );
    expect(row).toEqual({
      channel_id: 0,
      active_energy_tl: '11.250',
      active_energy_pos_tl: '11.250',
      reactive_energy_t2: '3.500',
      reactive_energy_pos_t2: '3.500',
      cumulative_mdi_tl: '0.900',
      cumulative_mdi_pos_tl: '0.900',
    });
    // stored(): the rows as the table holds them, with the columns the head-end maintains.
    const [held] = await readings.stored('load_profile_data', outcome.rows);
    expect(held).toMatchObject({
      global_device_id: 'm1',
      channel_id: 0,
      active_energy_tl: '11.250',
      is_synced: 0,
    });
    expect(held.db_datetime).toBeInstanceOf(Date);
    expect(held.mdc_read_datetime).toBeInstanceOf(Date);
  });

  it('merges duplicates of one key within a batch and writes events on their three-part key', async () => {
    const outcome = await readings.upsert('events', meter, [
      { event_datetime: at(1), event_code: 111, event_description: 'Power fail start' },
      { event_datetime: at(1), event_code: 111, event_counter: 7 },
      { event_datetime: at(1), event_code: 112, event_description: 'Power fail end' },
    ]);
    expect(outcome).toMatchObject({ written: 2, received: 2 });
    const rows = await dataSource.query(
      `SELECT event_code, event_counter::int, event_description FROM udil.events ORDER BY event_code`,
    );
    expect(rows).toEqual([
      { event_code: 111, event_counter: 7, event_description: 'Power fail start' },
      { event_code: 112, event_counter: null, event_description: 'Power fail end' },
    ]);
  });

  it('refuses a column the table does not have and a reading without its key', async () => {
    await expect(
      readings.upsert('billing_data', meter, [{ meter_datetime: at(0), active_energy_pos_t9: 1 }]),
    ).rejects.toThrow('billing_data has no column active_energy_pos_t9');
    await expect(
      readings.upsert('events', meter, [{ event_datetime: at(0), event_description: 'x' }]),
    ).rejects.toThrow('events reading without event_code');
  });

  it('writes many devices in one statement', async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({
      device: { globalDeviceId: `bulk-${i}`, msn: String(4000000000 + i) },
      reading: { meter_datetime: at(30), aggregate_active_pwr_pos: i / 8 },
    }));
    expect(await readings.upsertMany('instantaneous_data', items)).toMatchObject({
      written: 500,
      received: 500,
    });
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM udil.instantaneous_data`);
    expect(n).toBe(500);
  });
});
