/**
 * The client against a scripted unit (a bare WebSocket server), for what the simulator never does: frames
 * that are not the answer awaited, and answers that are not JSON.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { DriverError } from '../driver.contract';
import { IServer2Client } from './iserver2-client';

type Script = (command: string, body: Record<string, unknown>) => string[];

async function scriptedUnit(script: Script): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as Record<string, Record<string, unknown>>;
      const [command] = Object.keys(message);
      for (const frame of script(command, message[command])) socket.send(frame);
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

const login = JSON.stringify({ login: { status: 'success', token: ' abc ' } });

describe('IServer2Client', () => {
  let unit: Awaited<ReturnType<typeof scriptedUnit>>;
  let client: IServer2Client;
  afterEach(async () => {
    await client.close();
    await unit.close();
  });

  it('skips frames that are not the answer to the command in flight and sends the trimmed token', async () => {
    const tokens: unknown[] = [];
    unit = await scriptedUnit((command, body) => {
      if (command === 'login') return [login];
      tokens.push(body.token);
      return [
        JSON.stringify({ sensorData: { probe: 1, channel: 0, time: 1, value: 1, precision: 1 } }), // a stray frame
        JSON.stringify({ dbupdate: { status: 'success' } }),
        JSON.stringify({ adjustInfo: { status: 'success', probe: 1, channel: 0, gain: 2, offset: 3 } }),
      ];
    });
    client = new IServer2Client({ url: unit.url, username: 'admin', password: 'x', timeoutMs: 1000 });
    const message = await client.command('adjustInfo', { probe: 1, channel: 0 }, [], {});
    expect(message).toEqual({ adjustInfo: { status: 'success', probe: 1, channel: 0, gain: 2, offset: 3 } });
    expect(tokens).toEqual(['abc']);
  });

  it('takes a dbupdate as the answer to a write that the unit answers so', async () => {
    unit = await scriptedUnit((command) =>
      command === 'login' ? [login] : [JSON.stringify({ dbupdate: { status: 'success' } })],
    );
    client = new IServer2Client({ url: unit.url, username: 'admin', password: 'x', timeoutMs: 1000 });
    await expect(
      client.command('contactOutput', { apiaction: 'write', clearLatch: 1 }, ['dbupdate'], {}),
    ).resolves.toEqual({ dbupdate: { status: 'success' } });
  });

  it('fails with a protocol error on an answer that is not JSON', async () => {
    unit = await scriptedUnit((command) => (command === 'login' ? [login] : ['<html>busy</html>']));
    client = new IServer2Client({ url: unit.url, username: 'admin', password: 'x', timeoutMs: 1000 });
    const error = await client.command('probeList', {}, [], {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriverError);
    expect(error).toMatchObject({ kind: 'protocol', retryable: false });
  });

  it('fails with a protocol error when a login succeeds without a token', async () => {
    unit = await scriptedUnit(() => [JSON.stringify({ login: { status: 'success' } })]);
    client = new IServer2Client({ url: unit.url, username: 'admin', password: 'x', timeoutMs: 1000 });
    await expect(client.login()).rejects.toMatchObject({ kind: 'protocol' });
  });

  it('refuses commands once closed', async () => {
    unit = await scriptedUnit(() => [login]);
    client = new IServer2Client({ url: unit.url, username: 'admin', password: 'x', timeoutMs: 1000 });
    await client.login();
    expect(client.connected).toBe(true);
    await client.close();
    expect(client.connected).toBe(false);
    await expect(client.command('probeList', {}, [], {})).rejects.toMatchObject({ kind: 'unreachable' });
  });
});
