import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed-credential counters of the api processes (libs/security, CredentialThrottle) when the queues
 * are in PostgreSQL (QUEUE_BACKEND=postgres); with Redis they live in Redis. One row per counted key
 * (a realm, address or username digest) until its window ends.
 */
export class CredentialFailures1764400000800 implements MigrationInterface {
  name = 'CredentialFailures1764400000800';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE UNLOGGED TABLE public.credential_failures (
        key text PRIMARY KEY,
        failures integer NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX credential_failures_expires_at_idx ON public.credential_failures (expires_at)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE public.credential_failures`);
  }
}
