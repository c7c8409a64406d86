import { INestApplication } from '@nestjs/common';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { App } from 'supertest/types';
import { createApiApp } from '../apps/api/src/bootstrap';
import { createWorkerApp } from '../apps/worker/src/bootstrap';
import { G13SimulatorHandle, startG13Simulator } from '../apps/simulator/src/g13';
import { GatewayRepository } from '@hes/database';
import { McsRequestRepository } from '@hes/mcs';
import { GatewayCoordination } from '@hes/queue';
import { TestDatabase, createMigratedDatabase } from './support/test-database';
import { applyEnvironment, testEnvironment, waitFor } from './support/test-environment';

const SERIALS = ['3100001001', '3100001002', '3100001003'];
const BASE = '/hes/mcs';
const MIN_SECONDS = 5;
const MAX_SECONDS = 120;

type Document = Record<string, unknown> & { requestReference: string; result: string };

/** A master application's MCS Result API: records what it receives; can be taken "down" (503). */
interface Receiver {
  url: string;
  results: Document[];
  /** The query of each result's POST (`?token=…` of a responseUrl with one). */
  queries: Map<string, string>;
  serviceStatusCalls: number;
  up: boolean;
  /**
   * What `/master/collection-result` does instead of answering: `trickle` sends the start of its headers
   * and then one byte every 300 ms, never ending them; `redirect` answers 302 to `/master/landing`, which
   * answers a GET 200; `huge` takes the result and answers 200 with a 2 MB body.
   */
  misbehave?: 'trickle' | 'redirect' | 'huge';
  /** Requests `/master/landing` received (method and body length). */
  landings: { method: string; bytes: number }[];
  stop(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const trickles = new Set<NodeJS.Timeout>();
  const receiver: Receiver = {
    url: '',
    results: [],
    queries: new Map(),
    serviceStatusCalls: 0,
    up: true,
    landings: [],
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of trickles) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const { pathname, search } = new URL(req.url ?? '/', 'http://receiver');
      // A master application that accepts the connection and never answers.
      if (pathname.startsWith('/silent/')) return;
      if (pathname === '/master/landing') {
        receiver.landings.push({ method: req.method ?? '', bytes: Buffer.byteLength(body) });
        return answer(res, 200, { status: 'OK' });
      }
      if (req.method === 'POST' && pathname === '/master/collection-result' && receiver.misbehave) {
        if (receiver.misbehave === 'redirect') {
          res.writeHead(302, { Location: '/master/landing' });
          return res.end();
        }
        if (receiver.misbehave === 'huge') {
          const document = JSON.parse(body) as Document;
          receiver.results.push(document);
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          return res.end('x'.repeat(2 * 1024 * 1024));
        }
        // Raw bytes: a header that never ends (each byte resets any idle timeout of the client).
        req.socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
        const timer = setInterval(() => req.socket.write('x'), 300);
        trickles.add(timer);
        res.on('close', () => {
          clearInterval(timer);
          trickles.delete(timer);
        });
        return;
      }
      if (req.method === 'GET' && pathname === '/master/service-status') {
        receiver.serviceStatusCalls += 1;
        return receiver.up
          ? answer(res, 200, { version: '1.0.0', status: 'OK' })
          : answer(res, 503, { details: 'down for maintenance' });
      }
      if (req.method === 'POST' && pathname === '/master/collection-result') {
        if (!receiver.up) return answer(res, 503, { details: 'down for maintenance' });
        const document = JSON.parse(body) as Document;
        receiver.results.push(document);
        receiver.queries.set(document.requestReference, search);
        return answer(res, 200, { requestReference: document.requestReference });
      }
      return answer(res, 404, { details: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/master`;
  return receiver;
}

const offsetOf = (meterTime: unknown): number => {
  const match = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2} ([+-]\d+)s$/.exec(String(meterTime));
  if (!match) throw new Error(`meterTime ${String(meterTime)} is not in the MCS format`);
  return Number(match[1]);
};

/**
 * MCS end to end: a master application (the receiver above) → api → PostgreSQL → queue → worker →
 * G13 driver → G13 simulator, and the result back to the receiver, with the simulator's own state as
 * the proof of what was read and changed.
 */
describe('MCS collections against the G13 simulator', () => {
  let database: TestDatabase;
  let gateway: G13SimulatorHandle;
  let receiver: Receiver;
  let api: INestApplication<App>;
  let worker: INestApplication | undefined;
  let db: Client;
  let remoteAddress: string;
  let gatewayId: string;
  let sequence = 0;
  const nextRef = () => `mcs-${Date.now()}-${(sequence += 1)}`;

  const submit = async (change: Record<string, unknown> = {}): Promise<string> => {
    const body = {
      requestReference: nextRef(),
      responseUrl: receiver.url,
      mpan: '1200012345678',
      priority: 1,
      meterType: 'ABB_G13',
      remoteAddress,
      serialNumber: SERIALS[0],
      ...change,
    };
    const answer = await request(api.getHttpServer()).post(`${BASE}/collection-request`).send(body);
    expect({ status: answer.status, body: answer.body as unknown }).toEqual({
      status: 200,
      body: { requestReference: body.requestReference },
    });
    return body.requestReference;
  };
  const delivered = (ref: string) =>
    waitFor(
      () => Promise.resolve(receiver.results.find((r) => r.requestReference === ref)),
      `the result of ${ref} at the master application`,
    );
  const rowOf = async (ref: string) =>
    (
      await db.query<{
        state: string;
        attempts: number;
        collection_start_time: Date | null;
        delay_until: Date | null;
        delivery_state: string;
        delivery_attempts: number;
        delivery_last_error: string | null;
        result_summary: string | null;
      }>(`SELECT * FROM mcs.collection_requests WHERE request_reference = $1`, [ref])
    ).rows[0];
  const startWorker = async () => {
    if (worker) return;
    worker = await createWorkerApp();
    await worker.init();
  };
  const statusOf = async (ref: string) =>
    (await request(api.getHttpServer()).get(`${BASE}/collection-status/${ref}`).expect(200)).body as Document;

  beforeAll(async () => {
    database = await createMigratedDatabase('mcs_collect');
    gateway = await startG13Simulator({
      meters: SERIALS.map((serial) => ({ serial, phases: 3 as const })),
      users: [{ name: 'hes', password: 'gateway-secret' }],
    });
    receiver = await startReceiver();
    applyEnvironment(
      testEnvironment(database.url, {
        MCS_BASE_PATH: BASE,
        MCS_WORKER_CONCURRENCY: '1',
        MCS_TIME_ADJUST_MIN_SECONDS: String(MIN_SECONDS),
        MCS_TIME_ADJUST_MAX_SECONDS: String(MAX_SECONDS),
        MCS_COLLECTION_ATTEMPTS: '3',
        MCS_COLLECTION_BACKOFF_MS: '50',
        MCS_DELIVERY_BACKOFF_MS: '100',
        MCS_DELIVERY_MAX_BACKOFF_MS: '300',
        MCS_DELIVERY_TIMEOUT_MS: '2000',
        RECONCILE_INTERVAL_SECONDS: '1',
      }),
    );
    api = (await createApiApp()) as INestApplication<App>;
    await api.init();
    const registered = await api.get(GatewayRepository).create({
      name: 'substation-7',
      driver: 'ABB_G13',
      endpoint: gateway.url,
      tlsMode: 'pinned',
      tlsFingerprintSha256: gateway.certificateFingerprintSha256,
      username: 'hes',
      password: 'gateway-secret',
      maxInFlight: 2,
      requestTimeoutMs: 3000,
      // The simulated meters' clocks run on UTC.
      clockTimeZone: 'UTC',
    });
    remoteAddress = new URL(gateway.url).host;
    gatewayId = registered.id;
    db = new Client({ connectionString: database.url });
    await db.connect();
    for (const [index, serial] of SERIALS.entries()) {
      await db.query(
        `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway) VALUES ($1, $2::bigint, 'ABB_G13', $3, $2::text)`,
        [`m${index + 1}`, serial, registered.id],
      );
    }
  });

  afterAll(async () => {
    await worker?.close();
    await db?.end();
    await api?.close();
    await receiver?.stop();
    await gateway?.stop();
    await database?.drop();
  });

  afterEach(() => {
    gateway.clearFaults();
    receiver.up = true;
    receiver.misbehave = undefined;
  });

  it('processes requests by priority, holds a delayUntil request until its time, and delivers each once', async () => {
    // Queued while no worker runs: the order is the queue's, not the arrival's.
    const delayUntil = new Date(Date.now() + 4000);
    const held = await submit({ priority: 1, delayUntil: delayUntil.toISOString() });
    const low = await submit({ priority: 30 });
    const high = await submit({ priority: 1 });
    const middle = await submit({ priority: '5' });
    expect((await statusOf(high)).result).toBe('PENDING');

    await startWorker();
    for (const ref of [held, low, high, middle]) await delivered(ref);
    const startOf = async (ref: string) => (await rowOf(ref)).collection_start_time!.getTime();
    const started: number[] = [];
    for (const ref of [high, middle, low]) started.push(await startOf(ref));
    expect([...started].sort((a, b) => a - b)).toEqual(started);
    // Sent first with the best priority, it still waited for its delayUntil.
    expect(await startOf(held)).toBeGreaterThanOrEqual(delayUntil.getTime());
    for (const ref of [held, low, high, middle]) {
      expect(receiver.results.filter((r) => r.requestReference === ref)).toHaveLength(1);
      expect(await rowOf(ref)).toMatchObject({ state: 'completed', delivery_state: 'delivered' });
    }
  });

  it('collects serial, meter time, status events, registers and survey data, and stores them in the UDIL tables', async () => {
    await startWorker();
    const serial = SERIALS[0];
    gateway.injectPowerFailure(serial, 90);
    const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    const from = new Date(today.getTime() - 86_400_000);
    const before = gateway.readRegisters(serial).activeImport;
    const ref = await submit({
      surveyDays: 1,
      surveyDate: from.toISOString().slice(0, 10),
      outstationAddress: serial,
    });
    const result = await delivered(ref);
    const after = gateway.readRegisters(serial).activeImport;

    expect(result).toMatchObject({
      requestReference: ref,
      result: 'SUCCESS',
      resultSummary: 'SUCCESS',
      serialNumber: serial,
      surveyDays: 1,
      surveyDate: from.toISOString().slice(0, 10),
    });
    for (const name of [
      'collectionStartTime',
      'collectionEndTime',
      'connectionStartTime',
      'connectionEndTime',
    ])
      expect(result[name]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Math.abs(offsetOf(result.meterTime))).toBeLessThanOrEqual(2);
    expect(result.statusEvents).toEqual(expect.arrayContaining([expect.stringMatching(/Power fail start/)]));

    const registers = result.registerValues as { name: string; value: number; units: string }[];
    const importTotal = registers.find((r) => r.name === 'kWh Import');
    expect(importTotal).toMatchObject({ units: 'kWh' });
    expect(typeof importTotal!.value).toBe('number');
    expect(importTotal!.value).toBeGreaterThanOrEqual(before - 0.01);
    expect(importTotal!.value).toBeLessThanOrEqual(after + 0.01);

    // Survey data is the simulator's load profile of channel 1 (active import, Wh) over the day.
    const expected = gateway
      .meter(serial)
      .loadProfile(1)
      .filter(
        (item) => (item.status & 0x01) !== 0 && item.time >= from.getTime() && item.time <= today.getTime(),
      )
      .map((item) => ({
        timestamp: `${new Date(item.time).toISOString().slice(0, 19)}Z`,
        value: (item.status & 0x20) !== 0 ? null : Number((item.value / 1000).toFixed(3)),
        status: (item.status & 0x20) !== 0 ? ['INVALID VALUE'] : [],
      }));
    expect(expected.length).toBeGreaterThanOrEqual(96);
    const survey = result.surveyData as { name: string; units: string; readings: unknown[] }[];
    expect(survey.find((c) => c.name === 'kWh Import')).toEqual({
      name: 'kWh Import',
      units: 'kWh',
      readings: expected,
    });
    // One survey object per documented quantity the meter records (a 3-phase G13 meter: 8 channels).
    expect(survey.map((c) => c.name)).toEqual([
      'kWh Import',
      'kWh Export',
      'kvarh Import',
      'kvarh Export',
      'Voltage L1',
      'Voltage L2',
      'Voltage L3',
      'Current L1',
    ]);

    // The same data is in the UDIL tables, and collection-status answers the delivered document.
    const lp = await db.query(
      `SELECT count(*)::int AS n FROM udil.load_profile_data WHERE global_device_id = 'm1' AND meter_datetime BETWEEN $1 AND $2 AND active_energy_pos_tl IS NOT NULL`,
      [from, today],
    );
    expect(lp.rows[0].n).toBe(expected.filter((r) => r.value !== null).length);
    const billing = await db.query(
      `SELECT active_energy_pos_tl::float AS total FROM udil.billing_data WHERE global_device_id = 'm1' ORDER BY meter_datetime DESC LIMIT 1`,
    );
    expect(billing.rows[0].total).toBeCloseTo(importTotal!.value, 3);
    const events = await db.query(
      `SELECT 1 FROM udil.events WHERE global_device_id = 'm1' AND event_code = 111`,
    );
    expect(events.rows.length).toBeGreaterThan(0);
    const visuals = await db.query(
      `SELECT last_communication_datetime FROM udil.meter_visuals WHERE global_device_id = 'm1'`,
    );
    expect(visuals.rows[0].last_communication_datetime).toBeInstanceOf(Date);
    expect(await statusOf(ref)).toEqual(result);
    const byQuery = await request(api.getHttpServer())
      .get(`${BASE}/collection-status`)
      .query({ requestReference: ref })
      .expect(200);
    expect(byQuery.body).toEqual(result);
  });

  it('adjusts the meter time only when it is off by more than the minimum and at most the maximum', async () => {
    await startWorker();
    const serial = SERIALS[1];
    const collect = async () => delivered(await submit({ serialNumber: serial, adjustTime: true }));

    gateway.meter(serial).setClock(Date.now() + 30_000);
    const inside = await collect();
    expect(inside.timeAdjustmentResult).toBe('SUCCESS');
    expect(offsetOf(inside.meterTime)).toBeGreaterThanOrEqual(25);
    expect(offsetOf(inside.meterTime)).toBeLessThanOrEqual(35);
    expect(Math.abs(gateway.readClock(serial).getTime() - Date.now())).toBeLessThan(MIN_SECONDS * 1000);

    const below = await collect();
    expect(below.timeAdjustmentResult).toBe('NOT REQUIRED');
    expect(Math.abs(offsetOf(below.meterTime))).toBeLessThanOrEqual(MIN_SECONDS);

    gateway.meter(serial).setClock(Date.now() - 1000_000);
    const above = await collect();
    expect(above.timeAdjustmentResult).toMatch(
      new RegExp(`^ERROR: meter time is \\d+s behind, more than the maximum threshold of ${MAX_SECONDS}s$`),
    );
    expect(above.result).toBe('SUCCESS');
    expect(gateway.readClock(serial).getTime() - Date.now()).toBeLessThan(-900_000);
    gateway.meter(serial).setClock(Date.now());
  });

  it('cancels a queued request before processing and answers positively once it is processed', async () => {
    await startWorker();
    const queued = await submit({ delayUntil: new Date(Date.now() + 60_000).toISOString() });
    const cancel = await request(api.getHttpServer())
      .delete(`${BASE}/collection-cancel`)
      .send({ requestReference: queued })
      .expect(200);
    expect(cancel.body).toEqual({ requestReference: queued });

    const processed = await submit();
    await delivered(processed);
    await request(api.getHttpServer())
      .delete(`${BASE}/collection-cancel`)
      .send({ requestReference: processed })
      .expect(200);
    expect((await statusOf(processed)).result).toBe('SUCCESS');

    expect(await rowOf(queued)).toMatchObject({ state: 'cancelled', collection_start_time: null });
    expect((await statusOf(queued)).result).toBe('ERROR: cancelled by the master application');
    expect(receiver.results.some((r) => r.requestReference === queued)).toBe(false);
  });

  it('cancels a request waiting in the queue for its gateway marked down: it is never collected nor POSTed', async () => {
    await startWorker();
    // The gateway marked down for 3 s, as after repeated timeouts: the collection is put back until then.
    const until = await worker!
      .get(GatewayCoordination)
      .recordFailure(gatewayId, { failures: 1, downMs: 3000 });
    expect(until).toBeInstanceOf(Date);
    const ref = await submit();
    await waitFor(async () => {
      const row = await rowOf(ref);
      return row.result_summary?.startsWith('deferred: ') && row.state === 'queued';
    }, 'the collection put back in the queue (queued again) until its gateway is up');
    expect(await rowOf(ref)).toMatchObject({ attempts: 0, collection_start_time: null });
    const cancel = await request(api.getHttpServer())
      .delete(`${BASE}/collection-cancel`)
      .send({ requestReference: ref })
      .expect(200);
    expect(cancel.body).toEqual({ requestReference: ref });
    expect((await rowOf(ref)).state).toBe('cancelled');
    // The gateway up again and another collection through it: the cancelled one was not run meanwhile.
    await new Promise((resolve) => setTimeout(resolve, until!.getTime() - Date.now() + 1500));
    await delivered(await submit());
    expect((await statusOf(ref)).result).toBe('ERROR: cancelled by the master application');
    expect(await rowOf(ref)).toMatchObject({ state: 'cancelled', attempts: 0, delivery_state: 'none' });
    expect(receiver.results.some((r) => r.requestReference === ref)).toBe(false);
  });

  it('takes a 2xx as the delivery whatever its body (2 MB here): delivered once', async () => {
    await startWorker();
    receiver.misbehave = 'huge';
    const ref = await submit();
    await waitFor(async () => (await rowOf(ref)).delivery_state === 'delivered', 'delivered state');
    // Let reconciliation run and another collection go through before counting.
    receiver.misbehave = undefined;
    await delivered(await submit());
    expect(receiver.results.filter((r) => r.requestReference === ref)).toHaveLength(1);
    expect((await rowOf(ref)).delivery_attempts).toBe(1);
  });

  it('gives a delivery attempt MCS_DELIVERY_TIMEOUT_MS for all of it: an answer that trickles forever fails it', async () => {
    await startWorker();
    receiver.misbehave = 'trickle';
    const ref = await submit();
    const failed = await waitFor(async () => {
      const row = await rowOf(ref);
      return row.delivery_attempts >= 1 && row;
    }, 'a failed delivery attempt');
    expect(failed).toMatchObject({
      delivery_state: 'pending',
      delivery_last_error: 'collection-result: no complete answer within 2000 ms',
    });
    receiver.misbehave = undefined;
    expect((await delivered(ref)).result).toBe('SUCCESS');
    expect(receiver.results.filter((r) => r.requestReference === ref)).toHaveLength(1);
  });

  it('follows no redirect of the result POST (it would arrive as a GET without the result): the attempt fails', async () => {
    await startWorker();
    receiver.misbehave = 'redirect';
    const ref = await submit();
    const failed = await waitFor(async () => {
      const row = await rowOf(ref);
      return row.delivery_attempts >= 1 && row;
    }, 'a failed delivery attempt');
    expect(failed.delivery_state).toBe('pending');
    expect(failed.delivery_last_error).toBe(
      'collection-result answered HTTP 302 (a redirect to /master/landing; redirects are not followed: give the final address as responseUrl)',
    );
    expect(receiver.landings).toEqual([]);
    receiver.misbehave = undefined;
    expect((await delivered(ref)).result).toBe('SUCCESS');
  });

  it('collects for other masters while one master never answers: its deliveries hold delivery slots only', async () => {
    await startWorker();
    // MCS_WORKER_CONCURRENCY is 1 here: a delivery taken in the collections' queue would hold its only slot
    // for MCS_DELIVERY_TIMEOUT_MS, and a due delivery is always taken before a prioritized collection.
    const silent = `${new URL(receiver.url).origin}/silent`;
    const stuck = [await submit({ responseUrl: silent }), await submit({ responseUrl: silent })];
    await waitFor(async () => {
      const rows = await Promise.all(stuck.map(rowOf));
      return rows.every((row) => row.delivery_attempts >= 1);
    }, 'a failed delivery of each result for the silent master');
    const healthy = await submit();
    expect((await delivered(healthy)).result).toBe('SUCCESS');
    for (const ref of stuck) {
      const row = await rowOf(ref);
      expect(row.delivery_state).toBe('pending');
      expect(row.delivery_last_error).toMatch(/no complete answer within 2000 ms/);
    }
    // Their deliveries given up, so that they hold no delivery slot in the tests after this one.
    await db.query(
      `UPDATE mcs.collection_requests SET delivery_state = 'expired' WHERE request_reference = ANY($1)`,
      [stuck],
    );
  });

  it('POSTs the result to the responseUrl path + /collection-result, keeping its query', async () => {
    await startWorker();
    const ref = await submit({ responseUrl: `${receiver.url}?token=t-1#section` });
    expect((await delivered(ref)).result).toBe('SUCCESS');
    expect(receiver.queries.get(ref)).toBe('?token=t-1');
  });

