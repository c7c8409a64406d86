import { DateTime } from 'luxon';
import type { NewCalibration } from './mpcb-calibration.repository';
import type {
  MpcbAnalyser,
  MpcbMonitoringUnit,
  MpcbParameter,
  NewParameter,
  SiteTree,
} from './mpcb-site.repository';

/**
 * The JSON documents of the configuration, calibration and diagnostic flows (Open API sections "Configuration
 * Download from server", "Fetch Configuration From Client", "Remote Calibration Service", "Fetch Diagnostic
 * Information From Client"): built from, and read into, the site client's own configuration.
 */

export class MpcbDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MpcbDocumentError';
  }
}

/** The document's fixed-width layout ("configJson"), sent when the server never gave one. */
export const DEFAULT_CONFIG_JSON: Record<string, Record<string, unknown>> = {
  id: field('-', 1, 8),
  sensorChannel: field('-', 9, 10),
  parameterName: field('*', 11, 25),
  Reading: field('*', 26, 41),
  QualityCode: field('*', 42, 43),
  SensorTime: field('-', 44, 54),
  monitoringType: field('-', 55, 64),
  monitoringId: field('-', 65, 84),
  parameterId: field('-', 85, 100),
  analyzerId: field('-', 101, 115),
};

function field(padding: string, start: number, end: number): Record<string, unknown> {
  return { required: 'True', padding, start_pos: start, end_pos: end, type: 'string', alignment: 'left' };
}

/** One collector (data source gateway) as CollectorDetails describes it. */
export interface CollectorDescription {
  CollectorType: string;
  CollectorName: string;
  ConfiguredChannels: string;
  PollingStep: string;
  ChecksumStatusBit: string;
  Address: string;
  HeartBeat: string;
  DataFormatBits: string;
  Port: string;
  CommunicationTimeOut: string;
  customparameters: Record<string, unknown>;
}

