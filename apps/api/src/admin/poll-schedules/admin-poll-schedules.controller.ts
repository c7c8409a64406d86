import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { POLLED_TYPES } from '@hes/transactions';
import { Audited } from '../audit/audited.decorator';
import { AdminApi, AdminErrorDto } from '../common/admin-api.decorator';
import { Paged } from '../common/page-query.dto';
import { AdminPollSchedulesService } from './admin-poll-schedules.service';
import {
  PollNowDto,
  PollScheduleDto,
  PollScheduleKeyDto,
  PollScheduleListQueryDto,
  PollSchedulePageDto,
  UpdatePollScheduleDto,
} from './poll-schedule.dto';

const DEVICE = ApiParam({ name: 'globalDeviceId', example: 'm1' });
const DATA_TYPE = ApiParam({ name: 'dataType', enum: POLLED_TYPES, example: 'LPRO' });
const NOT_FOUND = ApiNotFoundResponse({
  type: AdminErrorDto,
  example: { statusCode: 404, message: 'globalDeviceId, dataType: no poll schedule LPRO for device m1' },
});
const BAD_TYPE = ApiBadRequestResponse({
  type: AdminErrorDto,
  example: {
    statusCode: 400,
    message: 'dataType must be one of the following values: INST, BILL, MBIL, LPRO, EVNT',
  },
});

@AdminApi('Admin: poll schedules')
@Controller('admin/poll-schedules')
export class AdminPollSchedulesController {
  constructor(private readonly schedules: AdminPollSchedulesService) {}

  @Get()
  @ApiOperation({ summary: 'List poll schedules, filtered by device, data type or enabled' })
  @ApiOkResponse({ type: PollSchedulePageDto })
  list(@Query() query: PollScheduleListQueryDto): Promise<Paged<PollScheduleDto>> {
    return this.schedules.list(query);
  }

  @Patch(':globalDeviceId/:dataType')
  @DEVICE
  @DATA_TYPE
  @Audited('poll-schedule.update', 'poll-schedule')
  @ApiOperation({
    summary: "Change a schedule's interval (1–44640 minutes) and/or enabled flag",
    description: 'A shorter interval brings the next read forward to at most now + the new interval.',
  })
  @ApiBody({
    type: UpdatePollScheduleDto,
    examples: {
      interval: { summary: 'read every 15 minutes', value: { intervalMinutes: 15 } },
      disable: { summary: 'stop reading this type', value: { enabled: false } },
    },
  })
  @ApiOkResponse({ type: PollScheduleDto })
  @ApiBadRequestResponse({
    type: AdminErrorDto,
    example: { statusCode: 400, message: 'intervalMinutes must not be greater than 44640' },
  })
  @NOT_FOUND
  update(@Param() key: PollScheduleKeyDto, @Body() body: UpdatePollScheduleDto): Promise<PollScheduleDto> {
    return this.schedules.update(key, body);
  }

  @Post(':globalDeviceId/:dataType/poll-now')
  @HttpCode(200)
  @DEVICE
  @DATA_TYPE
  @Audited('poll-schedule.poll-now', 'poll-schedule')
  @ApiOperation({ summary: 'Make a schedule due now: the next polling tick reads it' })
  @ApiOkResponse({ type: PollNowDto })
  @BAD_TYPE
  @NOT_FOUND
  pollNow(@Param() key: PollScheduleKeyDto): Promise<PollNowDto> {
    return this.schedules.pollNow(key);
  }
}
