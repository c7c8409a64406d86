import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { AddressInfo } from 'node:net';
import { inOneLayer } from './one-layer';

/** GET `path` from an Express app with `middleware` as one layer, a route `/ok`, and an error handler. */
async function answer(middleware: ReturnType<typeof inOneLayer>, path = '/ok'): Promise<string> {
  const app = express();
  app.use(middleware);
  app.get('/ok', (request, response) => {
    response.send(`route after ${String((request as { seen?: string[] }).seen)}`);
  });
  app.use((error: Error, _request: Request, response: Response, _next: NextFunction) => {
    response.status(500).send(`error ${error.message}`);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return `${response.status} ${await response.text()}`;
  } finally {
    server.close();
  }
}

function seeing(name: string) {
  return (request: Request, _response: Response, next: NextFunction) => {
    const seen = ((request as { seen?: string[] }).seen ??= []);
    seen.push(name);
    next();
  };
}

describe('inOneLayer', () => {
  it('runs the middleware in order, then the routes', async () => {
    expect(await answer(inOneLayer(seeing('a'), seeing('b'), seeing('c')))).toBe('200 route after a,b,c');
  });

  it('an error passed on, thrown or rejected skips the middleware after it and reaches the error handler', async () => {
    const never = () => {
      throw new Error('must not run');
    };
    const passed = (_request: Request, _response: Response, next: NextFunction) => next(new Error('passed'));
    const thrown = () => {
      throw new Error('thrown');
    };
    const rejected = () => Promise.reject(new Error('rejected'));
    expect(await answer(inOneLayer(seeing('a'), passed, never))).toBe('500 error passed');
    expect(await answer(inOneLayer(seeing('a'), thrown, never))).toBe('500 error thrown');
    expect(await answer(inOneLayer(seeing('a'), rejected, never))).toBe('500 error rejected');
  });

  it('a middleware that answers ends the request there', async () => {
    const answers = (_request: Request, response: Response) => {
      response.status(418).send('answered');
    };
    expect(await answer(inOneLayer(seeing('a'), answers, seeing('b')))).toBe('418 answered');
  });

  it('a route that is not there is the 404 of Express', async () => {
    expect(await answer(inOneLayer(seeing('a')), '/missing')).toMatch(/^404 /);
  });
});
