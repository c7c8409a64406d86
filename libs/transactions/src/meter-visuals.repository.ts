import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StatementBatcher } from '@hes/database';
import { withBothGenerations } from '@hes/udil';

export type VisualsValue = string | number | Date | null;

const COLUMN = /^[a-z][a-z0-9_]*$/;

/** One device's METER_VISUALS columns to replace. */
export interface VisualsUpdate {
  globalDeviceId: string;
  msn: string | null;
  columns: Record<string, VisualsValue>;
}

/**
 * METER_VISUALS: one row per device, changed columns replaced by the latest known values. Concurrent
 * updates naming the same columns are written as one upsert (see {@link StatementBatcher}).
 */
@Injectable()
export class MeterVisualsRepository {
  /** One batcher per set of column names: a set upsert names its columns once. */
  private readonly upserts = new Map<string, StatementBatcher<VisualsUpdate, void>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Upserts the given columns (names come from code, never from requests), each quantity under both
   * generations' names (2019 `last_active_energy_pos_tl` = 3.2 `active_energy_pos_tl`, GENERATION_ALIASES).
   */
  async update(
    globalDeviceId: string,
    msn: string | null,
    given: Record<string, VisualsValue>,
  ): Promise<void> {
    const { names, columns } = visualsColumns(given);
    const signature = names.join(',');
    let batcher = this.upserts.get(signature);
    if (!batcher) {
      batcher = this.batcherFor(names);
      this.upserts.set(signature, batcher);
    }
    await batcher.submit({ globalDeviceId, msn, columns });
  }

  /** The device's row as stored (every column, nulls included); undefined when it has none yet. */
  async find(globalDeviceId: string): Promise<Record<string, unknown> | undefined> {
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT * FROM udil.meter_visuals WHERE global_device_id = $1`,
      [globalDeviceId],
    );
    return rows[0];
  }

  private batcherFor(names: string[]): StatementBatcher<VisualsUpdate, void> {
    const quoted = names.map((n) => `"${n}"`);
    return new StatementBatcher<VisualsUpdate, void>({
      key: (u) => u.globalDeviceId,
      single: async ({ globalDeviceId, msn, columns }) => {
        await this.dataSource.query(
          `INSERT INTO udil.meter_visuals (global_device_id, msn${quoted.map((q) => `, ${q}`).join('')})
           VALUES ($1, $2${names.map((_, i) => `, $${i + 3}`).join('')})
           ${visualsConflict(names)}`,
          [globalDeviceId, msn, ...names.map((n) => columns[n])],
        );
      },
      many: async (updates) => {
        await this.dataSource.query(visualsUpsertFromJson(names, '$1'), [visualsJson(updates)]);
        return updates.map(() => undefined);
      },
    });
  }
}

/**
 * The columns of a METER_VISUALS update (names come from code, never from requests), each quantity under
 * both generations' names (2019 `last_active_energy_pos_tl` = 3.2 `active_energy_pos_tl`,
 * GENERATION_ALIASES), and their names sorted: updates naming the same columns share a set statement.
 */
export function visualsColumns(given: Record<string, VisualsValue>): {
  names: string[];
  columns: Record<string, VisualsValue>;
} {
  const columns = withBothGenerations('meter_visuals', given);
  const names = Object.keys(columns).sort();
  for (const name of names) if (!COLUMN.test(name)) throw new Error(`not a meter_visuals column: ${name}`);
  return { names, columns };
}

/** The devices' rows of a set upsert as one JSON array (see {@link visualsUpsertFromJson}). */
export function visualsJson(updates: readonly VisualsUpdate[]): string {
  return JSON.stringify(
    updates.map((u) => ({ ...u.columns, global_device_id: u.globalDeviceId, msn: u.msn })),
  );
}

/**
 * The upsert of the rows of a JSON array (the parameter `json`, from {@link visualsJson}) into the columns
 * `names` (from {@link visualsColumns}): jsonb_populate_recordset gives each value its column's type. A
 * device may appear once only (ON CONFLICT DO UPDATE touches a row once per statement).
 */
export function visualsUpsertFromJson(names: readonly string[], json: string): string {
  const quoted = names.map((n) => `, "${n}"`).join('');
  return `INSERT INTO udil.meter_visuals (global_device_id, msn${quoted})
           SELECT global_device_id, msn${quoted}
             FROM jsonb_populate_recordset(NULL::udil.meter_visuals, ${json}::jsonb)
           ${visualsConflict(names)}`;
}

/** Changed columns replaced, a known msn kept when the update has none. */
function visualsConflict(names: readonly string[]): string {
  const quoted = names.map((n) => `"${n}"`);
  return `ON CONFLICT (global_device_id) DO UPDATE SET msn = COALESCE(EXCLUDED.msn, udil.meter_visuals.msn),
         ${[...quoted.map((q) => `${q} = EXCLUDED.${q}`), 'db_datetime = now()'].join(', ')}`;
}