  it('retries a collection while the meter cannot be reached, and reports ERROR when it never can', async () => {
    await startWorker();
    const serial = SERIALS[2];
    // Three failed requests: the driver's own retries of one GET, i.e. one collection attempt.
    gateway.setMeterFaults(serial, { cosemError: true, remaining: 3 });
    const recovered = await submit({ serialNumber: serial });
    expect((await delivered(recovered)).result).toBe('SUCCESS');
    expect((await rowOf(recovered)).attempts).toBeGreaterThanOrEqual(2);

    gateway.setMeterFaults(serial, { offline: true });
    const lost = await submit({ serialNumber: serial });
    const result = await delivered(lost);
    expect(result.result).toMatch(/^ERROR: the meter did not answer: device: /);
    expect(result.serialNumber).toMatch(/^ERROR: /);
    expect(result.meterTime).toMatch(/^ERROR: /);
    expect((await rowOf(lost)).attempts).toBe(3);
  });

  it('reports ERROR for addresses no driver dials, a serial number mismatch and an unknown gateway', async () => {
    await startWorker();
    const phone = await delivered(await submit({ remoteAddress: '07711000001' }));
    expect(phone.result).toBe(
      'ERROR: remote address 07711000001 is a phone number (modem connection); no installed driver dials modems',
    );
    const paknet = await delivered(await submit({ remoteAddress: '23000000123456' }));
    expect(paknet.result).toBe(
      'ERROR: remote address 23000000123456 is a PAKNET number; no installed driver dials PAKNET',
    );
    const mismatch = await delivered(
      await submit({ outstationAddress: SERIALS[0], serialNumber: '99999999' }),
    );
    expect(mismatch.result).toBe(
      `ERROR: serial number mismatch: the meter returned ${SERIALS[0]}, the request gave 99999999`,
    );
    expect(mismatch.serialNumber).toBe(`ERROR: the meter returned serial number ${SERIALS[0]}, not 99999999`);
    const unknown = await delivered(await submit({ remoteAddress: '10.9.9.9:8443' }));
    expect(unknown.result).toBe('ERROR: no enabled ABB_G13 gateway is registered at 10.9.9.9:8443');
  });

