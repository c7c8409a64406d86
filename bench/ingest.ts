/**
 * Ingestion: load-profile rows per second into udil.load_profile_data through the project's write path
 * (UdilReadingsRepository, idempotent unnest upserts), against a raw COPY of the same rows into the same
 * table in the same run.
 *
 *   npm run bench:ingest -- [--meters 2000] [--intervals 96] [--batch 5000] [--parallel 4] [--runs 2] [--no-results]
 *
 * Write path variants: one upsertMany per `--batch` rows (a poll or an ingestion batch), `--parallel` at
 * once; one upsert per meter-day (96 rows, as an on-demand LPRO read stores them), 20 at once; and the
 * same batches again (every row already stored: the idempotent no-change path).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '../libs/database/src/data-source-options';
import { UdilReadingsRepository } from '../libs/readings/src/udil-readings.repository';
import { UdilRow } from '../libs/drivers/src';
import {
  LOG_DIR,
  Row,
  appendResults,
  commandLine,
  createBenchDatabase,
  flag,
  machineFacts,
  markdownTable,
  numberArg,
  printTable,
  round,
} from './support';

const meters = numberArg('meters', 2000);
const intervals = numberArg('intervals', 96);
const batchRows = numberArg('batch', 5000);
const parallel = numberArg('parallel', 4);
const runs = numberArg('runs', 2);

/** The columns a G13 load-profile read fills (LOAD_PROFILE_COLUMNS and the interval). */
const COLUMNS = [
  'interval',
  'active_energy_pos_tl',
  'active_energy_neg_tl',
  'reactive_energy_pos_tl',
  'reactive_energy_neg_tl',
  'voltage_phase_a',
  'voltage_phase_b',
  'voltage_phase_c',
  'current_phase_a',
  'current_phase_b',
  'current_phase_c',
  'average_pf',
] as const;

interface Item {
  device: { globalDeviceId: string; msn: string };
  reading: UdilRow;
}

function generate(dayStart: Date): Item[] {
  const items: Item[] = [];
  for (let m = 0; m < meters; m++) {
    const device = { globalDeviceId: `lp${m + 1}`, msn: String(3_200_000_000 + m) };
    let energy = 1000 + m;
    for (let i = 0; i < intervals; i++) {
      energy += 0.25 + (i % 7) * 0.01;
      items.push({
        device,
        reading: {
          meter_datetime: new Date(dayStart.getTime() + i * 15 * 60_000),
          interval: 900,
          active_energy_pos_tl: Math.round(energy * 1000) / 1000,
          active_energy_neg_tl: 0,
          reactive_energy_pos_tl: Math.round(energy * 300) / 1000,
          reactive_energy_neg_tl: 0,
          voltage_phase_a: 230.1 + (i % 5),
          voltage_phase_b: 229.7 + (i % 3),
          voltage_phase_c: 231.2 - (i % 4),
          current_phase_a: 4.25 + (m % 10),
          current_phase_b: 3.5 + (i % 6),
          current_phase_c: 5.125,
          average_pf: 0.95,
        },
      });
    }
  }
  return items;
}

function csvOf(items: Item[]): string {
  return items
    .map(({ device, reading }) =>
      [
        device.globalDeviceId,
        device.msn,
        (reading.meter_datetime as Date).toISOString(),
        ...COLUMNS.map((c) => String(reading[c])),
      ].join(','),
    )
    .join('\n');
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function inParallel<T>(tasks: T[], width: number, work: (task: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) await work(tasks[next++]);
    }),
  );
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function main(): Promise<void> {
  const facts = await machineFacts();
  const total = meters * intervals;
  console.log(
    `Ingestion benchmark, load ${facts.load}: ${meters} meters × ${intervals} intervals = ${total} rows`,
  );
  const database = await createBenchDatabase('ingest');
  const dataSource = new DataSource({ ...createDataSourceOptions(database.url, 'hes-bench-ingest') });
  await dataSource.initialize();
  const repository = new UdilReadingsRepository(dataSource);
  const results: Row[] = [];
  try {
    const items = generate(new Date('2026-11-20T00:00:00Z'));
    mkdirSync(LOG_DIR, { recursive: true });
    const csvFile = join(LOG_DIR, 'load-profile.csv');
    writeFileSync(csvFile, csvOf(items));
    const byMeter = chunks(items, intervals);
    const truncate = () => dataSource.query(`TRUNCATE udil.load_profile_data`);
    const vacuum = () => dataSource.query(`VACUUM ANALYZE udil.load_profile_data`);
    const add = (run: number, path: string, seconds: number, copy?: number) => {
      const rate = total / seconds;
      results.push({
        run,
        path,
        rows: total,
        s: round(seconds, 2),
        'rows/s': round(rate),
        '% of COPY': copy ? `${round((100 * rate) / copy, 1)} %` : '',
      });
      console.log(`  run ${run} ${path}: ${round(rate)} rows/s`);
    };
    // Warm-up: the column catalogue, connections, plans.
    await repository.upsertMany('load_profile_data', items.slice(0, 1000));
    for (let run = 1; run <= runs; run++) {
      await truncate();
      await vacuum();
      const copySeconds = await timed(async () => {
        execFileSync('psql', [
          database.url,
          '-v',
          'ON_ERROR_STOP=1',
          '-qc',
          `\\copy udil.load_profile_data (global_device_id, msn, meter_datetime, ${COLUMNS.map((c) => `"${c}"`).join(', ')}) FROM '${csvFile}' CSV`,
        ]);
        return Promise.resolve();
      });
      const copyRate = total / copySeconds;
      add(run, 'COPY (psql \\copy, CSV, one stream)', copySeconds);

      await truncate();
      await vacuum();
      add(
        run,
        `upsertMany, ${batchRows} rows per call, ${parallel} at once (new rows)`,
        await timed(() =>
          inParallel(chunks(items, batchRows), parallel, (batch) =>
            repository.upsertMany('load_profile_data', batch),
          ),
        ),
        copyRate,
      );
      add(
        run,
        `upsertMany again, same rows (idempotent: nothing changes)`,
        await timed(() =>
          inParallel(chunks(items, batchRows), parallel, (batch) =>
            repository.upsertMany('load_profile_data', batch),
          ),
        ),
        copyRate,
      );

      await truncate();
      await vacuum();
      add(
        run,
        `upsert per meter-day (${intervals} rows per call, 20 at once, as an LPRO read stores them)`,
        await timed(() =>
          inParallel(byMeter, 20, (day) =>
            repository.upsert(
              'load_profile_data',
              day[0].device,
              day.map((i) => i.reading),
            ),
          ),
        ),
        copyRate,
      );
    }
    const [{ count }] = await dataSource.query<{ count: string }[]>(
      `SELECT count(*) AS count FROM udil.load_profile_data`,
    );
    if (Number(count) !== total) throw new Error(`expected ${total} rows, the table holds ${count}`);
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
  printTable('Ingestion into udil.load_profile_data', results);
  if (!flag('no-results')) {
    appendResults('Ingestion', facts, commandLine('bench:ingest'), [
      `Rows: ${meters} meters × ${intervals} quarter-hours, ${COLUMNS.length + 3} columns each (the columns a G13 load-profile read fills). ` +
        `Table truncated and vacuumed before each measurement; the write path runs in this process through a TypeORM DataSource (pool 20).`,
      markdownTable(results),
    ]);
    console.log('\nAppended to bench/RESULTS.md');
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
