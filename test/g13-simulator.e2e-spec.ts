import * as https from 'node:https';
import { G13SimulatorHandle, startG13Fleet, startG13Simulator } from '../apps/simulator/src/g13';

/** The simulator as a person with curl sees it: raw HTTPS, the manual's shapes, limits and faults. */

interface MetersAnswer {
  locations: Array<{ meters: Array<{ serial: string; status: number }> }>;
}
interface EnergyAnswer {
  importenergy: Record<string, [string, string]>;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  sim: G13SimulatorHandle,
  method: string,
  path: string,
  options: { body?: string; user?: string; password?: string; contentType?: string } = {},
): Promise<RawAnswer> {
  const url = new URL(path, sim.url);
  const headers: Record<string, string | number> = {};
  const user = options.user ?? 'admin';
  const password = options.password ?? 'admin';
  if (user !== '') headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  if (options.body !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
    headers['Content-Length'] = Buffer.byteLength(options.body);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('G13 simulator (HTTPS, manual chapter 6)', () => {
  let sim: G13SimulatorHandle;
  beforeAll(async () => {
    sim = await startG13Simulator({
      meters: [
        { serial: 'ABB_8', phases: 3, historyDays: 2 },
        { serial: 'ABB_9', phases: 1, historyDays: 2 },
      ],
    });
  });
  afterAll(() => sim.stop());
  afterEach(() => sim.clearFaults());

  it('asks for Basic authentication on every resource', async () => {
    for (const path of ['/about', '/meters', '/meters/ABB_8/energy/active']) {
      const anonymous = await call(sim, 'GET', path, { user: '' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['content-type']).toBe('text/html');
      expect(anonymous.body).toContain('401 Unauthorized');
    }
    expect((await call(sim, 'GET', '/about', { password: 'wrong' })).status).toBe(401);
  });

  it('streams GET answers chunked, with the Link to /lasterror', async () => {
    const about = await call(sim, 'GET', '/about');
    expect(about.status).toBe(200);
    expect(about.headers['transfer-encoding']).toBe('chunked');
    expect(about.headers.server).toBe('embOS/IP');
    expect(about.headers.link).toMatch(/^\/lasterror\/\d+$/);
    expect(JSON.parse(about.body)).toMatchObject({ cosemversion: 6, jsonapiversion: '0.9', serial: 1234 });
  });

  it('lists meters by location with their status', async () => {
    const meters = JSON.parse((await call(sim, 'GET', '/meters')).body) as MetersAnswer;
    expect(meters.locations[0].meters.map((m: { serial: string }) => m.serial)).toEqual(['ABB_8', 'ABB_9']);
    expect(meters.locations[0].meters[0].status).toBe(1);
  });

  it('answers energy with import/export tariffs and a net block, per phase count', async () => {
    const three = JSON.parse((await call(sim, 'GET', '/meters/ABB_8/energy/active')).body) as EnergyAnswer;
    expect(Object.keys(three.importenergy)).toEqual(['l1', 'l2', 'l3', 't1', 't2', 't3', 't4', 'total']);
    expect(three.importenergy.total[1]).toBe('kWh');
    const single = JSON.parse((await call(sim, 'GET', '/meters/ABB_9/energy/active')).body) as EnergyAnswer;
    expect(Object.keys(single.importenergy)).toEqual(['l1', 't1', 't2', 't3', 't4', 'total']);
    const tariffs = ['t1', 't2', 't3', 't4'].reduce((a, t) => a + Number(three.importenergy[t][0]), 0);
    expect(tariffs).toBeCloseTo(Number(three.importenergy.total[0]), 0);
  });

  it('refuses update payloads over 512 bytes, query strings, non-JSON bodies and unknown URIs', async () => {
    const big = JSON.stringify({ alias: 'x'.repeat(600), serial: 'ABB_8' });
    const oversize = await call(sim, 'POST', '/meters/ABB_8', { body: big });
    expect(oversize.status).toBe(400);
    expect(JSON.parse(oversize.body)).toEqual({ status: 'error', des: 'Payload exceeds 512 bytes.' });
    expect(sim.meter('ABB_8').alias).toBe('ABB_8');
    expect((await call(sim, 'GET', '/about?x=1')).status).toBe(400);
    const form = await call(sim, 'POST', '/meters/ABB_8/datetime', {
      body: 'datetime=1',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(JSON.parse(form.body).des).toBe('JSON parse error.');
    const unknown = await call(sim, 'GET', '/meters/NOPE/info');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ status: 'error', des: 'URI not found.' });
  });

  it('caps events at 100 per request', async () => {
    expect((await call(sim, 'GET', '/meters/ABB_8/events/2030-01-01T00:00:00/101')).status).toBe(400);
    const ok = await call(sim, 'GET', '/meters/ABB_8/events/2030-01-01T00:00:00/100');
    expect(Object.keys(JSON.parse(ok.body) as object)).toEqual(['system', 'quality', 'event']);
  });

  it('caps previous values at 100 and load-profile counts at the channel item count', async () => {
    expect((await call(sim, 'GET', '/meters/ABB_8/previousvalues/2026-01-01T00:00:00/101')).status).toBe(400);
    expect((await call(sim, 'GET', '/meters/ABB_8/loadprofiles/1/2026-01-01T00:00:00/3001')).status).toBe(
      400,
    );
    const lp = JSON.parse(
      (await call(sim, 'GET', '/meters/ABB_8/loadprofiles/1/2000-01-01T00:00:00/10')).body,
    );
    expect(lp.mapping).toEqual(['active_import_total', 'Wh']);
    expect(lp.items).toHaveLength(10);
    expect(lp.items[0][0]).toBe(1);
  });

  it('requires IO configuration before an alarm drives an output', async () => {
    const body = JSON.stringify({
      alarmconfig: {
        id: 3,
        quantity: 96,
        onthreshold: 1,
        offthreshold: 1,
        ondelay: 0,
        offdelay: 0,
        log: true,
        output: 3,
      },
    });
    const refused = await call(sim, 'POST', '/meters/ABB_8/alarms/configuration', { body });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).status).toBe('error');
  });

  it('opens the supply relay: power drops to zero and the state persists', async () => {
    const off = await call(sim, 'POST', '/meters/ABB_9/io', {
      body: JSON.stringify({ iostatus: [{ port: 1, currentstate: 0 }] }),
    });
    expect(JSON.parse(off.body)).toEqual({ status: 'success' });
    const power = JSON.parse((await call(sim, 'GET', '/meters/ABB_9/power')).body);
    expect(power.active.total).toEqual(['0', 'W']);
    expect(JSON.parse((await call(sim, 'GET', '/meters/ABB_9/io')).body).iostatus[0]).toEqual({
      currentstate: 0,
    });
    await call(sim, 'POST', '/meters/ABB_9/io', {
      body: JSON.stringify({ iostatus: [{ port: 1, currentstate: 1 }] }),
    });
    expect(sim.readOutput('ABB_9', 1)).toBe(1);
  });

  it('injects COSEM errors, offline meters, truncated answers and dropped connections', async () => {
    sim.setMeterFaults('ABB_8', { cosemError: true });
    const cosem = await call(sim, 'GET', '/meters/ABB_8/instrument');
    expect(cosem.status).toBe(500);
    expect(JSON.parse(cosem.body)).toEqual({ status: 'error', des: 'received invalid response from COSEM.' });

    sim.setMeterFaults('ABB_8', { offline: true });
    expect((await call(sim, 'GET', '/meters/ABB_8/loadprofiles/configuration')).status).toBe(502);
    const meters = JSON.parse((await call(sim, 'GET', '/meters')).body) as MetersAnswer;
    expect(meters.locations[0].meters[0].status).toBe(-1);

    sim.setMeterFaults('ABB_8', { truncateResponse: true, remaining: 1 });
    const truncated = await call(sim, 'GET', '/meters/ABB_8/instrument');
    expect(truncated.status).toBe(200);
    expect(() => {
      JSON.parse(truncated.body);
    }).toThrow();
    const lastError = await call(sim, 'GET', String(truncated.headers.link));
    expect(JSON.parse(lastError.body).des).toMatch(/timeout/);

    sim.setGatewayFaults({ dropConnection: true, remaining: 1 });
    await expect(call(sim, 'GET', '/about')).rejects.toThrow();
  });

  it('refuses to register a serial no bus answers for', async () => {
    const answer = await call(sim, 'PUT', '/meters', {
      body: JSON.stringify({ alias: 'X', location: 'L', serial: 'GHOST' }),
    });
    expect(answer.status).toBe(500);
  });
});

describe('G13 simulator request log', () => {
  it('keeps the newest requestLogLimit requests, oldest first, and drops the older ones', async () => {
    const sim = await startG13Simulator({
      meters: [{ serial: 'ABB_8', phases: 3, historyDays: 0 }],
      requestLogLimit: 10,
    });
    try {
      for (let i = 0; i < 25; i += 1) expect((await call(sim, 'GET', `/unknown-${i}`)).status).toBe(404);
      const paths = sim.requests.map((r) => r.path);
      expect(paths.length).toBeGreaterThanOrEqual(9);
      expect(paths.length).toBeLessThanOrEqual(10);
      // The newest ones, in order, nothing older than what the limit keeps.
      expect(paths).toEqual(
        Array.from({ length: paths.length }, (_, k) => `/unknown-${25 - paths.length + k}`),
      );
      sim.resetStats();
      expect(sim.requests).toEqual([]);
    } finally {
      await sim.stop();
    }
  });
});

describe('G13 simulator default-password mode', () => {
  it('answers 403 until the password is changed through POST /login', async () => {
    const sim = await startG13Simulator({
      meters: [{ serial: 'ABB_1', phases: 3, historyDays: 1 }],
      defaultPasswordMode: true,
    });
    try {
      const before = await call(sim, 'GET', '/about');
      expect(before.status).toBe(403);
      expect(before.body).toBe('Please reset password and try again.');
      expect((await call(sim, 'POST', '/login')).status).toBe(403);
      const change = await call(sim, 'POST', '/login', {
        body: JSON.stringify({ name: 'admin', oldkey: 'admin', key: 'n3w' }),
      });
      expect(change.status).toBe(200);
      expect((await call(sim, 'GET', '/about')).status).toBe(401);
      expect((await call(sim, 'GET', '/about', { password: 'n3w' })).status).toBe(200);
      expect((await call(sim, 'POST', '/logout', { password: 'n3w' })).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });
});

describe('G13 fleet', () => {
  it('starts N gateways × M meters with their own credentials and serials', async () => {
    const fleet = await startG13Fleet({ gateways: 2, metersPerGateway: 3, tls: true, historyDays: 1 });
    try {
      expect(fleet.gateways).toHaveLength(2);
      expect(new Set(fleet.gateways.map((g) => g.url)).size).toBe(2);
      const [first] = fleet.gateways;
      expect(first.meters.map((m) => m.phases)).toEqual([3, 3, 1]);
      const answer = await call(first.handle, 'GET', `/meters/${first.serials[2]}/instrument`, {
        password: first.password,
      });
      expect(answer.status).toBe(200);
      expect(Object.keys(JSON.parse(answer.body) as object)).toEqual(['l1', 'total', 'frequency']);
    } finally {
      await fleet.stop();
    }
  });
});
