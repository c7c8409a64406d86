import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { StatementBatcher } from '@hes/database';
import { formatUdilDatetime } from '@hes/udil';

/**
 * This process as the head-end names it: `host:pid`. A worker's id in worker_heartbeats, and the process
 * named at the head of every message_log it writes (several workers share the work: this says which one
 * talked to the device).
 */
export const PROCESS_ID = `${hostname()}:${process.pid}`;

/**
 * A message_log to fill while talking to a device: timestamped lines, the first naming this worker
 * process ("2026-11-21 10:00:01 worker host:1234").
 */
export function startMessageLog(timeZone: string): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(`${formatUdilDatetime(new Date(), timeZone)} ${line}`);
  };
  log(`worker ${PROCESS_ID}`);
  return { lines, log };
}

export interface CommunicationRecord {
  globalDeviceId: string;
  msn: string | null;
  successful: boolean;
  /** Timestamped lines, e.g. "2026-11-21 10:00:01 POST /meters/123/io 200". */
  messageLog: string[];
  startedAt: Date;
  endedAt: Date;
  meterDatetime?: Date | null;
  bytesSent?: number;
  bytesReceived?: number;
}

const COLUMNS = `global_device_id, msn, meter_datetime, communication_status, message_log, connection_duration,
          mdc_read_datetime, bytes_sent, bytes_received`;

/** The row's values, in the order of COLUMNS. */
function valuesOf(entry: CommunicationRecord): unknown[] {
  return [
    entry.globalDeviceId,
    entry.msn,
    entry.meterDatetime ?? null,
    entry.successful ? 1 : 0,
    entry.messageLog.join('\n'),
    Math.round((entry.endedAt.getTime() - entry.startedAt.getTime()) / 1000),
    entry.endedAt,
    entry.bytesSent ?? null,
    entry.bytesReceived ?? null,
  ];
}

/**
 * DEVICE_COMMUNICATION_HISTORY (UDIL 3.2 §3.1.7): one row per communication attempt. Rows recorded
 * by concurrent jobs are inserted together (see {@link StatementBatcher}).
 */
@Injectable()
export class CommunicationHistoryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  record(entry: CommunicationRecord): Promise<void> {
    return this.inserts.submit(entry);
  }

  private readonly inserts = new StatementBatcher<CommunicationRecord, void>({
    single: async (entry) => {
      await this.dataSource.query(
        `INSERT INTO udil.device_communication_history (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        valuesOf(entry),
      );
    },
    many: async (entries) => {
      await this.dataSource.query(historyInsertFromArrays(1), historyArrays(entries));
      return entries.map(() => undefined);
    },
  });
}

/** Records as one array per column (see {@link historyInsertFromArrays}). */
export function historyArrays(entries: readonly CommunicationRecord[]): unknown[][] {
  const rows = entries.map(valuesOf);
  return COLUMNS.split(',').map((_, column) => rows.map((row) => row[column]));
}

/** The insert of the rows of {@link historyArrays}, given as the parameters from `$first` on. */
export function historyInsertFromArrays(first: number): string {
  const types = ['varchar', 'bigint', 'timestamptz', 'int', 'text', 'int', 'timestamptz', 'int', 'int'];
  return `INSERT INTO udil.device_communication_history (${COLUMNS})
         SELECT * FROM unnest(${types.map((type, i) => `$${first + i}::${type}[]`).join(', ')})`;
}
