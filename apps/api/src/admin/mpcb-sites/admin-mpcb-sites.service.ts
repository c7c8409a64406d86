import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GatewayRepository } from '@hes/database';
import {
  MpcbAnalyser,
  MpcbAuthorizationEncoding,
  MpcbConfigurationError,
  MpcbMonitoringUnit,
  MpcbParameter,
  MpcbParameterSource,
  MpcbPart,
  MpcbSiteRepository,
  MPCB_SOURCE_OPERATIONS,
} from '@hes/mpcb';
import { DriverRegistry, implementsOperation } from '@hes/drivers';
import { Paged, paged } from '../common/page-query.dto';
import {
  AnalyserDto,
  CreateAnalyserDto,
  CreateMonitoringUnitDto,
  CreateMpcbSiteDto,
  MaintenanceDto,
  MonitoringUnitDto,
  MpcbSiteDto,
  MpcbSiteListQueryDto,
  MpcbSiteTreeDto,
  ParameterDto,
  ParameterChangesDto,
  ParameterSourceDto,
  UpdateMpcbSiteDto,
  MpcbRemovalDto,
} from './mpcb-site.dto';

interface SiteViewRow {
  id: string;
  site_id: string;
  site_uid: string;
  site_name: string;
  site_label: string;
  software_version_id: string;
  authorization_encoding: MpcbAuthorizationEncoding;
  central_server_url: string | null;
  has_site_key: boolean;
  enabled: boolean;
  server_config_last_updated_time: string | null;
  site_config_last_updated_time: string | null;
  monitoring_unit_count: number;
  parameter_count: number;
}

/** Every column of a site but its key, with the counts of its tree. */
const SITE_VIEW = `
  SELECT s.id, s.site_id, s.site_uid, s.site_name, s.site_label, s.software_version_id, s.authorization_encoding,
         s.central_server_url,
         s.site_key_encrypted <> '' AS has_site_key, s.enabled, s.server_config_last_updated_time,
         s.site_config_last_updated_time,
         (SELECT count(*)::int FROM mpcb.monitoring_units u WHERE u.site_ref = s.id) AS monitoring_unit_count,
         (SELECT count(*)::int FROM mpcb.parameters p
            JOIN mpcb.analysers a ON a.id = p.analyser_ref
            JOIN mpcb.monitoring_units u ON u.id = a.monitoring_unit_ref
           WHERE u.site_ref = s.id) AS parameter_count
    FROM mpcb.sites s`;

/** Runs a repository call, answering its configuration errors as 400 with their message. */
async function configured<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof MpcbConfigurationError) throw new BadRequestException(error.message);
    throw error;
  }
}

/**
 * MPCB sites, their monitoring units, analysers and parameters with the driver source of each
 * (docs/mpcb.md), over MpcbSiteRepository. The site key is written, never read back.
 */
@Injectable()
export class AdminMpcbSitesService {
  constructor(
    private readonly sites: MpcbSiteRepository,
    private readonly gateways: GatewayRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly drivers: DriverRegistry,
  ) {}

