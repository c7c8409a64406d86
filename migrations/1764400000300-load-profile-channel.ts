import { MigrationInterface, QueryRunner } from 'typeorm';

const TARIFFS = ['t1', 't2', 't3', 't4', 'tl'];
/** LOAD_PROFILE_DATA's registers under their UDIL 2019 name and their UDIL 3.2 name (udil-records.ts). */
const LOAD_PROFILE_PAIRS = ['active_energy', 'reactive_energy', 'active_mdi', 'cumulative_mdi'].flatMap(
  (base) => TARIFFS.map((t) => [`${base}_${t}`, `${base.replace(/_(energy|mdi)$/, '_$1_pos')}_${t}`]),
);
const VISUALS_TOTALS = [
  'active_energy_pos_tl',
  'active_energy_neg_tl',
  'reactive_energy_pos_tl',
  'reactive_energy_neg_tl',
];
const VISUALS_PAIRS = [
  ...VISUALS_TOTALS.flatMap((total) => [
    [`last_${total}`, total],
    [`last_${total}_datetime`, `${total}_datetime`],
  ]),
  ['meter_last_comm_datetime', 'meter_datetime'],
];

const fillBoth = (pairs: string[][]) =>
  pairs.flatMap(([old, current]) => [
    `"${old}" = COALESCE("${old}", "${current}")`,
    `"${current}" = COALESCE("${current}", "${old}")`,
  ]);

/**
 * LOAD_PROFILE_DATA keyed on (global_device_id, meter_datetime, channel_id): two load-profile channels of a
 * meter at the same time are two rows (UDIL 3.2 carries channel_id; compliance testing reads channels 0–4
 * separately). A row without a channel is channel 0. Existing rows keep the channel they were stored with.
 *
 * Both generations' names of one quantity are filled in the rows already stored (the head-end writes both
 * from now on): the load-profile registers (2019 `active_energy_tl` = 3.2 `active_energy_pos_tl`, …) and the
 * METER_VISUALS totals (2019 `last_active_energy_pos_tl` = 3.2 `active_energy_pos_tl`, …) and meter datetime.
 * (The pairs are written out here rather than imported: a migration keeps doing what it did when it ran.)
 *
 * Down: the key goes back to (global_device_id, meter_datetime); of several channels at one time only the
 * lowest channel's row is kept (the old key cannot hold more).
 */
export class LoadProfileChannel1764400000300 implements MigrationInterface {
  name = 'LoadProfileChannel1764400000300';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE udil.load_profile_data SET channel_id = 0 WHERE channel_id IS NULL`);
    await queryRunner.query(`ALTER TABLE udil.load_profile_data
      ALTER COLUMN channel_id SET DEFAULT 0,
      ALTER COLUMN channel_id SET NOT NULL,
      DROP CONSTRAINT load_profile_data_pkey,
      ADD CONSTRAINT load_profile_data_pkey PRIMARY KEY (global_device_id, meter_datetime, channel_id)`);
    await queryRunner.query(`UPDATE udil.load_profile_data SET ${fillBoth(LOAD_PROFILE_PAIRS).join(', ')}
      WHERE ${LOAD_PROFILE_PAIRS.map(([old, current]) => `("${old}" IS NULL) <> ("${current}" IS NULL)`).join(' OR ')}`);
    await queryRunner.query(`UPDATE udil.meter_visuals SET ${fillBoth(VISUALS_PAIRS).join(', ')}
      WHERE ${VISUALS_PAIRS.map(([old, current]) => `("${old}" IS NULL) <> ("${current}" IS NULL)`).join(' OR ')}`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM udil.load_profile_data t USING udil.load_profile_data lower
      WHERE lower.global_device_id = t.global_device_id AND lower.meter_datetime = t.meter_datetime
        AND lower.channel_id < t.channel_id`);
    await queryRunner.query(`ALTER TABLE udil.load_profile_data
      DROP CONSTRAINT load_profile_data_pkey,
      ADD CONSTRAINT load_profile_data_pkey PRIMARY KEY (global_device_id, meter_datetime),
      ALTER COLUMN channel_id DROP NOT NULL,
      ALTER COLUMN channel_id DROP DEFAULT`);
  }
}