/** SensorA … SensorZ, SensorAA, SensorAB, … */
export function sensorKey(index: number): string {
  let name = '';
  let n = index;
  do {
    name = String.fromCharCode(65 + (n % 26)) + name;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `Sensor${name}`;
}

function optionalNumber(value: number | null): string {
  return value === null ? '' : String(value);
}

type UnitTree = SiteTree['monitoringUnits'][number];

function sensorEntries(unit: UnitTree): Record<string, Record<string, unknown>> {
  const entries: Record<string, Record<string, unknown>> = {};
  let index = 0;
  for (const analyser of unit.analysers) {
    for (const parameter of analyser.parameters) {
      entries[sensorKey(index++)] = {
        collectorType: unit.monitoringType,
        monitoringType: unit.monitoringType,
        monitoringId: unit.monitoringId,
        ChannelNo: parameter.channelNo,
        GaugeMinimum: optionalNumber(parameter.gaugeMinimum),
        CoefficientA: String(parameter.coefficientA),
        parameterId: parameter.parameterId,
        GaugeMaximum: optionalNumber(parameter.gaugeMaximum),
        MeasurementUnit: parameter.unit,
        compPort: '',
        parameterName: parameter.parameterName,
        CoefficientB: String(parameter.coefficientB),
        analyzerId: analyser.analyzerId,
        customparameters: parameter.source ? { source: parameter.source } : {},
      };
    }
  }
  return entries;
}

function siteDetails(tree: SiteTree, unit: MpcbMonitoringUnit): Record<string, unknown> {
  return {
    siteName: tree.site.siteName,
    siteLabel: tree.site.siteLabel,
    siteConfigLastUpdatedTime: tree.site.siteConfigLastUpdatedTime ?? '',
    siteId: tree.site.siteId,
    monitoringId: unit.monitoringId,
    customparameters: {},
  };
}

export interface SoftwareDescription {
  acquisitionVersion: string;
  acquisitionSystem: string;
}

/** The uploadConfig body ("Command": "ConfigFetch") for one monitoring unit. */
export function buildConfigFetch(
  tree: SiteTree,
  unit: UnitTree,
  collectors: readonly CollectorDescription[],
  software: SoftwareDescription,
): Record<string, unknown> {
  const stored = tree.site.serverConfiguration;
  const storedLayout = stored?.configJson;
  return {
    Command: 'ConfigFetch',
    serverConfigLastUpdatedTime: tree.site.serverConfigLastUpdatedTime ?? '',
    SiteDetails: siteDetails(tree, unit),
    CollectorDetails: collectors,
    configJson: storedLayout && typeof storedLayout === 'object' ? storedLayout : DEFAULT_CONFIG_JSON,
    AcquisitionSystemDetails: {
      AcquisitionVersion: software.acquisitionVersion,
      AcquisitionSystem: software.acquisitionSystem,
    },
    ...sensorEntries(unit),
  };
}

export interface DiagnosticItem {
  key: string;
  value: string;
  category: string;
}

export interface AnalyserDiagnostics {
  analyser: MpcbAnalyser & { parameters: MpcbParameter[] };
  diagnostics: DiagnosticItem[];
}

/** The uploadDiagnosticInfo body ("Command": "DiagnosticFetch"). */
export function buildDiagnosticFetch(
  tree: SiteTree,
  unit: MpcbMonitoringUnit,
  collectors: readonly CollectorDescription[],
  analysers: readonly AnalyserDiagnostics[],
): Record<string, unknown> {
  return {
    Command: 'DiagnosticFetch',
    SiteDetails: siteDetails(tree, unit),
    CollectorDetails: collectors,
    diagnosticJson: analysers.map((entry) => ({
      analyserId: entry.analyser.analyzerId,
      parameterName: entry.analyser.parameters.map((p) => p.parameterName).join(','),
      diagnostics: entry.diagnostics,
    })),
  };
}

/** Flattens a driver's diagnostics into key/value/category items; the category is the top-level key. */
export function flattenDiagnostics(source: Record<string, unknown>, prefix = ''): DiagnosticItem[] {
  const items: DiagnosticItem[] = [];
  const walk = (value: unknown, path: string[]): void => {
    if (value instanceof Date) {
      items.push({ key: path.join('.'), value: value.toISOString(), category: path[0] });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, [...path, String(index)]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>))
        walk(inner, [...path, key]);
    } else if (value === null) {
      items.push({ key: path.join('.'), value: '', category: path[0] });
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      items.push({ key: path.join('.'), value: String(value), category: path[0] });
    }
  };
  for (const [key, value] of Object.entries(source)) walk(value, prefix ? [prefix, key] : [key]);
  return items;
}

/** A parameter of the downloaded configuration, with the analyser it belongs to. */
export interface ConfiguredSensor extends NewParameter {
  analyzerId: string;
}

export interface ServerConfiguration {
  serverConfigLastUpdatedTime: string | null;
  siteConfigLastUpdatedTime: string | null;
  siteName: string | null;
  siteLabel: string | null;
  sensors: ConfiguredSensor[];
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function numberOr(name: string, value: unknown, fallback: number | null): number | null {
  const raw = text(value);
  if (raw === null || raw === '') return fallback;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed)) throw new MpcbDocumentError(`${name} "${raw}" is not a number`);
  return parsed;
}

/** Reads a getConfig answer: the Sensor* entries of the monitoring unit become parameters. */
export function readServerConfiguration(
  body: Record<string, unknown>,
  monitoringId: string,
): ServerConfiguration {
  const details = (body.SiteDetails ?? {}) as Record<string, unknown>;
  const sensors: ConfiguredSensor[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (!/^sensor/i.test(key.trim()) || !value || typeof value !== 'object' || Array.isArray(value)) continue;
    const entry = value as Record<string, unknown>;
    const entryUnit = text(entry.monitoringId);
    if (entryUnit && entryUnit !== monitoringId) continue;
    const where = `${key.trim()}`;
    const analyzerId = text(entry.analyzerId);
    const parameterId = text(entry.parameterId);
    const parameterName = text(entry.parameterName);
    const unit = text(entry.MeasurementUnit);
    if (!analyzerId || !parameterId || !parameterName || !unit)
      throw new MpcbDocumentError(
        `${where} needs analyzerId, parameterId, parameterName and MeasurementUnit`,
      );
    sensors.push({
      analyzerId,
      parameterId,
      parameterName,
      unit,
      coefficientA: numberOr(`${where}.CoefficientA`, entry.CoefficientA, 1) ?? 1,
      coefficientB: numberOr(`${where}.CoefficientB`, entry.CoefficientB, 0) ?? 0,
      gaugeMinimum: numberOr(`${where}.GaugeMinimum`, entry.GaugeMinimum, null),
      gaugeMaximum: numberOr(`${where}.GaugeMaximum`, entry.GaugeMaximum, null),
      channelNo: text(entry.ChannelNo) || '0',
    });
  }
  if (sensors.length === 0)
    throw new MpcbDocumentError(`the configuration lists no sensor of monitoring unit ${monitoringId}`);
  return {
    serverConfigLastUpdatedTime: text(body.serverConfigLastUpdatedTime),
    siteConfigLastUpdatedTime: text(details.siteConfigLastUpdatedTime),
    siteName: text(details.siteName),
    siteLabel: text(details.siteLabel),
    sensors,
  };
}

