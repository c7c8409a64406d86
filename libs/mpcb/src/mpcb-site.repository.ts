import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CredentialCipher } from '@hes/database';
import { DeviceDriver, DriverOperation, implementsOperation } from '@hes/drivers';
import { MPCB_AUTHORIZATION_ENCODINGS, MpcbAuthorizationEncoding, siteKeyBytes } from './mpcb-crypto';
import { assertCsvText, assertIdentifier } from './mpcb-wire-format';

export class MpcbConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MpcbConfigurationError';
  }
}

export interface MpcbSite {
  id: string;
  siteId: string;
  siteUid: string;
  siteName: string;
  siteLabel: string;
  softwareVersionId: string;
  /** Decrypted only when read for use. */
  siteKey: string;
  authorizationEncoding: MpcbAuthorizationEncoding;
  /** The site's own central server (base URL); null: MPCB_BASE_URL. */
  centralServerUrl: string | null;
  enabled: boolean;
  serverConfigLastUpdatedTime: string | null;
  siteConfigLastUpdatedTime: string | null;
  /** The last configuration downloaded with getConfig (its CollectorDetails, configJson, …). */
  serverConfiguration: Record<string, unknown> | null;
}

export interface MpcbMonitoringUnit {
  id: string;
  siteRef: string;
  monitoringId: string;
  monitoringType: string;
}

export interface MpcbAnalyser {
  id: string;
  monitoringUnitRef: string;
  analyzerId: string;
  analyzerName: string;
  maintenance: boolean;
}

/** A site, or what an operator may remove on its own from a site's tree (MpcbSiteRepository.removePart). */
export type MpcbPart = 'site' | 'monitoring-unit' | 'analyser' | 'parameter';

/** A removal: done, or refused because `unsent` readings were not accepted by the central server yet. */
export interface MpcbPartRemoval {
  removed: boolean;
  /** The part's readings (removed with it when `removed`). */
  readings: number;
  unsent: number;
}

/**
 * Per part: its rows locked, the part's own first (FOR UPDATE conflicts with the KEY SHARE a reading's
 * foreign key check takes: the parameters for a parameter or an analyser, the units for a unit or a site),
 * its readings, its removal.
 */
const PART_STATEMENTS: Record<MpcbPart, { lock: string[]; readings: string; remove: string }> = {
  site: {
    lock: [
      `SELECT id FROM mpcb.sites WHERE id = $1 FOR UPDATE`,
      `SELECT id FROM mpcb.monitoring_units WHERE site_ref = $1 FOR UPDATE`,
    ],
    readings: `r.monitoring_unit_ref IN (SELECT id FROM mpcb.monitoring_units WHERE site_ref = $1)`,
    remove: `DELETE FROM mpcb.sites WHERE id = $1`,
  },
  'monitoring-unit': {
    lock: [`SELECT id FROM mpcb.monitoring_units WHERE id = $1 FOR UPDATE`],
    readings: `r.monitoring_unit_ref = $1`,
    remove: `DELETE FROM mpcb.monitoring_units WHERE id = $1`,
  },
  analyser: {
    lock: [
      `SELECT id FROM mpcb.analysers WHERE id = $1 FOR UPDATE`,
      `SELECT id FROM mpcb.parameters WHERE analyser_ref = $1 FOR UPDATE`,
    ],
    readings: `r.parameter_ref IN (SELECT id FROM mpcb.parameters WHERE analyser_ref = $1)`,
    remove: `DELETE FROM mpcb.analysers WHERE id = $1`,
  },
  parameter: {
    lock: [`SELECT id FROM mpcb.parameters WHERE id = $1 FOR UPDATE`],
    readings: `r.parameter_ref = $1`,
    remove: `DELETE FROM mpcb.parameters WHERE id = $1`,
  },
};

