/**
 * The raw limits of the moving parts, measured on the same Redis and the same database as a benchmark:
 * BullMQ no-op jobs per second, and conditional single-row TRANSACTION_STATUS updates per second
 * (the exact statements of TransactionStatusRepository.advance / complete, five per row, as a worker does).
 */
import { Queue, Worker } from 'bullmq';
import { Pool } from 'pg';
import { REDIS_URL } from './support';

function redisConnection(): { host: string; port: number } {
  const url = new URL(REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

export interface NoopResult {
  jobs: number;
  concurrency: number;
  /** addBulk alone. */
  addPerSecond: number;
  /** From the first add to the last job completed. */
  endToEndPerSecond: number;
}

/** `jobs` no-op jobs through one queue and one Worker of this process (same shape as the transactions queue). */
export async function bullmqNoop(prefix: string, jobs: number, concurrency: number): Promise<NoopResult> {
  const connection = redisConnection();
  const name = 'bench-noop';
  const queue = new Queue(name, { connection, prefix });
  await queue.waitUntilReady();
  let completed = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const worker = new Worker(name, () => Promise.resolve('ok'), {
    connection,
    prefix,
    concurrency,
    autorun: false,
  });
  worker.on('completed', () => {
    completed += 1;
    if (completed === jobs) resolveDone();
  });
  await worker.waitUntilReady();
  // Adds first (alone), then processing; then both overlapped, as in a fan-out.
  const started = performance.now();
  const running = worker.run();
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({
        name: 'noop',
        data: { transactionid: 'noop', globalDeviceId: `n${i + k}` },
        opts: {
          jobId: `noop-${i + k}`,
          attempts: 5,
          backoff: { type: 'exponential', delay: 2000 },
          removeOnComplete: 1000,
        },
      })),
    );
  }
  const added = performance.now();
  await done;
  const finished = performance.now();
  await worker.close();
  await running.catch(() => undefined);
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  return {
    jobs,
    concurrency,
    addPerSecond: jobs / ((added - started) / 1000),
    endToEndPerSecond: jobs / ((finished - started) / 1000),
  };
}

export interface UpdateResult {
  rows: number;
  updates: number;
  connections: number;
  perSecond: number;
}

/**
 * Conditional single-row updates on udil.transaction_status: `rows` rows of one transaction each taken
 * 1→2→3→4→5 by its own sequence of statements, `connections` rows at a time (the apps' pool size).
 */
export async function conditionalUpdates(
  databaseUrl: string,
  rows: number,
  connections: number,
): Promise<UpdateResult> {
  const pool = new Pool({ connectionString: databaseUrl, max: connections });
  const transactionid = `raw-${Date.now()}`;
  const ids = Array.from({ length: rows }, (_, i) => `raw${i}`);
  await pool.query(
    `INSERT INTO udil.transaction_status (transactionid, global_device_id, msn, type, type_parameters)
     SELECT $1, id, 1, 'AUX_RELAY_OPERATIONS', '{}' FROM unnest($2::varchar[]) AS id`,
    [transactionid, ids],
  );
  const advance = (id: string, level: number) =>
    pool.query(
      `UPDATE udil.transaction_status SET status_level = $3, status_${level}_datetime = now(), db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = $2 AND status_level < $3
          AND request_cancelled = 0 AND indv_status = 0
        RETURNING 1`,
      [transactionid, id, level],
    );
  const complete = (id: string) =>
    pool.query(
      `UPDATE udil.transaction_status
          SET status_level = 5, status_5_datetime = now(), indv_status = 1, response_data = $3, db_datetime = now()
        WHERE transactionid = $1 AND global_device_id = $2 AND request_cancelled = 0 AND indv_status = 0
        RETURNING 1`,
      [transactionid, id, 'relay operated'],
    );
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        for (const level of [1, 2, 3, 4]) await advance(id, level);
        await complete(id);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await pool.query(`DELETE FROM udil.transaction_status WHERE transactionid = $1`, [transactionid]);
  await pool.end();
  return { rows, updates: rows * 5, connections, perSecond: (rows * 5) / elapsed };
}
