import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { AdminApi, AdminErrorDto } from '../common/admin-api.decorator';
import { uuidParam } from '../common/id-param';
import { Paged } from '../common/page-query.dto';
import { AdminMpcbSitesService } from './admin-mpcb-sites.service';
import {
  ANALYSER_ID,
  PARAMETER_ID,
  SITE_ID,
  UNIT_ID,
  analyserIdParam,
  monitoringUnitIdParam,
  parameterIdParam,
} from './mpcb-site-params';
import {
  AnalyserDto,
  CREATE_MPCB_SITE_EXAMPLE,
  CreateAnalyserDto,
  CreateMonitoringUnitDto,
  CreateMpcbSiteDto,
  MaintenanceDto,
  MonitoringUnitDto,
  MpcbSiteDto,
  MpcbSiteListQueryDto,
  MpcbSitePageDto,
  MpcbSiteTreeDto,
  DiscardUnsentReadingsQueryDto,
  MpcbRemovalDto,
  PATCH_PARAMETER_EXAMPLES,
  PUT_PARAMETER_EXAMPLES,
  ParameterChangesDto,
  ParameterDto,
  PutParameterDto,
  UpdateMpcbSiteDto,
} from './mpcb-site.dto';

const SITE_NOT_FOUND = ApiNotFoundResponse({
  type: AdminErrorDto,
  example: { statusCode: 404, message: 'id: no MPCB site 5a1c2d3e-0000-4000-8000-000000000001' },
});

const UNIT_NOT_FOUND = ApiNotFoundResponse({
  type: AdminErrorDto,
  example: {
    statusCode: 404,
    message:
      'monitoringUnitId: no monitoring unit 5a1c2d3e-0000-4000-8000-000000000002 in site 5a1c2d3e-0000-4000-8000-000000000001',
  },
});
const ANALYSER_NOT_FOUND = ApiNotFoundResponse({
  type: AdminErrorDto,
  example: {
    statusCode: 404,
    message:
      'analyserId: no analyser 5a1c2d3e-0000-4000-8000-000000000003 in site 5a1c2d3e-0000-4000-8000-000000000001',
  },
});
const PARAMETER_NOT_FOUND = ApiNotFoundResponse({
  type: AdminErrorDto,
  example: {
    statusCode: 404,
    message: 'parameterId: no parameter NOx in analyser 5a1c2d3e-0000-4000-8000-000000000003',
  },
});

@AdminApi('Admin: MPCB sites')
@Controller('admin/mpcb-sites')
export class AdminMpcbSitesController {
  constructor(private readonly sites: AdminMpcbSitesService) {}

