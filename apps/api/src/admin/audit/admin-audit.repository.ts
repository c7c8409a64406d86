import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { StorableLimits, storableJson, storableText } from '../../common/unsafe-text';
import { DEVICE_COMMANDS_DEFAULT_DAYS } from './audit.dto';

/** How much of a request body the audit log keeps: a bulk registration of 10 000 rows is summarised. */
export const AUDIT_REQUEST_LIMITS: StorableLimits = { maxStringLength: 2000, maxItems: 100, maxDepth: 8 };

export type AuditResult = 'success' | 'failure';

export interface NewAuditEntry {
  actor: string;
  authMethod: 'token' | 'basic';
  remoteAddress: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  /** The request body with secrets removed. */
  request: Record<string, unknown> | null;
  result: AuditResult;
  statusCode: number;
  detail: string | null;
}

export interface AuditEntryRow {
  id: string;
  occurred_at: Date;
  actor: string;
  auth_method: string;
  remote_address: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request: Record<string, unknown> | null;
  result: AuditResult;
  status_code: number;
  detail: string | null;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  result?: AuditResult;
}

export interface DeviceCommandFilter {
  globalDeviceId?: string;
  transactionid?: string;
  requestedBy?: string;
  /**
   * Requested at or after (default: DEVICE_COMMANDS_DEFAULT_DAYS before `to` or now, or the transaction's
   * acceptance).
   */
  from?: Date;
  /** Requested at or before. */
  to?: Date;
}

export interface DeviceCommandRow {
  transactionid: string;
  global_device_id: string;
  msn: string | null;
  command: string;
  parameters: string | null;
  requested_by: string;
  requested_at: Date;
  status_level: number;
  completed_at: Date | null;
  indv_status: number;
  result: string;
  request_cancel_reason: string | null;
  response_data: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** A page of device commands with the range of `requested_at` it was read from (null: unbounded). */
export interface DeviceCommandPage extends Page<DeviceCommandRow> {
  from: Date | null;
  to: Date | null;
}

/**
 * Builds `WHERE a = $1 AND b = $2 AND c >= $3` from the filters that are set: equal to each of `equal`,
 * within each of `range` (`[column, operator, value]`).
 */
function where(
  equal: Record<string, string | undefined>,
  range: [string, '>=' | '<=', Date | undefined][] = [],
): { clause: string; values: unknown[] } {
  const values: unknown[] = [];
  const conditions: string[] = [];
  const add = (column: string, operator: string, value: unknown) => {
    values.push(value);
    conditions.push(`${column} ${operator} $${values.length}`);
  };
  for (const [column, value] of Object.entries(equal)) if (value !== undefined) add(column, '=', value);
  for (const [column, operator, value] of range) if (value !== undefined) add(column, operator, value);
  return { clause: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

/**
 * The audit trail: `public.admin_audit_log` holds admin actions; device commands are read from
 * `public.device_command_audit`, a view over `udil.transaction_status` (see docs/admin.md).
 */
@Injectable()
export class AdminAuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Writes an audit row (with `manager`, in its transaction). Whatever the request carried is stored
   * safely: NUL characters and unpaired surrogates become U+FFFD, texts longer than their column are cut
   * with a marker, and the body is bounded (AUDIT_REQUEST_LIMITS).
   */
  async record(entry: NewAuditEntry, manager: EntityManager = this.dataSource.manager): Promise<void> {
    const text = (value: string | null, length: number) =>
      value === null ? null : storableText(value, length);
    await manager.query(
      `INSERT INTO public.admin_audit_log
         (actor, auth_method, remote_address, action, target_type, target_id, request, result, status_code, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        storableText(entry.actor, 100),
        entry.authMethod,
        text(entry.remoteAddress, 64),
        storableText(entry.action, 64),
        storableText(entry.targetType, 32),
        text(entry.targetId, 100),
        entry.request === null ? null : JSON.stringify(storableJson(entry.request, AUDIT_REQUEST_LIMITS)),
        entry.result,
        entry.statusCode,
        text(entry.detail, 2000),
      ],
    );
  }

  async list(filter: AuditFilter, offset: number, limit: number): Promise<Page<AuditEntryRow>> {
    const { clause, values } = where({
      action: filter.action,
      actor: filter.actor,
      target_type: filter.targetType,
      target_id: filter.targetId,
      result: filter.result,
    });
    return this.page<AuditEntryRow>(
      `SELECT * FROM public.admin_audit_log ${clause}`,
      'ORDER BY occurred_at DESC, id DESC',
      values,
      offset,
      limit,
    );
  }

  /**
   * Device commands, newest first. `requested_at` is the partition key of udil.transaction_status, which
   * grows for years: the read is bounded by `from` (by default DEVICE_COMMANDS_DEFAULT_DAYS before `to`, or
   * before now) so that it
   * plans, sorts and counts the months asked for, not the whole history. With a transactionid and no `from`,
   * the bound is the transaction's acceptance (its rows are not older); a transaction the head-end started
   * itself has none and is read unbounded, by its key.
   */
  async deviceCommands(
    filter: DeviceCommandFilter,
    offset: number,
    limit: number,
    now: Date = new Date(),
  ): Promise<DeviceCommandPage> {
    const accepted = filter.transactionid ? await this.acceptedAt(filter.transactionid) : undefined;
    const from =
      filter.from ??
      (filter.transactionid
        ? accepted
        : new Date((filter.to ?? now).getTime() - DEVICE_COMMANDS_DEFAULT_DAYS * 86_400_000));
    const lower = from && accepted && accepted > from ? accepted : from;
    const { clause, values } = where(
      {
        global_device_id: filter.globalDeviceId,
        transactionid: filter.transactionid,
        requested_by: filter.requestedBy,
      },
      [
        ['requested_at', '>=', lower],
        ['requested_at', '<=', filter.to],
      ],
    );
    const page = await this.page<DeviceCommandRow>(
      `SELECT * FROM public.device_command_audit ${clause}`,
      'ORDER BY requested_at DESC, transactionid, global_device_id',
      values,
      offset,
      limit,
    );
    return { ...page, from: lower ?? null, to: filter.to ?? null };
  }

  /** When a UDIL transaction was accepted (undefined: no such transaction, or one the head-end started). */
  private async acceptedAt(transactionid: string): Promise<Date | undefined> {
    const [row] = await this.dataSource.query<{ created_at: Date }[]>(
      `SELECT created_at FROM public.udil_transactions WHERE transactionid = $1`,
      [transactionid],
    );
    return row?.created_at;
  }

  private async page<T>(
    select: string,
    order: string,
    values: unknown[],
    offset: number,
    limit: number,
  ): Promise<Page<T>> {
    const [items, [count]] = await Promise.all([
      this.dataSource.query<T[]>(
        `${select} ${order} OFFSET $${values.length + 1} LIMIT $${values.length + 2}`,
        [...values, offset, limit],
      ),
      this.dataSource.query<{ total: number }[]>(
        `SELECT count(*)::int AS total FROM (${select}) AS q`,
        values,
      ),
    ]);
    return { items, total: count.total };
  }
}
