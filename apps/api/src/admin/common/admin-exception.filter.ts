import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { QueryFailedError } from 'typeorm';
import { AdminAuthenticationError } from '../auth/admin-authenticator';
import { describeRequestFailure } from '../../common/request-failure';

export interface AdminErrorBody {
  statusCode: number;
  message: string;
  /** Per-row outcomes of a refused bulk request. */
  rows?: unknown[];
}

/** Writes an admin error: plain JSON `{statusCode, message}`, with the challenge of a 401. */
export function sendAdminError(
  response: Response,
  status: number,
  message: string,
  challenge?: string,
  rows?: unknown[],
): void {
  if (challenge) response.setHeader('WWW-Authenticate', challenge);
  const body: AdminErrorBody = { statusCode: status, message, ...(rows ? { rows } : {}) };
  response.status(status).json(body);
}

function httpMessage(exception: HttpException): string {
  const answer = exception.getResponse();
  if (typeof answer === 'string') return answer;
  const message = (answer as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/**
 * Errors of the admin controllers (bound to them, so it takes precedence over the app-wide UDIL filter):
 * `{statusCode, message}` where the message names the field or the resource; unexpected errors answer
 * 500 with an error id that is also logged.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Admin');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof AdminAuthenticationError)
      return sendAdminError(response, exception.statusCode, exception.message, exception.challenge);
    const failure = describeRequestFailure(exception);
    if (failure) {
      if (failure.retryAfterSeconds) response.setHeader('Retry-After', String(failure.retryAfterSeconds));
      return sendAdminError(response, failure.status, failure.message);
    }
    if (exception instanceof HttpException) {
      const rows = (exception.getResponse() as { rows?: unknown }).rows;
      return sendAdminError(
        response,
        exception.getStatus(),
        httpMessage(exception),
        undefined,
        Array.isArray(rows) ? rows : undefined,
      );
    }
    if (exception instanceof QueryFailedError) {
      const code = (exception.driverError as { code?: string } | undefined)?.code;
      if (code === '23505') return sendAdminError(response, 409, 'already exists');
    }
    const errorId = randomUUID();
    this.logger.error(
      { errorId, error: (exception as Error)?.stack ?? String(exception) },
      'unexpected admin error',
    );
    sendAdminError(response, 500, `internal error ${errorId}; the operator can find it in the logs`);
  }
}
