/**
 * `simulator iserver2`: runs an Omega iServer 2 simulator until interrupted and prints where to reach it.
 *   simulator iserver2 --port 8081 --http-port 8080 --probes 2 --interval 5 --latency 0
 */
import type { Command } from 'commander';
import { IServer2SimulatorHandle, startIServer2Simulator } from './iserver2-simulator';

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max)
      throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
    return parsed;
  };
}

interface IServer2CommandOptions {
  host: string;
  port: number;
  httpPort: number;
  probes: number;
  interval: number;
  latency: number;
  adminPassword: string;
  userPassword: string;
  tokenTtl: number;
}

/** For tests: see the started simulator, and leave the process's signals alone. */
export interface IServer2CommandHooks {
  onStarted?(simulator: IServer2SimulatorHandle): void;
  /** Stop on SIGINT/SIGTERM and exit (default true). */
  handleSignals?: boolean;
}

export function registerIServer2Command(program: Command, hooks: IServer2CommandHooks = {}): void {
  program
    .command('iserver2')
    .description(
      'Omega iServer 2 simulator: JSON WebSocket commands (guide chapter 3) and the CGI extract (4.1)',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--port <port>',
      'WebSocket port (the unit uses 8081; 0 = any free port)',
      integer('--port', 0, 65535),
      8081,
    )
    .option(
      '--http-port <port>',
      'CGI extract port (the unit uses 80)',
      integer('--http-port', 0, 65535),
      8080,
    )
    .option('--probes <count>', 'number of probes, 1 or 2', integer('--probes', 1, 2), 2)
    .option('--interval <seconds>', 'logging interval in seconds', integer('--interval', 1, 86400), 5)
    .option('--latency <ms>', 'delay before every answer', integer('--latency', 0, 600000), 0)
    .option('--admin-password <password>', 'password of the "admin" account', '00000000')
    .option('--user-password <password>', 'password of the "user" account (read-only)', '00000000')
    .option(
      '--token-ttl <seconds>',
      'token lifetime after login, 0 = never expires',
      integer('--token-ttl', 0, 31536000),
      3600,
    )
    .action(async (options: IServer2CommandOptions) => {
      const simulator = await startIServer2Simulator({
        host: options.host,
        port: options.port,
        httpPort: options.httpPort,
        probeCount: options.probes,
        loggingIntervalSeconds: options.interval,
        latencyMs: options.latency,
        adminPassword: options.adminPassword,
        userPassword: options.userPassword,
        tokenTtlSeconds: options.tokenTtl,
      });
      const sensors = simulator.unit.sensors.map(
        (sensor) => `${sensor.id} ${sensor.spec.name} (${sensor.spec.unit})`,
      );
      console.log(`iServer 2 simulator listening
  WebSocket:  ${simulator.url}
  CGI:        ${simulator.httpUrl}/cgi-bin/query?startTime=<UTC s>&endTime=<UTC s>&p1ch0=<header>
  endpoint:   ${simulator.endpoint}   (gateway endpoint for the OMEGA_ISERVER2 driver)
  accounts:   ${simulator.credentials.map((c) => `${c.username} / ${c.password}`).join(', ')}
  sensors:    ${sensors.join(', ')}
  try:        {"login":{"username":"admin","password":"${simulator.credentials[0].password}"}}`);
      hooks.onStarted?.(simulator);
      if (hooks.handleSignals === false) return;
      const stop = (): void => {
        void simulator.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
