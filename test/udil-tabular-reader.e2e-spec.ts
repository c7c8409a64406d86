import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { grantMdmReader } from '../scripts/mdm-reader-role';
import { TEST_POSTGRES_URL } from './support/services';
import { TestDatabase, createMigratedDatabase } from './support/test-database';

describe('tabular reads: a read-only MDM role', () => {
  let database: TestDatabase;
  let admin: Client;
  let reader: Client;
  const role = `mdm_reader_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');

  beforeAll(async () => {
    database = await createMigratedDatabase('tabular');
    admin = new Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(
      `INSERT INTO udil.load_profile_data (global_device_id, msn, meter_datetime, active_energy_pos_tl) VALUES ('m1', 1, now(), 12.5)`,
    );
    await admin.query(
      `INSERT INTO public.udil_clients (username, password_hash, code_hash) VALUES ('secret', 'x', 'y')`,
    );
    await grantMdmReader(database.url, role, password);
    await grantMdmReader(database.url, role, password); // idempotent
    const url = new URL(database.url);
    url.username = role;
    url.password = password;
    reader = new Client({ connectionString: url.toString() });
    await reader.connect();
  });

  afterAll(async () => {
    await reader?.end();
    await admin?.end();
    await database?.drop();
    const cleanup = new Client({ connectionString: TEST_POSTGRES_URL });
    await cleanup.connect();
    await cleanup.query(`DROP ROLE IF EXISTS ${role}`);
    await cleanup.end();
  });

  it('reads the UDIL tables by their unqualified names, incrementally by db_datetime', async () => {
    const { rows } = await reader.query(
      `SELECT global_device_id, active_energy_pos_tl::text FROM LOAD_PROFILE_DATA WHERE db_datetime > now() - interval '1 hour'`,
    );
    expect(rows).toEqual([{ global_device_id: 'm1', active_energy_pos_tl: '12.500' }]);
  });

  it('may mark rows synced, and nothing else', async () => {
    await expect(reader.query(`UPDATE load_profile_data SET is_synced = 1`)).resolves.toMatchObject({
      rowCount: 1,
    });
    await expect(reader.query(`UPDATE load_profile_data SET active_energy_pos_tl = 0`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      reader.query(
        `INSERT INTO events (global_device_id, event_datetime, event_code) VALUES ('m1', now(), 101)`,
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(reader.query(`DELETE FROM load_profile_data`)).rejects.toThrow(/permission denied/);
  });

  it('cannot see the registry (credentials)', async () => {
    await expect(reader.query(`SELECT * FROM public.udil_clients`)).rejects.toThrow(/permission denied/);
    await expect(reader.query(`SELECT * FROM public.gateways`)).rejects.toThrow(/permission denied/);
  });

  it('refuses a malformed role name', async () => {
    await expect(grantMdmReader(database.url, 'Robert"; DROP', password)).rejects.toThrow(
      /^role: must be a lower-case PostgreSQL identifier/,
    );
  });
});
