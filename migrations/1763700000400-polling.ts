import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Poll schedules: one row per device and UDIL data type, read by the workers when due. Kept in
 * PostgreSQL (the source of truth) so that a queue backend that loses its jobs loses no schedule.
 */
export class Polling1763700000400 implements MigrationInterface {
  name = 'Polling1763700000400';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE public.poll_schedules (
        global_device_id varchar(50) NOT NULL REFERENCES public.devices (global_device_id) ON DELETE CASCADE,
        data_type varchar(4) NOT NULL CHECK (data_type IN ('INST', 'BILL', 'MBIL', 'LPRO', 'EVNT')),
        interval_minutes integer NOT NULL CHECK (interval_minutes BETWEEN 1 AND 44640),
        enabled boolean NOT NULL DEFAULT true,
        next_due_at timestamptz NOT NULL DEFAULT now(),
        last_polled_at timestamptz,
        last_outcome varchar(255),
        consecutive_failures integer NOT NULL DEFAULT 0,
        PRIMARY KEY (global_device_id, data_type)
      )`);
    await queryRunner.query(
      `CREATE INDEX poll_schedules_due_idx ON public.poll_schedules (next_due_at) WHERE enabled`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE public.poll_schedules`);
  }
}
