import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many slice jobs (several devices of one gateway per job; docs/scaling.md) a transaction's queueing
 * added: their ids are numbered from 0, so the reconciler finds them again and does not queue a row that
 * a slice still carries. Transactions queued before this column existed had one job per device: 0.
 */
export class UdilTransactionSlices1764700000000 implements MigrationInterface {
  name = 'UdilTransactionSlices1764700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE public.udil_transactions ADD COLUMN queued_slices integer NOT NULL DEFAULT 0`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE public.udil_transactions DROP COLUMN queued_slices`);
  }
}
