import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * The tables UDIL §3.3 serves through the API, with the datetime their range applies to
 * (DEVICE_COMMUNICATION_HISTORY, UDIL 3.2 §3.1.7: when the communication took place).
 */
export const READABLE_TABLES = {
  instantaneous_data: 'meter_datetime',
  billing_data: 'meter_datetime',
  monthly_billing_data: 'meter_datetime',
  load_profile_data: 'meter_datetime',
  events: 'event_datetime',
  meter_visuals: 'db_datetime',
  device_communication_history: 'mdc_read_datetime',
} as const;

export type ReadableTable = keyof typeof READABLE_TABLES;

export interface TableQuery {
  globalDeviceIds: string[];
  from?: Date;
  to?: Date;
  /** LOAD_PROFILE_DATA: one load-profile channel's rows. */
  channelId?: number;
  page: number;
  pageSize: number;
}

export interface TablePage {
  rows: Record<string, unknown>[];
  /** True when rows beyond this page exist. */
  more: boolean;
}

/** Reads one page of a UDIL table for a device set and a range, in a stable order. */
@Injectable()
export class UdilTableReader {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async read(table: ReadableTable, query: TableQuery): Promise<TablePage> {
    const time = READABLE_TABLES[table];
    const conditions = ['global_device_id = ANY($1)'];
    const parameters: unknown[] = [query.globalDeviceIds];
    if (query.from) {
      parameters.push(query.from);
      conditions.push(`"${time}" >= $${parameters.length}`);
    }
    if (query.to) {
      parameters.push(query.to);
      conditions.push(`"${time}" <= $${parameters.length}`);
    }
    if (query.channelId !== undefined && table === 'load_profile_data') {
      parameters.push(query.channelId);
      conditions.push(`channel_id = $${parameters.length}`);
    }
    const order =
      table === 'events'
        ? `global_device_id, "${time}", event_code`
        : table === 'load_profile_data'
          ? `global_device_id, "${time}", channel_id`
          : table === 'device_communication_history'
            ? `global_device_id, "${time}", id`
            : `global_device_id, "${time}"`;
    parameters.push(query.pageSize + 1, (query.page - 1) * query.pageSize);
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT * FROM udil.${table} WHERE ${conditions.join(' AND ')} ORDER BY ${order}
        LIMIT $${parameters.length - 1} OFFSET $${parameters.length}`,
      parameters,
    );
    return { rows: rows.slice(0, query.pageSize), more: rows.length > query.pageSize };
  }
}
