import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { UdilAuthService } from '@hes/udil';

export const MDM_USER = { username: 'mdm_user', password: 'WSnt!@SS^I2*', code: '223' };

/** Creates the MDM account and returns a fresh privatekey for it. */
export async function authorizedKey(app: INestApplication<App>): Promise<string> {
  await app.get(UdilAuthService).createClient(MDM_USER.username, MDM_USER.password, MDM_USER.code);
  const response = await request(app.getHttpServer())
    .post('/authorization_service')
    .set('username', MDM_USER.username)
    .set('password', MDM_USER.password)
    .set('code', MDM_USER.code)
    .expect(200);
  return (response.body as { privatekey: string }).privatekey;
}

/** The id of the MDM account {@link authorizedKey} created (the client_id of its transactions). */
export async function mdmClientId(db: Client): Promise<string> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM public.udil_clients WHERE username = $1`, [
    MDM_USER.username,
  ]);
  return rows[0].id;
}

/** An aux_relay_operations transaction of `clientId` accepted an hour ago, without rows (tests add their own). */
export async function insertTransaction(db: Client, transactionid: string, clientId: string): Promise<void> {
  await db.query(
    `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, client_id, created_at)
     VALUES ($1, 'aux_relay_operations', $2, $3, now() - interval '1 hour')`,
    [transactionid, 'f'.repeat(64), clientId],
  );
}

/** device_creation's attributes (UDIL §3.4.6) besides device_identity, as a form field map. */
export const DEVICE_CREATION_ATTRIBUTES = {
  request_datetime: '2026-11-21 10:00:00',
  communication_interval: '15',
  device_type: '1',
  mdi_reset_date: '1',
  mdi_reset_time: '00:00:00',
  sim_number: '03218090100',
  sim_id: '11199oijjh78',
  phase: '1',
  meter_type: '2',
  communication_mode: '4',
};
