import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { Gateway, GatewayRepository, createDataSourceOptions } from '@hes/database';
import { MpcbDataRow, MpcbReadingRepository, MpcbSiteRepository, toDataRow } from '@hes/mpcb';
import { startIServer2Simulator } from '../../apps/simulator/src/iserver2';
import { startMpcbCentralSimulator } from '../../apps/simulator/src/mpcb';
import { FaultBench } from './fault-bench';
import { FaultCases, Figures, waitUntil } from './fault-cases';
import { GATEWAYS, HUNG_METERS, healthyMeters, startFaultFleet, stopFaultFleet } from './fault-fleet';

/**
 * `npm run test:faults`: faults a field deployment meets every week, each while a command is being
 * carried out to a fleet of simulated G13 meters. Each case prints what it measured (lost, stuck,
 * duplicated, 5xx: see fault-cases.ts) and asserts lost = 0 and stuck = 0. docs/reliability.md keeps the
 * figures. This file: what the head-end talks to fails (a gateway, an MCS master application's
 * result receiver, the MPCB central server); store-faults.fault-spec.ts: its own stores and processes.
 */

/** Collections of the MCS case: the first meters of one gateway. */
const MCS_COLLECTIONS = 25;
/** The MPCB case: its site's settings (short periods, so that an outage outlasts the real-time window). */
const MPCB_SITE = {
  siteId: 'fault_site',
  monitoringId: 'STACK_1',
  siteKey: 'RmF1bHRTdWl0ZVNpdGVLZXlGb3JNUENCMTIzNDU2Nzg',
};
const MPCB_TRANSMISSION_SECONDS = 2;
const MPCB_REALTIME_WINDOW_SECONDS = 10;
const MPCB_OUTAGE_MS = 25_000;

