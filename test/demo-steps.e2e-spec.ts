import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RunningDemo, startDemo } from './support/demo-process';

const run = promisify(execFile);

/** Runs `npm run demo`'s launcher until it prints its "Try it" steps, then follows them as printed. */
describe('the demo, followed as printed', () => {
  let demo: RunningDemo;
  let output = '';

  beforeAll(async () => {
    demo = await startDemo('demo_steps', { MPCB_ACQUISITION_SECONDS: '1', MPCB_TRANSMISSION_SECONDS: '5' });
    output = demo.output();
  }, 120_000);

  afterAll(() => demo?.stop());

  it('prints provisioning progress and the addresses', () => {
    expect(output).toContain(
      '[4/7] Simulated devices: 2 ABB G13 gateways with 3 meters each, 1 Omega iServer 2',
    );
    expect(output).toContain(
      'meters demo-m1, demo-m2, demo-m3, demo-m4, demo-m5, demo-m6; MDM account "mdm"',
    );
    expect(output).toMatch(/Swagger UI {3}http:\/\/127\.0\.0\.1:\d+\/docs/);
  });

  it('authorizes, disconnects two meters (level 5) and reads a load profile, exactly as printed', async () => {
    const steps = output.slice(output.indexOf('API=http'), output.indexOf('\nPress Ctrl-C to stop.'));
    const { stdout } = await run('bash', ['-e', '-c', steps], { timeout: 60_000 });
    const [accepted, relayStatus, lproAccepted, lproStatus] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; data: Record<string, unknown>[] });
    expect(accepted).toMatchObject({ status: '1', data: [{ indv_status: '1' }, { indv_status: '1' }] });
    expect(relayStatus.data.map((row) => [row.status_level, row.indv_status])).toEqual([
      ['5', '1'],
      ['5', '1'],
    ]);
    expect(lproAccepted).toMatchObject({
      status: '1',
      data: [{ global_device_id: 'demo-m1', indv_status: '1' }],
    });
    const lpro = lproStatus.data[0] as { response_data: Record<string, string>[] };
    expect(lpro).toMatchObject({ type: 'LPRO', status_level: '5', indv_status: '1' });
    expect(Array.isArray(lpro.response_data)).toBe(true);
    expect(lpro.response_data.length).toBeGreaterThan(0);
    expect(lpro.response_data[0]).toMatchObject({
      global_device_id: 'demo-m1',
      meter_datetime: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
    });
  });

  it('prints admin credentials that open the queue dashboard', async () => {
    const match = /Queues {7}(\S+) {3}\(Bull Board/.exec(output);
    const credentials = /or (\S+) \/ (\S+)\)/.exec(output);
    expect(match && credentials).toBeTruthy();
    const basic = Buffer.from(`${credentials![1]}:${credentials![2]}`).toString('base64');
    const page = await fetch(match![1], { headers: { authorization: `Basic ${basic}` } });
    expect(page.status).toBe(200);
    expect(await fetch(match![1])).toHaveProperty('status', 401);
  });

  it('reports the demo site to the MPCB central simulator', async () => {
    const uploads = /MPCB uploads (\S+)/.exec(output)![1];
    const deadline = Date.now() + 45_000;
    let received: unknown[] = [];
    while (Date.now() < deadline) {
      const response = await fetch(uploads);
      received = ((await response.json()) as { uploads: unknown[] }).uploads;
      if (received.length > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(received.length).toBeGreaterThan(0);
  });
});
