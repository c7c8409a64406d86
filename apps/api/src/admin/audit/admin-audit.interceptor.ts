import {
  CallHandler,
  ExecutionContext,
  HttpException,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { Observable, from, lastValueFrom } from 'rxjs';
import { ADMIN_PRINCIPAL } from '../auth/admin-authenticator';
import type { AdminRequest } from '../auth/admin-auth.guard';
import { AdminAuditRepository, AuditResult } from './admin-audit.repository';
import { AUDITED, AuditedAction } from './audited.decorator';

/** Fields never written to the audit log: credentials, codes, keys (an MPCB siteKey), certificates. */
const SECRET_FIELD = /password|code|secret|token|pem|key/i;

/** The request body as recorded: fields that carry secrets are replaced by "[redacted]". */
export function redact(body: unknown): Record<string, unknown> | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
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
 * Writes one audit row for every call of an @Audited route, after it finished: who (the principal),
 * what (action, target, redacted body), when, and the result. A route answering `{ok: false}` (a
 * connection test that failed) is recorded as a failure with its message.
 */
@Injectable()
export class AdminAuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('AdminAudit');

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AdminAuditRepository,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const audited = this.reflector.get<AuditedAction | undefined>(AUDITED, context.getHandler());
    if (!audited) return next.handle();
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const run = async (): Promise<unknown> => {
      try {
        const answer: unknown = await lastValueFrom(next.handle() as Observable<unknown>, {
          defaultValue: undefined,
        });
        const failed = field(answer, 'ok') === false;
        const message = field(answer, 'message');
        await this.write(request, audited, {
          result: failed ? 'failure' : 'success',
          statusCode: response.statusCode,
          targetId: field(answer, 'id') ?? field(answer, 'globalDeviceId'),
          detail: typeof message === 'string' ? message : null,
        });
        return answer;
      } catch (error) {
        await this.write(request, audited, {
          result: 'failure',
          statusCode: error instanceof HttpException ? error.getStatus() : 500,
          targetId: undefined,
          detail: error instanceof Error ? error.message : String(error),
        });
        throw error;
      }
    };
    return from(run());
  }

  private async write(
    request: AdminRequest,
    audited: AuditedAction,
    outcome: { result: AuditResult; statusCode: number; targetId: unknown; detail: string | null },
  ): Promise<void> {
    const principal = request[ADMIN_PRINCIPAL];
    if (!principal) return; // unreachable: the guard runs first
    const param = request.params.id ?? request.params.globalDeviceId;
    const targetId = typeof param === 'string' ? param : outcome.targetId;
    try {
      await this.audit.record({
        actor: principal.actor,
        authMethod: principal.method,
        remoteAddress: request.ip ?? null,
        action: audited.action,
        targetType: audited.targetType,
        targetId: typeof targetId === 'string' ? targetId : null,
        request: redact(request.body),
        result: outcome.result,
        statusCode: outcome.statusCode,
        detail: outcome.detail?.slice(0, 2000) ?? null,
      });
    } catch (error) {
      // The action has happened: it is answered, and the missing audit row is logged loudly.
      this.logger.error(
        { action: audited.action, error: (error as Error).message },
        'could not write the audit log',
      );
    }
  }
}
