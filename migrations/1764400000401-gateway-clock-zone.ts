import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The zone the clocks behind a gateway keep (G13 meters, iServer 2): their date-times carry no offset.
 * NULL means the head-end's TIME_ZONE.
 */
export class GatewayClockZone1764400000401 implements MigrationInterface {
  name = 'GatewayClockZone1764400000401';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE public.gateways ADD COLUMN clock_time_zone varchar(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE public.gateways DROP COLUMN clock_time_zone`);
  }
}
