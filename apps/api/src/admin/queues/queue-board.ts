import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Application, NextFunction, Request, Response } from 'express';
import { ALL_QUEUES, JobQueueRepository } from '@hes/queue';
import { ADMIN_PRINCIPAL, AdminAuthenticationError, AdminAuthenticator } from '../auth/admin-authenticator';
import { sendAdminError } from '../common/admin-exception.filter';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Bull Board (every queue of ALL_QUEUES) at /admin/queues, behind the admin credentials. Mounted on the
 * Express instance when the module initialises: after Nest's routes, before its not-found handler.
 */
@Injectable()
export class QueueBoard implements OnModuleInit {
  private readonly logger = new Logger('Admin');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly queues: JobQueueRepository,
    private readonly authenticator: AdminAuthenticator,
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
    try {
      const principal = this.authenticator.authenticate(request.headers.authorization);
      (request as Request & { [ADMIN_PRINCIPAL]?: typeof principal })[ADMIN_PRINCIPAL] = principal;
      next();
    } catch (error) {
      if (!(error instanceof AdminAuthenticationError)) return next(error);
      this.logger.warn(
        { path: request.originalUrl, address: request.ip, reason: error.message },
        'admin access refused',
      );
      sendAdminError(response, error.statusCode, error.message, error.challenge);
    }
  };
}
