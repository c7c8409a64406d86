import { INestApplication } from '@nestjs/common';
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