/** Where a parameter's value comes from: an iServer 2 probe/channel, or a quantity a G13 meter reports. */
export type MpcbParameterSource =
  | { kind: 'sensor'; gatewayId: string; channel: string }
  | { kind: 'meter'; gatewayId: string; deviceSerial: string; quantity: string };

/**
 * The driver operation the acquisition reads each source kind with: a gateway can be a source of a kind
 * exactly when its driver implements the operation (GET /admin/drivers lists them per driver).
 */
export const MPCB_SOURCE_OPERATIONS = {
  sensor: 'readSensors',
  meter: 'readInstantaneous',
} as const satisfies Record<MpcbParameterSource['kind'], DriverOperation>;

/** The source kinds a driver can feed. */
export function mpcbSourceKinds(driver: DeviceDriver): MpcbParameterSource['kind'][] {
  return (Object.keys(MPCB_SOURCE_OPERATIONS) as MpcbParameterSource['kind'][]).filter((kind) =>
    implementsOperation(driver, MPCB_SOURCE_OPERATIONS[kind]),
  );
}

export interface MpcbParameter {
  id: string;
  analyserRef: string;
  parameterId: string;
  parameterName: string;
  unit: string;
  /** validated = coefficientA × raw + coefficientB */
  coefficientA: number;
  coefficientB: number;
  gaugeMinimum: number | null;
  gaugeMaximum: number | null;
  channelNo: string;
  source: MpcbParameterSource | null;
  enabled: boolean;
}

export interface NewSite {
  siteId: string;
  siteUid?: string;
  siteName?: string;
  siteLabel?: string;
  softwareVersionId: string;
  siteKey: string;
  authorizationEncoding?: MpcbAuthorizationEncoding;
  centralServerUrl?: string | null;
}

/** A change of a site: what is left out is kept; `centralServerUrl: null` returns to MPCB_BASE_URL. */
export type SiteChanges = Partial<
  Pick<
    NewSite,
    'siteUid' | 'siteName' | 'siteLabel' | 'softwareVersionId' | 'siteKey' | 'authorizationEncoding'
  > & { centralServerUrl: string | null; enabled: boolean }
>;

export interface NewParameter {
  parameterId: string;
  parameterName: string;
  unit: string;
  coefficientA?: number;
  coefficientB?: number;
  gaugeMinimum?: number | null;
  gaugeMaximum?: number | null;
  channelNo?: string;
  source?: MpcbParameterSource | null;
}

/** A parameter with everything acquisition needs to read it and to write its reading. */
export interface AcquisitionTarget {
  site: Pick<MpcbSite, 'id' | 'siteId'>;
  monitoringUnit: MpcbMonitoringUnit;
  analyser: MpcbAnalyser;
  parameter: MpcbParameter & { source: MpcbParameterSource };
}

export interface SiteTree {
  site: MpcbSite;
  monitoringUnits: (MpcbMonitoringUnit & {
    analysers: (MpcbAnalyser & { parameters: MpcbParameter[] })[];
  })[];
}

interface SiteRow {
  id: string;
  site_id: string;
  site_uid: string;
  site_name: string;
  site_label: string;
  software_version_id: string;
  site_key_encrypted: string;
  authorization_encoding: MpcbAuthorizationEncoding;
  central_server_url: string | null;
  enabled: boolean;
  server_config_last_updated_time: string | null;
  site_config_last_updated_time: string | null;
  server_configuration: Record<string, unknown> | null;
}

interface UnitRow {
  id: string;
  site_ref: string;
  monitoring_id: string;
  monitoring_type: string;
}

interface AnalyserRow {
  id: string;
  monitoring_unit_ref: string;
  analyzer_id: string;
  analyzer_name: string;
  maintenance: boolean;
}

interface ParameterRow {
  id: string;
  analyser_ref: string;
  parameter_id: string;
  parameter_name: string;
  unit: string;
  coefficient_a: number;
  coefficient_b: number;
  gauge_minimum: number | null;
  gauge_maximum: number | null;
  channel_no: string;
  source_gateway_ref: string | null;
  source_kind: 'sensor' | 'meter' | null;
  source_channel: string | null;
  source_device_serial: string | null;
  source_quantity: string | null;
  enabled: boolean;
}

