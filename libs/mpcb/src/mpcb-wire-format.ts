import AdmZip from 'adm-zip';
import { DateTime } from 'luxon';
import { decryptHashPadded, encryptHashPadded } from './mpcb-crypto';

/**
 * The upload file formats of the MPCB OCEMS Open API: metadata.csv, the data CSV in metadata column
 * order, the `siteId_monitoringId_YYYYmmddHHMMSS` names, the zip, and the "%Y-%m-%dT%H:%M:%SZ" timestamps
 * (India wall-clock time by default, written with a literal Z as the public clients do).
 */

export const METADATA_COLUMNS = [
  'SITE_ID',
  'SITE_UID',
  'MONITORING_UNIT_ID',
  'ANALYZER_ID',
  'PARAMETER_ID',
  'PARAMETER_NAME',
  'RAWREADING',
  'READING_UNIT',
  'DATA_QUALITY_CODE',
  'VALIDATED_READING',
  'UNIX_TIMESTAMP',
  'CALIBRATION_FLAG',
  'MAINTENANCE_FLAG',
] as const;

export const METADATA_FILE_NAME = 'metadata.csv';
/** metadata.csv: the unencrypted header line. */
export const METADATA_CSV = `${METADATA_COLUMNS.join(',')}\n`;
export const DEFAULT_MPCB_TIME_ZONE = 'Asia/Kolkata';

export class MpcbFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MpcbFormatError';
  }
}

/** One line of the data file, in metadata column order. */
export interface MpcbDataRow {
  siteId: string;
  siteUid: string;
  monitoringUnitId: string;
  analyzerId: string;
  parameterId: string;
  parameterName: string;
  rawReading: number;
  readingUnit: string;
  dataQualityCode: string;
  validatedReading: number;
  /** Seconds since 1970-01-01 UTC. */
  unixTimestamp: number;
  calibrationFlag: 0 | 1;
  maintenanceFlag: 0 | 1;
}

const TEXT_FIELDS = [
  'siteId',
  'siteUid',
  'monitoringUnitId',
  'analyzerId',
  'parameterId',
  'parameterName',
  'readingUnit',
  'dataQualityCode',
] as const;

/** A text value that can stand in a CSV cell unquoted (the format has no quoting). */
export function assertCsvText(name: string, value: string): void {
  if (value.trim().length === 0) throw new MpcbFormatError(`${name} must not be empty`);
  if (/[,\r\n"]/.test(value))
    throw new MpcbFormatError(`${name} "${value}" must not contain , " or a line break`);
}

function formatNumber(name: string, value: number): string {
  if (!Number.isFinite(value)) throw new MpcbFormatError(`${name} must be a finite number, not ${value}`);
  return String(value);
}

export function formatDataRow(row: MpcbDataRow): string {
  for (const field of TEXT_FIELDS) assertCsvText(field, row[field]);
  if (!Number.isInteger(row.unixTimestamp) || row.unixTimestamp < 0)
    throw new MpcbFormatError(`unixTimestamp must be whole seconds, not ${row.unixTimestamp}`);
  return [
    row.siteId,
    row.siteUid,
    row.monitoringUnitId,
    row.analyzerId,
    row.parameterId,
    row.parameterName,
    formatNumber('rawReading', row.rawReading),
    row.readingUnit,
    row.dataQualityCode,
    formatNumber('validatedReading', row.validatedReading),
    String(row.unixTimestamp),
    String(row.calibrationFlag),
    String(row.maintenanceFlag),
  ].join(',');
}

/** The data file's plain text: one line per reading, each ended by \n, no header (metadata.csv is it). */
export function formatDataCsv(rows: readonly MpcbDataRow[]): string {
  if (rows.length === 0) throw new MpcbFormatError('a data file needs at least one reading');
  return rows.map((row) => `${formatDataRow(row)}\n`).join('');
}

/** Reads a data file's plain text back (the simulator's validation), naming the line of any fault. */
export function parseDataCsv(text: string): MpcbDataRow[] {
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new MpcbFormatError('the data file has no lines');
  return lines.map((line, index) => {
    const where = `line ${index + 1}`;
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length !== METADATA_COLUMNS.length)
      throw new MpcbFormatError(
        `${where} has ${cells.length} fields, metadata.csv has ${METADATA_COLUMNS.length}`,
      );
    const number = (column: number): number => {
      const value = cells[column];
      if (!/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(value))
        throw new MpcbFormatError(`${where}: ${METADATA_COLUMNS[column]} "${value}" is not a number`);
      return Number(value);
    };
    const flag = (column: number): 0 | 1 => {
      const value = cells[column];
      if (value !== '0' && value !== '1')
        throw new MpcbFormatError(`${where}: ${METADATA_COLUMNS[column]} must be 0 or 1, not "${value}"`);
      return value === '1' ? 1 : 0;
    };
    for (const column of [0, 1, 2, 3, 4, 5, 7, 8])
      if (cells[column].length === 0)
        throw new MpcbFormatError(`${where}: ${METADATA_COLUMNS[column]} is empty`);
    const unixTimestamp = number(10);
    if (!Number.isInteger(unixTimestamp))
      throw new MpcbFormatError(`${where}: UNIX_TIMESTAMP must be whole seconds`);
    return {
      siteId: cells[0],
      siteUid: cells[1],
      monitoringUnitId: cells[2],
      analyzerId: cells[3],
      parameterId: cells[4],
      parameterName: cells[5],
      rawReading: number(6),
      readingUnit: cells[7],
      dataQualityCode: cells[8],
      validatedReading: number(9),
      unixTimestamp,
      calibrationFlag: flag(11),
      maintenanceFlag: flag(12),
    };
  });
}

/** Checks a metadata.csv: its first line must be the 13 columns in order (spaces after commas tolerated). */
export function checkMetadataCsv(text: string): void {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
  const columns = first.split(',').map((cell) => cell.trim().replace(/^'|'$/g, ''));
  if (columns.join(',') !== METADATA_COLUMNS.join(','))
    throw new MpcbFormatError(`metadata.csv header is "${first}", expected "${METADATA_COLUMNS.join(',')}"`);
}

/** YYYYmmddHHMMSS of an instant in a zone. */
export function fileTimestamp(at: Date, timeZone: string): string {
  return zoned(at, timeZone).toFormat('yyyyLLddHHmmss');
}

/** The instant of a file-name timestamp written by fileTimestamp (wall-clock time of the zone). */
export function parseFileTimestamp(stamp: string, timeZone: string): Date {
  const parsed = DateTime.fromFormat(stamp, 'yyyyLLddHHmmss', { zone: timeZone });
  if (!parsed.isValid) throw new MpcbFormatError(`file timestamp "${stamp}" is not %Y%m%d%H%M%S`);
  return parsed.toJSDate();
}

/** "%Y-%m-%dT%H:%M:%SZ" of an instant as wall-clock time of the zone, with a literal Z. */
export function headerTimestamp(at: Date, timeZone: string): string {
  return zoned(at, timeZone).toFormat("yyyy-LL-dd'T'HH:mm:ss'Z'");
}

/** Reads a header timestamp written by headerTimestamp (wall-clock time of the zone). */
export function parseHeaderTimestamp(text: string, timeZone: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text))
    throw new MpcbFormatError(`timestamp "${text}" is not %Y-%m-%dT%H:%M:%SZ`);
  const parsed = DateTime.fromFormat(text, "yyyy-LL-dd'T'HH:mm:ss'Z'", { zone: timeZone });
  if (!parsed.isValid) throw new MpcbFormatError(`timestamp "${text}" is not a valid date and time`);
  return parsed.toJSDate();
}

