import AdmZip from 'adm-zip';
import { decryptHashPadded } from './mpcb-crypto';
import {
  METADATA_CSV,
  MpcbDataRow,
  MpcbFormatError,
  buildUploadPackage,
  fileTimestamp,
  formatDataCsv,
  headerTimestamp,
  openUploadPackage,
  parseDataCsv,
  parseDataFileName,
  parseHeaderTimestamp,
  readResponseFlags,
  uploadBaseName,
} from './mpcb-wire-format';

const KEY = 'c2l0ZV8yMTg4LHZlcl7xLjAs5OjAy#####';
const SAMPLE: MpcbDataRow = {
  siteId: 'site_1234',
  siteUid: 'site_1234',
  monitoringUnitId: 'Stack1',
  analyzerId: 'analyzer_8',
  parameterId: 'parameter_10',
  parameterName: 'PM',
  rawReading: 15,
  readingUnit: 'unit_15',
  dataQualityCode: 'U',
  validatedReading: 15,
  unixTimestamp: 1770965988,
  calibrationFlag: 0,
  maintenanceFlag: 0,
};

describe('MPCB file formats', () => {
  it('writes metadata.csv as the document header line, in its order', () => {
    expect(METADATA_CSV).toBe(
      'SITE_ID,SITE_UID,MONITORING_UNIT_ID,ANALYZER_ID,PARAMETER_ID,PARAMETER_NAME,RAWREADING,READING_UNIT,' +
        'DATA_QUALITY_CODE,VALIDATED_READING,UNIX_TIMESTAMP,CALIBRATION_FLAG,MAINTENANCE_FLAG\n',
    );
  });

  it('writes the document sample data line exactly, in metadata column order', () => {
    expect(formatDataCsv([SAMPLE])).toBe(
      'site_1234,site_1234,Stack1,analyzer_8,parameter_10,PM,15,unit_15,U,15,1770965988,0,0\n',
    );
    const second = { ...SAMPLE, rawReading: 12.5, validatedReading: 13.75, calibrationFlag: 1 as const };
    expect(formatDataCsv([SAMPLE, second]).split('\n')[1]).toBe(
      'site_1234,site_1234,Stack1,analyzer_8,parameter_10,PM,12.5,unit_15,U,13.75,1770965988,1,0',
    );
    expect(parseDataCsv(formatDataCsv([SAMPLE, second]))).toEqual([SAMPLE, second]);
  });

  it('refuses values that would break the CSV and bad numbers', () => {
    expect(() => formatDataCsv([{ ...SAMPLE, parameterName: 'PM,10' }])).toThrow(MpcbFormatError);
    expect(() => formatDataCsv([{ ...SAMPLE, rawReading: Number.NaN }])).toThrow(/finite/);
    expect(() => formatDataCsv([{ ...SAMPLE, unixTimestamp: 1.5 }])).toThrow(/whole seconds/);
    expect(() => formatDataCsv([])).toThrow(/at least one/);
    expect(() => parseDataCsv('a,b,c\n')).toThrow(/3 fields/);
    expect(() => parseDataCsv(formatDataCsv([SAMPLE]).replace(',0,0', ',2,0'))).toThrow(/CALIBRATION_FLAG/);
  });

  it('names files siteId_monitoringId_YYYYmmddHHMMSS in India time by default', () => {
    // 2026-02-13T06:55:20Z is 12:25:20 in India (UTC+05:30): the document's sample name.
    const at = new Date('2026-02-13T06:55:20Z');
    expect(uploadBaseName('site_1234', 'Stack1', at, 'Asia/Kolkata')).toBe('site_1234_Stack1_20260213122520');
    expect(fileTimestamp(at, 'UTC')).toBe('20260213065520');
    expect(parseDataFileName('site_1234_Stack1_20260213122520.csv', 'site_1234')).toEqual({
      monitoringId: 'Stack1',
      timestamp: '20260213122520',
    });
    expect(parseDataFileName('site_1234_ETP_PLANT_20260213122520.csv', 'site_1234').monitoringId).toBe(
      'ETP_PLANT',
    );
    expect(() => parseDataFileName('site_9_Stack1_20260213122520.csv', 'site_1234')).toThrow(MpcbFormatError);
    expect(() => parseDataFileName('site_1234_Stack1_2026.csv', 'site_1234')).toThrow(MpcbFormatError);
    expect(() => uploadBaseName('site/1', 'Stack1', at, 'Asia/Kolkata')).toThrow(MpcbFormatError);
  });

  it('writes header timestamps as zone wall-clock time with a literal Z, and reads them back', () => {
    const at = new Date('2026-02-12T10:58:13Z');
    expect(headerTimestamp(at, 'Asia/Kolkata')).toBe('2026-02-12T16:28:13Z');
    expect(parseHeaderTimestamp('2026-02-12T16:28:13Z', 'Asia/Kolkata').toISOString()).toBe(
      '2026-02-12T10:58:13.000Z',
    );
    expect(() => parseHeaderTimestamp('2026-02-12 16:28:13', 'Asia/Kolkata')).toThrow(MpcbFormatError);
  });

  it('zips metadata.csv and the Base64 text of the encrypted data file', () => {
    const at = new Date('2026-02-13T06:55:20Z');
    const pack = buildUploadPackage({
      siteId: 'site_1234',
      monitoringId: 'Stack1',
      siteKey: KEY,
      at,
      timeZone: 'Asia/Kolkata',
      rows: [SAMPLE],
    });
    expect(pack.zipName).toBe('site_1234_Stack1_20260213122520.zip');
    expect(pack.zip.subarray(0, 4).toString('hex')).toBe('504b0304'); // a zip local file header
    const entries = new AdmZip(pack.zip).getEntries();
    expect(entries.map((e) => e.entryName)).toEqual(['metadata.csv', 'site_1234_Stack1_20260213122520.csv']);
    expect(entries[0].getData().toString()).toBe(METADATA_CSV);
    // The data file is the OpenSSL vector of mpcb-crypto.spec.ts for this very line.
    expect(entries[1].getData().toString()).toBe(
      'nTYowHrC7jWGDs85S9W5Rggz9JbIR/jvTL3SyWMYqULVADI6EtzQnqahhMK5VVh04+wf0IIJhCLtOkTCUBSH4Z/wnRhF+mNvWRw+EfkMqpQb4dzU22KtHvLSVZ6SbbQF',
    );
    expect(decryptHashPadded(pack.encryptedData, KEY)).toBe(formatDataCsv([SAMPLE]));
    expect(openUploadPackage(pack.zip, 'site_1234', KEY)).toEqual({
      dataFileName: 'site_1234_Stack1_20260213122520.csv',
      monitoringId: 'Stack1',
      rows: [SAMPLE],
    });
  });

  it('refuses a zip with a wrong key, a foreign site, a missing metadata file or garbage', () => {
    const pack = buildUploadPackage({
      siteId: 'site_1234',
      monitoringId: 'Stack1',
      siteKey: KEY,
      at: new Date(),
      timeZone: 'Asia/Kolkata',
      rows: [SAMPLE],
    });
    expect(() => openUploadPackage(pack.zip, 'site_1234', 'k'.repeat(32))).toThrow(/cannot be decrypted/);
    expect(() => openUploadPackage(pack.zip, 'site_9', KEY)).toThrow(MpcbFormatError);
    expect(() => openUploadPackage(Buffer.from('not a zip'), 'site_1234', KEY)).toThrow(MpcbFormatError);
    const noMetadata = new AdmZip();
    noMetadata.addFile('site_1234_Stack1_20260213122520.csv', Buffer.from(pack.encryptedData));
    expect(() => openUploadPackage(noMetadata.toBuffer(), 'site_1234', KEY)).toThrow(/metadata.csv/);
    expect(() =>
      buildUploadPackage({
        siteId: 'site_1234',
        monitoringId: 'Stack2',
        siteKey: KEY,
        at: new Date(),
        timeZone: 'Asia/Kolkata',
        rows: [SAMPLE],
      }),
    ).toThrow(/cannot go in the file/);
  });

  it('reads the flags with trimmed keys and "True"/"False" values', () => {
    expect(
      readResponseFlags({
        status: 'Success',
        ConfigurationDownloadFlag: 'True',
        ConfigurationUpdateFlag: 'False',
        'RemoteCalibrationUpdateFlag ': 'True',
        DiagnosticUpdateFlag: 'false',
      }),
    ).toEqual({
      configurationDownload: true,
      configurationUpdate: false,
      remoteCalibrationUpdate: true,
      diagnosticUpdate: false,
    });
  });
});
