import { BenchMeter, FaultBench } from './fault-bench';

/**
 * One fault case of the suite's shape: a command to a fleet of simulated G13 meters, a fault injected
 * once a quarter of them finished, the rows settled while an MDM polls transaction_status. Each case
 * prints what it measured:
 *   lost        accepted devices with no row, finished rows whose meter does not hold the command, or
 *               failures without a reason
 *   stuck       rows neither finished nor failed once the case settled
 *   duplicated  meters that were sent the write more than once (delivery is at least once)
 *   5xx         answers >= 500 to the MDM's requests during the case (503 counted apart)
 * docs/reliability.md keeps the figures.
 */
export interface Figures {
  case: string;
  accepted: number;
  lost: number;
  stuck: number;
  duplicated: number;
  fiveXx: number;
  unavailable: number;
  seconds: number;
  /** Seconds until every meter on a healthy gateway had finished. */
  healthySeconds?: number;
}

export interface Row {
  global_device_id: string;
  status_level: number;
  indv_status: number;
  response_data: string | null;
}

export type Command =
  { service: 'aux_relay_operations'; operate: 0 | 1 } | { service: 'time_synchronization' };

export interface CaseResult extends Figures {
  transactionid: string;
  /** The case's rows as they were once it settled. */
  rows: Row[];
}

const RELAY_PORT = 1;

/** Runs the cases of one bench and keeps their figures for the table printed at the end. */
export class FaultCases {
  readonly figures: Figures[] = [];
  private sequence = 0;

  constructor(private readonly bench: FaultBench) {}

  /** Runs one case: the command to `meters`, `fault` once a quarter of them finished, then settles and measures. */
  async run(
    name: string,
    command: Command,
    meters: BenchMeter[],
    fault: () => Promise<void>,
    settleMs: number,
  ): Promise<CaseResult> {
    const bench = this.bench;
    const started = Date.now();
    for (const gateway of bench.fleet.gateways) gateway.handle.resetStats();
    const transactionid = `fault-${(this.sequence += 1)}-${Date.now()}`;
    let fiveXx = 0;
    let unavailable = 0;
    const count = (status: number) => {
      if (status >= 500) fiveXx += 1;
      if (status === 503) unavailable += 1;
    };
    const body =
      command.service === 'aux_relay_operations'
        ? { relay_operate: String(command.operate) }
        : ({} as Record<string, string>);
    const submitted = await fetch(`${bench.apiUrl}/${command.service}`, {
      method: 'POST',
      headers: { privatekey: bench.key, transactionid, 'content-type': 'application/json' },
      body: JSON.stringify({
        global_device_id: meters.map((m) => m.globalDeviceId),
        request_datetime: '2026-11-21 10:00:00',
        ...body,
      }),
    });
    count(submitted.status);
    if (submitted.status !== 200)
      throw new Error(`${command.service} answered ${submitted.status}: ${await submitted.text()}`);
    const answer = (await submitted.json()) as { data: { global_device_id: string; indv_status: string }[] };
    const accepted = answer.data.filter((d) => d.indv_status === '1').map((d) => d.global_device_id);

    // The MDM polls transaction_status throughout, as real clients do.
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const response = await fetch(`${bench.apiUrl}/transaction_status`, {
            method: 'POST',
            headers: { privatekey: bench.key, transactionid },
          });
          count(response.status);
          await response.arrayBuffer();
        } catch {
          // The api itself is up throughout; a refused connection would be a crash and shows as stuck rows.
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    const rowsNow = () =>
      bench.query<Row>(
        `SELECT global_device_id, status_level, indv_status, response_data FROM udil.transaction_status WHERE transactionid = $1`,
        [transactionid],
      );
    await waitUntil(async () => {
      const rows = await rowsNow();
      return rows.filter((r) => r.status_level === 5).length >= accepted.length / 4;
    }, 60_000);
    await fault();
    const settleUntil = Date.now() + settleMs;
    const onHealthyGateway = new Set(meters.filter((m) => m.gateway >= 0).map((m) => m.globalDeviceId));
    let healthySeconds: number | undefined;
    let rows: Row[] = [];
    while (Date.now() < settleUntil) {
      rows = await rowsNow().catch(() => rows);
      const healthyRows = rows.filter((r) => onHealthyGateway.has(r.global_device_id));
      if (
        healthySeconds === undefined &&
        healthyRows.length === onHealthyGateway.size &&
        healthyRows.every((r) => r.indv_status !== 0)
      )
        healthySeconds = Math.round((Date.now() - started) / 100) / 10;
      if (rows.length === accepted.length && rows.every((r) => r.indv_status !== 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    polling = false;
    await poller;

    const bySerial = new Map(meters.map((m) => [m.globalDeviceId, m]));
    const rowOf = new Map(rows.map((r) => [r.global_device_id, r]));
    let lost = 0;
    for (const id of accepted) {
      const row = rowOf.get(id);
      const meter = bySerial.get(id)!;
      if (!row) lost += 1;
      else if (row.indv_status === 2 && !row.response_data) lost += 1;
      else if (row.indv_status === 1 && !this.holds(meter, command)) lost += 1;
    }
    const stuck = rows.filter((r) => r.indv_status === 0).length;
    const writePath = command.service === 'aux_relay_operations' ? '/io' : '/datetime';
    const writes = new Map<string, number>();
    for (const gateway of bench.fleet.gateways) {
      for (const request of gateway.handle.requests) {
        const match = /^\/meters\/(\d+)(\/\w+)$/.exec(request.path);
        if (request.method === 'POST' && match && match[2] === writePath)
          writes.set(match[1], (writes.get(match[1]) ?? 0) + 1);
      }
    }
    const duplicated = [...writes.values()].filter((n) => n > 1).length;
    const result: Figures = {
      case: name,
      accepted: accepted.length,
      lost,
      stuck,
      duplicated,
      fiveXx,
      unavailable,
      seconds: Math.round((Date.now() - started) / 1000),
      healthySeconds,
    };
    this.figures.push(result);
    console.log(JSON.stringify(result));
    return { ...result, transactionid, rows };
  }

  /** Records a case measured apart (MCS, MPCB) in the table. */
  record(result: Figures): void {
    this.figures.push(result);
  }

  /** The figures of every case run, one line each. */
  table(): string {
    return [
      'case | accepted | lost | stuck | duplicated | 5xx (of which 503) | seconds (healthy meters)',
      ...this.figures.map(
        (f) =>
          `${f.case} | ${f.accepted} | ${f.lost} | ${f.stuck} | ${f.duplicated} | ${f.fiveXx} (${f.unavailable}) | ${f.seconds} (${f.healthySeconds ?? '-'})`,
      ),
    ].join('\n');
  }

  private holds(meter: BenchMeter, command: Command): boolean {
    if (meter.gateway < 0) return false;
    const handle = this.bench.fleet.gateways[meter.gateway].handle;
    if (command.service === 'aux_relay_operations')
      return handle.readOutput(meter.serial, RELAY_PORT) === command.operate;
    return Math.abs(handle.readClock(meter.serial).getTime() - Date.now()) < 60_000;
  }
}

export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A probe that never answers (a query on a connection PostgreSQL's restart left half-open) ends at the deadline.
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      probe().catch(() => false),
      new Promise<false>(
        (resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))),
      ),
    ]);
    clearTimeout(timer);
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out waiting for the case to get under way');
}