describe('fault suite: what the head-end talks to', () => {
  let bench: FaultBench;
  let cases: FaultCases;

  beforeAll(async () => {
    ({ bench, cases } = await startFaultFleet(HUNG_METERS));
  }, 300_000);

  afterAll(() => stopFaultFleet(bench, cases), 120_000);

  const healthy = () => healthyMeters(bench);

  it('baseline: the healthy meters alone, no fault', async () => {
    const result = await cases.run(
      'no fault (baseline for the hung-gateway case)',
      { service: 'aux_relay_operations', operate: 0 },
      healthy(),
      () => Promise.resolve(),
      120_000,
    );
    expect(result).toMatchObject({ lost: 0, stuck: 0 });
  });

  it('a hung gateway beside healthy ones: healthy meters finish, the hung one is marked down, its meters fail with the reason', async () => {
    const result = await cases.run(
      `hung gateway (${HUNG_METERS} meters) beside ${GATEWAYS} healthy`,
      { service: 'aux_relay_operations', operate: 1 },
      [...bench.meters.filter((m) => m.gateway < 0), ...healthy()],
      () => Promise.resolve(),
      120_000,
    );
    expect(result).toMatchObject({ lost: 0, stuck: 0 });
    const failed = await bench.query<{ response_data: string }>(
      `SELECT response_data FROM udil.transaction_status WHERE global_device_id LIKE 'f-32%' AND indv_status = 2`,
    );
    expect(failed).toHaveLength(HUNG_METERS);
    for (const row of failed) expect(row.response_data).toMatch(/g13-hung|no complete answer/);
  });

  it('an MCS result receiver down and back: every result is delivered once it is up, none twice', async () => {
    const receiver = await startReceiver();
    const started = Date.now();
    try {
      const gateway = bench.fleet.gateways[0];
      const serials = gateway.serials.slice(0, MCS_COLLECTIONS);
      const references = serials.map((serial) => `mcs-fault-${serial}-${Date.now()}`);
      let fiveXx = 0;
      for (const [index, serial] of serials.entries()) {
        const response = await fetch(`${bench.apiUrl}/mcs/collection-request`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            requestReference: references[index],
            responseUrl: receiver.url,
            mpan: '1200012345678',
            priority: 1,
            meterType: 'ABB_G13',
            remoteAddress: new URL(gateway.url).host,
            serialNumber: serial,
          }),
        });
        if (response.status >= 500) fiveXx += 1;
        expect(response.status).toBe(200);
      }
      const rows = () =>
        bench.query<{
          request_reference: string;
          state: string;
          delivery_state: string;
          delivery_attempts: number;
        }>(
          `SELECT request_reference, state, delivery_state, delivery_attempts FROM mcs.collection_requests WHERE request_reference = ANY($1)`,
          [references],
        );
      // Collected, and each delivery tried at least once against the receiver that is down.
      await waitUntil(
        async () => (await rows()).every((r) => r.state === 'completed' && r.delivery_attempts > 0),
        120_000,
      );
      receiver.state.up = true;
      await waitUntil(
        async () => (await rows()).every((r) => r.delivery_state === 'delivered'),
        120_000,
      ).catch(() => undefined);
      const final = await rows();
      const result: Figures = {
        case: `MCS result receiver down, then up (${references.length} collections)`,
        accepted: references.length,
        lost: references.filter((ref) => !receiver.received.has(ref)).length,
        stuck: final.filter((r) => r.state !== 'completed' || r.delivery_state === 'pending').length,
        duplicated: [...receiver.received.values()].filter((n) => n > 1).length,
        fiveXx,
        unavailable: 0,
        seconds: Math.round((Date.now() - started) / 1000),
      };
      cases.record(result);
      console.log(JSON.stringify(result));
      expect(result).toMatchObject({ lost: 0, stuck: 0 });
    } finally {
      await receiver.stop();
    }
  });

  it('the MPCB central server down and back: every reading of the outage reaches it once, old ones as delayed', async () => {
    const started = Date.now();
    const iserver = await startIServer2Simulator({ port: 0, probeCount: 1 });
    const central = await startMpcbCentralSimulator({
      port: 0,
      sites: [
        {
          siteId: MPCB_SITE.siteId,
          siteKey: MPCB_SITE.siteKey,
          softwareVersionId: 'v1',
          monitoringIds: [MPCB_SITE.monitoringId],
        },
      ],
      // The server's own limit on real-time data, above the client's window: a reading the client
      // wrongly sent real-time would still be accepted, and shows in the route assertion below.
      realtimeMaxDelaySeconds: 60,
    });
    const dataSource = new DataSource(createDataSourceOptions(bench.databaseUrl, 'hes-faults-mpcb'));
    await dataSource.initialize();
    let mpcbWorker = false;
    try {
      const gateway = await new GatewayRepository(dataSource.getRepository(Gateway), bench.cipher).create({
        name: 'iserver2-mpcb-fault',
        driver: 'OMEGA_ISERVER2',
        endpoint: iserver.endpoint,
        username: 'admin',
        password: '00000000',
      });
      const sites = new MpcbSiteRepository(dataSource, bench.cipher);
      const site = await sites.createSite({
        siteId: MPCB_SITE.siteId,
        softwareVersionId: 'v1',
        siteKey: MPCB_SITE.siteKey,
        centralServerUrl: central.baseUrl,
      });
      const unit = await sites.addMonitoringUnit(site.id, MPCB_SITE.monitoringId);
      const analyser = await sites.addAnalyser(unit.id, 'analyzer_1');
      for (const [index, name] of ['Temperature', 'Humidity', 'Pressure'].entries())
        await sites.addParameter(analyser.id, {
          parameterId: `parameter_${index + 1}`,
          parameterName: name,
          unit: 'u',
          source: { kind: 'sensor', gatewayId: gateway.id, channel: `p1ch${index}` },
        });
      mpcbWorker = true;
      await bench.replaceWorker({
        MPCB_ENABLED: 'true',
        MPCB_BASE_URL: central.baseUrl,
        MPCB_ACQUISITION_SECONDS: '1',
        MPCB_TRANSMISSION_SECONDS: String(MPCB_TRANSMISSION_SECONDS),
        MPCB_REALTIME_WINDOW_SECONDS: String(MPCB_REALTIME_WINDOW_SECONDS),
        MPCB_TIMESTAMP_LAG_SECONDS: '5',
        // The outage refuses connections, which fail at once whatever the timeout: 10 s only leaves room
        // for a loaded machine, where a 2 s answer time is not guaranteed.
        MPCB_REQUEST_TIMEOUT_MS: '10000',
      });
      const readings = new MpcbReadingRepository(dataSource);
      const received = () => central.uploads(MPCB_SITE.siteId);

      // Uploading in real time before the fault.
      await waitUntil(() => Promise.resolve(received().length >= 2), 60_000);
      await central.goDown();
      const downAt = new Date();
      await new Promise((resolve) => setTimeout(resolve, MPCB_OUTAGE_MS));
      const upAt = new Date();
      await central.comeUp();

      // Settled: every reading taken up to a little after the outage is marked sent.
      const cutoff = new Date(upAt.getTime() + 2_000);
      const upTo = async () => (await readings.readings(unit.id)).filter((r) => r.readingTime <= cutoff);
      await waitUntil(async () => {
        const now = await upTo();
        return Date.now() > cutoff.getTime() && now.every((r) => r.sentAt !== null);
      }, 30_000).catch(() => undefined);
      mpcbWorker = false;
      await bench.replaceWorker({});

      const stored = await upTo();
      // The client felt the outage: uploads it recorded as unreachable (connection refused).
      const unreachable = (await readings.uploads(unit.id)).filter((u) => u.status === 'unreachable').length;
      const outage = stored.filter((r) => r.readingTime >= downAt && r.readingTime < upAt);
      const key = (row: MpcbDataRow) =>
        [row.monitoringUnitId, row.analyzerId, row.parameterId, row.unixTimestamp].join('|');
      const arrivals = new Map<string, { row: MpcbDataRow; route: string }[]>();
      for (const upload of received())
        for (const row of upload.rows)
          arrivals.set(key(row), [...(arrivals.get(key(row)) ?? []), { row, route: upload.route }]);
      let lost = 0;
      let misrouted = 0;
      for (const reading of stored) {
        const expected = toDataRow(site, unit, reading);
        const arrived = arrivals.get(key(expected)) ?? [];
        if (!arrived.some((a) => JSON.stringify(a.row) === JSON.stringify(expected))) lost += 1;
        // Older than the real-time window at the server's return (less a cycle's slack): delayedUpload only.
        const oldAtReturn =
          upAt.getTime() - reading.readingTime.getTime() >
          (MPCB_REALTIME_WINDOW_SECONDS + 2 * MPCB_TRANSMISSION_SECONDS) * 1000;
        if (reading.readingTime >= downAt && oldAtReturn && arrived.some((a) => a.route !== 'delayed'))
          misrouted += 1;
      }
      const outageRoutes = outage.map((r) => arrivals.get(key(toDataRow(site, unit, r)))?.[0]?.route);
      const result: Figures = {
        case: `MPCB central server down ${MPCB_OUTAGE_MS / 1000} s, then up (${outage.length} readings in the outage, ${outageRoutes.filter((r) => r === 'delayed').length} sent delayed)`,
        accepted: stored.length,
        lost,
        stuck: stored.filter((r) => r.sentAt === null).length,
        duplicated: central.duplicates(MPCB_SITE.siteId).length,
        fiveXx: central.requests().filter((r) => r.httpStatus >= 500).length,
        unavailable: central.requests().filter((r) => r.httpStatus === 503).length,
        seconds: Math.round((Date.now() - started) / 1000),
      };
      cases.record(result);
      console.log(JSON.stringify({ ...result, misrouted, unreachable }));
      expect(result).toMatchObject({ lost: 0, stuck: 0, duplicated: 0, fiveXx: 0 });
      expect(misrouted).toBe(0);
      expect(unreachable).toBeGreaterThan(0);
      // The outage was one: readings were taken throughout it, and the oldest of them went through delayedUpload.
      expect(outage.length).toBeGreaterThanOrEqual(3 * 10);
      expect(outageRoutes.filter((r) => r === 'delayed').length).toBeGreaterThan(0);
    } finally {
      if (mpcbWorker) await bench.replaceWorker({});
      await dataSource.destroy();
      await central.stop();
      await iserver.stop();
    }
  });
});

/** A master application's MCS Result API that can be down (503) for a while. */
async function startReceiver() {
  const received = new Map<string, number>();
  const state = { up: false };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const answer = (status: number, document: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(document));
      };
      if (!state.up) return answer(503, { details: 'down for maintenance' });
      if (req.url === '/master/service-status') return answer(200, { version: '1.0.0', status: 'OK' });
      if (req.method === 'POST' && req.url === '/master/collection-result') {
        const { requestReference } = JSON.parse(body) as { requestReference: string };
        received.set(requestReference, (received.get(requestReference) ?? 0) + 1);
        return answer(200, { requestReference });
      }
      return answer(404, { details: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/master`,
    received,
    state,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
