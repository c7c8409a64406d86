import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionStatusRepository, TransactionStatusRow } from './transaction-status.repository';

export interface TransactionWait {
  /** True when every awaited row finished (complete, failed or cancelled) within the wait. */
  finished: boolean;
  /** The awaited rows as last read (finished or not). */
  rows: TransactionStatusRow[];
}

/** First pause between two looks at the rows; each next pause is longer, up to the longest. */
const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 1000;

/** A row the worker will not touch again: complete or failed (indv_status 1 or 2), or cancelled. */
export function isFinished(row: TransactionStatusRow): boolean {
  return row.indv_status !== 0 || row.request_cancelled === 1;
}

/**
 * Waits, for a bounded time, until the rows of a transaction have finished: what the synchronous UDIL 3.x
 * reads (on_demand_data_read, on_demand_parameter_read) need before they answer with the meter's values.
 * The rows are read from TRANSACTION_STATUS (one indexed query per look, the worker's own record of its
 * progress), so the wait works whichever process carries the read out and survives nothing it needs to.
 */
@Injectable()
export class TransactionWaiter {
  constructor(private readonly statuses: TransactionStatusRepository) {}

  /**
   * The rows of `transactionid` for `globalDeviceIds` once all have finished, or as they stand after
   * `timeoutMs` (finished: false). A timeout of 0 looks once. An aborted `signal` (the client went away)
   * ends the wait early, as a timeout; the transaction itself goes on.
   */
  async wait(
    transactionid: string,
    globalDeviceIds: string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<TransactionWait> {
    const wanted = new Set(globalDeviceIds);
    const deadline = Date.now() + timeoutMs;
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(LONGEST_PAUSE_MS, pause * 2)) {
      const rows = (await this.statuses.findByTransactions([transactionid])).filter((row) =>
        wanted.has(row.global_device_id),
      );
      if (rows.length === wanted.size && rows.every(isFinished)) return { finished: true, rows };
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return { finished: false, rows };
      await sleep(Math.min(pause, left), undefined, { signal }).catch(() => undefined);
    }
  }
}
