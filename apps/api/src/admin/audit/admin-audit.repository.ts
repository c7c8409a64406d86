import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { StorableLimits, storableJson, storableText } from '../../common/unsafe-text';

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

/** Builds `WHERE a = $1 AND b = $2` from the filters that are set. */
function where(filters: Record<string, string | undefined>): { clause: string; values: string[] } {
  const values: string[] = [];
  const conditions: string[] = [];
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    values.push(value);
    conditions.push(`${column} = $${values.length}`);
  }
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

  async deviceCommands(
    filter: DeviceCommandFilter,
    offset: number,
    limit: number,
  ): Promise<Page<DeviceCommandRow>> {
    const { clause, values } = where({
      global_device_id: filter.globalDeviceId,
      transactionid: filter.transactionid,
      requested_by: filter.requestedBy,
    });
    return this.page<DeviceCommandRow>(
      `SELECT * FROM public.device_command_audit ${clause}`,
      'ORDER BY requested_at DESC, transactionid, global_device_id',
      values,
      offset,
      limit,
    );
  }

  private async page<T>(
    select: string,
    order: string,
    values: string[],
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