function checkFinite(name: string, value: number | null | undefined): void {
  if (value !== null && value !== undefined && !Number.isFinite(value))
    throw new MpcbConfigurationError(`${name} must be a finite number`);
}

/** Validates a parameter before it is stored: every text goes into the data CSV unquoted. */
export function checkParameter(input: NewParameter): void {
  try {
    assertIdentifier('parameterId', input.parameterId);
    assertCsvText('parameterName', input.parameterName);
    assertCsvText('unit', input.unit);
  } catch (error) {
    throw new MpcbConfigurationError((error as Error).message);
  }
  checkFinite('coefficientA', input.coefficientA);
  checkFinite('coefficientB', input.coefficientB);
  checkFinite('gaugeMinimum', input.gaugeMinimum);
  checkFinite('gaugeMaximum', input.gaugeMaximum);
  const source = input.source;
  if (source?.kind === 'sensor' && !/^p\d+ch\d+$/.test(source.channel))
    throw new MpcbConfigurationError(`sensor channel "${source.channel}" must look like p1ch0`);
  if (source?.kind === 'meter' && (!source.deviceSerial.trim() || !source.quantity.trim()))
    throw new MpcbConfigurationError('a meter source needs the meter serial and the quantity name');
}

/** Validates the fields of a site that are given. */
function checkSiteChanges(input: SiteChanges): void {
  try {
    if (input.siteUid !== undefined) assertIdentifier('siteUid', input.siteUid);
    if (input.siteKey !== undefined) siteKeyBytes(input.siteKey);
  } catch (error) {
    throw new MpcbConfigurationError((error as Error).message);
  }
  const version = input.softwareVersionId;
  if (version !== undefined && (!version.trim() || version.includes(',')))
    throw new MpcbConfigurationError('softwareVersionId must be non-empty and contain no comma');
  const encoding = input.authorizationEncoding;
  if (encoding !== undefined && !MPCB_AUTHORIZATION_ENCODINGS.includes(encoding))
    throw new MpcbConfigurationError(
      `authorizationEncoding must be one of ${MPCB_AUTHORIZATION_ENCODINGS.join(', ')}`,
    );
  const url = input.centralServerUrl;
  if (url !== undefined && url !== null && !/^https?:\/\/[^\s/]+/i.test(url))
    throw new MpcbConfigurationError('centralServerUrl must be an http(s) URL');
}

