import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each meter behind a gateway provides (the G13's optional resources: reactive energy, alarms,
 * demand, load profiles…), discovered once and refreshed by an admin action or when a read meets a
 * change, so that reads skip what a meter lacks. Keyed by the serial as the gateway names it.
 */
export class MeterResources1764400000400 implements MigrationInterface {
  name = 'MeterResources1764400000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE public.meter_resources (
        gateway_id uuid NOT NULL REFERENCES public.gateways(id) ON DELETE CASCADE,
        serial varchar(64) NOT NULL,
        resources jsonb NOT NULL,
        discovered_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (gateway_id, serial)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE public.meter_resources`);
  }
}