function zoned(at: Date, timeZone: string): DateTime {
  const value = DateTime.fromJSDate(at, { zone: timeZone });
  if (!value.isValid) throw new MpcbFormatError(`cannot express ${at.toISOString()} in zone ${timeZone}`);
  return value;
}

/** An identifier that can stand in a file name and a CSV cell. */
export function assertIdentifier(name: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$/.test(value) || value.endsWith(' '))
    throw new MpcbFormatError(
      `${name} "${value}" must be 1–100 letters, digits, _ . - or inner spaces, starting with a letter or digit`,
    );
}

/** `siteId_monitoringId_YYYYmmddHHMMSS` (without extension). */
export function uploadBaseName(siteId: string, monitoringId: string, at: Date, timeZone: string): string {
  assertIdentifier('siteId', siteId);
  assertIdentifier('monitoringId', monitoringId);
  return `${siteId}_${monitoringId}_${fileTimestamp(at, timeZone)}`;
}

export interface ParsedDataFileName {
  monitoringId: string;
  timestamp: string;
}

/** Splits `siteId_monitoringId_YYYYmmddHHMMSS.csv` for a known siteId (site ids contain '_' themselves). */
export function parseDataFileName(fileName: string, siteId: string): ParsedDataFileName {
  const prefix = `${siteId}_`;
  const match = /^(.+)_(\d{14})\.csv$/.exec(fileName);
  if (!match || !fileName.startsWith(prefix) || match[1].length <= siteId.length)
    throw new MpcbFormatError(
      `data file "${fileName}" is not named ${siteId}_<monitoringId>_YYYYmmddHHMMSS.csv`,
    );
  const monitoringId = match[1].slice(prefix.length);
  const stamp = DateTime.fromFormat(match[2], 'yyyyLLddHHmmss');
  if (!stamp.isValid) throw new MpcbFormatError(`data file "${fileName}" has an invalid timestamp`);
  return { monitoringId, timestamp: match[2] };
}

export interface UploadPackage {
  /** e.g. site_1234_Stack1_20260213122520.zip */
  zipName: string;
  /** e.g. site_1234_Stack1_20260213122520.csv */
  dataFileName: string;
  /** The data file content: Base64 of the AES ciphertext of the CSV. */
  encryptedData: string;
  zip: Buffer;
}

export interface UploadPackageInput {
  siteId: string;
  monitoringId: string;
  siteKey: string;
  at: Date;
  timeZone: string;
  rows: readonly MpcbDataRow[];
}

