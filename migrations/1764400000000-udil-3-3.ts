import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * UDIL 3.3 columns (../shared/specs/udil-3.3-notes.md) and the METER_VISUALS state of the 3.2 services whose
 * parameter reads (§3.4.2) have no column in 3.2's METER_VISUALS table:
 * - INSTANTANEOUS_DATA: current_total, voltage_average, pf_phase_a/b/c (3.3);
 * - METER_VISUALS: pf_phase_a/b/c (3.3); `pmal_datetime` and `pmal_major_alarms_list` (update_major_alarms,
 *   the PMAL read; a JSON array of {event_code, event_description}); for each APMS type of
 *   apms_tripping_events (§3.3.14) `<type>_datetime` and its five threshold fields, as the 3.3 notes name them.
 */
export const APMS_TYPES = ['ovfc', 'uvfc', 'ocfc', 'olfc', 'vufc', 'pffc', 'cufc', 'hapf'] as const;
export const APMS_FIELDS = [
  'critical_event_threshold_limit',
  'critical_event_log_time',
  'tripping_event_threshold_limit',
  'tripping_event_log_time',
  'enable_tripping',
] as const;

const DECIMAL = 'numeric(18,3)';

const COLUMNS: Record<string, Array<[string, string]>> = {
  instantaneous_data: [
    ['current_total', DECIMAL],
    ['voltage_average', DECIMAL],
    ['pf_phase_a', DECIMAL],
    ['pf_phase_b', DECIMAL],
    ['pf_phase_c', DECIMAL],
  ],
  meter_visuals: [
    ['pf_phase_a', DECIMAL],
    ['pf_phase_b', DECIMAL],
    ['pf_phase_c', DECIMAL],
    ['pmal_datetime', 'timestamptz'],
    ['pmal_major_alarms_list', 'text'],
    ...APMS_TYPES.flatMap((type): Array<[string, string]> => [
      [`${type}_datetime`, 'timestamptz'],
      ...APMS_FIELDS.map((field): [string, string] => [`${type}_${field}`, 'varchar(50)']),
    ]),
  ],
};

export class Udil33Columns1764400000000 implements MigrationInterface {
  name = 'Udil33Columns1764400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, columns] of Object.entries(COLUMNS)) {
      await queryRunner.query(
        `ALTER TABLE udil.${table} ${columns.map(([name, type]) => `ADD COLUMN ${name} ${type}`).join(', ')}`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, columns] of Object.entries(COLUMNS)) {
      await queryRunner.query(
        `ALTER TABLE udil.${table} ${columns.map(([name]) => `DROP COLUMN ${name}`).join(', ')}`,
      );
    }
  }
}
