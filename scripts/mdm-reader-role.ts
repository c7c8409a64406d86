/**
 * `npm run mdm-reader -- <role> <password>`: a PostgreSQL login for an MDM system that pulls the UDIL
 * tables directly (UDIL §3.1). It may SELECT every table of schema `udil` (db_datetime gives incremental
 * extraction) and UPDATE only `is_synced` (UDIL 3.2: the MDM marks what it has read); nothing else —
 * in particular not the registry in `public` (credentials). Idempotent: re-running updates the password.
 * Needs DATABASE_URL of an account that may create roles.
 */
import { Client } from 'pg';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Tables whose rows carry is_synced (UDIL 3.2 §3.1). */
const SYNCED_TABLES = [
  'instantaneous_data',
  'billing_data',
  'monthly_billing_data',
  'load_profile_data',
  'events',
  'device_communication_history',
];

export async function grantMdmReader(databaseUrl: string, role: string, password: string): Promise<void> {
  if (!IDENTIFIER.test(role))
    throw new Error(`role: must be a lower-case PostgreSQL identifier, got "${role}"`);
  if (password.length < 12) throw new Error('password: must be at least 12 characters');
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
    const quotedPassword = (await client.query<{ q: string }>('SELECT quote_literal($1) AS q', [password]))
      .rows[0].q;
    const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
    await client.query(
      `${exists ? 'ALTER' : 'CREATE'} ROLE ${role} LOGIN PASSWORD ${quotedPassword} NOSUPERUSER NOCREATEDB NOCREATEROLE`,
    );
    await client.query(`GRANT CONNECT ON DATABASE "${database}" TO ${role}`);
    await client.query(`GRANT USAGE ON SCHEMA udil TO ${role}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA udil TO ${role}`);
    // Tables created later (the monthly partitions the worker adds) are readable too, whoever creates them:
    // this account, or the owner of the UDIL tables (the worker's account).
    const [{ owner }] = (
      await client.query<{ owner: string }>(
        `SELECT quote_ident(tableowner) AS owner FROM pg_tables WHERE schemaname = 'udil' AND tablename = 'load_profile_data'`,
      )
    ).rows;
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA udil GRANT SELECT ON TABLES TO ${role}`);
    await client.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA udil GRANT SELECT ON TABLES TO ${role}`,
    );
    for (const table of SYNCED_TABLES)
      await client.query(`GRANT UPDATE (is_synced) ON udil.${table} TO ${role}`);
    await client.query(`ALTER ROLE ${role} IN DATABASE "${database}" SET search_path = udil`);
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  const [role, password] = process.argv.slice(2);
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl || !role || !password) {
    console.error('usage: DATABASE_URL=postgres://… npm run mdm-reader -- <role> <password>');
    process.exit(1);
  }
  grantMdmReader(databaseUrl, role, password).then(
    () => console.log(`role ${role} may read schema udil and set is_synced`),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
