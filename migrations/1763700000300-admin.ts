import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admin audit trail (docs/admin.md). Admin actions are rows of `public.admin_audit_log`, written by
 * the api after each action. Commands sent to devices are not copied: `udil.transaction_status` already
 * holds one row per (transactionid, device) with its levels and result, so `public.device_command_audit`
 * is a view that adds who asked for it (the UDIL client of the transaction).
 */
export class Admin1763700000300 implements MigrationInterface {
  name = 'Admin1763700000300';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE public.admin_audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        actor varchar(100) NOT NULL,
        auth_method varchar(8) NOT NULL CHECK (auth_method IN ('token', 'basic')),
        remote_address varchar(64),
        action varchar(64) NOT NULL,
        target_type varchar(32) NOT NULL,
        target_id varchar(100),
        request jsonb,
        result varchar(8) NOT NULL CHECK (result IN ('success', 'failure')),
        status_code integer NOT NULL,
        detail text
      )`);
    await queryRunner.query(
      `CREATE INDEX admin_audit_log_occurred_at_idx ON public.admin_audit_log (occurred_at)`,
    );
    await queryRunner.query(
      `CREATE INDEX admin_audit_log_target_idx ON public.admin_audit_log (target_type, target_id)`,
    );
    await queryRunner.query(`
      CREATE VIEW public.device_command_audit AS
      SELECT ts.transactionid,
             ts.global_device_id,
             ts.msn::text AS msn,
             ts.type AS command,
             ts.type_parameters AS parameters,
             CASE WHEN ut.transactionid IS NULL THEN 'head-end'
                  ELSE coalesce(c.username, '(deleted UDIL client)') END AS requested_by,
             ts.command_receiving_datetime AS requested_at,
             ts.status_level,
             ts.status_5_datetime AS completed_at,
             ts.indv_status,
             CASE WHEN ts.request_cancelled = 1 THEN 'cancelled'
                  WHEN ts.indv_status = 1 THEN 'complete'
                  WHEN ts.indv_status = 2 THEN 'failed'
                  ELSE 'in progress' END AS result,
             ts.request_cancel_reason,
             ts.response_data
        FROM udil.transaction_status ts
        LEFT JOIN public.udil_transactions ut ON ut.transactionid = ts.transactionid
        LEFT JOIN public.udil_clients c ON c.id = ut.client_id`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP VIEW public.device_command_audit`);
    await queryRunner.query(`DROP TABLE public.admin_audit_log`);
  }
}
