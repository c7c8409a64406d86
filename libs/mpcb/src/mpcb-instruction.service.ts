import { Inject, Injectable, Logger } from '@nestjs/common';
import { GatewayRepository } from '@hes/database';
import { MpcbAcquisitionService } from './mpcb-acquisition.service';
import { InstructionFlag, MpcbCalibrationRepository } from './mpcb-calibration.repository';
import { CentralAnswer, MpcbCentralClient, describeAnswer } from './mpcb-central.client';
import { MPCB_CLOCK, MpcbClock } from './mpcb-clock';
import { MpcbReadingRepository } from './mpcb-reading.repository';
import { MPCB_SETTINGS, MpcbSettings } from './mpcb-settings';
import {
  AnalyserDiagnostics,
  CollectorDescription,
  DiagnosticItem,
  buildConfigFetch,
  buildDiagnosticFetch,
  flattenDiagnostics,
  readCalibration,
  readServerConfiguration,
} from './mpcb-site-documents';
import { MpcbMonitoringUnit, MpcbSite, MpcbSiteRepository, SiteTree } from './mpcb-site.repository';
import { MpcbResponseFlags, isSuccessStatus } from './mpcb-wire-format';

export const MPCB_SOFTWARE = {
  acquisitionSystem: 'udil-head-end MPCB site client',
  acquisitionVersion: '0.1.0',
};

export class MpcbInstructionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MpcbInstructionError';
  }
}

export interface InstructionOutcome {
  flag: InstructionFlag;
  status: 'completed' | 'failed';
  detail: string;
}

const quietContext = { progress: () => undefined };

/**
 * Carries out what the flags of an upload answer ask for: ConfigurationDownloadFlag → getConfig, apply,
 * completedConfig; ConfigurationUpdateFlag → uploadConfig; RemoteCalibrationUpdateFlag → getCalibrationConfig,
 * schedule, updateCalibrationConfig; DiagnosticUpdateFlag → uploadDiagnosticInfo. Each flow is logged in
 * mpcb.instructions; a failed flow is repeated when the server raises its flag again.
 */
@Injectable()
export class MpcbInstructionService {
  private readonly logger = new Logger('MpcbInstructions');

  constructor(
    private readonly sites: MpcbSiteRepository,
    private readonly readings: MpcbReadingRepository,
    private readonly calibrations: MpcbCalibrationRepository,
    private readonly gateways: GatewayRepository,
    private readonly acquisition: MpcbAcquisitionService,
    private readonly central: MpcbCentralClient,
    @Inject(MPCB_SETTINGS) private readonly settings: MpcbSettings,
    @Inject(MPCB_CLOCK) private readonly clock: MpcbClock,
  ) {}

