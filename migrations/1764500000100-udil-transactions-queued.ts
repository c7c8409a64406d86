import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the jobs of an accepted UDIL transaction were all queued. The api answers right after the commit
 * and queues behind the answer; a transaction left with `queued_at` NULL (the api stopped or lost Redis in
 * between) is queued by the worker's reconciler. Transactions accepted before this column existed were
 * queued before their answer: they get the migration's time (a constant default).
 *
 * `response`, the answer a retried request gets again, becomes text: it is only ever written whole and
 * read back whole, and PostgreSQL's jsonb parse of a 100 000-device answer (9 MB) was a second of the
 * acceptance's time inside its transaction.
 */
export class UdilTransactionsQueued1764500000100 implements MigrationInterface {
  name = 'UdilTransactionsQueued1764500000100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE public.udil_transactions ADD COLUMN queued_at timestamptz DEFAULT now()`,
    );
    await queryRunner.query(`ALTER TABLE public.udil_transactions ALTER COLUMN queued_at DROP DEFAULT`);
    await queryRunner.query(
      `ALTER TABLE public.udil_transactions ALTER COLUMN response TYPE text USING response::text`,
    );
    await queryRunner.query(
      `CREATE INDEX udil_transactions_unqueued_idx ON public.udil_transactions (created_at) WHERE queued_at IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX public.udil_transactions_unqueued_idx`);
    await queryRunner.query(`ALTER TABLE public.udil_transactions DROP COLUMN queued_at`);
    await queryRunner.query(
      `ALTER TABLE public.udil_transactions ALTER COLUMN response TYPE jsonb USING response::jsonb`,
    );
  }
}