  it('delivers a result exactly once after the master application was down for a while', async () => {
    await startWorker();
    receiver.up = false;
    const ref = await submit();
    await waitFor(async () => (await rowOf(ref)).delivery_attempts >= 3, 'three failed deliveries');
    const checksWhileDown = receiver.serviceStatusCalls;
    expect(checksWhileDown).toBeGreaterThan(0);
    expect((await statusOf(ref)).result).toBe('SUCCESS');
    receiver.up = true;
    const result = await delivered(ref);
    expect(result.result).toBe('SUCCESS');
    expect(receiver.serviceStatusCalls).toBeGreaterThan(checksWhileDown);
    await waitFor(async () => (await rowOf(ref)).delivery_state === 'delivered', 'delivered state');
    // Let reconciliation run and another collection go through before counting.
    await delivered(await submit());
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(receiver.results.filter((r) => r.requestReference === ref)).toHaveLength(1);
  });

  it('collects a stored request whose job the queue never received (reconciler)', async () => {
    await startWorker();
    const ref = nextRef();
    const stored = {
      requestReference: ref,
      mpan: '1200012345678',
      responseUrl: receiver.url,
      priority: 2,
      delayUntil: null,
      meterType: 'ABB_G13',
      remoteAddress,
      remoteAddressKind: 'ip',
      comsSettings: null,
      outstationAddress: null,
      serialNumber: SERIALS[0],
      password: null,
      surveyDays: 0,
      surveyDate: null,
      adjustTime: false,
    };
    // As if the api committed the row and the queue backend failed before the job was added.
    await db.query(
      `INSERT INTO mcs.collection_requests (request_reference, client, request, priority, updated_at)
       VALUES ($1, 'test', $2, 2, now() - interval '1 minute')`,
      [ref, JSON.stringify(stored)],
    );
    const result = await delivered(ref);
    expect(result).toMatchObject({ requestReference: ref, result: 'SUCCESS', serialNumber: SERIALS[0] });
    expect(receiver.results.filter((r) => r.requestReference === ref)).toHaveLength(1);
  });

