import { MigrationInterface, QueryRunner } from 'typeorm';

/** UDIL 3.2 device_creation (§3.3.6) knows device types 1–5 (2019: 1–3): the registry accepts them. */
export class Udil3DeviceTypes1764400000101 implements MigrationInterface {
  name = 'Udil3DeviceTypes1764400000101';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE public.devices DROP CONSTRAINT devices_device_type_check,
      ADD CONSTRAINT devices_device_type_check CHECK (device_type BETWEEN 1 AND 5)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE public.devices SET device_type = NULL WHERE device_type > 3`);
    await queryRunner.query(`ALTER TABLE public.devices DROP CONSTRAINT devices_device_type_check,
      ADD CONSTRAINT devices_device_type_check CHECK (device_type BETWEEN 1 AND 3)`);
  }
}
