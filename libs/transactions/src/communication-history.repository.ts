import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

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

/** DEVICE_COMMUNICATION_HISTORY (UDIL 3.2 §3.1.7): one row per communication attempt. */
@Injectable()
export class CommunicationHistoryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(entry: CommunicationRecord): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO udil.device_communication_history
         (global_device_id, msn, meter_datetime, communication_status, message_log, connection_duration, mdc_read_datetime,
          bytes_sent, bytes_received)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        entry.globalDeviceId,
        entry.msn,
        entry.meterDatetime ?? null,
        entry.successful ? 1 : 0,
        entry.messageLog.join('\n'),
        Math.round((entry.endedAt.getTime() - entry.startedAt.getTime()) / 1000),
        entry.endedAt,
        entry.bytesSent ?? null,
        entry.bytesReceived ?? null,
      ],
    );
  }
}