  it('removes finished requests (cancelled, delivered, expired) past the retention, and no other', async () => {
    const { rows: before } = await db.query<{ over: boolean; n: number }>(
      `SELECT (state = 'cancelled' OR (state = 'completed' AND delivery_state IN ('delivered', 'expired'))) AS over,
              count(*)::int AS n
         FROM mcs.collection_requests GROUP BY 1`,
    );
    const over = before.find((row) => row.over)?.n ?? 0;
    expect(over).toBeGreaterThan(0);
    // One still waiting for its collection, and one whose result is still to be delivered: kept.
    await db.query(
      `INSERT INTO mcs.collection_requests (request_reference, client, request, priority, updated_at)
       VALUES ('retention-live', 'test', '{}', 1, now() - interval '1 year')`,
    );
    await db.query(
      `INSERT INTO mcs.collection_requests (request_reference, client, request, priority, state, delivery_state, updated_at)
       VALUES ('retention-pending', 'test', '{}', 1, 'completed', 'pending', now() - interval '1 year')`,
    );
    const removed = await api.get(McsRequestRepository).pruneFinished(new Date(Date.now() + 60_000), 2);
    expect(removed).toBe(over);
    const { rows: after } = await db.query<{
      request_reference: string;
      state: string;
      delivery_state: string;
    }>(
      `SELECT request_reference, state, delivery_state FROM mcs.collection_requests
        WHERE state = 'cancelled' OR (state = 'completed' AND delivery_state IN ('delivered', 'expired'))
           OR request_reference LIKE 'retention-%' ORDER BY 1`,
    );
    expect(after.map((row) => row.request_reference)).toEqual(['retention-live', 'retention-pending']);
    await db.query(`DELETE FROM mcs.collection_requests WHERE request_reference LIKE 'retention-%'`);
  });
});