/** Builds the zip of an upload: metadata.csv and the encrypted data file. */
export function buildUploadPackage(input: UploadPackageInput): UploadPackage {
  for (const row of input.rows) {
    if (row.siteId !== input.siteId || row.monitoringUnitId !== input.monitoringId)
      throw new MpcbFormatError(
        `a reading of ${row.siteId}/${row.monitoringUnitId} cannot go in the file of ${input.siteId}/${input.monitoringId}`,
      );
  }
  const base = uploadBaseName(input.siteId, input.monitoringId, input.at, input.timeZone);
  const dataFileName = `${base}.csv`;
  const encryptedData = encryptHashPadded(formatDataCsv(input.rows), input.siteKey);
  const zip = new AdmZip();
  zip.addFile(METADATA_FILE_NAME, Buffer.from(METADATA_CSV, 'utf8'));
  zip.addFile(dataFileName, Buffer.from(encryptedData, 'ascii'));
  return { zipName: `${base}.zip`, dataFileName, encryptedData, zip: zip.toBuffer() };
}

export interface OpenedUpload {
  dataFileName: string;
  monitoringId: string;
  rows: MpcbDataRow[];
}

/** Opens and checks an uploaded zip (the central server's side). Every fault is an MpcbFormatError. */
export function openUploadPackage(zipBytes: Buffer, siteId: string, siteKey: string): OpenedUpload {
  let entries: AdmZip.IZipEntry[];
  try {
    entries = new AdmZip(zipBytes).getEntries().filter((entry) => !entry.isDirectory);
  } catch (error) {
    throw new MpcbFormatError(`the upload is not a readable zip file: ${(error as Error).message}`);
  }
  const read = (entry: AdmZip.IZipEntry): string => {
    try {
      return entry.getData().toString('utf8');
    } catch (error) {
      throw new MpcbFormatError(`zip entry ${entry.entryName} cannot be read: ${(error as Error).message}`);
    }
  };
  const metadata = entries.filter((entry) => entry.entryName.toLowerCase() === METADATA_FILE_NAME);
  if (metadata.length !== 1) throw new MpcbFormatError('the zip must contain exactly one metadata.csv');
  const data = entries.filter((entry) => entry !== metadata[0]);
  if (data.length !== 1)
    throw new MpcbFormatError(
      `the zip must contain metadata.csv and one data file, it has ${entries.length} files`,
    );
  checkMetadataCsv(read(metadata[0]));
  const dataFileName = data[0].entryName;
  const { monitoringId } = parseDataFileName(dataFileName, siteId);
  let plaintext: string;
  try {
    plaintext = decryptHashPadded(read(data[0]), siteKey);
  } catch (error) {
    throw new MpcbFormatError(`data file ${dataFileName} cannot be decrypted: ${(error as Error).message}`);
  }
  const rows = parseDataCsv(plaintext);
  rows.forEach((row, index) => {
    if (row.siteId !== siteId)
      throw new MpcbFormatError(
        `line ${index + 1}: SITE_ID ${row.siteId} is not the authenticated site ${siteId}`,
      );
    if (row.monitoringUnitId !== monitoringId)
      throw new MpcbFormatError(
        `line ${index + 1}: MONITORING_UNIT_ID ${row.monitoringUnitId} is not ${monitoringId} of the file name`,
      );
  });
  return { dataFileName, monitoringId, rows };
}

/** The four instruction flags of an upload answer. */
export interface MpcbResponseFlags {
  configurationDownload: boolean;
  configurationUpdate: boolean;
  remoteCalibrationUpdate: boolean;
  diagnosticUpdate: boolean;
}

export const FLAG_KEYS: { readonly [K in keyof MpcbResponseFlags]: string } = {
  configurationDownload: 'ConfigurationDownloadFlag',
  configurationUpdate: 'ConfigurationUpdateFlag',
  remoteCalibrationUpdate: 'RemoteCalibrationUpdateFlag',
  diagnosticUpdate: 'DiagnosticUpdateFlag',
};

/** Keys are compared trimmed (the document prints "RemoteCalibrationUpdateFlag "), values "True"/"False". */
export function readResponseFlags(body: Record<string, unknown>): MpcbResponseFlags {
  const trimmed = new Map<string, unknown>();
  for (const [key, value] of Object.entries(body)) trimmed.set(key.trim().toLowerCase(), value);
  const flag = (key: string): boolean => {
    const value = trimmed.get(key.toLowerCase());
    return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
  };
  return {
    configurationDownload: flag(FLAG_KEYS.configurationDownload),
    configurationUpdate: flag(FLAG_KEYS.configurationUpdate),
    remoteCalibrationUpdate: flag(FLAG_KEYS.remoteCalibrationUpdate),
    diagnosticUpdate: flag(FLAG_KEYS.diagnosticUpdate),
  };
}

/** "Success" (any case) in an answer's status. */
export function isSuccessStatus(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const status = (body as Record<string, unknown>).status;
  return typeof status === 'string' && status.trim().toLowerCase() === 'success';
}
