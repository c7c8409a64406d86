/**
 * `simulator mpcb`: runs an MPCB OCEMS central server simulator until interrupted.
 *   simulator mpcb --port 8090 --site 'site_1234:<32+ character key>:ver_1.0:Stack1,Stack2'
 */
import type { Command } from 'commander';
import {
  MpcbCentralSimulatorHandle,
  SimulatedSite,
  startMpcbCentralSimulator,
} from './mpcb-central-simulator';

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max)
      throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
    return parsed;
  };
}

/** siteId:key:softwareVersion[:monitoringId,monitoringId…] – the key may not contain ':'. */
export function parseSiteOption(value: string, previous: SimulatedSite[] = []): SimulatedSite[] {
  const [siteId, siteKey, softwareVersionId, monitoring, ...rest] = value.split(':');
  if (!siteId || !siteKey || !softwareVersionId || rest.length > 0)
    throw new Error(`--site must be siteId:key:softwareVersion[:monitoringId,…], not "${value}"`);
  if (siteKey.length < 32) throw new Error(`--site ${siteId}: the key must have at least 32 characters`);
  const monitoringIds = monitoring ? monitoring.split(',').filter(Boolean) : undefined;
  return [...previous, { siteId, siteKey, softwareVersionId, monitoringIds }];
}

interface MpcbCommandOptions {
  host: string;
  port: number;
  basePath: string;
  timeZone: string;
  tolerance: number;
  realtimeDelay: number;
  latency: number;
  site: SimulatedSite[];
}

export interface MpcbCommandHooks {
  onStarted?(simulator: MpcbCentralSimulatorHandle): void;
  /** Stop on SIGINT/SIGTERM and exit (default true). */
  handleSignals?: boolean;
}

export function registerMpcbCommand(program: Command, hooks: MpcbCommandHooks = {}): void {
  program
    .command('mpcb')
    .description('MPCB OCEMS central server simulator: uploads, configuration, calibration, diagnostics')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'HTTP port (0 = any free port)', integer('--port', 0, 65535), 8090)
    .option('--base-path <path>', 'path prefix of the routes (/MPCBServer is accepted too)', '/mpcb')
    .option('--time-zone <zone>', 'zone of the Timestamp header wall-clock time', 'Asia/Kolkata')
    .option('--tolerance <seconds>', 'accepted timestamp difference', integer('--tolerance', 1, 86400), 900)
    .option(
      '--realtime-delay <seconds>',
      'oldest reading realtimeUpload accepts',
      integer('--realtime-delay', 1, 86400),
      120,
    )
    .option('--latency <ms>', 'delay before every answer', integer('--latency', 0, 600000), 0)
    .option(
      '--site <site>',
      'a registered site: siteId:key:softwareVersion[:monitoringId,…] (repeatable)',
      parseSiteOption,
      [],
    )
    .action(async (options: MpcbCommandOptions) => {
      if (options.site.length === 0) throw new Error('give at least one --site siteId:key:softwareVersion');
      const simulator = await startMpcbCentralSimulator({
        host: options.host,
        port: options.port,
        basePath: options.basePath,
        timeZone: options.timeZone,
        timestampToleranceSeconds: options.tolerance,
        realtimeMaxDelaySeconds: options.realtimeDelay,
        latencyMs: options.latency,
        sites: options.site,
      });
      console.log(`MPCB central server simulator on ${simulator.url}`);
      console.log(`  client base URL (MPCB_BASE_URL)  ${simulator.baseUrl}`);
      for (const site of options.site)
        console.log(
          `  site ${site.siteId}  software version ${site.softwareVersionId}  monitoring ${site.monitoringIds?.join(', ') ?? '(any)'}`,
        );
      console.log(`  control: POST ${simulator.url}/_simulator/flags {"siteId","monitoringId","flag"}`);
      console.log(
        `           POST ${simulator.url}/_simulator/configuration {"siteId","monitoringId","configuration"}`,
      );
      console.log(
        `           POST ${simulator.url}/_simulator/calibration {"siteId","monitoringId","calibration","type"}`,
      );
      console.log(
        `           GET  ${simulator.url}/_simulator/sites/<siteId>/uploads, /_simulator/requests, /_simulator/documents`,
      );
      hooks.onStarted?.(simulator);
      if (hooks.handleSignals !== false) {
        const stop = () => void simulator.stop().then(() => process.exit(0));
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
    });
}
