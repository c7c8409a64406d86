import { ArgumentsHost, Catch, HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { UDIL_WRITE_SERVICES, UdilBody, UdilRequestError, renderUdilXml, wantsXml } from '@hes/udil';
import { describeRequestFailure } from '../common/request-failure';
import { routedPath } from '../common/routed-path';
import { sendAdminError } from '../admin/common/admin-exception.filter';

/**
 * Registered for the whole app, it answers UDIL paths only and leaves others to Nest's default.
 * The UDIL error envelope: `{"status":"0","message":…}` (with the transactionid when known), 400 for a
 * malformed request, 401 for authorization, 429 when throttled; unexpected errors answer 500 with an
 * error id that is also logged. As the last of the app-wide filters it also answers the refusals every
 * API shares (describeRequestFailure) for paths of no protocol envelope (admin, health), as
 * `{statusCode, message}`, and leaves everything else there to Nest's default.
 */
/** Paths answered in the UDIL envelope, including errors raised before a controller runs (body parsing). */
export const UDIL_PATHS = new Set(
  [
    'authorization_service',
    'on_demand_request',
    'on_demand_data_read',
    'instantaneous_data',
    'billing_data',
    'monthly_billing_data',
    'load_profile_data',
    'events',
    'meter_visuals',
    'device_communication_history',
    'on_demand_parameter_read',
    'transaction_status',
    'transaction_cancel',
    ...UDIL_WRITE_SERVICES.map((service) => service.name),
  ].map((name) => `/${name}`),
);

@Catch()
export class UdilExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('Udil');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const failure = describeRequestFailure(exception, request.headers);
    if (!UDIL_PATHS.has(routedPath(request.path))) {
      if (!failure) return super.catch(exception, host);
      if (failure.retryAfterSeconds) response.setHeader('Retry-After', String(failure.retryAfterSeconds));
      return sendAdminError(response, failure.status, failure.message);
    }
    let status = 500;
    const body: UdilBody = { status: '0', message: '' };
    if (exception instanceof UdilRequestError) {
      status = exception.httpStatus;
      body.message = exception.message;
      if (exception.transactionid) body.transactionid = exception.transactionid;
    } else if (failure) {
      status = failure.status;
      body.message = failure.message;
      const transactionid = request.headers.transactionid;
      if (typeof transactionid === 'string' && transactionid !== '' && transactionid.length <= 64)
        body.transactionid = transactionid;
      if (failure.retryAfterSeconds) response.setHeader('Retry-After', String(failure.retryAfterSeconds));
    } else if (exception instanceof HttpException && exception.getStatus() < 500) {
      // Body-parser and routing errors (malformed JSON, body too large, unknown route).
      status = exception.getStatus();
      body.message = `request: ${exception.message}`;
    } else {
      const errorId = randomUUID();
      this.logger.error(
        { errorId, path: request.path, error: (exception as Error)?.stack ?? String(exception) },
        'unexpected error',
      );
      body.message = `internal error ${errorId}; the operator can find it in the logs`;
    }
    if (wantsXml(request.headers.accept))
      response.status(status).type('application/xml').send(renderUdilXml(body));
    else response.status(status).json(body);
  }
}
