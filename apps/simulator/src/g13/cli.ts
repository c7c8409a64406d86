import { Command, InvalidArgumentError } from 'commander';
import { G13Fleet, startG13Fleet } from './g13-fleet';

export interface G13CommandOptions {
  gateways: number;
  meters: number;
  port: number;
  latency: number;
  host: string;
  http: boolean;
  manualOnly: number;
}

function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected a non-negative integer');
  return parsed;
}

/** What a person needs to query each gateway with curl. */
export function describeG13Fleet(fleet: G13Fleet): string {
  return fleet.gateways
    .map((gateway) => {
      const insecure = gateway.url.startsWith('https') ? '-k ' : '';
      return [
        `G13 gateway ${gateway.url}`,
        `  credentials: ${gateway.username} / ${gateway.password}`,
        ...(gateway.certificateFingerprintSha256
          ? [`  certificate SHA-256: ${gateway.certificateFingerprintSha256}`]
          : []),
        `  meters: ${gateway.meters
          .map(
            (m) =>
              `${m.serial} (${m.model === 'manual-only' ? 'manual examples only' : `${m.phases}-phase`})`,
          )
          .join(', ')}`,
        `  try: curl ${insecure}-u ${gateway.username}:${gateway.password} ${gateway.url}/meters/${gateway.serials[0] ?? '<serial>'}/energy/active`,
        '',
      ].join('\n');
    })
    .join('\n');
}

export function startG13FleetFromCommand(options: G13CommandOptions): Promise<G13Fleet> {
  return startG13Fleet({
    gateways: options.gateways,
    metersPerGateway: options.meters,
    basePort: options.port,
    latencyMs: options.latency,
    tls: !options.http,
    host: options.host,
    manualOnlyMetersPerGateway: options.manualOnly,
  });
}

/** Adds `g13`: a fleet of simulated G13 gateways a person can query with curl. */
export function registerG13Command(program: Command): void {
  program
    .command('g13')
    .description('simulate ABB G13 energy-meter gateways (JSON API, manual chapter 6)')
    .option('--gateways <n>', 'number of gateways', nonNegativeInteger, 1)
    .option('--meters <n>', 'meters per gateway', nonNegativeInteger, 3)
    .option(
      '--port <n>',
      'port of the first gateway (the others follow); 0 = random',
      nonNegativeInteger,
      8443,
    )
    .option('--latency <ms>', 'latency added to every answer', nonNegativeInteger, 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--http', 'plain HTTP instead of HTTPS with a self-signed certificate', false)
    .option(
      '--manual-only <n>',
      "the last n meters of each gateway serve only the manual's example resources (404 for the rest)",
      nonNegativeInteger,
      0,
    )
    .action(async (options: G13CommandOptions) => {
      const fleet = await startG13FleetFromCommand(options);
      process.stdout.write(describeG13Fleet(fleet));
      const shutdown = () => {
        void fleet.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
