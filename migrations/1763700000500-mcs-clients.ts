import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MCS clients managed through the admin API (docs/admin.md, docs/mcs.md): each has the addresses it may
 * call from (empty: any address) and, optionally, HTTP Basic credentials whose password is stored as
 * a scrypt hash. The environment (MCS_ALLOWED_CLIENTS, MCS_USERNAME / MCS_PASSWORD) counts as one more
 * client; it is not stored here.
 */
export class McsClients1763700000500 implements MigrationInterface {
  name = 'McsClients1763700000500';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE public.mcs_clients (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL CONSTRAINT mcs_clients_name_key UNIQUE,
        allowed_addresses text[] NOT NULL DEFAULT '{}',
        username varchar(100) CONSTRAINT mcs_clients_username_key UNIQUE,
        password_hash text,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz,
        CONSTRAINT mcs_clients_credentials_check CHECK ((username IS NULL) = (password_hash IS NULL))
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE public.mcs_clients`);
  }
}