  async create(input: CreateMpcbSiteDto): Promise<MpcbSiteDto> {
    const [existing] = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM mpcb.sites WHERE site_id = $1`,
      [input.siteId],
    );
    if (existing) throw new ConflictException(`siteId: a site ${input.siteId} already exists`);
    const site = await configured(() => this.sites.createSite(input));
    return this.require(site.id);
  }

  async list(query: MpcbSiteListQueryDto): Promise<Paged<MpcbSiteDto>> {
    const enabled = query.enabled ?? null;
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query<SiteViewRow[]>(
        `${SITE_VIEW} WHERE ($1::boolean IS NULL OR s.enabled = $1) ORDER BY s.site_id LIMIT $2 OFFSET $3`,
        [enabled, query.pageSize, query.offset],
      ),
      this.dataSource.query<{ total: number }[]>(
        `SELECT count(*)::int AS total FROM mpcb.sites WHERE ($1::boolean IS NULL OR enabled = $1)`,
        [enabled],
      ),
    ]);
    return paged(query, rows.map(siteView), total);
  }

  /** The site with its monitoring units → analysers → parameters and the source of each. */
  async tree(id: string): Promise<MpcbSiteTreeDto> {
    const site = await this.require(id);
    const tree = await configured(() => this.sites.siteTree(id));
    return {
      site,
      monitoringUnits: tree.monitoringUnits.map((unit) => ({
        ...unitView(unit),
        analysers: unit.analysers.map((analyser) => ({
          ...analyserView(analyser),
          parameters: analyser.parameters.map(parameterView),
        })),
      })),
    };
  }

  async addMonitoringUnit(id: string, input: CreateMonitoringUnitDto): Promise<MonitoringUnitDto> {
    const site = await this.require(id);
    const [existing] = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM mpcb.monitoring_units WHERE site_ref = $1 AND monitoring_id = $2`,
      [id, input.monitoringId],
    );
    if (existing)
      throw new ConflictException(
        `monitoringId: site ${site.siteId} already has a monitoring unit ${input.monitoringId}`,
      );
    const unit = await configured(() =>
      this.sites.addMonitoringUnit(id, input.monitoringId, input.monitoringType ?? ''),
    );
    return unitView(unit);
  }

  async addAnalyser(id: string, monitoringUnitId: string, input: CreateAnalyserDto): Promise<AnalyserDto> {
    await this.require(id);
    const unit = await this.requireUnit(id, monitoringUnitId);
    const [existing] = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM mpcb.analysers WHERE monitoring_unit_ref = $1 AND analyzer_id = $2`,
      [monitoringUnitId, input.analyzerId],
    );
    if (existing)
      throw new ConflictException(
        `analyzerId: monitoring unit ${unit.monitoring_id} already has an analyser ${input.analyzerId}`,
      );
    const analyser = await configured(() =>
      this.sites.addAnalyser(monitoringUnitId, input.analyzerId, input.analyzerName ?? ''),
    );
    return analyserView(analyser);
  }

  /**
   * Changes a site: what is left out is kept. Disabling stops its acquisition and uploads (its unsent
   * readings wait); a new central server address applies to the worker's next request.
   */
  async update(id: string, input: UpdateMpcbSiteDto): Promise<MpcbSiteDto> {
    if (Object.values(input).every((value) => value === undefined))
      throw new BadRequestException('body: name at least one field to change');
    const changed = await configured(() => this.sites.updateSite(id, input));
    if (!changed) throw new NotFoundException(`id: no MPCB site ${id}`);
    return this.require(id);
  }

  /**
   * Deletes a site and everything it has: monitoring units, analysers, parameters, readings, upload log,
   * calibrations and instruction log. Readings the central server has accepted are kept there; readings it
   * has not are refused to be lost (409) unless `discardUnsentReadings`.
   */
  async remove(id: string, discardUnsentReadings: boolean): Promise<MpcbRemovalDto> {
    const site = await this.require(id);
    return this.removePart('site', id, discardUnsentReadings, {
      field: 'id',
      name: `site ${site.siteId}`,
      withIt: 'its monitoring units, analysers, parameters, upload log and',
      stopAcquiring: 'disable the site',
    });
  }

  /**
   * Removes a monitoring unit of the site with its analysers, parameters, readings, upload log,
   * calibrations and instruction log; refused (409) while its readings are unsent, unless `discardUnsentReadings`.
   */
  async removeMonitoringUnit(
    id: string,
    monitoringUnitId: string,
    discardUnsentReadings: boolean,
  ): Promise<MpcbRemovalDto> {
    await this.require(id);
    const unit = await this.requireUnit(id, monitoringUnitId);
    return this.removePart('monitoring-unit', monitoringUnitId, discardUnsentReadings, {
      field: 'monitoringUnitId',
      name: `monitoring unit ${unit.monitoring_id}`,
      withIt: 'its analysers, parameters, upload log, calibrations, instruction log and',
      stopAcquiring: "clear its parameters' sources so that they are no longer acquired",
    });
  }

  /** Removes an analyser with its parameters and their readings (409 while some are unsent, as above). */
  async removeAnalyser(
    id: string,
    analyserId: string,
    discardUnsentReadings: boolean,
  ): Promise<MpcbRemovalDto> {
    await this.require(id);
    const analyser = await this.requireAnalyser(id, analyserId);
    return this.removePart('analyser', analyserId, discardUnsentReadings, {
      field: 'analyserId',
      name: `analyser ${analyser.analyzerId}`,
      withIt: 'its parameters and',
      stopAcquiring: "clear its parameters' sources so that they are no longer acquired",
    });
  }

  /** Removes a parameter with its readings (409 while some are unsent, as above). */
  async removeParameter(
    id: string,
    analyserId: string,
    parameterId: string,
    discardUnsentReadings: boolean,
  ): Promise<MpcbRemovalDto> {
    await this.require(id);
    const analyser = await this.requireAnalyser(id, analyserId);
    const parameter = await this.sites.findParameter(analyserId, parameterId);
    if (!parameter)
      throw new NotFoundException(`parameterId: no parameter ${parameterId} in analyser ${analyserId}`);
    return this.removePart('parameter', parameter.id, discardUnsentReadings, {
      field: 'parameterId',
      name: `parameter ${parameterId} of analyser ${analyser.analyzerId}`,
      withIt: '',
      stopAcquiring: 'clear its source so that it is no longer acquired',
    });
  }

  private async removePart(
    part: MpcbPart,
    ref: string,
    discardUnsentReadings: boolean,
    words: { field: string; name: string; withIt: string; stopAcquiring: string },
  ): Promise<MpcbRemovalDto> {
    const outcome = await this.sites.removePart(part, ref, discardUnsentReadings);
    // Removed by another request between the look-up above and the lock.
    if (!outcome) throw new NotFoundException(`${words.field}: ${words.name} no longer exists`);
    if (!outcome.removed)
      throw new ConflictException(
        `${words.field}: ${words.name} has ${outcome.unsent} readings the central server has not accepted yet; ${words.stopAcquiring} and let them upload, or delete with ?discardUnsentReadings=true`,
      );
    return {
      id: ref,
      message: `${words.name} deleted with ${words.withIt ? `${words.withIt} ` : ''}${outcome.readings} readings (${outcome.unsent} not yet sent)`,
    };
  }

  /**
   * PUT and PATCH of the parameter `parameterId` of an analyser: what is left out is kept (`null` clears
   * a gauge limit or the source). PATCH needs the parameter to exist (404); PUT creates a missing one,
   * which needs `parameterName` and `unit`. A source given must name a gateway with the driver of its kind.
   */
  async putParameter(
    id: string,
    analyserId: string,
    parameterId: string,
    input: ParameterChangesDto,
    mode: 'put' | 'patch' = 'put',
  ): Promise<ParameterDto> {
    await this.require(id);
    await this.requireAnalyser(id, analyserId);
    const existing = await this.sites.findParameter(analyserId, parameterId);
    if (!existing && mode === 'patch')
      throw new NotFoundException(`parameterId: no parameter ${parameterId} in analyser ${analyserId}`);
    const parameterName = input.parameterName ?? existing?.parameterName;
    const unit = input.unit ?? existing?.unit;
    if (parameterName === undefined || unit === undefined)
      throw new BadRequestException(
        `${parameterName === undefined ? 'parameterName' : 'unit'}: required to create the parameter ${parameterId}`,
      );
    const kept = <K extends 'gaugeMinimum' | 'gaugeMaximum'>(key: K) =>
      input[key] === undefined ? (existing?.[key] ?? null) : input[key];
    const [gaugeMinimum, gaugeMaximum] = [kept('gaugeMinimum'), kept('gaugeMaximum')];
    if (gaugeMinimum !== null && gaugeMaximum !== null && gaugeMinimum > gaugeMaximum)
      throw new BadRequestException(
        `gaugeMinimum: ${gaugeMinimum} is greater than gaugeMaximum ${gaugeMaximum}`,
      );
    const source = input.source ? await this.checkSource(input.source) : input.source;
    const parameter = await configured(() =>
      this.sites.upsertParameter(
        this.dataSource.manager,
        analyserId,
        {
          parameterId,
          parameterName,
          unit,
          coefficientA: input.coefficientA ?? existing?.coefficientA,
          coefficientB: input.coefficientB ?? existing?.coefficientB,
          gaugeMinimum,
          gaugeMaximum,
          channelNo: input.channelNo ?? existing?.channelNo,
          source,
        },
        source !== undefined,
      ),
    );
    return parameterView(parameter);
  }

  async setMaintenance(id: string, analyserId: string, input: MaintenanceDto): Promise<AnalyserDto> {
    await this.require(id);
    await this.requireAnalyser(id, analyserId);
    await this.sites.setMaintenance(analyserId, input.maintenance);
    return analyserView(await this.requireAnalyser(id, analyserId));
  }

  private async checkSource(source: ParameterSourceDto): Promise<MpcbParameterSource> {
    const gateway = await this.gateways.findById(source.gatewayId);
    if (!gateway) throw new BadRequestException(`source.gatewayId: no gateway ${source.gatewayId}`);
    // A gateway can be a source of a kind when its driver has the operation the acquisition reads it with.
    const operation = MPCB_SOURCE_OPERATIONS[source.kind];
    if (
      !this.drivers.has(gateway.driver) ||
      !implementsOperation(this.drivers.get(gateway.driver), operation)
    )
      throw new BadRequestException(
        `source.gatewayId: gateway ${gateway.name} has driver ${gateway.driver}, which cannot be a ${source.kind} source (it has no ${operation}; GET /admin/drivers lists the drivers that do)`,
      );
    if (source.kind === 'sensor') {
      if (source.deviceSerial !== undefined || source.quantity !== undefined)
        throw new BadRequestException('source.deviceSerial and source.quantity are only for a meter source');
      return { kind: 'sensor', gatewayId: gateway.id, channel: source.channel ?? '' };
    }
    if (source.channel !== undefined)
      throw new BadRequestException('source.channel is only for a sensor source');
    return {
      kind: 'meter',
      gatewayId: gateway.id,
      deviceSerial: source.deviceSerial ?? '',
      quantity: source.quantity ?? '',
    };
  }

  private async require(id: string): Promise<MpcbSiteDto> {
    const [row] = await this.dataSource.query<SiteViewRow[]>(`${SITE_VIEW} WHERE s.id = $1`, [id]);
    if (!row) throw new NotFoundException(`id: no MPCB site ${id}`);
    return siteView(row);
  }

  private async requireUnit(siteRef: string, monitoringUnitId: string): Promise<{ monitoring_id: string }> {
    const [unit] = await this.dataSource.query<{ monitoring_id: string }[]>(
      `SELECT monitoring_id FROM mpcb.monitoring_units WHERE id = $1 AND site_ref = $2`,
      [monitoringUnitId, siteRef],
    );
    if (!unit)
      throw new NotFoundException(
        `monitoringUnitId: no monitoring unit ${monitoringUnitId} in site ${siteRef}`,
      );
    return unit;
  }

  private async requireAnalyser(siteRef: string, analyserId: string): Promise<MpcbAnalyser> {
    const [row] = await this.dataSource.query<
      {
        id: string;
        monitoring_unit_ref: string;
        analyzer_id: string;
        analyzer_name: string;
        maintenance: boolean;
      }[]
    >(
      `SELECT a.id, a.monitoring_unit_ref, a.analyzer_id, a.analyzer_name, a.maintenance
         FROM mpcb.analysers a JOIN mpcb.monitoring_units u ON u.id = a.monitoring_unit_ref
        WHERE a.id = $1 AND u.site_ref = $2`,
      [analyserId, siteRef],
    );
    if (!row) throw new NotFoundException(`analyserId: no analyser ${analyserId} in site ${siteRef}`);
    return {
      id: row.id,
      monitoringUnitRef: row.monitoring_unit_ref,
      analyzerId: row.analyzer_id,
      analyzerName: row.analyzer_name,
      maintenance: row.maintenance,
    };
  }
}

function siteView(row: SiteViewRow): MpcbSiteDto {
  return {
    id: row.id,
    siteId: row.site_id,
    siteUid: row.site_uid,
    siteName: row.site_name,
    siteLabel: row.site_label,
    softwareVersionId: row.software_version_id,
    authorizationEncoding: row.authorization_encoding,
    centralServerUrl: row.central_server_url,
    hasSiteKey: row.has_site_key,
    enabled: row.enabled,
    serverConfigLastUpdatedTime: row.server_config_last_updated_time,
    siteConfigLastUpdatedTime: row.site_config_last_updated_time,
    monitoringUnitCount: row.monitoring_unit_count,
    parameterCount: row.parameter_count,
  };
}

function unitView(unit: MpcbMonitoringUnit): MonitoringUnitDto {
  return {
    id: unit.id,
    siteRef: unit.siteRef,
    monitoringId: unit.monitoringId,
    monitoringType: unit.monitoringType,
  };
}

function analyserView(analyser: MpcbAnalyser): AnalyserDto {
  return {
    id: analyser.id,
    monitoringUnitRef: analyser.monitoringUnitRef,
    analyzerId: analyser.analyzerId,
    analyzerName: analyser.analyzerName,
    maintenance: analyser.maintenance,
  };
}

function parameterView(parameter: MpcbParameter): ParameterDto {
  return {
    id: parameter.id,
    analyserRef: parameter.analyserRef,
    parameterId: parameter.parameterId,
    parameterName: parameter.parameterName,
    unit: parameter.unit,
    coefficientA: parameter.coefficientA,
    coefficientB: parameter.coefficientB,
    gaugeMinimum: parameter.gaugeMinimum,
    gaugeMaximum: parameter.gaugeMaximum,
    channelNo: parameter.channelNo,
    source: parameter.source ? { ...parameter.source } : null,
    enabled: parameter.enabled,
  };
}
