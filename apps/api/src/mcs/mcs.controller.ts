import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import { McsAcceptanceService, McsStatusDocument, normaliseAddress, parseRequestReference } from '@hes/mcs';
import { McsAccessGuard } from './mcs-access.guard';
import { RequestTextGuard } from '../common/request-text.interceptor';

/** Version of the MCS interface this service implements (service-status). */
export const MCS_SERVICE_VERSION = '1.0.0';

/** The MCS Request API (collection-request, collection-cancel, collection-status, service-status). */
@ApiTags('MCS')
@Controller()
// Access first, then the request-text rule (a client without access learns nothing about its fields).
@UseGuards(McsAccessGuard, RequestTextGuard)
export class McsController {
  constructor(
    private readonly service: McsAcceptanceService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  @Post('collection-request')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue a data collection from a meter; the result is POSTed to responseUrl' })
  @ApiBody({ schema: { type: 'object' } })
  request(@Body() body: unknown, @Req() request: Request): Promise<{ requestReference: string }> {
    return this.service.accept(body, normaliseAddress(request.ip ?? 'unknown'));
  }

  @Delete('collection-cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove a queued collection (positive for one in progress or processed)' })
  @ApiBody({ schema: { type: 'object', properties: { requestReference: { type: 'string' } } } })
  cancel(
    @Body() body: { requestReference?: unknown } | undefined,
    @Query('requestReference') query: unknown,
  ): Promise<{ requestReference: string }> {
    return this.service.cancel(parseRequestReference(body?.requestReference ?? query));
  }

  @Get('collection-status')
  @ApiOperation({ summary: 'Status and result of a collection (?requestReference=…)' })
  @ApiQuery({ name: 'requestReference', required: true })
  statusByQuery(@Query('requestReference') reference: unknown): Promise<McsStatusDocument> {
    return this.service.status(parseRequestReference(reference));
  }

  @Get('collection-status/:requestReference')
  @ApiOperation({ summary: 'Status and result of a collection' })
  @ApiParam({ name: 'requestReference' })
  statusByPath(@Param('requestReference') reference: string): Promise<McsStatusDocument> {
    return this.service.status(parseRequestReference(reference));
  }

  @Get('service-status')
  @ApiOperation({ summary: 'Version and status of the MCS service' })
  async serviceStatus(): Promise<{ version: string; status: string }> {
    await this.dataSource.query('SELECT 1');
    return { version: MCS_SERVICE_VERSION, status: 'OK' };
  }
}
