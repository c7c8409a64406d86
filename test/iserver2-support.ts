/** Shared by the iServer 2 driver suites: a gateway pointing at a simulator, a context that records. */
import { GatewayEndpoint, OperationContext } from '@hes/drivers';
import { IServer2SimulatorHandle } from '../apps/simulator/src/iserver2';

export function gatewayFor(
  sim: IServer2SimulatorHandle,
  overrides: Partial<GatewayEndpoint> = {},
): GatewayEndpoint {
  return gatewayAt(sim.endpoint, overrides);
}

/** A gateway for any unit model at `endpoint` (the guide model's, a TLS impostor's…). */
export function gatewayAt(endpoint: string, overrides: Partial<GatewayEndpoint> = {}): GatewayEndpoint {
  return {
    id: 'gw-iserver2',
    name: 'iServer 2 simulator',
    driver: 'OMEGA_ISERVER2',
    endpoint,
    tlsMode: 'verify',
    username: 'admin',
    password: '00000000',
    maxInFlight: 1,
    requestTimeoutMs: 3000,
    ...overrides,
  };
}

export function recordingContext(): OperationContext & {
  levels: number[];
  lines: string[];
  /** [sent, received] of every exchange that reported its bytes. */
  bytes: [number, number][];
} {
  const levels: number[] = [];
  const lines: string[] = [];
  const bytes: [number, number][] = [];
  return {
    levels,
    lines,
    bytes,
    progress: (level) => {
      levels.push(level);
    },
    log: (line) => lines.push(line),
    traffic: (sent, received) => bytes.push([sent, received]),
  };
}
