import { ArgumentsHost, BadRequestException, ExceptionFilter, Logger } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { AppConfig } from '@hes/config';
import { McsErrorCode, McsRequestError } from '@hes/mcs';
import { McsExceptionFilter, isMcsPath } from './mcs-exception.filter';

interface Answer {
  status?: number;
  body?: unknown;
}

function hostFor(path: string, answer: Answer): ArgumentsHost {
  const response = {
    status(code: number) {
      answer.status = code;
      return response;
    },
    json(body: unknown) {
      answer.body = body;
      return response;
    },
  };
  const request = { path, method: 'POST' };
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ArgumentsHost;
}

describe('McsExceptionFilter', () => {
  const other: ExceptionFilter & { caught: unknown[] } = {
    caught: [],
    catch(exception: unknown) {
      this.caught.push(exception);
    },
  };
  const applicationConfig = new ApplicationConfig();
  const filter = new McsExceptionFilter({ MCS_BASE_PATH: '/mcs' } as AppConfig, applicationConfig);
  applicationConfig.addGlobalFilter(other);
  applicationConfig.addGlobalFilter(filter);

  it.each([
    [new McsRequestError(McsErrorCode.Invalid, 'priority is mandatory'), 400, 'priority is mandatory'],
    [
      new McsRequestError(McsErrorCode.NotFound, 'requestReference x is not known'),
      404,
      'requestReference x is not known',
    ],
    [
      new McsRequestError(McsErrorCode.Throttled, 'the collection queue is full'),
      429,
      'the collection queue is full',
    ],
    [new McsRequestError(McsErrorCode.Forbidden, 'not allowed'), 403, 'not allowed'],
    [
      new McsRequestError(McsErrorCode.Unauthorized, 'credentials are not valid'),
      401,
      'credentials are not valid',
    ],
    [new BadRequestException('Unexpected end of JSON input'), 400, 'request: Unexpected end of JSON input'],
  ])('answers case %# in the MCS envelope', (exception, status, details) => {
    const answer: Answer = {};
    filter.catch(exception, hostFor('/mcs/collection-request', answer));
    expect(answer).toEqual({ status, body: { details } });
  });

  it('answers an unexpected error with 500 and an error id, which it logs', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const answer: Answer = {};
    filter.catch(new Error('connection terminated'), hostFor('/mcs/collection-status/1', answer));
    expect(answer.status).toBe(500);
    const details = (answer.body as { details: string }).details;
    expect(details).toMatch(/^internal error [0-9a-f-]{36}; the operator can find it in the logs$/);
    const errorId = /internal error (\S+);/.exec(details)![1];
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ errorId }), expect.anything());
    logged.mockRestore();
  });

  it('hands errors of other paths to the next global filter', () => {
    const answer: Answer = {};
    const error = new Error('udil');
    filter.catch(error, hostFor('/transaction_status', answer));
    expect(other.caught).toEqual([error]);
    expect(answer).toEqual({});
  });

  it('matches the base path and what is below it only', () => {
    expect(isMcsPath('/mcs', '/mcs')).toBe(true);
    expect(isMcsPath('/mcs/service-status', '/mcs')).toBe(true);
    expect(isMcsPath('/mcsx/service-status', '/mcs')).toBe(false);
  });
});
