import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Application, NextFunction, Request, Response } from 'express';
import { ALL_QUEUES, JobQueueRepository } from '@hes/queue';
import { ADMIN_PRINCIPAL, AdminAuthenticationError, AdminAuthenticator } from '../auth/admin-authenticator';
import { AdminAuditRepository } from '../audit/admin-audit.repository';
import { redact } from '../audit/admin-audit.interceptor';
import { sendAdminError } from '../common/admin-exception.filter';
import { describeRequestFailure } from '../../common/request-failure';

export const QUEUE_BOARD_PATH = '/admin/queues';

/** Bull Board actions on a whole queue: the path segment after the queue's name. */
const QUEUE_ACTIONS = new Set([
  'add',
  'retry',
  'promote',
  'clean',
  'pause',
  'resume',
  'concurrency',
  'rate-limit',
  'empty',
  'obliterate',
]);

/**
 * The audit action of a Bull Board API call, from its path (Bull Board's routes): "/api/queues/t/retry/failed"
 * → queue.retry.failed on t, "/api/queues/t/42/retry" → queue.job.retry on t, "/api/queues/pause" →
 * queue.pause (every queue).
 */
export function queueBoardAction(method: string, path: string): { action: string; queue: string | null } {
  const parts = path.split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
  const [, , ...rest] = parts; // "api", "queues"
  if (rest.length <= 1 && (rest[0] === 'pause' || rest[0] === 'resume'))
    return { action: `queue.${rest[0]}`, queue: null };
  const [queue = null, first, ...tail] = rest;
  const verb =
    first === undefined
      ? method.toLowerCase()
      : QUEUE_ACTIONS.has(first)
        ? [first, ...tail].join('.')
        : first === 'job-schedulers'
          ? `job-scheduler.${tail[1] ?? (method === 'PATCH' ? 'update' : method.toLowerCase())}`
          : `job.${tail[0] ?? method.toLowerCase()}`; // :jobId/retry, :jobId/update-data …
  return { action: `queue.${verb}`.slice(0, 64), queue };
}

/**
 * Bull Board (every queue of ALL_QUEUES) at /admin/queues, behind the admin credentials. Mounted on the
 * Express instance when the module initialises: after Nest's routes, before its not-found handler.
 * Every action taken in it (anything but GET) is written to the admin audit log once answered (or aborted).
 */
@Injectable()
export class QueueBoard implements OnModuleInit {
  private readonly logger = new Logger('Admin');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly queues: JobQueueRepository,
    private readonly authenticator: AdminAuthenticator,
    private readonly audit: AdminAuditRepository,
  ) {}

  onModuleInit(): void {
    const httpAdapter = this.adapterHost.httpAdapter;
    // Absent in application contexts without HTTP (none today): nothing to mount then.
    if (!httpAdapter) return;
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(QUEUE_BOARD_PATH);
    createBullBoard({
      queues: ALL_QUEUES.map((name) => new BullMQAdapter(this.queues.queue(name))),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Head-end queues' } },
    });
    const app = httpAdapter.getInstance<Application>();
    app.use(QUEUE_BOARD_PATH, this.guard, serverAdapter.getRouter() as Application);
  }

  private readonly guard = (request: Request, response: Response, next: NextFunction): void => {
    void this.admit(request, response, next);
  };

  private async admit(request: Request, response: Response, next: NextFunction): Promise<void> {
    try {
      const principal = await this.authenticator.authenticateRequest(
        request.headers.authorization,
        request.ip ?? request.socket.remoteAddress ?? 'unknown',
      );
      (request as Request & { [ADMIN_PRINCIPAL]?: typeof principal })[ADMIN_PRINCIPAL] = principal;
      if (request.method !== 'GET' && request.method !== 'HEAD')
        response.once('close', () => void this.recordAction(request, response, principal));
      next();
    } catch (error) {
      // Throttled (429) or the database or Redis unreachable: answered as every admin route does.
      const failure = describeRequestFailure(error);
      if (failure) {
        if (failure.retryAfterSeconds) response.setHeader('Retry-After', String(failure.retryAfterSeconds));
        return sendAdminError(response, failure.status, failure.message);
      }
      if (!(error instanceof AdminAuthenticationError)) return next(error);
      this.logger.warn(
        { path: request.originalUrl, address: request.ip, reason: error.message },
        'admin access refused',
      );
      sendAdminError(response, error.statusCode, error.message, error.challenge);
    }
  }

  /** One audit row per Bull Board action: who, which queue (and job), what, and how it ended. */
  private async recordAction(
    request: Request,
    response: Response,
    principal: { actor: string; method: 'token' | 'basic' },
  ): Promise<void> {
    const path = request.originalUrl.slice(QUEUE_BOARD_PATH.length) || '/';
    const { action, queue } = queueBoardAction(request.method, path);
    // Closed before the answer was sent: the action may or may not have happened.
    const answered = response.writableFinished;
    const failed = !answered || response.statusCode >= 400;
    try {
      await this.audit.record({
        actor: principal.actor,
        authMethod: principal.method,
        remoteAddress: request.ip ?? null,
        action,
        targetType: 'queue',
        targetId: queue,
        request: redact(request.body),
        result: failed ? 'failure' : 'success',
        statusCode: response.statusCode,
        detail: `${request.method} ${path}${answered ? '' : ' (connection closed before the answer)'}`.slice(
          0,
          2000,
        ),
      });
    } catch (error) {
      // The action has happened: the missing audit row is logged loudly.
      this.logger.error({ action, error: (error as Error).message }, 'could not write the audit log');
    }
  }
}