const DATE_FORMATS = ['yyyy-MM-dd', 'dd-MM-yyyy', 'dd/MM/yyyy', 'yyyy/MM/dd'];
const TIME_FORMATS = ['HH:mm:ss', 'HH:mm'];

/** A {date, time} of the calibration document, as wall-clock time of the zone. */
export function readDateTime(value: unknown, timeZone: string): Date | null {
  if (!value || typeof value !== 'object') return null;
  const { date, time } = value as Record<string, unknown>;
  const day = text(date);
  const clock = text(time);
  if (!day) return null;
  for (const dateFormat of DATE_FORMATS) {
    for (const timeFormat of TIME_FORMATS) {
      const parsed = DateTime.fromFormat(`${day} ${clock || '00:00:00'}`, `${dateFormat} ${timeFormat}`, {
        zone: timeZone,
      });
      if (parsed.isValid) return parsed.toJSDate();
    }
  }
  throw new MpcbDocumentError(`calibration date "${day}" / time "${clock ?? ''}" cannot be read`);
}

/** Reads a getCalibrationConfig answer into a calibration window of the unit. */
export function readCalibration(
  body: Record<string, unknown>,
  monitoringUnitRef: string,
  calibrationType: 'Scheduled' | 'Immediate',
  now: Date,
  timeZone: string,
): Omit<NewCalibration, 'configuration'> & { configuration: Record<string, unknown> } {
  const calibration = body.calibration;
  if (!calibration || typeof calibration !== 'object' || Array.isArray(calibration))
    throw new MpcbDocumentError('the answer carries no "calibration" object');
  const doc = calibration as Record<string, unknown>;
  const immediate = text(doc.executeImmediate)?.toLowerCase() === 'true' || calibrationType === 'Immediate';
  const startsAt = immediate ? now : readDateTime(doc.startTime, timeZone);
  if (!startsAt) throw new MpcbDocumentError('a scheduled calibration needs startTime {date, time}');
  let endsAt = immediate ? null : readDateTime(doc.endTime, timeZone);
  if (!endsAt || endsAt.getTime() <= startsAt.getTime()) {
    const total = numberOr('total_duration', doc.total_duration, null);
    let seconds = total !== null ? total * 60 : 0;
    if (total === null && Array.isArray(doc.sequence)) {
      for (const step of doc.sequence as Record<string, unknown>[]) {
        const delayMinutes = numberOr('sequence.delay', step?.delay, 0) ?? 0;
        const durationSeconds =
          numberOr('sequence.duration_secs', step?.duration_secs, null) ??
          (numberOr('sequence.duration', step?.duration, 0) ?? 0) * 60;
        seconds += delayMinutes * 60 + durationSeconds;
      }
    }
    if (!(seconds > 0))
      throw new MpcbDocumentError(
        'the calibration has neither an endTime, a total_duration nor a timed sequence',
      );
    endsAt = new Date(startsAt.getTime() + seconds * 1000);
  }
  return {
    monitoringUnitRef,
    calibrationType,
    remoteCalibrationId: text(doc.remoteCalibrationId) || null,
    analyzerId: text(doc.analyzerId) || null,
    parameterId: text(doc.parameterId) || null,
    startsAt,
    endsAt,
    configuration: body,
  };
}
