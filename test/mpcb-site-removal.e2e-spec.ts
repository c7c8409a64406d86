/**
 * Parts of an MPCB site removed on their own through the admin API (a monitoring unit, an analyser, a
 * parameter): refused while their readings are unsent, then removed with everything under them, the rest
 * of the site acquiring and uploading on; and a removal that meets an acquisition cycle in flight, which
 * stores the readings of what is left instead of failing them all.
 */
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { ManualClock, NewReading } from '@hes/mpcb';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';
import { AdminSiteBench, startAdminSiteBench } from './mpcb-support';

const SITE_KEY = 'site-r-key-0123456789abcdef0123456789';

describe('MPCB: a monitoring unit, an analyser or a parameter removed on its own', () => {
  let bench: AdminSiteBench;
  let central: MpcbCentralSimulatorHandle;
  let clock: ManualClock;
  let siteRef = '';
  let otherSiteRef = '';
  /** stack_1: analyser_1 (SO2, NOX), analyser_2 (PM); stack_2: analyser_3 (CO). */
  const units: Record<'stack_1' | 'stack_2', string> = { stack_1: '', stack_2: '' };
  const analysers: Record<'analyser_1' | 'analyser_2' | 'analyser_3', string> = {
    analyser_1: '',
    analyser_2: '',
    analyser_3: '',
  };

  const call: AdminSiteBench['call'] = (...args) => bench.call(...args);
  const site = (path = '') => `/admin/mpcb-sites/${siteRef}${path}`;
  const cycle = async () => {
    const acquired = await bench.client.acquisition.acquire();
    expect(acquired.failures).toEqual([]);
    clock.advance(10_000);
    await bench.client.transmission.transmitAll();
    return acquired;
  };
  /** The site's readings by parameter: stored and of them unsent. */
  const readingsByParameter = async () =>
    Object.fromEntries(
      (
        await bench.db.query<{ parameter_id: string; n: number; unsent: number }>(
          `SELECT r.parameter_id, count(*)::int AS n, count(*) FILTER (WHERE r.sent_at IS NULL)::int AS unsent
             FROM mpcb.readings r JOIN mpcb.monitoring_units u ON u.id = r.monitoring_unit_ref
            WHERE u.site_ref = $1 GROUP BY r.parameter_id ORDER BY r.parameter_id`,
          [siteRef],
        )
      ).rows.map((row) => [row.parameter_id, { n: row.n, unsent: row.unsent }]),
    );
  /** The site's tree as the admin API answers it: unit → analyser → parameter ids. */
  const tree = async () => {
    const { body } = await call('get', site()).expect(200);
    return Object.fromEntries(
      (
        body.monitoringUnits as {
          monitoringId: string;
          analysers: { analyzerId: string; parameters: { parameterId: string }[] }[];
        }[]
      ).map((unit) => [
        unit.monitoringId,
        Object.fromEntries(unit.analysers.map((a) => [a.analyzerId, a.parameters.map((p) => p.parameterId)])),
      ]),
    );
  };
  const lastAudit = async (count: number) =>
    (
      await bench.db.query<{ action: string; result: string }>(
        `SELECT action, result FROM public.admin_audit_log WHERE action LIKE 'mpcb-site.delete%'
          ORDER BY id DESC LIMIT $1`,
        [count],
      )
    ).rows;

  beforeAll(async () => {
    Logger.overrideLogger(false); // the refusals this suite provokes are logged as warnings
    clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    central = await startMpcbCentralSimulator({
      port: 0,
      now: () => clock.now(),
      sites: [{ siteId: 'site_r', siteKey: SITE_KEY, softwareVersionId: 'v1' }],
    });
    bench = await startAdminSiteBench('mpcb_site_removal', central.baseUrl, clock);
    siteRef = (
      await call('post', '/admin/mpcb-sites', {
        siteId: 'site_r',
        softwareVersionId: 'v1',
        siteKey: SITE_KEY,
      }).expect(201)
    ).body.id;
    otherSiteRef = (
      await call('post', '/admin/mpcb-sites', {
        siteId: 'site_other',
        softwareVersionId: 'v1',
        siteKey: SITE_KEY,
      }).expect(201)
    ).body.id;
    await call('post', `/admin/mpcb-sites/${otherSiteRef}/disable`).expect(200);
    for (const unit of ['stack_1', 'stack_2'] as const)
      units[unit] = (
        await call('post', site('/monitoring-units'), { monitoringId: unit }).expect(201)
      ).body.id;
    const placed = { analyser_1: 'stack_1', analyser_2: 'stack_1', analyser_3: 'stack_2' } as const;
    for (const analyser of ['analyser_1', 'analyser_2', 'analyser_3'] as const)
      analysers[analyser] = (
        await call('post', site(`/monitoring-units/${units[placed[analyser]]}/analysers`), {
          analyzerId: analyser,
        }).expect(201)
      ).body.id;
    const parameters = [
      ['analyser_1', 'SO2', 'p1ch0'],
      ['analyser_1', 'NOX', 'p1ch1'],
      ['analyser_2', 'PM', 'p1ch2'],
      ['analyser_3', 'CO', 'p1ch0'],
    ] as const;
    for (const [analyser, parameterId, channel] of parameters)
      await call('put', site(`/analysers/${analysers[analyser]}/parameters/${parameterId}`), {
        parameterName: parameterId,
        unit: 'mg/Nm3',
        source: { kind: 'sensor', gatewayId: bench.gatewayId, channel },
      }).expect(200);
  });

  afterAll(async () => {
    bench?.iserver.setLatency(0);
    await bench?.stop();
    await central?.stop();
  });

  it('a parameter: refused while its readings are unsent, then removed with them; the rest goes on', async () => {
    await cycle();
    expect(await readingsByParameter()).toEqual({
      CO: { n: 1, unsent: 0 },
      NOX: { n: 1, unsent: 0 },
      PM: { n: 1, unsent: 0 },
      SO2: { n: 1, unsent: 0 },
    });
    await central.goDown();
    await cycle(); // every parameter's second reading stays unsent
    const path = site(`/analysers/${analysers.analyser_1}/parameters/NOX`);
    const refused = await call('delete', path).expect(409);
    expect(refused.body.message).toBe(
      'parameterId: parameter NOX of analyser analyser_1 has 1 readings the central server has not accepted yet; clear its source so that it is no longer acquired and let them upload, or delete with ?discardUnsentReadings=true',
    );
    expect((await readingsByParameter()).NOX).toEqual({ n: 2, unsent: 1 });
    const removed = await call('delete', `${path}?discardUnsentReadings=true`).expect(200);
    expect(removed.body.message).toBe(
      'parameter NOX of analyser analyser_1 deleted with 2 readings (1 not yet sent)',
    );
    expect(removed.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await readingsByParameter()).toEqual({
      CO: { n: 2, unsent: 1 },
      PM: { n: 2, unsent: 1 },
      SO2: { n: 2, unsent: 1 },
    });
    expect(await tree()).toEqual({
      stack_1: { analyser_1: ['SO2'], analyser_2: ['PM'] },
      stack_2: { analyser_3: ['CO'] },
    });
    await call('delete', path).expect(404);
    // The central server back: what was waiting goes, and the next cycle reads the three parameters left.
    await central.comeUp();
    const acquired = await cycle();
    expect(acquired.stored).toBe(3);
    expect(await readingsByParameter()).toEqual({
      CO: { n: 3, unsent: 0 },
      PM: { n: 3, unsent: 0 },
      SO2: { n: 3, unsent: 0 },
    });
    expect(
      central
        .rows('site_r')
        .filter((row) => row.parameterId === 'NOX')
        .map((row) => row.unixTimestamp),
    ).toHaveLength(1); // only the first cycle's, sent before the removal
    expect(await lastAudit(2)).toEqual([
      { action: 'mpcb-site.delete-parameter', result: 'failure' },
      { action: 'mpcb-site.delete-parameter', result: 'success' },
    ]);
  });

  it('an analyser: removed with its parameters and their readings, sent ones without asking', async () => {
    const removed = await call('delete', site(`/analysers/${analysers.analyser_2}`)).expect(200);
    expect(removed.body).toEqual({
      id: analysers.analyser_2,
      message: 'analyser analyser_2 deleted with its parameters and 3 readings (0 not yet sent)',
    });
    expect(
      (await bench.db.query(`SELECT 1 FROM mpcb.parameters WHERE analyser_ref = $1`, [analysers.analyser_2]))
        .rows,
    ).toEqual([]);
    expect(await readingsByParameter()).toEqual({ CO: { n: 3, unsent: 0 }, SO2: { n: 3, unsent: 0 } });
    expect(await tree()).toEqual({ stack_1: { analyser_1: ['SO2'] }, stack_2: { analyser_3: ['CO'] } });
    await call('delete', site(`/analysers/${analysers.analyser_2}`)).expect(404);
  });

  it('a monitoring unit: refused while its readings are unsent, then removed with its analysers, readings and upload log', async () => {
    await central.goDown();
    await cycle();
    const path = site(`/monitoring-units/${units.stack_2}`);
    const refused = await call('delete', path).expect(409);
    expect(refused.body.message).toBe(
      "monitoringUnitId: monitoring unit stack_2 has 1 readings the central server has not accepted yet; clear its parameters' sources so that they are no longer acquired and let them upload, or delete with ?discardUnsentReadings=true",
    );
    const uploadsOf = async (unit: string) =>
      (
        await bench.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM mpcb.uploads WHERE monitoring_unit_ref = $1`,
          [unit],
        )
      ).rows[0].n;
    expect(await uploadsOf(units.stack_2)).toBeGreaterThan(0);
    const uploadsOfStack1 = await uploadsOf(units.stack_1);
    const removed = await call('delete', `${path}?discardUnsentReadings=true`).expect(200);
    expect(removed.body.message).toBe(
      'monitoring unit stack_2 deleted with its analysers, parameters, upload log, calibrations, instruction log and 4 readings (1 not yet sent)',
    );
    expect(await uploadsOf(units.stack_2)).toBe(0);
    expect(await uploadsOf(units.stack_1)).toBe(uploadsOfStack1);
    expect(
      (await bench.db.query(`SELECT 1 FROM mpcb.analysers WHERE id = $1`, [analysers.analyser_3])).rows,
    ).toEqual([]);
    expect(await readingsByParameter()).toEqual({ SO2: { n: 4, unsent: 1 } });
    expect(await tree()).toEqual({ stack_1: { analyser_1: ['SO2'] } });
    await central.comeUp();
    await cycle();
    expect(await readingsByParameter()).toEqual({ SO2: { n: 5, unsent: 0 } });
    const listed = (await call('get', '/admin/mpcb-sites?pageSize=10').expect(200)).body as {
      items: { siteId: string }[];
    };
    expect(listed.items.find((s) => s.siteId === 'site_r')).toMatchObject({
      monitoringUnitCount: 1,
      parameterCount: 1,
    });
  });

  it('answers 404 for parts of another site or unknown, 400 naming a malformed id', async () => {
    const otherUnit = (
      await call('post', `/admin/mpcb-sites/${otherSiteRef}/monitoring-units`, {
        monitoringId: 'stack_9',
      }).expect(201)
    ).body.id as string;
    const otherAnalyser = (
      await call('post', `/admin/mpcb-sites/${otherSiteRef}/monitoring-units/${otherUnit}/analysers`, {
        analyzerId: 'analyser_9',
      }).expect(201)
    ).body.id as string;
    const unit = await call('delete', site(`/monitoring-units/${otherUnit}`)).expect(404);
    expect(unit.body.message).toBe(`monitoringUnitId: no monitoring unit ${otherUnit} in site ${siteRef}`);
    const analyser = await call('delete', site(`/analysers/${otherAnalyser}`)).expect(404);
    expect(analyser.body.message).toBe(`analyserId: no analyser ${otherAnalyser} in site ${siteRef}`);
    const parameter = await call('delete', site(`/analysers/${analysers.analyser_1}/parameters/CO`)).expect(
      404,
    );
    expect(parameter.body.message).toBe(`parameterId: no parameter CO in analyser ${analysers.analyser_1}`);
    const malformed = await call('delete', site('/analysers/not-a-uuid')).expect(400);
    expect(malformed.body.message).toBe('analyserId must be a UUID');
    const badParameter = await call(
      'delete',
      site(`/analysers/${analysers.analyser_1}/parameters/-x`),
    ).expect(400);
    expect(badParameter.body.message).toMatch(/^parameterId must be /);
    const badFlag = await call(
      'delete',
      site(`/analysers/${analysers.analyser_1}/parameters/SO2?discardUnsentReadings=yes`),
    ).expect(400);
    expect(badFlag.body.message).toBe('discardUnsentReadings must be true or false');
    // The other site's parts are untouched.
    expect(
      (await bench.db.query(`SELECT 1 FROM mpcb.analysers WHERE id = $1`, [otherAnalyser])).rows,
    ).toHaveLength(1);
  });

  it('a parameter removed while a cycle reads its device: the cycle stores the readings of the others', async () => {
    await call('put', site(`/analysers/${analysers.analyser_1}/parameters/HCL`), {
      parameterName: 'HCl',
      unit: 'mg/Nm3',
      source: { kind: 'sensor', gatewayId: bench.gatewayId, channel: 'p1ch1' },
    }).expect(200);
    // The unit answers each command after 0.7 s: the removal commits while the cycle waits for it, after the cycle read
    // its targets (HCL among them).
    bench.iserver.setLatency(700);
    const commandsBefore = Object.values(bench.iserver.stats().commands).reduce((a, b) => a + b, 0);
    const acquiring = bench.client.acquisition.acquire();
    const sent = () =>
      Object.values(bench.iserver.stats().commands).reduce((a, b) => a + b, 0) > commandsBefore;
    while (!sent()) await new Promise((resolve) => setTimeout(resolve, 10));
    await call(
      'delete',
      site(`/analysers/${analysers.analyser_1}/parameters/HCL?discardUnsentReadings=true`),
    ).expect(200);
    const acquired = await acquiring;
    bench.iserver.setLatency(0);
    expect(acquired.failures).toEqual([]);
    expect(acquired.stored).toBe(1);
    expect(Object.keys(await readingsByParameter())).toEqual(['SO2']);
  });

  it('a reading insert that waited for a parameter whose removal then committed stores the others', async () => {
    const [{ id: so2 }] = (
      await bench.db.query<{ id: string }>(
        `SELECT id FROM mpcb.parameters WHERE analyser_ref = $1 AND parameter_id = 'SO2'`,
        [analysers.analyser_1],
      )
    ).rows;
    const doomed = (
      await call('put', site(`/analysers/${analysers.analyser_1}/parameters/NH3`), {
        parameterName: 'NH3',
        unit: 'mg/Nm3',
      }).expect(200)
    ).body.id as string;
    const at = new Date(clock.now().getTime() + 3_600_000);
    const reading = (parameterRef: string, parameterId: string): NewReading => ({
      parameterRef,
      monitoringUnitRef: units.stack_1,
      readingTime: at,
      analyzerId: 'analyser_1',
      parameterId,
      parameterName: parameterId,
      readingUnit: 'mg/Nm3',
      rawReading: 1,
      validatedReading: 1,
      qualityCode: 'U',
      calibrationFlag: 0,
      maintenanceFlag: 0,
      deviceTime: at,
    });
    // An operator's removal under way (not committed): the insert sees the parameter, and its foreign key's
    // check waits for the removal's lock.
    const remover = new Client({ connectionString: bench.database.url });
    await remover.connect();
    try {
      await remover.query('BEGIN');
      await remover.query(`DELETE FROM mpcb.parameters WHERE id = $1`, [doomed]);
      const inserting = bench.client.readings.insert([reading(so2, 'SO2'), reading(doomed, 'NH3')]);
      const waiting = async () =>
        (
          await bench.db.query(
            `SELECT 1 FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO mpcb.readings%'`,
          )
        ).rows.length > 0;
      while (!(await waiting())) await new Promise((resolve) => setTimeout(resolve, 10));
      await remover.query('COMMIT');
      expect(await inserting).toBe(1);
    } finally {
      await remover.end();
    }
    const stored = await bench.db.query<{ parameter_id: string }>(
      `SELECT parameter_id FROM mpcb.readings WHERE reading_time = $1`,
      [at],
    );
    expect(stored.rows).toEqual([{ parameter_id: 'SO2' }]);
  });
});
