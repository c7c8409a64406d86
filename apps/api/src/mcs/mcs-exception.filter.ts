import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject, Logger } from '@nestjs/common';
import { ApplicationConfig, BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { McsRequestError, httpStatusOf } from '@hes/mcs';
import { describeRequestFailure } from '../common/request-failure';
import { routedPath } from '../common/routed-path';

/** Whether a request path belongs to the MCS API mounted at `base`. */
export function isMcsPath(path: string, base: string): boolean {
  const routed = routedPath(path);
  const root = routedPath(base);
  return routed === root || routed.startsWith(`${root}/`);
}

/**
 * Registered for the whole app (so that body-parser and routing errors of MCS paths get the MCS
 * envelope too), it answers MCS paths only: `{"details": …}` with 400/401/403/404/429, and 500 with an
 * error id that is also logged. Any other path is handed to the next global filter (the UDIL one) or,
 * when there is none, to Nest's default.
 */
@Catch()
export class McsExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('Mcs');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly applicationConfig: ApplicationConfig,
  ) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    if (host.getType() !== 'http' || !isMcsPath(request.path, this.config.MCS_BASE_PATH)) {
      const next = this.nextFilter();
      if (next) return void next.catch(exception, host);
      return super.catch(exception, host);
    }
    let status = 500;
    let details: string;
    const failure = describeRequestFailure(exception, request.headers);
    if (exception instanceof McsRequestError) {
      status = httpStatusOf(exception.code);
      details = exception.message;
    } else if (failure) {
      status = failure.status;
      details = failure.message;
      if (failure.retryAfterSeconds) response.setHeader('Retry-After', String(failure.retryAfterSeconds));
    } else if (exception instanceof HttpException && exception.getStatus() < 500) {
      // Body-parser and routing errors: malformed JSON, body too large, unknown method or path.
      status = exception.getStatus();
      details =
        status === 404
          ? `${request.method} ${request.path} is not an MCS method`
          : `request: ${exception.message}`;
    } else {
      const errorId = randomUUID();
      this.logger.error(
        { errorId, path: request.path, error: (exception as Error)?.stack ?? String(exception) },
        'unexpected error',
      );
      details = `internal error ${errorId}; the operator can find it in the logs`;
    }
    response.status(status).json({ details });
  }

  /** The global filter Nest would have chosen had this one not been registered. */
  private nextFilter(): ExceptionFilter | undefined {
    const filters = this.applicationConfig.getGlobalFilters();
    const others = filters.filter((filter) => filter !== this && !(filter instanceof McsExceptionFilter));
    return others[others.length - 1];
  }
}