  @Post()
  @Audited('mpcb-site.create', 'mpcb-site')
  @ApiOperation({
    summary: 'Create an MPCB OCEMS site (its site key is stored encrypted and never returned)',
  })
  @ApiBody({
    type: CreateMpcbSiteDto,
    examples: { site: { summary: 'a site', value: CREATE_MPCB_SITE_EXAMPLE } },
  })
  @ApiCreatedResponse({ type: MpcbSiteDto })
  @ApiBadRequestResponse({
    type: AdminErrorDto,
    example: { statusCode: 400, message: 'siteKey must have at least 32 (and at most 500) characters' },
  })
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: { statusCode: 409, message: 'siteId: a site site_1001 already exists' },
  })
  create(@Body() body: CreateMpcbSiteDto): Promise<MpcbSiteDto> {
    return this.sites.create(body);
  }

  @Get()
  @ApiOperation({
    summary: 'List MPCB sites (filter by enabled), with the counts of their units and parameters',
  })
  @ApiOkResponse({ type: MpcbSitePageDto })
  list(@Query() query: MpcbSiteListQueryDto): Promise<Paged<MpcbSiteDto>> {
    return this.sites.list(query);
  }

  @Get(':id')
  @SITE_ID
  @ApiOperation({
    summary: 'A site with its tree: monitoring units → analysers → parameters and the source of each',
  })
  @ApiOkResponse({ type: MpcbSiteTreeDto })
  @SITE_NOT_FOUND
  tree(@Param('id', uuidParam) id: string): Promise<MpcbSiteTreeDto> {
    return this.sites.tree(id);
  }

  @Patch(':id')
  @SITE_ID
  @Audited('mpcb-site.update', 'mpcb-site')
  @ApiOperation({
    summary:
      'Change a site: what is left out is kept (siteId does not change; null centralServerUrl: MPCB_BASE_URL)',
  })
  @ApiBody({
    type: UpdateMpcbSiteDto,
    examples: {
      server: {
        summary: 'its own central server and PKCS#7 encoding',
        value: { centralServerUrl: 'https://test.onlinecems.ecmpcb.in/mpcb', authorizationEncoding: 'pkcs7' },
      },
      version: { summary: 'a new software version from MPCB', value: { softwareVersionId: 'ver_2.2' } },
    },
  })
  @ApiOkResponse({ type: MpcbSiteDto })
  @ApiBadRequestResponse({
    type: AdminErrorDto,
    example: { statusCode: 400, message: 'centralServerUrl must be an http(s) URL without credentials' },
  })
  @SITE_NOT_FOUND
  update(@Param('id', uuidParam) id: string, @Body() body: UpdateMpcbSiteDto): Promise<MpcbSiteDto> {
    return this.sites.update(id, body);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @SITE_ID
  @Audited('mpcb-site.disable', 'mpcb-site')
  @ApiOperation({ summary: 'Disable a site: it neither acquires nor uploads; its unsent readings wait' })
  @ApiOkResponse({ type: MpcbSiteDto })
  @SITE_NOT_FOUND
  disable(@Param('id', uuidParam) id: string): Promise<MpcbSiteDto> {
    return this.sites.update(id, { enabled: false });
  }

  @Post(':id/enable')
  @HttpCode(200)
  @SITE_ID
  @Audited('mpcb-site.enable', 'mpcb-site')
  @ApiOperation({ summary: 'Enable a site again: acquisition and uploads resume, waiting readings go first' })
  @ApiOkResponse({ type: MpcbSiteDto })
  @SITE_NOT_FOUND
  enable(@Param('id', uuidParam) id: string): Promise<MpcbSiteDto> {
    return this.sites.update(id, { enabled: true });
  }

  @Delete(':id')
  @SITE_ID
  @Audited('mpcb-site.delete', 'mpcb-site')
  @ApiOperation({
    summary:
      'Delete a site with its configuration, readings and upload log (refused while readings are unsent)',
  })
  @ApiOkResponse({ type: MpcbRemovalDto })
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 409,
      message:
        'id: site site_1001 has 12 readings the central server has not accepted yet; disable the site and let them upload, or delete with ?discardUnsentReadings=true',
    },
  })
  @SITE_NOT_FOUND
  remove(
    @Param('id', uuidParam) id: string,
    @Query() query: DiscardUnsentReadingsQueryDto,
  ): Promise<MpcbRemovalDto> {
    return this.sites.remove(id, query.discardUnsentReadings ?? false);
  }

  @Post(':id/monitoring-units')
  @SITE_ID
  @Audited('mpcb-site.add-monitoring-unit', 'mpcb-site')
  @ApiOperation({ summary: 'Add a monitoring unit (monitoringId given by MPCB) to a site' })
  @ApiBody({
    type: CreateMonitoringUnitDto,
    examples: {
      unit: { summary: 'a stack', value: { monitoringId: 'stack_1', monitoringType: 'Emission' } },
    },
  })
  @ApiCreatedResponse({ type: MonitoringUnitDto })
  @ApiBadRequestResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 400,
      message:
        'monitoringId must be 1 to 100 letters, digits, _ . - or inner spaces, starting with a letter or digit',
    },
  })
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 409,
      message: 'monitoringId: site site_1001 already has a monitoring unit stack_1',
    },
  })
  @SITE_NOT_FOUND
  addMonitoringUnit(
    @Param('id', uuidParam) id: string,
    @Body() body: CreateMonitoringUnitDto,
  ): Promise<MonitoringUnitDto> {
    return this.sites.addMonitoringUnit(id, body);
  }

  @Delete(':id/monitoring-units/:monitoringUnitId')
  @SITE_ID
  @UNIT_ID
  @Audited('mpcb-site.delete-monitoring-unit', 'mpcb-site')
  @ApiOperation({
    summary:
      'Delete a monitoring unit with its analysers, parameters, readings, upload log, calibrations and instruction log (refused while readings are unsent)',
  })
  @ApiOkResponse({ type: MpcbRemovalDto })
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 409,
      message:
        "monitoringUnitId: monitoring unit stack_1 has 6 readings the central server has not accepted yet; clear its parameters' sources so that they are no longer acquired and let them upload, or delete with ?discardUnsentReadings=true",
    },
  })
  @UNIT_NOT_FOUND
  removeMonitoringUnit(
    @Param('id', uuidParam) id: string,
    @Param('monitoringUnitId', monitoringUnitIdParam) monitoringUnitId: string,
    @Query() query: DiscardUnsentReadingsQueryDto,
  ): Promise<MpcbRemovalDto> {
    return this.sites.removeMonitoringUnit(id, monitoringUnitId, query.discardUnsentReadings ?? false);
  }

  @Post(':id/monitoring-units/:monitoringUnitId/analysers')
  @SITE_ID
  @UNIT_ID
  @Audited('mpcb-site.add-analyser', 'mpcb-site')
  @ApiOperation({ summary: 'Add an analyser (analyzerId given by MPCB) to a monitoring unit of the site' })
  @ApiBody({
    type: CreateAnalyserDto,
    examples: {
      analyser: {
        summary: 'an analyser',
        value: { analyzerId: 'analyser_1', analyzerName: 'Flue gas analyser' },
      },
    },
  })
  @ApiCreatedResponse({ type: AnalyserDto })
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 409,
      message: 'analyzerId: monitoring unit stack_1 already has an analyser analyser_1',
    },
  })
  @UNIT_NOT_FOUND
  addAnalyser(
    @Param('id', uuidParam) id: string,
    @Param('monitoringUnitId', monitoringUnitIdParam) monitoringUnitId: string,
    @Body() body: CreateAnalyserDto,
  ): Promise<AnalyserDto> {
    return this.sites.addAnalyser(id, monitoringUnitId, body);
  }

  @Delete(':id/analysers/:analyserId')
  @SITE_ID
  @ANALYSER_ID
  @Audited('mpcb-site.delete-analyser', 'mpcb-site')
  @ApiOperation({
    summary: 'Delete an analyser with its parameters and their readings (refused while readings are unsent)',
  })
  @ApiOkResponse({ type: MpcbRemovalDto })
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 409,
      message:
        "analyserId: analyser analyser_1 has 6 readings the central server has not accepted yet; clear its parameters' sources so that they are no longer acquired and let them upload, or delete with ?discardUnsentReadings=true",
    },
  })
  @ANALYSER_NOT_FOUND
  removeAnalyser(
    @Param('id', uuidParam) id: string,
    @Param('analyserId', analyserIdParam) analyserId: string,
    @Query() query: DiscardUnsentReadingsQueryDto,
  ): Promise<MpcbRemovalDto> {
    return this.sites.removeAnalyser(id, analyserId, query.discardUnsentReadings ?? false);
  }

  @Put(':id/analysers/:analyserId/parameters/:parameterId')
  @SITE_ID
  @ANALYSER_ID
  @PARAMETER_ID
  @Audited('mpcb-site.put-parameter', 'mpcb-site')
  @ApiOperation({
    summary:
      'Add or update a parameter of an analyser, with its source (iServer 2 channel or G13 meter value)',
    description:
      'Fields left out keep their values (as PATCH); null clears a gauge limit or the source. A new parameter needs parameterName and unit; its other fields take their defaults (coefficients 1 and 0, no gauge limits, channel 0, no source). A sensor source needs a gateway whose driver reads sensors (readSensors: the iServer 2) and a channel like p1ch0; a meter source a gateway whose driver reads meters (readInstantaneous: the G13), the meter serial and the UDIL column name of the value. GET /admin/drivers lists the source kinds of each installed driver.',
  })
  @ApiBody({ type: PutParameterDto, examples: PUT_PARAMETER_EXAMPLES })
  @ApiOkResponse({ type: ParameterDto })
  @ApiBadRequestResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 400,
      message:
        'source.gatewayId: gateway feeder-12-g13 has driver ABB_G13, which cannot be a sensor source (it has no readSensors; GET /admin/drivers lists the drivers that do)',
    },
  })
  @ANALYSER_NOT_FOUND
  putParameter(
    @Param('id', uuidParam) id: string,
    @Param('analyserId', analyserIdParam) analyserId: string,
    @Param('parameterId', parameterIdParam) parameterId: string,
    @Body() body: PutParameterDto,
  ): Promise<ParameterDto> {
    return this.sites.putParameter(id, analyserId, parameterId, body, 'put');
  }

  @Patch(':id/analysers/:analyserId/parameters/:parameterId')
  @SITE_ID
  @ANALYSER_ID
  @PARAMETER_ID
  @Audited('mpcb-site.patch-parameter', 'mpcb-site')
  @ApiOperation({
    summary:
      'Change some fields of an existing parameter: what is left out is kept, null clears a gauge limit or the source',
  })
  @ApiBody({ type: ParameterChangesDto, examples: PATCH_PARAMETER_EXAMPLES })
  @ApiOkResponse({ type: ParameterDto })
  @ApiBadRequestResponse({
    type: AdminErrorDto,
    example: { statusCode: 400, message: 'gaugeMinimum: 600 is greater than gaugeMaximum 500' },
  })
  @PARAMETER_NOT_FOUND
  patchParameter(
    @Param('id', uuidParam) id: string,
    @Param('analyserId', analyserIdParam) analyserId: string,
    @Param('parameterId', parameterIdParam) parameterId: string,
    @Body() body: ParameterChangesDto,
  ): Promise<ParameterDto> {
    return this.sites.putParameter(id, analyserId, parameterId, body, 'patch');
  }

  @Delete(':id/analysers/:analyserId/parameters/:parameterId')
  @SITE_ID
  @ANALYSER_ID
  @PARAMETER_ID
  @Audited('mpcb-site.delete-parameter', 'mpcb-site')
  @ApiOperation({ summary: 'Delete a parameter with its readings (refused while readings are unsent)' })
  @ApiOkResponse({ type: MpcbRemovalDto })
  @ApiConflictResponse({
    type: AdminErrorDto,
    example: {
      statusCode: 409,
      message:
        'parameterId: parameter NOx of analyser analyser_1 has 6 readings the central server has not accepted yet; clear its source so that it is no longer acquired and let them upload, or delete with ?discardUnsentReadings=true',
    },
  })
  @PARAMETER_NOT_FOUND
  removeParameter(
    @Param('id', uuidParam) id: string,
    @Param('analyserId', analyserIdParam) analyserId: string,
    @Param('parameterId', parameterIdParam) parameterId: string,
    @Query() query: DiscardUnsentReadingsQueryDto,
  ): Promise<MpcbRemovalDto> {
    return this.sites.removeParameter(id, analyserId, parameterId, query.discardUnsentReadings ?? false);
  }

  @Post(':id/analysers/:analyserId/maintenance')
  @HttpCode(200)
  @SITE_ID
  @ANALYSER_ID
  @Audited('mpcb-site.set-maintenance', 'mpcb-site')
  @ApiOperation({ summary: "Set an analyser's maintenance flag: its readings are flagged M while it is set" })
  @ApiBody({
    type: MaintenanceDto,
    examples: { on: { summary: 'in maintenance', value: { maintenance: true } } },
  })
  @ApiOkResponse({ type: AnalyserDto })
  @ANALYSER_NOT_FOUND
  setMaintenance(
    @Param('id', uuidParam) id: string,
    @Param('analyserId', analyserIdParam) analyserId: string,
    @Body() body: MaintenanceDto,
  ): Promise<AnalyserDto> {
    return this.sites.setMaintenance(id, analyserId, body);
  }
}
