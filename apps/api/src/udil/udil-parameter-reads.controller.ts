import { Controller, HttpCode, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { NoFilesInterceptor } from '@nestjs/platform-express';
import { ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ParameterReadService } from '@hes/transactions';
import {
  ParameterType,
  RawFields,
  UdilAuthService,
  UdilBody,
  parseParameterReadParameters,
  parseTransactionId,
  toText,
} from '@hes/udil';
import { UdilResponseInterceptor } from './udil-response.interceptor';
import { RequestTextGuard } from '../common/request-text.interceptor';

/** UDIL 3.2 §3.4.2 on_demand_parameter_read (PMAL of 3.3 included): synchronous within a bounded wait. */
@ApiTags('UDIL')
@ApiConsumes('application/x-www-form-urlencoded', 'application/json', 'multipart/form-data')
@ApiProduces('application/json', 'application/xml')
@Controller()
@UseGuards(RequestTextGuard)
@UseInterceptors(NoFilesInterceptor(), UdilResponseInterceptor)
export class UdilParameterReadsController {
  constructor(
    private readonly auth: UdilAuthService,
    private readonly reads: ParameterReadService,
  ) {}

  @Post('on_demand_parameter_read')
  @HttpCode(200)
  @ApiOperation({
    summary: `Read ${Object.values(ParameterType).join(', ')} of a meter: from the device where its driver can, otherwise the head-end's record; waits up to UDIL_ON_DEMAND_WAIT_SECONDS, then transaction_status carries the result`,
  })
  @ApiHeader({ name: 'privatekey', required: true })
  @ApiHeader({ name: 'transactionid', required: true })
  async onDemandParameterRead(@Req() request: Request): Promise<UdilBody> {
    const body = (request.body ?? {}) as RawFields;
    const privatekey = toText(request.headers.privatekey ?? body.privatekey);
    const clientId = await this.auth.clientOf(
      typeof privatekey === 'string' && privatekey !== '' ? privatekey : undefined,
    );
    const transactionid = parseTransactionId(request.headers.transactionid ?? body.transactionid);
    const { global_device_id: globalDeviceIds, type } = parseParameterReadParameters(body, transactionid);
    // Waiting ends early when the client goes away (the response closes before it was written).
    const gone = new AbortController();
    const onClose = () => {
      if (!request.res?.writableEnded) gone.abort();
    };
    request.res?.on('close', onClose);
    try {
      return await this.reads.read({ type, transactionid, clientId, globalDeviceIds }, gone.signal);
    } finally {
      request.res?.off('close', onClose);
    }
  }
}