/** Sites, monitoring units, analysers and parameters, with the driver source of each parameter. */
@Injectable()
export class MpcbSiteRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  async createSite(input: NewSite): Promise<MpcbSite> {
    try {
      assertIdentifier('siteId', input.siteId);
    } catch (error) {
      throw new MpcbConfigurationError((error as Error).message);
    }
    checkSiteChanges({ ...input, siteUid: input.siteUid ?? input.siteId });
    const rows = await this.dataSource.query<SiteRow[]>(
      `INSERT INTO mpcb.sites (site_id, site_uid, site_name, site_label, software_version_id, site_key_encrypted,
                               authorization_encoding, central_server_url)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        input.siteId,
        input.siteUid ?? input.siteId,
        input.siteName ?? '',
        input.siteLabel ?? '',
        input.softwareVersionId,
        this.cipher.encrypt(input.siteKey),
        input.authorizationEncoding ?? 'hash',
        input.centralServerUrl ?? null,
      ],
    );
    return this.toSite(rows[0]);
  }

  /** Changes what is given and keeps the rest; false when there is no such site. */
  async updateSite(siteRef: string, changes: SiteChanges): Promise<boolean> {
    checkSiteChanges(changes);
    const columns: [string, unknown][] = [
      ['site_uid', changes.siteUid],
      ['site_name', changes.siteName],
      ['site_label', changes.siteLabel],
      ['software_version_id', changes.softwareVersionId],
      [
        'site_key_encrypted',
        changes.siteKey === undefined ? undefined : this.cipher.encrypt(changes.siteKey),
      ],
      ['authorization_encoding', changes.authorizationEncoding],
      ['central_server_url', changes.centralServerUrl],
      ['enabled', changes.enabled],
    ];
    const given = columns.filter(([, value]) => value !== undefined);
    const rows = await this.dataSource.query<{ id: string }[]>(
      `UPDATE mpcb.sites SET ${given.map(([column], i) => `${column} = $${i + 2}`).join(', ')}${given.length ? ', ' : ''}
              updated_at = now()
        WHERE id = $1 RETURNING id`,
      [siteRef, ...given.map(([, value]) => value)],
    );
    return rows.length > 0;
  }

  /**
   * Removes a site, a monitoring unit, an analyser or a parameter with everything under it: units,
   * analysers, parameters, readings, and for a unit or a site the upload log, calibrations and instruction
   * log (the schema cascades from the units). In one transaction (a
   * savepoint in an admin request's): the part's rows are locked first, which a reading's insert waits for
   * (its foreign keys' check), so the unsent readings counted are all there are; with some and without
   * `discardUnsent` nothing is removed. Null when the part does not exist.
   */
  async removePart(part: MpcbPart, ref: string, discardUnsent: boolean): Promise<MpcbPartRemoval | null> {
    const { lock, readings, remove } = PART_STATEMENTS[part];
    return this.dataSource.transaction(async (manager) => {
      const [own, ...under] = lock;
      if ((await manager.query<unknown[]>(own, [ref])).length === 0) return null;
      for (const statement of under) await manager.query(statement, [ref]);
      const [counts] = await manager.query<{ n: number; unsent: number }[]>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE r.sent_at IS NULL)::int AS unsent
           FROM mpcb.readings r WHERE ${readings}`,
        [ref],
      );
      if (counts.unsent > 0 && !discardUnsent)
        return { removed: false, readings: counts.n, unsent: counts.unsent };
      // Readings refer to their upload without a cascade: they go first, then the part takes the rest.
      await manager.query(`DELETE FROM mpcb.readings r WHERE ${readings}`, [ref]);
      await manager.query(remove, [ref]);
      return { removed: true, readings: counts.n, unsent: counts.unsent };
    });
  }

  /** A parameter of an analyser, or null. */
  async findParameter(analyserRef: string, parameterId: string): Promise<MpcbParameter | null> {
    const rows = await this.dataSource.query<ParameterRow[]>(
      `SELECT * FROM mpcb.parameters WHERE analyser_ref = $1 AND parameter_id = $2`,
      [analyserRef, parameterId],
    );
    return rows[0] ? toParameter(rows[0]) : null;
  }

  async setSoftwareVersion(siteRef: string, softwareVersionId: string): Promise<void> {
    if (!softwareVersionId.trim() || softwareVersionId.includes(','))
      throw new MpcbConfigurationError('softwareVersionId must be non-empty and contain no comma');
    await this.dataSource.query(
      `UPDATE mpcb.sites SET software_version_id = $2, updated_at = now() WHERE id = $1`,
      [siteRef, softwareVersionId],
    );
  }

  async addMonitoringUnit(
    siteRef: string,
    monitoringId: string,
    monitoringType = '',
  ): Promise<MpcbMonitoringUnit> {
    try {
      assertIdentifier('monitoringId', monitoringId);
    } catch (error) {
      throw new MpcbConfigurationError((error as Error).message);
    }
    const rows = await this.dataSource.query<UnitRow[]>(
      `INSERT INTO mpcb.monitoring_units (site_ref, monitoring_id, monitoring_type) VALUES ($1, $2, $3) RETURNING *`,
      [siteRef, monitoringId, monitoringType],
    );
    return toUnit(rows[0]);
  }

  async addAnalyser(monitoringUnitRef: string, analyzerId: string, analyzerName = ''): Promise<MpcbAnalyser> {
    try {
      assertIdentifier('analyzerId', analyzerId);
    } catch (error) {
      throw new MpcbConfigurationError((error as Error).message);
    }
    const rows = await this.dataSource.query<AnalyserRow[]>(
      `INSERT INTO mpcb.analysers (monitoring_unit_ref, analyzer_id, analyzer_name) VALUES ($1, $2, $3) RETURNING *`,
      [monitoringUnitRef, analyzerId, analyzerName],
    );
    return toAnalyser(rows[0]);
  }

  async setMaintenance(analyserRef: string, maintenance: boolean): Promise<void> {
    await this.dataSource.query(`UPDATE mpcb.analysers SET maintenance = $2 WHERE id = $1`, [
      analyserRef,
      maintenance,
    ]);
  }

  async addParameter(analyserRef: string, input: NewParameter): Promise<MpcbParameter> {
    return this.upsertParameter(this.dataSource.manager, analyserRef, input, true);
  }

  /** Inserts or updates a parameter by (analyser, parameterId); the source is kept when `input.source` is undefined. */
  async upsertParameter(
    manager: EntityManager,
    analyserRef: string,
    input: NewParameter,
    replaceSource: boolean,
  ): Promise<MpcbParameter> {
    checkParameter(input);
    const source = input.source ?? null;
    const rows = await manager.query<ParameterRow[]>(
      `INSERT INTO mpcb.parameters (analyser_ref, parameter_id, parameter_name, unit, coefficient_a, coefficient_b,
                                    gauge_minimum, gauge_maximum, channel_no, source_gateway_ref, source_kind,
                                    source_channel, source_device_serial, source_quantity)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (analyser_ref, parameter_id) DO UPDATE SET
         parameter_name = EXCLUDED.parameter_name, unit = EXCLUDED.unit,
         coefficient_a = EXCLUDED.coefficient_a, coefficient_b = EXCLUDED.coefficient_b,
         gauge_minimum = EXCLUDED.gauge_minimum, gauge_maximum = EXCLUDED.gauge_maximum,
         channel_no = EXCLUDED.channel_no,
         source_gateway_ref = CASE WHEN $15 THEN EXCLUDED.source_gateway_ref ELSE mpcb.parameters.source_gateway_ref END,
         source_kind = CASE WHEN $15 THEN EXCLUDED.source_kind ELSE mpcb.parameters.source_kind END,
         source_channel = CASE WHEN $15 THEN EXCLUDED.source_channel ELSE mpcb.parameters.source_channel END,
         source_device_serial = CASE WHEN $15 THEN EXCLUDED.source_device_serial
                                     ELSE mpcb.parameters.source_device_serial END,
         source_quantity = CASE WHEN $15 THEN EXCLUDED.source_quantity ELSE mpcb.parameters.source_quantity END
       RETURNING *`,
      [
        analyserRef,
        input.parameterId,
        input.parameterName,
        input.unit,
        input.coefficientA ?? 1,
        input.coefficientB ?? 0,
        input.gaugeMinimum ?? null,
        input.gaugeMaximum ?? null,
        input.channelNo ?? '0',
        source?.gatewayId ?? null,
        source?.kind ?? null,
        source?.kind === 'sensor' ? source.channel : null,
        source?.kind === 'meter' ? source.deviceSerial : null,
        source?.kind === 'meter' ? source.quantity : null,
        replaceSource,
      ],
    );
    return toParameter(rows[0]);
  }

  async findSite(siteRef: string): Promise<MpcbSite | null> {
    const rows = await this.dataSource.query<SiteRow[]>(`SELECT * FROM mpcb.sites WHERE id = $1`, [siteRef]);
    return rows[0] ? this.toSite(rows[0]) : null;
  }

  async enabledSites(): Promise<MpcbSite[]> {
    const rows = await this.dataSource.query<SiteRow[]>(
      `SELECT * FROM mpcb.sites WHERE enabled ORDER BY site_id`,
    );
    return rows.map((row) => this.toSite(row));
  }

  async monitoringUnits(siteRef: string): Promise<MpcbMonitoringUnit[]> {
    const rows = await this.dataSource.query<UnitRow[]>(
      `SELECT * FROM mpcb.monitoring_units WHERE site_ref = $1 ORDER BY monitoring_id`,
      [siteRef],
    );
    return rows.map(toUnit);
  }

  /** The whole configuration of a site, for uploadConfig and diagnostics. */
  async siteTree(siteRef: string): Promise<SiteTree> {
    const site = await this.findSite(siteRef);
    if (!site) throw new MpcbConfigurationError(`no MPCB site ${siteRef}`);
    const units = await this.monitoringUnits(siteRef);
    const analysers = await this.dataSource.query<AnalyserRow[]>(
      `SELECT a.* FROM mpcb.analysers a JOIN mpcb.monitoring_units u ON u.id = a.monitoring_unit_ref
        WHERE u.site_ref = $1 ORDER BY a.analyzer_id`,
      [siteRef],
    );
    const parameters = await this.dataSource.query<ParameterRow[]>(
      `SELECT p.* FROM mpcb.parameters p JOIN mpcb.analysers a ON a.id = p.analyser_ref
         JOIN mpcb.monitoring_units u ON u.id = a.monitoring_unit_ref
        WHERE u.site_ref = $1 ORDER BY p.parameter_id`,
      [siteRef],
    );
    return {
      site,
      monitoringUnits: units.map((unit) => ({
        ...unit,
        analysers: analysers
          .filter((a) => a.monitoring_unit_ref === unit.id)
          .map((a) => ({
            ...toAnalyser(a),
            parameters: parameters.filter((p) => p.analyser_ref === a.id).map(toParameter),
          })),
      })),
    };
  }

  /** Every enabled parameter with a source, of every enabled site. */
  async acquisitionTargets(): Promise<AcquisitionTarget[]> {
    const rows = await this.dataSource.query<
      (ParameterRow & {
        s_id: string;
        s_site_id: string;
        u_id: string;
        u_monitoring_id: string;
        u_monitoring_type: string;
        a_id: string;
        a_analyzer_id: string;
        a_analyzer_name: string;
        a_maintenance: boolean;
      })[]
    >(
      `SELECT p.*, s.id AS s_id, s.site_id AS s_site_id, u.id AS u_id, u.monitoring_id AS u_monitoring_id,
              u.monitoring_type AS u_monitoring_type, a.id AS a_id, a.analyzer_id AS a_analyzer_id,
              a.analyzer_name AS a_analyzer_name, a.maintenance AS a_maintenance
         FROM mpcb.parameters p
         JOIN mpcb.analysers a ON a.id = p.analyser_ref
         JOIN mpcb.monitoring_units u ON u.id = a.monitoring_unit_ref
         JOIN mpcb.sites s ON s.id = u.site_ref
        WHERE s.enabled AND p.enabled AND p.source_kind IS NOT NULL
        ORDER BY s.site_id, u.monitoring_id, a.analyzer_id, p.parameter_id`,
    );
    return rows.map((row) => ({
      site: { id: row.s_id, siteId: row.s_site_id },
      monitoringUnit: {
        id: row.u_id,
        siteRef: row.s_id,
        monitoringId: row.u_monitoring_id,
        monitoringType: row.u_monitoring_type,
      },
      analyser: {
        id: row.a_id,
        monitoringUnitRef: row.u_id,
        analyzerId: row.a_analyzer_id,
        analyzerName: row.a_analyzer_name,
        maintenance: row.a_maintenance,
      },
      parameter: toParameter(row) as MpcbParameter & { source: MpcbParameterSource },
    }));
  }

  /** Stores what getConfig answered (times and the document) on the site. */
  async recordServerConfiguration(
    manager: EntityManager,
    siteRef: string,
    configuration: Record<string, unknown>,
    serverConfigLastUpdatedTime: string | null,
    siteConfigLastUpdatedTime: string | null,
    siteName: string | null,
    siteLabel: string | null,
  ): Promise<void> {
    await manager.query(
      `UPDATE mpcb.sites SET server_configuration = $2,
              server_config_last_updated_time = COALESCE($3, server_config_last_updated_time),
              site_config_last_updated_time = COALESCE($4, site_config_last_updated_time),
              site_name = COALESCE($5, site_name), site_label = COALESCE($6, site_label), updated_at = now()
        WHERE id = $1`,
      [
        siteRef,
        JSON.stringify(configuration),
        serverConfigLastUpdatedTime,
        siteConfigLastUpdatedTime,
        siteName,
        siteLabel,
      ],
    );
  }

  /** Finds or creates an analyser of a monitoring unit (configuration download). */
  async ensureAnalyser(
    manager: EntityManager,
    monitoringUnitRef: string,
    analyzerId: string,
  ): Promise<string> {
    try {
      assertIdentifier('analyzerId', analyzerId);
    } catch (error) {
      throw new MpcbConfigurationError((error as Error).message);
    }
    const rows = await manager.query<{ id: string }[]>(
      `INSERT INTO mpcb.analysers (monitoring_unit_ref, analyzer_id) VALUES ($1, $2)
       ON CONFLICT (monitoring_unit_ref, analyzer_id) DO UPDATE SET analyzer_id = EXCLUDED.analyzer_id
       RETURNING id`,
      [monitoringUnitRef, analyzerId],
    );
    return rows[0].id;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  private toSite(row: SiteRow): MpcbSite {
    return {
      id: row.id,
      siteId: row.site_id,
      siteUid: row.site_uid,
      siteName: row.site_name,
      siteLabel: row.site_label,
      softwareVersionId: row.software_version_id,
      siteKey: this.cipher.decrypt(row.site_key_encrypted),
      authorizationEncoding: row.authorization_encoding,
      centralServerUrl: row.central_server_url,
      enabled: row.enabled,
      serverConfigLastUpdatedTime: row.server_config_last_updated_time,
      siteConfigLastUpdatedTime: row.site_config_last_updated_time,
      serverConfiguration: row.server_configuration,
    };
  }
}

