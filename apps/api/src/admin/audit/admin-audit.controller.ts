import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminApi } from '../common/admin-api.decorator';
import { Paged, paged } from '../common/page-query.dto';
import { AdminAuditRepository, AuditEntryRow, DeviceCommandRow } from './admin-audit.repository';
import { AuditPageDto, AuditQueryDto, DeviceCommandPageDto, DeviceCommandQueryDto } from './audit.dto';

@AdminApi('Admin: audit log')
@Controller('admin/audit')
export class AdminAuditController {
  constructor(private readonly audit: AdminAuditRepository) {}

  @Get()
  @ApiOperation({ summary: 'Admin actions, newest first: who, what, when and the result' })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@Query() query: AuditQueryDto): Promise<Paged<AuditEntryRow>> {
    const { items, total } = await this.audit.list(query, query.offset, query.pageSize);
    return paged(query, items, total);
  }

  @Get('device-commands')
  @ApiOperation({
    summary:
      'Every command and read sent to a device, newest first (from udil.transaction_status); the last 30 days unless from or a transactionid is given',
  })
  @ApiOkResponse({ type: DeviceCommandPageDto })
  async deviceCommands(
    @Query() query: DeviceCommandQueryDto,
  ): Promise<Paged<DeviceCommandRow> & { from: Date | null; to: Date | null }> {
    const from = query.from === undefined ? undefined : new Date(query.from);
    const to = query.to === undefined ? undefined : new Date(query.to);
    if (from && to && to.getTime() < from.getTime())
      throw new BadRequestException('to must not be before from');
    const page = await this.audit.deviceCommands(
      {
        globalDeviceId: query.globalDeviceId,
        transactionid: query.transactionid,
        requestedBy: query.requestedBy,
        from,
        to,
      },
      query.offset,
      query.pageSize,
    );
    return { ...paged(query, page.items, page.total), from: page.from, to: page.to };
  }
}
