import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type VisualsValue = string | number | Date | null;

const COLUMN = /^[a-z][a-z0-9_]*$/;

/** METER_VISUALS: one row per device, changed columns replaced by the latest known values. */
@Injectable()
export class MeterVisualsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Upserts the given columns (names come from code, never from requests). */
  async update(
    globalDeviceId: string,
    msn: string | null,
    columns: Record<string, VisualsValue>,
  ): Promise<void> {
    const names = Object.keys(columns);
    for (const name of names) if (!COLUMN.test(name)) throw new Error(`not a meter_visuals column: ${name}`);
    const values = names.map((n) => columns[n]);
    const assignments = names.map((n) => `"${n}" = EXCLUDED."${n}"`);
    await this.dataSource.query(
      `INSERT INTO udil.meter_visuals (global_device_id, msn${names.map((n) => `, "${n}"`).join('')})
       VALUES ($1, $2${names.map((_, i) => `, $${i + 3}`).join('')})
       ON CONFLICT (global_device_id) DO UPDATE SET msn = COALESCE(EXCLUDED.msn, udil.meter_visuals.msn),
         ${[...assignments, 'db_datetime = now()'].join(', ')}`,
      [globalDeviceId, msn, ...values],
    );
  }
}
