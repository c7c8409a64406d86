/**
 * The G13 driver alone: CPU per operation of the measuring process (driver, G13 client and the kit's HTTP
 * stack, nothing of the worker) for `operateRelay` (3 requests), `setClock` (2) and `readClock` (1) against
 * simulated G13 gateways in a process of their own, meters taken round-robin over the gateways as the
 * fan-out does. With `--baseline <dist/bench of another build>` the same passes run, alternating, with that
 * build's driver against the same fleet in the same run.
 *
 *   npm run bench:driver -- [--gateways 20] [--latency 20] [--concurrency 40] [--passes 3] [--runs 2] \
 *        [--baseline /abs/path/dist/bench] [--label text] [--no-results]
 *
 * The first pass of each process warms the JIT and opens the connections; the table reports every pass.
 */
import { ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';
import { startG13Fleet } from '../apps/simulator/src/g13/g13-fleet';
import type { DeviceAddress } from '../libs/drivers/src';
import {
  BUILD,
  Row,
  arg,
  machineFacts,
  markdownTable,
  numberArg,
  printTable,
  recordRun,
  round,
  runBenchmark,
} from './support';

interface FleetGateway {
  url: string;
  username: string;
  password: string;
  serials: string[];
}

interface PassResult {
  operation: string;
  pass: number;
  cpuMicrosPerOp: number;
  wallMs: number;
  errors: number;
}

const OPERATIONS = ['operateRelay', 'setClock', 'readClock'] as const;

/** Child: the fleet. */
async function fleetChild(): Promise<void> {
  const fleet = await startG13Fleet({
    gateways: numberArg('gateways', 20),
    metersPerGateway: 100,
    tls: false,
    latencyMs: numberArg('latency', 20),
    historyDays: 0,
  });
  const gateways: FleetGateway[] = fleet.gateways.map((g) => ({
    url: g.url,
    username: g.username,
    password: g.password,
    serials: g.serials,
  }));
  process.send?.(gateways);
}

/** Child: one build's driver, every operation `passes` times over every meter. */
async function measureChild(driversIndex: string, gateways: FleetGateway[]): Promise<PassResult[]> {
  // A build chosen at run time (this one or the baseline's): its module has this build's shape.
  const { G13Driver } = (await import(driversIndex)) as typeof import('../libs/drivers/src');
  const driver = new G13Driver({});
  const perGateway = gateways.map((g, i) =>
    g.serials.map((serial): DeviceAddress => ({
      serial,
      globalDeviceId: `m${serial}`,
      msn: serial,
      gateway: {
        id: `g${i}`,
        name: `g${i}`,
        driver: 'ABB_G13',
        endpoint: g.url,
        tlsMode: 'insecure',
        username: g.username,
        password: g.password,
        maxInFlight: 2,
        requestTimeoutMs: 10_000,
      },
    })),
  );
  const devices: DeviceAddress[] = [];
  for (let m = 0; m < perGateway[0].length; m++) for (const list of perGateway) devices.push(list[m]);
  const ctx = () => ({ progress: () => undefined, log: () => undefined, traffic: () => undefined });
  const results: PassResult[] = [];
  for (let pass = 1; pass <= numberArg('passes', 3); pass++) {
    for (const operation of OPERATIONS) {
      let next = 0;
      let errors = 0;
      const cpu = process.cpuUsage();
      const started = Date.now();
      await Promise.all(
        Array.from({ length: numberArg('concurrency', 40) }, async () => {
          while (next < devices.length) {
            const device = devices[next++];
            try {
              if (operation === 'operateRelay') await driver.operateRelay(device, pass % 2 === 1, ctx());
              else if (operation === 'setClock') await driver.setClock(device, new Date(), ctx());
              else await driver.readClock(device, ctx());
            } catch {
              errors += 1;
            }
          }
        }),
      );
      const used = process.cpuUsage(cpu);
      results.push({
        operation,
        pass,
        cpuMicrosPerOp: round((used.user + used.system) / devices.length),
        wallMs: Date.now() - started,
        errors,
      });
    }
  }
  await driver.close();
  return results;
}

function child(args: string[]): ChildProcess {
  return fork(__filename, [...process.argv.slice(2), ...args], { stdio: 'inherit' });
}

function firstMessage<T>(process: ChildProcess): Promise<T> {
  return new Promise<T>((resolveMessage, reject) => {
    process.once('message', (message) => resolveMessage(message as T));
    process.once('exit', (code) => reject(new Error(`child exited with ${code} before answering`)));
  });
}

async function main(): Promise<void> {
  const facts = await machineFacts();
  const builds: Array<[string, string]> = [['this build', resolve(BUILD, 'libs/drivers/src/index.js')]];
  const baseline = arg('baseline');
  if (baseline) builds.push(['baseline', resolve(baseline, 'libs/drivers/src/index.js')]);
  console.log(
    `Driver benchmark, load ${facts.load}: builds ${builds.map(([name, path]) => `${name} (${path})`).join(', ')}`,
  );
  const fleet = child(['--fleet-child']);
  const rows: Row[] = [];
  try {
    const gateways = await firstMessage<FleetGateway[]>(fleet);
    for (let run = 1; run <= numberArg('runs', 2); run++) {
      for (const [name, index] of builds) {
        const measuring = child(['--measure-child', index]);
        measuring.send(gateways);
        const results = await firstMessage<PassResult[]>(measuring);
        measuring.kill();
        for (const r of results)
          rows.push({
            build: name,
            run,
            pass: r.pass,
            operation: r.operation,
            'requests per op': r.operation === 'operateRelay' ? 3 : r.operation === 'setClock' ? 2 : 1,
            'CPU per op (µs)': r.cpuMicrosPerOp,
            'wall (ms)': r.wallMs,
            errors: r.errors,
          });
      }
    }
  } finally {
    fleet.kill();
  }
  printTable('G13 driver, CPU per operation of the measuring process', rows);
  recordRun('G13 driver', facts, 'bench:driver', [markdownTable(rows)]);
}

if (process.argv.includes('--fleet-child')) void fleetChild();
else if (process.argv.includes('--measure-child')) {
  const index = process.argv[process.argv.indexOf('--measure-child') + 1];
  process.once('message', (gateways) => {
    measureChild(index, gateways as FleetGateway[]).then(
      (results) => process.send?.(results, () => process.exit(0)),
      (error: Error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
} else runBenchmark(main);
