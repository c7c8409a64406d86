import * as http from 'node:http';
import { Command } from 'commander';
import {
  describeG13Fleet,
  registerG13Command,
  startG13FleetFromCommand,
} from '../apps/simulator/src/g13/cli';

describe('g13 simulator command', () => {
  it('registers g13 with its options', () => {
    const program = new Command();
    registerG13Command(program);
    const command = program.commands.find((c) => c.name() === 'g13');
    expect(command?.options.map((o) => o.long)).toEqual([
      '--gateways',
      '--meters',
      '--port',
      '--latency',
      '--host',
      '--http',
      '--manual-only',
    ]);
  });

  it('prints URL, credentials and serials that curl-style requests can use', async () => {
    const fleet = await startG13FleetFromCommand({
      gateways: 2,
      meters: 2,
      port: 0,
      latency: 0,
      host: '127.0.0.1',
      http: true,
      manualOnly: 0,
    });
    try {
      const text = describeG13Fleet(fleet);
      const [gateway] = fleet.gateways;
      expect(text).toContain(`G13 gateway ${gateway.url}`);
      expect(text).toContain(`credentials: admin / ${gateway.password}`);
      expect(text).toContain(gateway.serials.join(' (3-phase), '));
      const curl = /curl -u (\S+):(\S+) (\S+)/.exec(text)!;
      const status = await new Promise<number>((resolve, reject) => {
        http
          .get(curl[3], { auth: `${curl[1]}:${curl[2]}` }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
      expect(status).toBe(200);
    } finally {
      await fleet.stop();
    }
  });

  it('--manual-only: the last meters of each gateway answer only the manual examples', async () => {
    const fleet = await startG13FleetFromCommand({
      gateways: 1,
      meters: 2,
      port: 0,
      latency: 0,
      host: '127.0.0.1',
      http: true,
      manualOnly: 1,
    });
    try {
      const [gateway] = fleet.gateways;
      expect(describeG13Fleet(fleet)).toContain(`${gateway.serials[1]} (manual examples only)`);
      const get = (path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          http
            .get(`${gateway.url}${path}`, { auth: `admin:${gateway.password}` }, (res) => {
              let body = '';
              res.on('data', (chunk: Buffer) => (body += chunk.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            })
            .on('error', reject);
        });
      const clock = await get(`/meters/${gateway.serials[1]}/datetime`);
      expect(clock.status).toBe(200);
      expect(JSON.parse(clock.body)).toMatchObject({ datetime: '2012-08-05T01:11:31' });
      expect((await get(`/meters/${gateway.serials[1]}/energy/reactive`)).status).toBe(404);
      expect((await get(`/meters/${gateway.serials[0]}/energy/reactive`)).status).toBe(200);
    } finally {
      await fleet.stop();
    }
  });
});
