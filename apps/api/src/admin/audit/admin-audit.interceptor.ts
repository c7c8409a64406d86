import {
  CallHandler,
  ExecutionContext,
  HttpException,
  Injectable,
  Logger,
  NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { Observable, from, lastValueFrom } from 'rxjs';
import { ADMIN_PRINCIPAL } from '../auth/admin-authenticator';
import type { AdminRequest } from '../auth/admin-auth.guard';
import { AdminAuditRepository, AuditResult, NewAuditEntry } from './admin-audit.repository';
import { AdminTransactions, AdminUnitOfWork } from './admin-transaction';
import { AUDITED, AuditedAction } from './audited.decorator';

/** Fields never written to the audit log: credentials, codes, keys (an MPCB siteKey), certificates. */
const SECRET_FIELD = /password|code|secret|token|pem|key/i;

/**
 * The request body as recorded: fields that carry secrets are replaced by "[redacted]"; a text body (a
 * CSV) or a JSON list is kept under `body`.
 */
export function redact(body: unknown): Record<string, unknown> | null {
  if (typeof body === 'string') return body ? { body } : null;
  if (Array.isArray(body)) return { body: (body as unknown[]).map((item) => redact(item) ?? item) };
  if (!body || typeof body !== 'object') return null;
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length === 0) return null;
  return Object.fromEntries(
    entries.map(([key, value]) => [key, SECRET_FIELD.test(key) && value != null ? '[redacted]' : value]),
  );
}

function field(value: unknown, name: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
}

/**
 * Runs every call of an @Audited route in one database transaction (AdminTransactions) and writes its
 * audit row in that transaction: the change and its row commit together, or neither does. When the row
 * cannot be written the change is rolled back and the call answers 503 saying so. A call that fails is
 * rolled back, and recorded as a failure on its own. A route answering `{ok: false}` (a connection test
 * that failed) is recorded as a failure with its message.
 */
@Injectable()
export class AdminAuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('AdminAudit');

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AdminAuditRepository,
    private readonly transactions: AdminTransactions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const audited = this.reflector.get<AuditedAction | undefined>(AUDITED, context.getHandler());
    if (!audited) return next.handle();
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const run = (unit: AdminUnitOfWork): Promise<unknown> =>
      this.handle(next, unit, request, response, audited);
    return from(this.transactions.run(run));
  }

  private async handle(
    next: CallHandler,
    unit: AdminUnitOfWork,
    request: AdminRequest,
    response: Response,
    audited: AuditedAction,
  ): Promise<unknown> {
    let answer: unknown;
    try {
      answer = await lastValueFrom(next.handle() as Observable<unknown>, { defaultValue: undefined });
    } catch (error) {
      await unit.abandon();
      const entry = this.entry(request, audited, {
        result: 'failure',
        statusCode: error instanceof HttpException ? error.getStatus() : 500,
        targetId: undefined,
        detail: error instanceof Error ? error.message : String(error),
      });
      try {
        if (entry) await this.audit.record(entry);
      } catch (auditError) {
        // Nothing was changed; the refusal is answered and the missing row logged loudly.
        this.logger.error(
          { action: audited.action, error: (auditError as Error).message },
          'could not write the audit log of a failed admin action',
        );
      }
      throw error;
    }
    const message = field(answer, 'message');
    const entry = this.entry(request, audited, {
      result: field(answer, 'ok') === false ? 'failure' : 'success',
      statusCode: response.statusCode,
      targetId: field(answer, 'id') ?? field(answer, 'globalDeviceId'),
      detail: typeof message === 'string' ? message : null,
    });
    try {
      await unit.complete(async (manager) => {
        if (entry) await this.audit.record(entry, manager);
      });
    } catch (error) {
      const errorId = randomUUID();
      this.logger.error(
        { errorId, action: audited.action, error: (error as Error).message },
        'could not write the audit log: the admin action was rolled back',
      );
      response.setHeader('Retry-After', '5');
      throw new ServiceUnavailableException(
        `nothing was changed: the audit log could not be written (error ${errorId}); try again`,
      );
    }
    return answer;
  }

  /** The audit row of a call; every text made storable (see storableText), the body redacted. */
  private entry(
    request: AdminRequest,
    audited: AuditedAction,
    outcome: { result: AuditResult; statusCode: number; targetId: unknown; detail: string | null },
  ): NewAuditEntry | null {
    const principal = request[ADMIN_PRINCIPAL];
    if (!principal) return null; // unreachable: the guard runs first
    const param = request.params.id ?? request.params.globalDeviceId;
    const targetId = typeof param === 'string' ? param : outcome.targetId;
    return {
      actor: principal.actor,
      authMethod: principal.method,
      remoteAddress: request.ip ?? null,
      action: audited.action,
      targetType: audited.targetType,
      targetId: typeof targetId === 'string' ? targetId : null,
      request: redact(request.body),
      result: outcome.result,
      statusCode: outcome.statusCode,
      detail: outcome.detail,
    };
  }
}
