import { Controller, HttpCode, Inject, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { NoFilesInterceptor } from '@nestjs/platform-express';
import { ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { ReadableTable, UdilTableReader } from '@hes/readings';
import { RawFields, UdilAuthService, UdilJsonAnswer, parseTableReadParameters, toText } from '@hes/udil';
import { UdilResponseInterceptor } from './udil-response.interceptor';
import { RequestTextGuard, RequestTextInterceptor } from '../common/request-text.interceptor';

function route(table: ReadableTable): MethodDecorator {
  return (target, key, descriptor) => {
    ApiOperation({
      summary: `Rows of ${table.toUpperCase()} for a device set${table === 'meter_visuals' ? '' : ' and a datetime range'}, a page at a time`,
    })(target, key, descriptor);
    ApiHeader({ name: 'privatekey', required: true })(target, key, descriptor);
  };
}

/** UDIL §3.3 API reads of the tables of §3.1. Same fields as the tables, as strings. */
@ApiTags('UDIL')
@ApiProduces('application/json', 'application/xml')
@Controller()
// Multipart bodies are parsed by NoFilesInterceptor: the request-text rule is applied to them after it.
@UseGuards(RequestTextGuard)
@UseInterceptors(NoFilesInterceptor(), RequestTextInterceptor, UdilResponseInterceptor)
export class UdilReadsController {
  constructor(
    private readonly auth: UdilAuthService,
    private readonly reader: UdilTableReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('instantaneous_data')
  @HttpCode(200)
  @route('instantaneous_data')
  instantaneous(@Req() r: Request) {
    return this.read('instantaneous_data', r);
  }

  @Post('billing_data')
  @HttpCode(200)
  @route('billing_data')
  billing(@Req() r: Request) {
    return this.read('billing_data', r);
  }

  @Post('monthly_billing_data')
  @HttpCode(200)
  @route('monthly_billing_data')
  monthlyBilling(@Req() r: Request) {
    return this.read('monthly_billing_data', r);
  }

  @Post('load_profile_data')
  @HttpCode(200)
  @route('load_profile_data')
  loadProfile(@Req() r: Request) {
    return this.read('load_profile_data', r);
  }

  @Post('events')
  @HttpCode(200)
  @route('events')
  events(@Req() r: Request) {
    return this.read('events', r);
  }

  @Post('meter_visuals')
  @HttpCode(200)
  @route('meter_visuals')
  visuals(@Req() r: Request) {
    return this.read('meter_visuals', r);
  }

  @Post('device_communication_history')
  @HttpCode(200)
  @route('device_communication_history')
  communicationHistory(@Req() r: Request) {
    return this.read('device_communication_history', r);
  }

  private async read(table: ReadableTable, request: Request): Promise<UdilJsonAnswer> {
    const privatekey = toText(
      request.headers.privatekey ?? (request.body as RawFields | undefined)?.privatekey,
    );
    await this.auth.clientOf(typeof privatekey === 'string' && privatekey !== '' ? privatekey : undefined);
    const query = parseTableReadParameters((request.body ?? {}) as RawFields, this.config.TIME_ZONE, {
      rangeRequired: table !== 'meter_visuals',
      maxPageSize: this.config.UDIL_READ_MAX_PAGE_SIZE,
      channels: table === 'load_profile_data',
    });
    // Every key of the table's record, a value or "" (udil-records.ts), as JSON text.
    const page = await this.reader.readUdilJson(
      table,
      {
        globalDeviceIds: query.global_device_id,
        from: query.start_datetime,
        to: query.end_datetime,
        channelId: query.channel_id,
        page: query.page,
        pageSize: query.page_size,
      },
      this.config.TIME_ZONE,
    );
    const body = {
      // A valid request is answered status "1" (3.2 §3.3: "In case of valid request and response, service will
      // send status =1"), rows or none: "0" is Failed, and a window or channel without rows is no failure.
      status: '1',
      message: `${page.count} row(s), page ${query.page}${page.more ? `; more rows: ask for page ${query.page + 1}` : ''}`,
      page: String(query.page),
      page_size: String(query.page_size),
      more: page.more ? '1' : '0',
      data: [],
    };
    return UdilJsonAnswer.ofArray(body, 'data', page.items);
  }
}