function toUnit(row: UnitRow): MpcbMonitoringUnit {
  return {
    id: row.id,
    siteRef: row.site_ref,
    monitoringId: row.monitoring_id,
    monitoringType: row.monitoring_type,
  };
}

function toAnalyser(row: AnalyserRow): MpcbAnalyser {
  return {
    id: row.id,
    monitoringUnitRef: row.monitoring_unit_ref,
    analyzerId: row.analyzer_id,
    analyzerName: row.analyzer_name,
    maintenance: row.maintenance,
  };
}

function toParameter(row: ParameterRow): MpcbParameter {
  let source: MpcbParameterSource | null = null;
  if (row.source_kind === 'sensor' && row.source_gateway_ref && row.source_channel)
    source = { kind: 'sensor', gatewayId: row.source_gateway_ref, channel: row.source_channel };
  if (
    row.source_kind === 'meter' &&
    row.source_gateway_ref &&
    row.source_device_serial &&
    row.source_quantity
  )
    source = {
      kind: 'meter',
      gatewayId: row.source_gateway_ref,
      deviceSerial: row.source_device_serial,
      quantity: row.source_quantity,
    };
  return {
    id: row.id,
    analyserRef: row.analyser_ref,
    parameterId: row.parameter_id,
    parameterName: row.parameter_name,
    unit: row.unit,
    coefficientA: row.coefficient_a,
    coefficientB: row.coefficient_b,
    gaugeMinimum: row.gauge_minimum,
    gaugeMaximum: row.gauge_maximum,
    channelNo: row.channel_no,
    source,
    enabled: row.enabled,
  };
}
