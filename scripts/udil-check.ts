/**
 * `npm run udil:check -- --base URL --user U --pass P --code C --devices g1,g2 [--generation 2019|3]`
 *
 * A conformance self-test of any MDC's UDIL API (this head-end's or another vendor's): every service of the
 * chosen generation, requested the way MDM tools send them, the keys of every answer checked, every command
 * polled to status_level 5 (within --timeout seconds, 180 by default), and a pass/fail table with reasons.
 * Exit status 1 when a check failed, 2 on bad arguments. device_creation is not run: it creates meters.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ConformanceRun, Verdict } from './udil-check/conformance-run';
import { Generation } from './udil-check/expectations';
import { MdcClient } from './udil-check/mdc-client';
import { runGeneration } from './udil-check/udil-services';

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InvalidArgumentError('a number of seconds above 0');
  return seconds;
}

function generationOf(value: string): Generation {
  if (value === '2019' || value === '3') return value;
  if (/^3(\.\d+)?$/.test(value)) return '3';
  throw new InvalidArgumentError('2019 or 3');
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('udil:check')
    .description('Conformance self-test of an MDC UDIL API')
    .requiredOption('--base <url>', 'the MDC base URL, e.g. https://mdc.example:8443/')
    .requiredOption('--user <username>', 'authorization_service username')
    .requiredOption('--pass <password>', 'authorization_service password')
    .requiredOption('--code <code>', 'authorization_service code')
    .requiredOption(
      '--devices <ids>',
      'global_device_id list, comma-separated (commands change these meters)',
    )
    .option(
      '--generation <generation>',
      'UDIL generation: 2019 or 3 (3.2/3.3 names)',
      generationOf,
      '3' as Generation,
    )
    .option('--timeout <seconds>', 'how long a command may take to reach level 5', positiveSeconds, 180)
    .option('--time-zone <zone>', "the MDC's time zone for request datetimes", 'Asia/Karachi')
    .option('--quiet', 'print only the table')
    .showHelpAfterError();
  program.parse();
  const options = program.opts<{
    base: string;
    user: string;
    pass: string;
    code: string;
    devices: string;
    generation: Generation;
    timeout: number;
    timeZone: string;
    quiet?: boolean;
  }>();
  const devices = options.devices
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (devices.length === 0) program.error('--devices needs at least one global_device_id', { exitCode: 2 });
  try {
    new URL(options.base);
  } catch {
    program.error(`--base ${options.base} is not a URL`, { exitCode: 2 });
  }

  const client = new MdcClient(
    options.base,
    { username: options.user, password: options.pass, code: options.code },
    options.timeZone,
    Math.max(options.timeout * 1000, 30_000),
  );
  const log = options.quiet ? undefined : (line: string) => console.log(line);
  const run = new ConformanceRun(client, devices, options.generation, options.timeout * 1000, log);
  const started = Date.now();
  await runGeneration(run);

  const counts: Record<Verdict, number> = { PASS: 0, FAIL: 0, 'N/A': 0 };
  for (const result of run.results) counts[result.verdict] += 1;
  console.log(
    `\nUDIL ${options.generation === '3' ? '3.x' : '2019'} conformance of ${options.base} (devices ${devices.join(', ')}), ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  console.log(
    table([
      ['RESULT', 'SERVICE', 'CHECK', 'REASON'],
      ...run.results.map((r) => [r.verdict, r.service, r.check, r.reason]),
    ]),
  );
  console.log(`\n${counts.PASS} passed, ${counts.FAIL} failed, ${counts['N/A']} not applicable`);
  process.exitCode = counts.FAIL > 0 ? 1 : 0;
}

main().catch((error: Error) => {
  console.error(`udil:check could not run: ${error.message}`);
  process.exitCode = 2;
});