  async handle(
    site: MpcbSite,
    unit: MpcbMonitoringUnit,
    flags: MpcbResponseFlags,
  ): Promise<InstructionOutcome[]> {
    const flows: [boolean, InstructionFlag, () => Promise<string>][] = [
      [
        flags.configurationDownload,
        'ConfigurationDownloadFlag',
        () => this.downloadConfiguration(site, unit),
      ],
      [flags.configurationUpdate, 'ConfigurationUpdateFlag', () => this.uploadConfiguration(site, unit)],
      [
        flags.remoteCalibrationUpdate,
        'RemoteCalibrationUpdateFlag',
        () => this.downloadCalibration(site, unit),
      ],
      [flags.diagnosticUpdate, 'DiagnosticUpdateFlag', () => this.uploadDiagnostics(site, unit)],
    ];
    const outcomes: InstructionOutcome[] = [];
    for (const [raised, flag, flow] of flows) {
      if (!raised) continue;
      let outcome: InstructionOutcome;
      try {
        outcome = { flag, status: 'completed', detail: await flow() };
      } catch (error) {
        outcome = { flag, status: 'failed', detail: (error as Error).message };
        this.logger.warn({
          siteId: site.siteId,
          monitoringId: unit.monitoringId,
          flag,
          error: outcome.detail,
        });
      }
      await this.calibrations.logInstruction(unit.id, flag, outcome.status, outcome.detail);
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /** getConfig, apply it, then completedConfig. */
  async downloadConfiguration(site: MpcbSite, unit: MpcbMonitoringUnit): Promise<string> {
    const ids = { siteId: site.siteId, monitoringid: unit.monitoringId };
    const answer = await this.central.postJson(site, 'getConfig', ids);
    const body = this.successBody(answer, 'getConfig');
    const configuration = readServerConfiguration(body, unit.monitoringId);
    await this.sites.transaction(async (manager) => {
      await this.sites.recordServerConfiguration(
        manager,
        site.id,
        body,
        configuration.serverConfigLastUpdatedTime,
        configuration.siteConfigLastUpdatedTime,
        configuration.siteName,
        configuration.siteLabel,
      );
      for (const sensor of configuration.sensors) {
        const analyserRef = await this.sites.ensureAnalyser(manager, unit.id, sensor.analyzerId);
        const { analyzerId: _analyzerId, ...parameter } = sensor;
        await this.sites.upsertParameter(manager, analyserRef, parameter, false);
      }
    });
    this.successBody(
      await this.central.postJson(site, 'completedConfig', { ...ids, ConfigUpdated: 'True' }),
      'completedConfig',
    );
    return `applied ${configuration.sensors.length} parameter(s): ${configuration.sensors
      .map((s) => `${s.analyzerId}/${s.parameterId}`)
      .join(', ')}`;
  }

  /** uploadConfig with the current configuration of the unit. */
  async uploadConfiguration(site: MpcbSite, unit: MpcbMonitoringUnit): Promise<string> {
    const tree = await this.sites.siteTree(site.id);
    const unitTree = this.unitOf(tree, unit);
    const body = buildConfigFetch(tree, unitTree, await this.collectors(unitTree), MPCB_SOFTWARE);
    this.successBody(await this.central.postJson(site, 'uploadConfig', body), 'uploadConfig');
    const count = unitTree.analysers.reduce((sum, a) => sum + a.parameters.length, 0);
    return `uploaded the configuration of ${count} parameter(s)`;
  }

  /** getCalibrationConfig (Scheduled, then Immediate), schedule it, updateCalibrationConfig. */
  async downloadCalibration(site: MpcbSite, unit: MpcbMonitoringUnit): Promise<string> {
    const ids = { siteId: site.siteId, monitoringid: unit.monitoringId };
    const failures: string[] = [];
    for (const calibrationType of ['Scheduled', 'Immediate'] as const) {
      const answer = await this.central.postJson(site, 'getCalibrationConfig', {
        ...ids,
        CalibrationType: calibrationType,
      });
      if (!isSuccessStatus(answer.body)) {
        failures.push(`${calibrationType}: ${describeAnswer(answer)}`);
        continue;
      }
      const calibration = readCalibration(
        answer.body as Record<string, unknown>,
        unit.id,
        calibrationType,
        this.clock.now(),
        this.settings.timeZone,
      );
      const id = await this.calibrations.schedule(calibration);
      this.successBody(
        await this.central.postJson(site, 'updateCalibrationConfig', {
          ...ids,
          CalibrationType: calibrationType,
        }),
        'updateCalibrationConfig',
      );
      await this.calibrations.acknowledged(id, this.clock.now());
      return `${calibrationType} calibration of ${calibration.analyzerId ?? 'every analyser'}/${
        calibration.parameterId ?? 'every parameter'
      } from ${calibration.startsAt.toISOString()} to ${calibration.endsAt.toISOString()}`;
    }
    throw new MpcbInstructionError(`getCalibrationConfig gave no calibration (${failures.join('; ')})`);
  }

  /** uploadDiagnosticInfo with each analyser's diagnostics (driver metadata, alarms, acquisition state). */
  async uploadDiagnostics(site: MpcbSite, unit: MpcbMonitoringUnit): Promise<string> {
    const tree = await this.sites.siteTree(site.id);
    const unitTree = this.unitOf(tree, unit);
    const latest = await this.readings.latestReadingTimes(unit.id);
    const byGateway = new Map<string, Promise<DiagnosticItem[]>>();
    const gatewayDiagnostics = (gatewayId: string): Promise<DiagnosticItem[]> => {
      let pending = byGateway.get(gatewayId);
      if (!pending) {
        pending = this.readGatewayDiagnostics(gatewayId);
        byGateway.set(gatewayId, pending);
      }
      return pending;
    };
    const analysers: AnalyserDiagnostics[] = [];
    for (const analyser of unitTree.analysers) {
      const diagnostics: DiagnosticItem[] = [
        { key: 'maintenance', value: analyser.maintenance ? '1' : '0', category: 'status' },
      ];
      const gatewayIds = new Set<string>();
      for (const parameter of analyser.parameters) {
        const last = latest.get(parameter.id);
        diagnostics.push({
          key: `${parameter.parameterId}.lastReadingTime`,
          value: last ? last.toISOString() : '',
          category: 'acquisition',
        });
        if (parameter.source) {
          gatewayIds.add(parameter.source.gatewayId);
          const where =
            parameter.source.kind === 'sensor' ? parameter.source.channel : parameter.source.quantity;
          diagnostics.push({ key: `${parameter.parameterId}.source`, value: where, category: 'acquisition' });
        }
      }
      for (const gatewayId of gatewayIds) diagnostics.push(...(await gatewayDiagnostics(gatewayId)));
      analysers.push({ analyser, diagnostics });
    }
    const body = buildDiagnosticFetch(tree, unit, await this.collectors(unitTree), analysers);
    this.successBody(await this.central.postJson(site, 'uploadDiagnosticInfo', body), 'uploadDiagnosticInfo');
    return `uploaded ${analysers.reduce((sum, a) => sum + a.diagnostics.length, 0)} diagnostic item(s) of ${
      analysers.length
    } analyser(s)`;
  }

  private async readGatewayDiagnostics(gatewayId: string): Promise<DiagnosticItem[]> {
    try {
      const { endpoint, driver } = await this.acquisition.gatewayFor(gatewayId);
      const items: DiagnosticItem[] = [
        { key: 'collector', value: `${endpoint.name} (${driver.name})`, category: 'communication' },
      ];
      if (!driver.readDiagnostics) {
        items.push({
          key: 'diagnostics',
          value: `${driver.name} reports no diagnostics`,
          category: 'communication',
        });
        return items;
      }
      const diagnostics = await driver.readDiagnostics(endpoint, quietContext);
      items.push({ key: 'status', value: 'reachable', category: 'communication' });
      return [...items, ...flattenDiagnostics(diagnostics)];
    } catch (error) {
      return [
        { key: 'status', value: `unreachable: ${(error as Error).message}`, category: 'communication' },
      ];
    }
  }

  private async collectors(unit: SiteTree['monitoringUnits'][number]): Promise<CollectorDescription[]> {
    const counts = new Map<string, number>();
    for (const analyser of unit.analysers)
      for (const parameter of analyser.parameters)
        if (parameter.source)
          counts.set(parameter.source.gatewayId, (counts.get(parameter.source.gatewayId) ?? 0) + 1);
    const collectors: CollectorDescription[] = [];
    for (const [gatewayId, channels] of counts) {
      const gateway = await this.gateways.findById(gatewayId);
      if (!gateway) continue;
      let address = gateway.endpoint;
      let port = '';
      try {
        const url = new URL(gateway.endpoint);
        address = url.hostname;
        port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80');
      } catch {
        // Not a URL: reported as is.
      }
      collectors.push({
        CollectorType: gateway.driver,
        CollectorName: gateway.name,
        ConfiguredChannels: String(channels),
        PollingStep: String(this.settings.acquisitionIntervalSeconds),
        ChecksumStatusBit: '0',
        Address: address,
        HeartBeat: String(this.settings.transmissionIntervalSeconds),
        DataFormatBits: '00',
        Port: port,
        CommunicationTimeOut: String(Math.ceil(gateway.requestTimeoutMs / 1000)),
        customparameters: {},
      });
    }
    return collectors;
  }

  private unitOf(tree: SiteTree, unit: MpcbMonitoringUnit): SiteTree['monitoringUnits'][number] {
    const found = tree.monitoringUnits.find((u) => u.id === unit.id);
    if (!found) throw new MpcbInstructionError(`monitoring unit ${unit.monitoringId} is not configured`);
    return found;
  }

  private successBody(answer: CentralAnswer, route: string): Record<string, unknown> {
    if (!answer.body || !isSuccessStatus(answer.body))
      throw new MpcbInstructionError(`${route} was not successful (${describeAnswer(answer)})`);
    return answer.body;
  }
}
