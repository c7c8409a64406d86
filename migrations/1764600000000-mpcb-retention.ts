import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the pruning of sent MPCB readings needs (MPCB_RETENTION_DAYS, docs/mpcb.md): the readings by the time
 * they were sent, and by the upload that carried them. Without the second, every upload removed would make
 * PostgreSQL's foreign-key check read the whole readings table.
 */
export class MpcbRetention1764600000000 implements MigrationInterface {
  name = 'MpcbRetention1764600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX readings_sent_idx ON mpcb.readings (sent_at) WHERE sent_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX readings_upload_idx ON mpcb.readings (upload_ref) WHERE upload_ref IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX uploads_started_idx ON mpcb.uploads (started_at)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX mpcb.uploads_started_idx`);
    await queryRunner.query(`DROP INDEX mpcb.readings_upload_idx`);
    await queryRunner.query(`DROP INDEX mpcb.readings_sent_idx`);
  }
}
