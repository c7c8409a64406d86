import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { freePort } from '../support/redis-server';
import { waitFor } from '../support/test-environment';
import { AppProcess, FaultBench } from './fault-bench';

/**
 * Several processes, one system (issue 17): two api and two worker processes on one PostgreSQL, one Redis
 * and one queue prefix, and a simulated G13 fleet of 10 000 meters. The MDM sends one 10 000-meter
 * aux_relay_operations to both apis at once (the same request retried through a load balancer, the race
 * that could make two acceptances of one transaction) and reads its status through both. Measured:
 *   - TRANSACTION_STATUS: one row per meter, every one at level 5, both apis answering the same;
 *   - at the simulator: every meter was sent the write exactly once and holds the state asked;
 *   - DEVICE_COMMUNICATION_HISTORY: which worker process talked to each meter (the first message_log
 *     line names it): both workers shared the work, on every gateway;
 *   - at the simulator: no gateway ever had more requests in hand at once than its max_in_flight,
 *     whichever worker sent them (the limits differ per gateway: 1, 2, 3).
 */

const GATEWAYS = 20;
const METERS_PER_GATEWAY = 500;
const METERS = GATEWAYS * METERS_PER_GATEWAY;
/** Gateway i's max_in_flight: 1, 2, 3, 1, 2, 3, … */
const limitOf = (gateway: number) => (gateway % 3) + 1;
const RELAY_PORT = 1;
/**
 * Per worker process: together as many as the fleet's 40 leases. Jobs come interleaved by gateway, so
 * gateways are still contended (a busy one puts its jobs back) without most pick-ups being put back.
 */
const WORKER_CONCURRENCY = 20;

interface StatusAnswer {
  status: string;
  data: { global_device_id: string; status_level: string; indv_status: string }[];
}

