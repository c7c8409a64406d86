import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import type { AppConfig } from '@hes/config';
import { bodyParsers } from './body-parsers';
import { RequestBodyError } from './request-failure';

/** An app behind the parsers that answers what its handler saw of the body, or the parsers' refusal. */
function appWithParsers() {
  const app = express();
  app.use(bodyParsers({ REQUEST_BODY_LIMIT: '1kb' } as AppConfig));
  app.all('/echo', (req: Request, res: Response) => {
    res.json({ hasOwnBody: Object.hasOwn(req, 'body'), body: req.body as unknown });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error instanceof RequestBodyError ? 400 : 500).json({ refused: String(error) });
  });
  return app;
}

describe('body parsers', () => {
  it('leave a request without a body untouched: no body property is added to it', async () => {
    const answer = await request(appWithParsers()).get('/echo').expect(200);
    expect(answer.body).toEqual({ hasOwnBody: false });
  });

  it('parse a JSON body and a form body', async () => {
    const json = await request(appWithParsers()).post('/echo').send({ msn: '3000' }).expect(200);
    expect(json.body).toEqual({ hasOwnBody: true, body: { msn: '3000' } });
    const form = await request(appWithParsers())
      .post('/echo')
      .type('form')
      .send('global_device_id=m1&command=x')
      .expect(200);
    expect(form.body).toEqual({ hasOwnBody: true, body: { global_device_id: 'm1', command: 'x' } });
  });

  it('refuse a malformed JSON body as a RequestBodyError', async () => {
    const answer = await request(appWithParsers())
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send('{"msn":')
      .expect(400);
    expect(answer.body).toEqual({ refused: expect.stringContaining('RequestBodyError') });
  });
});
