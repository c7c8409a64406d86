import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the pruning of finished MCS requests needs (MCS_RETENTION_DAYS, docs/mcs.md): the finished requests by
 * their last change. Without it each batch of the hourly pruning reads the whole table, results included.
 */
export class McsRetention1764800000000 implements MigrationInterface {
  name = 'McsRetention1764800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX collection_requests_finished_idx ON mcs.collection_requests (updated_at)
        WHERE state = 'cancelled' OR (state = 'completed' AND delivery_state IN ('delivered', 'expired'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX mcs.collection_requests_finished_idx`);
  }
}
