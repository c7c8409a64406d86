import { G13MeterOptions } from './g13-meter-model';
import { G13SimulatorHandle, startG13Simulator } from './g13-gateway-server';

export interface G13FleetOptions {
  gateways: number;
  metersPerGateway: number;
  /** HTTPS with self-signed certificates (default true). */
  tls?: boolean;
  latencyMs?: number;
  /** First port; gateway i listens on basePort + i. 0 or absent = random ports. */
  basePort?: number;
  host?: string;
  /** Days of history each meter builds at start (default 35; 0: none, see G13MeterOptions.historyDays). */
  historyDays?: number;
  /** The last this-many meters of each gateway serve only the manual's example resources (default 0). */
  manualOnlyMetersPerGateway?: number;
}

export interface G13FleetGateway {
  handle: G13SimulatorHandle;
  url: string;
  username: string;
  password: string;
  certificateFingerprintSha256?: string;
  meters: Array<{ serial: string; phases: 1 | 3; model: 'simulated' | 'manual-only' }>;
  serials: string[];
}

export interface G13Fleet {
  gateways: G13FleetGateway[];
  stop(): Promise<void>;
}

/** Serial of meter m behind gateway g: 10 digits, usable as an MSN. */
export function fleetMeterSerial(gateway: number, meter: number): string {
  return String(3_100_000_000 + (gateway + 1) * 1000 + (meter + 1));
}

/** N gateways × M meters; every third meter is single-phase, the others three-phase. */
export async function startG13Fleet(options: G13FleetOptions): Promise<G13Fleet> {
  const gateways: G13FleetGateway[] = [];
  try {
    for (let g = 0; g < options.gateways; g++) {
      const meters: G13MeterOptions[] = Array.from({ length: options.metersPerGateway }, (_, m) => ({
        serial: fleetMeterSerial(g, m),
        phases: m % 3 === 2 ? 1 : 3,
        location: `Feeder ${g + 1}`,
        historyDays: options.historyDays,
        model:
          m >= options.metersPerGateway - (options.manualOnlyMetersPerGateway ?? 0)
            ? 'manual-only'
            : 'simulated',
      }));
      const password = `g13-${g + 1}-secret`;
      const handle = await startG13Simulator({
        meters,
        tls: options.tls ?? true,
        port: options.basePort ? options.basePort + g : 0,
        host: options.host,
        latencyMs: options.latencyMs,
        users: [{ name: 'admin', password }],
        serial: 5000 + g + 1,
        alias: `G13-${g + 1}`,
      });
      gateways.push({
        handle,
        url: handle.url,
        username: 'admin',
        password,
        certificateFingerprintSha256: handle.certificateFingerprintSha256,
        meters: meters.map((m) => ({ serial: m.serial, phases: m.phases, model: m.model ?? 'simulated' })),
        serials: meters.map((m) => m.serial),
      });
    }
  } catch (error) {
    await Promise.all(gateways.map((g) => g.handle.stop()));
    throw error;
  }
  return {
    gateways,
    stop: async () => {
      await Promise.all(gateways.map((g) => g.handle.stop()));
    },
  };
}
