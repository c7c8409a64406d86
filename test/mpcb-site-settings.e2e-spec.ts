/**
 * MPCB sites as operators change them through the admin API, and what the site client (the worker's
 * acquisition and upload path) does with it: each site's own central server, its Authorization encoding,
 * disabling, deleting, and partial updates of parameters.
 */
import { Logger } from '@nestjs/common';
import { ManualClock } from '@hes/mpcb';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';
import { AdminSiteBench, startAdminSiteBench } from './mpcb-support';

const KEY_A = 'site-a-key-0123456789abcdef0123456789';
const KEY_B = 'site-b-key-abcdefghijklmnopqrstuvwxyz';

describe('MPCB sites changed through the admin API, as the site client sees them', () => {
  let bench: AdminSiteBench;
  let centralA: MpcbCentralSimulatorHandle;
  let centralB: MpcbCentralSimulatorHandle;
  let clock: ManualClock;
  const site: Record<'a' | 'b', { id: string; analyser: string }> = {
    a: { id: '', analyser: '' },
    b: { id: '', analyser: '' },
  };

  const call: AdminSiteBench['call'] = (...args) => bench.call(...args);
  const cycle = async () => {
    const acquired = await bench.client.acquisition.acquire();
    expect(acquired.failures).toEqual([]);
    clock.advance(10_000);
    return bench.client.transmission.transmitAll();
  };
  const uploadsOf = (central: MpcbCentralSimulatorHandle, siteId: string) =>
    central.requests().filter((r) => r.route === 'realtimeUpload' && r.siteId === siteId);
  const storedReadings = async (siteRef: string) =>
    (
      await bench.db.query<{ n: number; unsent: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE r.sent_at IS NULL)::int AS unsent
           FROM mpcb.readings r JOIN mpcb.monitoring_units u ON u.id = r.monitoring_unit_ref WHERE u.site_ref = $1`,
        [siteRef],
      )
    ).rows[0];
  const parameterOf = async (key: 'a' | 'b') =>
    (await call('get', `/admin/mpcb-sites/${site[key].id}`).expect(200)).body.monitoringUnits[0].analysers[0]
      .parameters[0] as Record<string, unknown>;

  beforeAll(async () => {
    Logger.overrideLogger(false); // the refusals this suite provokes are logged as warnings
    clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    centralA = await startMpcbCentralSimulator({
      port: 0,
      now: () => clock.now(),
      sites: [{ siteId: 'site_a', siteKey: KEY_A, softwareVersionId: 'v1' }],
    });
    centralB = await startMpcbCentralSimulator({
      port: 0,
      now: () => clock.now(),
      sites: [{ siteId: 'site_b', siteKey: KEY_B, softwareVersionId: 'v1' }],
    });
    // The worker's services, with MPCB_BASE_URL at central server A.
    bench = await startAdminSiteBench('mpcb_site_settings', centralA.baseUrl, clock);
    for (const key of ['a', 'b'] as const) {
      const created = await call('post', '/admin/mpcb-sites', {
        siteId: `site_${key}`,
        softwareVersionId: 'v1',
        siteKey: key === 'a' ? KEY_A : KEY_B,
        ...(key === 'b' ? { centralServerUrl: centralB.baseUrl } : {}),
      }).expect(201);
      site[key].id = created.body.id;
      const unit = await call('post', `/admin/mpcb-sites/${site[key].id}/monitoring-units`, {
        monitoringId: 'stack_1',
      }).expect(201);
      site[key].analyser = (
        await call('post', `/admin/mpcb-sites/${site[key].id}/monitoring-units/${unit.body.id}/analysers`, {
          analyzerId: 'analyser_1',
        }).expect(201)
      ).body.id;
      await call('put', `/admin/mpcb-sites/${site[key].id}/analysers/${site[key].analyser}/parameters/SO2`, {
        parameterName: 'SO2',
        unit: 'mg/Nm3',
        gaugeMinimum: 0,
        gaugeMaximum: 500,
        source: { kind: 'sensor', gatewayId: bench.gatewayId, channel: 'p1ch0' },
      }).expect(200);
    }
  });

  afterAll(async () => {
    await bench?.stop();
    await centralA?.stop();
    await centralB?.stop();
  });

  it('uploads each site to its own central server: its address wins over MPCB_BASE_URL', async () => {
    const [a, b] = await cycle();
    expect([a.siteId, b.siteId]).toEqual(['site_a', 'site_b']);
    expect(a.units[0].batches).toMatchObject([{ status: 'accepted', readings: 1 }]);
    expect(b.units[0].batches).toMatchObject([{ status: 'accepted', readings: 1 }]);
    expect(centralA.rows('site_a')).toHaveLength(1);
    expect(centralB.rows('site_b')).toHaveLength(1);
    // Nothing of site B reached A, nor of A reached B.
    expect(centralA.requests().filter((r) => r.siteId !== 'site_a')).toEqual([]);
    expect(centralB.requests().filter((r) => r.siteId !== 'site_b')).toEqual([]);
  });

  it('changes the encoding and the central server of a site, and null returns it to MPCB_BASE_URL', async () => {
    const changed = await call('patch', `/admin/mpcb-sites/${site.b.id}`, {
      authorizationEncoding: 'pkcs7',
      centralServerUrl: null,
    }).expect(200);
    expect(changed.body).toMatchObject({
      siteId: 'site_b',
      authorizationEncoding: 'pkcs7',
      centralServerUrl: null,
      softwareVersionId: 'v1',
      hasSiteKey: true,
      enabled: true,
    });
    centralA.addSite({ siteId: 'site_b', siteKey: KEY_B, softwareVersionId: 'v1' });
    await cycle();
    expect(centralA.rows('site_b')).toHaveLength(1);
    expect(centralB.rows('site_b')).toHaveLength(1); // no new upload there
    await call('patch', `/admin/mpcb-sites/${site.b.id}`, { centralServerUrl: centralB.baseUrl }).expect(200);
    await cycle();
    expect(centralB.rows('site_b')).toHaveLength(2);
    expect(centralA.rows('site_b')).toHaveLength(1);
  });

  it('refuses a bad change with 400 naming the field, an empty one, and an unknown site with 404', async () => {
    const bad = await call('patch', `/admin/mpcb-sites/${site.a.id}`, { centralServerUrl: 'ftp://x' }).expect(
      400,
    );
    expect(bad.body.message).toBe('centralServerUrl must be an http(s) URL without credentials');
    const withPassword = await call('patch', `/admin/mpcb-sites/${site.a.id}`, {
      centralServerUrl: 'https://user:secret@central.example/mpcb',
    }).expect(400);
    expect(withPassword.body.message).toBe('centralServerUrl must be an http(s) URL without credentials');
    const nullVersion = await call('patch', `/admin/mpcb-sites/${site.a.id}`, { softwareVersionId: null });
    expect(nullVersion.status).toBe(400);
    expect(nullVersion.body.message).toMatch(/^softwareVersionId must /);
    const siteId = await call('patch', `/admin/mpcb-sites/${site.a.id}`, { siteId: 'site_z' }).expect(400);
    expect(siteId.body.message).toBe('property siteId should not exist');
    await call('patch', `/admin/mpcb-sites/${site.a.id}`, {}).expect(400);
    await call('patch', '/admin/mpcb-sites/00000000-0000-4000-8000-000000000000', { enabled: false }).expect(
      404,
    );
  });

  it('a disabled site neither acquires nor uploads; enabled again, it resumes', async () => {
    const before = await storedReadings(site.a.id);
    const uploadsBefore = uploadsOf(centralA, 'site_a').length;
    const disabled = await call('post', `/admin/mpcb-sites/${site.a.id}/disable`).expect(200);
    expect(disabled.body.enabled).toBe(false);
    const results = await cycle();
    expect(results.map((r) => r.siteId)).toEqual(['site_b']);
    expect(await storedReadings(site.a.id)).toEqual(before);
    expect(uploadsOf(centralA, 'site_a')).toHaveLength(uploadsBefore);
    await call('post', `/admin/mpcb-sites/${site.a.id}/enable`).expect(200);
    await cycle();
    expect((await storedReadings(site.a.id)).n).toBe(before.n + 1);
    expect(uploadsOf(centralA, 'site_a')).toHaveLength(uploadsBefore + 1);
  });

  describe('parameters: PATCH and PUT keep what is left out', () => {
    const path = () => `/admin/mpcb-sites/${site.a.id}/analysers/${site.a.analyser}/parameters`;

    it('PATCH changes one field and keeps the name, unit, gauge limits and source', async () => {
      const patched = await call('patch', `${path()}/SO2`, { coefficientA: 2 }).expect(200);
      expect(patched.body).toMatchObject({
        parameterName: 'SO2',
        unit: 'mg/Nm3',
        coefficientA: 2,
        coefficientB: 0,
        gaugeMinimum: 0,
        gaugeMaximum: 500,
        source: { kind: 'sensor', gatewayId: bench.gatewayId, channel: 'p1ch0' },
      });
      const cleared = await call('patch', `${path()}/SO2`, { gaugeMaximum: null }).expect(200);
      expect(cleared.body).toMatchObject({ gaugeMinimum: 0, gaugeMaximum: null, coefficientA: 2 });
    });

    it('PUT of an existing parameter without its name and unit is accepted and keeps the rest', async () => {
      await call('patch', `${path()}/SO2`, { gaugeMaximum: 400 }).expect(200);
      const put = await call('put', `${path()}/SO2`, { unit: 'ppm' }).expect(200);
      expect(put.body).toMatchObject({
        parameterName: 'SO2',
        unit: 'ppm',
        gaugeMinimum: 0,
        gaugeMaximum: 400,
      });
      expect(await parameterOf('a')).toMatchObject({ unit: 'ppm', gaugeMaximum: 400, coefficientA: 2 });
    });

    it('refuses a new parameter without name or unit, PATCH of a missing one, and crossed gauge limits', async () => {
      const noUnit = await call('put', `${path()}/NOX`, { parameterName: 'NOx' }).expect(400);
      expect(noUnit.body.message).toBe('unit: required to create the parameter NOX');
      const missing = await call('patch', `${path()}/NOX`, { unit: 'ppm' }).expect(404);
      expect(missing.body.message).toBe(`parameterId: no parameter NOX in analyser ${site.a.analyser}`);
      const crossed = await call('patch', `${path()}/SO2`, { gaugeMinimum: 600 }).expect(400);
      expect(crossed.body.message).toBe('gaugeMinimum: 600 is greater than gaugeMaximum 400');
      const nullName = await call('patch', `${path()}/SO2`, { parameterName: null }).expect(400);
      expect(nullName.body.message).toMatch(/^parameterName must /);
    });
  });

  it("a site whose cycle fails does not stop the other sites' uploads; its readings wait", async () => {
    // A fault of site A's own (its upload log refuses the row: the database, not the central server) ...
    const [{ id: unitA }] = (
      await bench.db.query<{ id: string }>(`SELECT id FROM mpcb.monitoring_units WHERE site_ref = $1`, [
        site.a.id,
      ])
    ).rows;
    await bench.db.query(
      `ALTER TABLE mpcb.uploads ADD CONSTRAINT test_site_a_fault CHECK (monitoring_unit_ref <> '${unitA}') NOT VALID`,
    );
    const rowsOfB = centralB.rows('site_b').length;
    try {
      const [a, b] = await cycle();
      expect(a).toMatchObject({ siteId: 'site_a', ran: true, units: [] });
      expect(a.error).toMatch(/test_site_a_fault/);
      // ... and site B, after it in the cycle, uploads all the same.
      expect(b).toMatchObject({ siteId: 'site_b', ran: true });
      expect(b.error).toBeUndefined();
      expect(centralB.rows('site_b')).toHaveLength(rowsOfB + 1);
      expect((await storedReadings(site.a.id)).unsent).toBe(1);
    } finally {
      await bench.db.query(`ALTER TABLE mpcb.uploads DROP CONSTRAINT test_site_a_fault`);
    }
    await cycle();
    expect((await storedReadings(site.a.id)).unsent).toBe(0);
  });

  it('deletes a site: refused while readings are unsent, then with its readings and upload log', async () => {
    await call('post', `/admin/mpcb-sites/${site.b.id}/disable`).expect(200);
    await call('patch', `/admin/mpcb-sites/${site.b.id}`, { enabled: true }).expect(200);
    await centralB.goDown();
    await cycle(); // site B's reading stays unsent
    const { unsent } = await storedReadings(site.b.id);
    expect(unsent).toBe(1);
    const refused = await call('delete', `/admin/mpcb-sites/${site.b.id}`).expect(409);
    expect(refused.body.message).toBe(
      'id: site site_b has 1 readings the central server has not accepted yet; disable the site and let them upload, or delete with ?discardUnsentReadings=true',
    );
    const uploadCount = async () =>
      (await bench.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM mpcb.uploads`)).rows[0].n;
    const uploadsBefore = await uploadCount();
    const deleted = await call('delete', `/admin/mpcb-sites/${site.b.id}?discardUnsentReadings=true`).expect(
      200,
    );
    expect(deleted.body.message).toMatch(
      /^site site_b deleted with its .* and \d+ readings \(1 not yet sent\)$/,
    );
    expect(await storedReadings(site.b.id)).toEqual({ n: 0, unsent: 0 });
    expect(
      (await bench.db.query(`SELECT 1 FROM mpcb.monitoring_units WHERE site_ref = $1`, [site.b.id])).rows,
    ).toEqual([]);
    expect((await bench.db.query(`SELECT 1 FROM mpcb.sites WHERE id = $1`, [site.b.id])).rows).toEqual([]);
    expect(await uploadCount()).toBeLessThan(uploadsBefore); // site B's upload log went with it
    await call('delete', `/admin/mpcb-sites/${site.b.id}`).expect(404);
    // Site A is untouched and still uploads.
    await cycle();
    expect((await storedReadings(site.a.id)).unsent).toBe(0);
    const { rows } = await bench.db.query(
      `SELECT action, result FROM public.admin_audit_log WHERE action LIKE 'mpcb-site.%' ORDER BY id DESC LIMIT 2`,
    );
    expect(rows).toEqual([
      { action: 'mpcb-site.delete', result: 'failure' },
      { action: 'mpcb-site.delete', result: 'success' },
    ]);
  });
});
