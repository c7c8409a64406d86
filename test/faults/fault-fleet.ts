import { BenchMeter, FaultBench } from './fault-bench';
import { FaultCases } from './fault-cases';

/** A positive whole number from the environment, or the default. */
function sizeFrom(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}

/**
 * Issue 16's fleet: 1 000 meters on 10 gateways, and 100 behind a gateway that never answers (the
 * hung-gateway file's bench only). A smaller one for a quick look: FAULTS_GATEWAYS,
 * FAULTS_METERS_PER_GATEWAY, FAULTS_HUNG_METERS.
 */
export const GATEWAYS = sizeFrom('FAULTS_GATEWAYS', 10);
export const METERS_PER_GATEWAY = sizeFrom('FAULTS_METERS_PER_GATEWAY', 100);
export const HUNG_METERS = sizeFrom('FAULTS_HUNG_METERS', 100);

/**
 * The bench of one fault file and its cases: its own PostgreSQL, Redis, simulated fleet and two app
 * processes (minutes on a busy machine; the files of the suite run side by side, each on its own bench).
 */
export async function startFaultFleet(hungMeters: number): Promise<{ bench: FaultBench; cases: FaultCases }> {
  const bench = await FaultBench.start({
    gateways: GATEWAYS,
    metersPerGateway: METERS_PER_GATEWAY,
    hungMeters,
    latencyMs: 100,
  });
  return { bench, cases: new FaultCases(bench) };
}

/** Prints the file's figures (docs/reliability.md keeps them) and stops its bench. */
export async function stopFaultFleet(bench?: FaultBench, cases?: FaultCases): Promise<void> {
  if (cases) console.log(cases.table());
  await bench?.stop();
}

/** The bench's meters behind gateways that answer. */
export function healthyMeters(bench: FaultBench): BenchMeter[] {
  return bench.meters.filter((m) => m.gateway >= 0);
}
