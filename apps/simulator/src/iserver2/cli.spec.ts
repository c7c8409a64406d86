import { Command } from 'commander';
import WebSocket from 'ws';
import { registerIServer2Command } from './cli';
import { IServer2SimulatorHandle } from './iserver2-simulator';

describe('simulator iserver2 (CLI)', () => {
  let simulator: IServer2SimulatorHandle | undefined;
  afterEach(async () => {
    await simulator?.stop();
    simulator = undefined;
    jest.restoreAllMocks();
  });

  it('starts a unit from the options, prints where and how to log in, and answers any WebSocket client', async () => {
    const printed: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const program = new Command().exitOverride();
    registerIServer2Command(program, { handleSignals: false, onStarted: (started) => (simulator = started) });
    await program.parseAsync(
      ['iserver2', '--port', '0', '--http-port', '0', '--probes', '1', '--interval', '7', '--latency', '0'],
      { from: 'user' },
    );
    if (!simulator) throw new Error('the command did not start a simulator');
    expect(simulator.unit.probes).toHaveLength(1);
    expect(simulator.unit.currentLogSettings()).toEqual({ interval: 7, enable: 1 });
    const output = printed.join('\n');
    expect(output).toContain(simulator.url);
    expect(output).toContain(`${simulator.httpUrl}/cgi-bin/query`);
    expect(output).toContain('admin / 00000000');

    const socket = new WebSocket(simulator.url);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const answer = await new Promise<string>((resolve) => {
      socket.once('message', (data: Buffer) => resolve(data.toString('utf8')));
      socket.send(JSON.stringify({ login: { username: 'admin', password: '00000000' } }));
    });
    socket.close();
    expect(JSON.parse(answer)).toMatchObject({ login: { status: 'success' } });
  });

  it('refuses options out of range', async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerIServer2Command(program, { handleSignals: false, onStarted: (started) => (simulator = started) });
    await expect(program.parseAsync(['iserver2', '--probes', '3'], { from: 'user' })).rejects.toThrow(
      /--probes/,
    );
    expect(simulator).toBeUndefined();
  });
});
