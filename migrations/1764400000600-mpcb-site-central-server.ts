import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The central server of each MPCB site (docs/mpcb.md): a site whose `central_server_url` is set uploads there
 * instead of `MPCB_BASE_URL` (a test server for one site, another board's server for another).
 */
export class MpcbSiteCentralServer1764400000600 implements MigrationInterface {
  name = 'MpcbSiteCentralServer1764400000600';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE mpcb.sites ADD COLUMN central_server_url varchar(2000)
        CHECK (central_server_url ~* '^https?://')`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE mpcb.sites DROP COLUMN central_server_url`);
  }
}
