import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Head-end load-shedding schedules (load_shedding_scheduling on meters without a native schedule) kept
 * in PostgreSQL: the queue's job schedulers that fire each slab are rebuilt from this table when Redis
 * loses its data (docs/architecture.md, core idea 1).
 */
export class LoadSheddingSchedules1764400000700 implements MigrationInterface {
  name = 'LoadSheddingSchedules1764400000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE public.load_shedding_slabs (
        global_device_id varchar(50) NOT NULL REFERENCES public.devices (global_device_id) ON DELETE CASCADE,
        slab_index smallint NOT NULL CHECK (slab_index >= 0),
        action_time time(0) NOT NULL,
        relay_operate smallint NOT NULL CHECK (relay_operate IN (0, 1)),
        start_datetime timestamptz NOT NULL,
        end_datetime timestamptz NOT NULL CHECK (end_datetime >= start_datetime),
        time_zone varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (global_device_id, slab_index)
      )`);
    await queryRunner.query(
      `CREATE INDEX load_shedding_slabs_end ON public.load_shedding_slabs (end_datetime)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE public.load_shedding_slabs`);
  }
}
