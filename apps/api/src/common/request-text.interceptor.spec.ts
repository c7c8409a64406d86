import type { ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import express from 'express';
import type { Request } from 'express';
import { RequestFieldError } from './request-failure';
import { RequestTextGuard } from './request-text.interceptor';

const LONE_HIGH = '\uD83D';

/** An Express request of `url` (its query parsed by Express's own getter), with params and body. */
function requestOf(url: string, params: Record<string, string>, body?: unknown): Request {
  const app = express();
  const request = Object.create(app.request as object) as Request & { app: unknown };
  Object.assign(request, { url, method: 'GET', headers: {}, params, body, app });
  return request;
}

function check(request: Request): unknown {
  const context: ExecutionContext = new ExecutionContextHost([request, {}, () => undefined]);
  try {
    return new RequestTextGuard().canActivate(context);
  } catch (error) {
    return error instanceof RequestFieldError ? `${error.field}: ${error.reason}` : error;
  }
}

describe('RequestTextGuard', () => {
  it('passes a request without parameters, query or body', () => {
    expect(check(requestOf('/health/live', {}))).toBe(true);
    expect(check(requestOf('/health/live?', {}))).toBe(true);
  });

  it('refuses an unsafe path parameter, query field or body field, naming it', () => {
    expect(check(requestOf('/read/x', { id: `a${LONE_HIGH}` }))).toBe(
      'id: must not contain unpaired UTF-16 surrogates',
    );
    expect(check(requestOf('/health/live?name=a%00b', {}))).toBe(
      'name: must not contain NUL characters (\\u0000)',
    );
    expect(check(requestOf('/health/live?a=1&b=c%00', {}))).toBe(
      'b: must not contain NUL characters (\\u0000)',
    );
    expect(check(requestOf('/transaction_status', {}, { transactionid: ['x\u0000'] }))).toBe(
      'transactionid[0]: must not contain NUL characters (\\u0000)',
    );
  });

  it('leaves the admin API to its validation pipe', () => {
    expect(check(requestOf('/admin/devices?name=a%00b', {}))).toBe(true);
  });
});