describe('several processes, one system', () => {
  let bench: FaultBench;
  let apiB: AppProcess;
  let workerB: AppProcess;
  let apis: string[];
  let setupSeconds = 0;

  beforeAll(async () => {
    const setupStarted = Date.now();
    bench = await FaultBench.start({
      gateways: GATEWAYS,
      metersPerGateway: METERS_PER_GATEWAY,
      latencyMs: 10,
      // No history: 10 000 simulated meters with a day's history would take seconds of CPU and hundreds of MB.
      historyDays: 0,
      // Slices of 25: twenty per gateway, so both workers run slices of every gateway and contend for its
      // leases (what this case measures); the default of 100 would leave a gateway five slices.
      env: { WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), TRANSACTION_SLICE_SIZE: '25' },
    });
    // Each gateway's own limit, and a timeout no answer of this loaded machine comes near: this case is
    // about sharing the work, not about faults (the fault suite's other cases are).
    for (const [index, gateway] of bench.fleet.gateways.entries())
      await bench.query(
        `UPDATE public.gateways SET max_in_flight = $2, request_timeout_ms = 30000 WHERE endpoint = $1`,
        [gateway.url, limitOf(index)],
      );
    const apiPort = await freePort();
    const workerPort = await freePort();
    apiB = bench.addProcess('api', 'api-b', { API_PORT: String(apiPort) });
    workerB = bench.addProcess('worker', 'worker-b', { WORKER_HTTP_PORT: String(workerPort) });
    apis = [bench.apiUrl, `http://127.0.0.1:${apiPort}`];
    await waitFor(async () => (await fetch(`${apis[1]}/health`)).ok, 'the second api', 60_000, 250);
    // The worker listens once its consumers run.
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).ok,
      'the second worker',
      60_000,
      250,
    );
    setupSeconds = (Date.now() - setupStarted) / 1000;
  }, 600_000);

  afterAll(async () => {
    await bench?.stop();
  }, 120_000);

  it('two apis and two workers carry a 10 000-meter command as one: each meter written once, no gateway over its limit', async () => {
    for (const gateway of bench.fleet.gateways) gateway.handle.resetStats();
    // CPU seconds each process uses for the command (this process: the simulated fleet and the MDM client).
    const cpuNow = () => ({
      apiA: cpuSeconds(bench.api.pid),
      apiB: cpuSeconds(apiB.pid),
      workerA: cpuSeconds(bench.worker.pid),
      workerB: cpuSeconds(workerB.pid),
      fleetAndClient: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    });
    const cpuBefore = cpuNow();
    const started = Date.now();
    const transactionid = `multi-${Date.now()}`;
    const meters = bench.meters;
    const body = JSON.stringify({
      global_device_id: meters.map((m) => m.globalDeviceId),
      request_datetime: '2026-11-21 10:00:00',
      relay_operate: '0',
    });
    let fiveXx = 0;
    const post = async (base: string, service: string, payload?: string) => {
      const response = await fetch(`${base}/${service}`, {
        method: 'POST',
        headers: { privatekey: bench.key, transactionid, 'content-type': 'application/json' },
        body: payload,
      });
      if (response.status >= 500) fiveXx += 1;
      const answer: unknown = await response.json();
      return { status: response.status, body: answer };
    };

    // The same request through both apis at once: one of them accepts it, the other answers the same.
    const answers = await Promise.all(apis.map((base) => post(base, 'aux_relay_operations', body)));
    const acceptedIn = Date.now() - started;
    for (const answer of answers) expect(answer.status).toBe(200);
    expect(answers[1].body).toEqual(answers[0].body);
    const accepted = (answers[0].body as { data: { indv_status: string }[] }).data;
    expect(accepted).toHaveLength(METERS);
    expect(accepted.every((d) => d.indv_status === '1')).toBe(true);

    // The MDM polls transaction_status through both apis in turn (every 5 s: 10 000 rows an answer);
    // the database says when every row has finished.
    let polls = 0;
    let lastPoll = 0;
    const finished = async () =>
      (
        await bench.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM udil.transaction_status WHERE transactionid = $1 AND indv_status <> 0`,
          [transactionid],
        )
      )[0].n;
    const deadline = Date.now() + 900_000;
    while ((await finished()) < METERS && Date.now() < deadline) {
      if (Date.now() - lastPoll >= 5000) {
        lastPoll = Date.now();
        const { status } = await post(apis[polls++ % 2], 'transaction_status');
        expect(status).toBe(200);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const level5Seconds = (Date.now() - started) / 1000;
    const cpuAfter = cpuNow();
    const cpu = Object.fromEntries(
      Object.entries(cpuAfter).map(([name, seconds]) => [
        name,
        Math.round((seconds - cpuBefore[name as keyof typeof cpuBefore]) * 10) / 10,
      ]),
    );
    const [viaA, viaB] = await Promise.all(apis.map((base) => post(base, 'transaction_status')));
    const statuses = (viaA.body as StatusAnswer).data;
    const rows = await bench.query<{ global_device_id: string; status_level: number; indv_status: number }>(
      `SELECT global_device_id, status_level, indv_status FROM udil.transaction_status WHERE transactionid = $1`,
      [transactionid],
    );
    const rowsBy = (indv: number) => rows.filter((r) => r.indv_status === indv).length;

    // At the simulator: each meter was sent the write once, and holds it.
    const writes = new Map<string, number>();
    for (const gateway of bench.fleet.gateways)
      for (const request of gateway.handle.requests) {
        const match = /^\/meters\/(\d+)\/io$/.exec(request.path);
        if (request.method === 'POST' && match) writes.set(match[1], (writes.get(match[1]) ?? 0) + 1);
      }
    const writtenOnce = meters.filter((m) => writes.get(m.serial) === 1).length;
    const notHolding = meters.filter(
      (m) => bench.fleet.gateways[m.gateway].handle.readOutput(m.serial, RELAY_PORT) !== 0,
    ).length;

    // Which worker talked to each meter: the first line of its successful DEVICE_COMMUNICATION_HISTORY row.
    const history = await bench.query<{ global_device_id: string; message_log: string }>(
      `SELECT global_device_id, message_log FROM udil.device_communication_history
        WHERE communication_status = 1 AND mdc_read_datetime >= $1`,
      [new Date(started)],
    );
    const workerOf = new Map<string, string>();
    const successesPerMeter = new Map<string, number>();
    for (const row of history) {
      successesPerMeter.set(row.global_device_id, (successesPerMeter.get(row.global_device_id) ?? 0) + 1);
      const named = /^\S+ \S+ worker (\S+)$/m.exec(row.message_log.split('\n')[0]);
      workerOf.set(row.global_device_id, named?.[1] ?? 'unnamed');
    }
    const workerIds = [bench.worker.pid, workerB.pid].map((pid) => `${hostname()}:${pid}`);
    const perWorker = workerIds.map((id) => [...workerOf.values()].filter((w) => w === id).length);
    const gatewaysOfBoth = bench.fleet.gateways.filter((_, index) => {
      const served = new Set(
        meters.filter((m) => m.gateway === index).map((m) => workerOf.get(m.globalDeviceId)),
      );
      return workerIds.every((id) => served.has(id));
    }).length;

    // At the simulator: the most requests each gateway had in hand at once, against its limit.
    const peaks = bench.fleet.gateways.map((g, index) => ({
      limit: limitOf(index),
      peak: g.handle.peakConcurrency(),
    }));

    console.log(
      JSON.stringify({
        meters: METERS,
        rows: { complete: rowsBy(1), failed: rowsBy(2), inProgress: rowsBy(0) },
        setupSeconds,
        acceptedInMs: acceptedIn,
        level5Seconds,
        cpuSeconds: cpu,
        statusPolls: polls,
        fiveXx,
        writtenOnce,
        notHolding,
        perWorker: Object.fromEntries(workerIds.map((id, i) => [id, perWorker[i]])),
        gatewaysServedByBothWorkers: gatewaysOfBoth,
        peakByLimit: [1, 2, 3].map((limit) => ({
          limit,
          peaks: peaks.filter((p) => p.limit === limit).map((p) => p.peak),
        })),
      }),
    );

    // Every row at level 5 exactly once: one row per meter, each complete, both apis answering the same.
    expect(rows).toHaveLength(METERS);
    expect(new Set(rows.map((r) => r.global_device_id)).size).toBe(METERS);
    expect(rows.filter((r) => r.status_level === 5 && r.indv_status === 1)).toHaveLength(METERS);
    expect(viaB.body).toEqual(viaA.body);
    expect(statuses).toHaveLength(METERS);
    expect(statuses.filter((r) => r.status_level === '5' && r.indv_status === '1')).toHaveLength(METERS);
    expect(fiveXx).toBe(0);
    expect(writtenOnce).toBe(METERS);
    expect(notHolding).toBe(0);
    // One successful exchange per meter, each by one of the two workers, and both did a fair part.
    expect(meters.filter((m) => successesPerMeter.get(m.globalDeviceId) === 1)).toHaveLength(METERS);
    expect(perWorker[0] + perWorker[1]).toBe(METERS);
    for (const count of perWorker) expect(count).toBeGreaterThan(METERS / 10);
    // Every gateway had requests from both workers, and still never more than its limit at once.
    expect(gatewaysOfBoth).toBe(GATEWAYS);
    for (const { limit, peak } of peaks) expect(peak).toBeLessThanOrEqual(limit);
    // The measure saw contention: gateways of each limit were driven up to it.
    for (const limit of [2, 3]) expect(peaks.some((p) => p.limit === limit && p.peak === limit)).toBe(true);
  }, 1_200_000);
});

/** CPU seconds (user + system) a child process used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
