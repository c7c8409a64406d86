import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Transaction rows the head-end holds until a time of the request's own (meter_data_sampling takes
 * effect at its activation_datetime): kept in PostgreSQL so that a restart, or a queue that lost its
 * delayed job, does not apply them early or forget them; the reconciler leaves them alone until due.
 */
export class UdilDeferredRows1764400000100 implements MigrationInterface {
  name = 'UdilDeferredRows1764400000100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE public.udil_deferred_rows (
        transactionid varchar(64) NOT NULL,
        global_device_id varchar(50) NOT NULL,
        due_at timestamptz NOT NULL,
        PRIMARY KEY (transactionid, global_device_id),
        FOREIGN KEY (transactionid, global_device_id)
          REFERENCES udil.transaction_status (transactionid, global_device_id) ON DELETE CASCADE
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE public.udil_deferred_rows`);
  }
}
