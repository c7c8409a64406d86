import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per UDIL request that created a transaction: which client sent which service with which
 * parameters, and the answer it got. A reused transactionid with the same request returns that answer
 * and queues nothing; with anything else it is refused (docs/architecture.md).
 */
export class UdilTransactions1763700000001 implements MigrationInterface {
  name = 'UdilTransactions1763700000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE public.udil_transactions (
        transactionid varchar(64) PRIMARY KEY,
        service varchar(64) NOT NULL,
        request_fingerprint char(64) NOT NULL,
        client_id uuid REFERENCES public.udil_clients (id) ON DELETE SET NULL,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Work the reconciler looks for: accepted rows not yet finished and not cancelled.
    await queryRunner.query(`
      CREATE INDEX transaction_status_pending_idx ON udil.transaction_status (command_receiving_datetime)
       WHERE indv_status = 0 AND request_cancelled = 0 AND status_level < 5`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX udil.transaction_status_pending_idx`);
    await queryRunner.query(`DROP TABLE public.udil_transactions`);
  }
}
