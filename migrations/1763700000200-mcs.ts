import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MCS collection requests (docs/mcs.md): every accepted request, stored before it is acknowledged,
 * with its state, its result document (the collection-status answer) and the delivery state of that
 * result to the master application.
 */
export class Mcs1763700000200 implements MigrationInterface {
  name = 'Mcs1763700000200';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS mcs`);
    await queryRunner.query(`
      CREATE TABLE mcs.collection_requests (
        request_reference varchar(100) PRIMARY KEY,
        client varchar(100) NOT NULL,
        request jsonb NOT NULL,
        priority integer NOT NULL CHECK (priority >= 1),
        delay_until timestamptz,
        state varchar(16) NOT NULL DEFAULT 'queued'
          CHECK (state IN ('queued', 'in_progress', 'completed', 'cancelled')),
        attempts integer NOT NULL DEFAULT 0,
        result jsonb,
        result_summary text,
        collection_start_time timestamptz,
        collection_end_time timestamptz,
        cancelled_at timestamptz,
        delivery_state varchar(16) NOT NULL DEFAULT 'none'
          CHECK (delivery_state IN ('none', 'pending', 'delivered', 'expired')),
        delivery_attempts integer NOT NULL DEFAULT 0,
        delivery_next_at timestamptz,
        delivery_lease_until timestamptz,
        delivery_expires_at timestamptz,
        delivered_at timestamptz,
        delivery_last_error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX collection_requests_active_idx ON mcs.collection_requests (client, updated_at)
         WHERE state IN ('queued', 'in_progress')`,
    );
    await queryRunner.query(
      `CREATE INDEX collection_requests_delivery_idx ON mcs.collection_requests (delivery_next_at)
         WHERE delivery_state = 'pending'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS mcs.collection_requests`);
    await queryRunner.query(`DROP SCHEMA IF EXISTS mcs`);
  }
}
