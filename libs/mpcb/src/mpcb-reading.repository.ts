import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { deleteInBatches, returnedRows } from '@hes/database';

export type UploadRoute = 'realtime' | 'delayed';
export type UploadStatus = 'sending' | 'accepted' | 'rejected' | 'unreachable';

/** A reading as acquired: raw and validated values, quality code and flags, stored before any upload. */
export interface NewReading {
  parameterRef: string;
  monitoringUnitRef: string;
  readingTime: Date;
  analyzerId: string;
  parameterId: string;
  parameterName: string;
  readingUnit: string;
  rawReading: number;
  validatedReading: number;
  qualityCode: string;
  calibrationFlag: 0 | 1;
  maintenanceFlag: 0 | 1;
  deviceTime: Date | null;
}

export interface StoredReading extends NewReading {
  id: string;
  forceDelayed: boolean;
  uploadRef: string | null;
  sentAt: Date | null;
}

interface ReadingRow {
  id: string;
  parameter_ref: string;
  monitoring_unit_ref: string;
  reading_time: Date;
  analyzer_id: string;
  parameter_id: string;
  parameter_name: string;
  reading_unit: string;
  raw_reading: number;
  validated_reading: number;
  quality_code: string;
  calibration_flag: 0 | 1;
  maintenance_flag: 0 | 1;
  device_time: Date | null;
  force_delayed: boolean;
  upload_ref: string | null;
  sent_at: Date | null;
}

export interface UploadRecord {
  id: string;
  monitoringUnitRef: string;
  route: UploadRoute;
  fileName: string;
  readingCount: number;
  status: UploadStatus;
  httpStatus: number | null;
  response: unknown;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** Statements of a reading insert that met a removal committing under it (see MpcbReadingRepository.insert). */
const INSERT_ATTEMPTS = 3;

const INSERT_READINGS = `
  INSERT INTO mpcb.readings (parameter_ref, monitoring_unit_ref, reading_time, analyzer_id, parameter_id,
                             parameter_name, reading_unit, raw_reading, validated_reading, quality_code,
                             calibration_flag, maintenance_flag, device_time)
  SELECT r.* FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::varchar[], $5::varchar[], $6::varchar[],
                         $7::varchar[], $8::float8[], $9::float8[], $10::varchar[], $11::smallint[],
                         $12::smallint[], $13::timestamptz[])
         AS r (parameter_ref, monitoring_unit_ref, reading_time, analyzer_id, parameter_id, parameter_name,
               reading_unit, raw_reading, validated_reading, quality_code, calibration_flag, maintenance_flag,
               device_time)
   WHERE EXISTS (SELECT 1 FROM mpcb.parameters p WHERE p.id = r.parameter_ref)
  ON CONFLICT (parameter_ref, reading_time) DO NOTHING
  RETURNING id`;

/** PostgreSQL's foreign_key_violation (23503), as TypeORM passes it on. */
function isForeignKeyViolation(error: unknown): boolean {
  const failure = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  return failure?.code === '23503' || failure?.driverError?.code === '23503';
}

/** Readings and their uploads. A reading is sent once: `sent_at` is set in the same statement as its upload's success. */
@Injectable()
export class MpcbReadingRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores readings; a reading already stored for the same parameter and time is kept (idempotent). A
   * reading of a parameter removed meanwhile (an operator deleted it, its analyser, unit or site while the
   * cycle read the devices) is left out, not a failure of the others: the statement skips parameters that
   * are gone, and when a removal committed while the statement waited for the parameter's row (the
   * foreign key's check), it is sent again and sees the removal.
   */
  async insert(readings: readonly NewReading[]): Promise<number> {
    if (readings.length === 0) return 0;
    const column = <K extends keyof NewReading>(key: K) => readings.map((r) => r[key]);
    const parameters = [
      column('parameterRef'),
      column('monitoringUnitRef'),
      column('readingTime'),
      column('analyzerId'),
      column('parameterId'),
      column('parameterName'),
      column('readingUnit'),
      column('rawReading'),
      column('validatedReading'),
      column('qualityCode'),
      column('calibrationFlag'),
      column('maintenanceFlag'),
      column('deviceTime'),
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.dataSource.query<{ id: string }[]>(INSERT_READINGS, parameters);
        return rows.length;
      } catch (error) {
        if (attempt < INSERT_ATTEMPTS && isForeignKeyViolation(error)) continue;
        throw error;
      }
    }
  }

  /** Unsent readings of a unit that may go real-time: not older than `since`, not marked for delayed upload. */
  async pendingRealtime(monitoringUnitRef: string, since: Date, limit: number): Promise<StoredReading[]> {
    const rows = await this.dataSource.query<ReadingRow[]>(
      `SELECT * FROM mpcb.readings
        WHERE monitoring_unit_ref = $1 AND sent_at IS NULL AND NOT force_delayed AND reading_time >= $2
        ORDER BY reading_time, id LIMIT $3`,
      [monitoringUnitRef, since, limit],
    );
    return rows.map(toReading);
  }

  /** Unsent readings of a unit that must go to delayedUpload, oldest first. */
  async pendingDelayed(monitoringUnitRef: string, olderThan: Date, limit: number): Promise<StoredReading[]> {
    const rows = await this.dataSource.query<ReadingRow[]>(
      `SELECT * FROM mpcb.readings
        WHERE monitoring_unit_ref = $1 AND sent_at IS NULL AND (force_delayed OR reading_time < $2)
        ORDER BY reading_time, id LIMIT $3`,
      [monitoringUnitRef, olderThan, limit],
    );
    return rows.map(toReading);
  }

  /** Readings the real-time route refused: they go to delayedUpload from now on. */
  async markForDelayed(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      `UPDATE mpcb.readings SET force_delayed = true WHERE id = ANY($1::bigint[]) AND sent_at IS NULL`,
      [ids],
    );
  }

  /** The data file name of the unit's latest upload, if it has any. */
  async lastFileName(monitoringUnitRef: string): Promise<string | undefined> {
    const rows = await this.dataSource.query<{ file_name: string }[]>(
      `SELECT file_name FROM mpcb.uploads WHERE monitoring_unit_ref = $1 ORDER BY started_at DESC, file_name DESC LIMIT 1`,
      [monitoringUnitRef],
    );
    return rows[0]?.file_name;
  }

  async startUpload(
    monitoringUnitRef: string,
    route: UploadRoute,
    fileName: string,
    readings: readonly StoredReading[],
    at: Date,
  ): Promise<string> {
    const times = readings.map((r) => r.readingTime.getTime());
    const rows = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO mpcb.uploads (monitoring_unit_ref, route, file_name, reading_count, first_reading_time,
                                 last_reading_time, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        monitoringUnitRef,
        route,
        fileName,
        readings.length,
        new Date(Math.min(...times)),
        new Date(Math.max(...times)),
        at,
      ],
    );
    return rows[0].id;
  }

  /** The server accepted the file: the upload and its readings are marked in one transaction. */
  async uploadAccepted(
    uploadId: string,
    readingIds: readonly string[],
    httpStatus: number,
    response: unknown,
    at: Date,
  ): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE mpcb.uploads SET status = 'accepted', http_status = $2, response = $3, finished_at = $4
          WHERE id = $1`,
        [uploadId, httpStatus, JSON.stringify(response), at],
      );
      const marked = returnedRows<{ id: string }>(
        await manager.query(
          `UPDATE mpcb.readings SET sent_at = $2, upload_ref = $3
            WHERE id = ANY($1::bigint[]) AND sent_at IS NULL RETURNING id`,
          [readingIds, at, uploadId],
        ),
      );
      return marked.length;
    });
  }

  async uploadFailed(
    uploadId: string,
    status: 'rejected' | 'unreachable',
    httpStatus: number | null,
    response: unknown,
    error: string,
    at: Date,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE mpcb.uploads SET status = $2, http_status = $3, response = $4, error = $5, finished_at = $6
        WHERE id = $1`,
      [uploadId, status, httpStatus, response === undefined ? null : JSON.stringify(response), error, at],
    );
  }

  async uploads(monitoringUnitRef: string): Promise<UploadRecord[]> {
    const rows = await this.dataSource.query<
      {
        id: string;
        monitoring_unit_ref: string;
        route: UploadRoute;
        file_name: string;
        reading_count: number;
        status: UploadStatus;
        http_status: number | null;
        response: unknown;
        error: string | null;
        started_at: Date;
        finished_at: Date | null;
      }[]
    >(`SELECT * FROM mpcb.uploads WHERE monitoring_unit_ref = $1 ORDER BY started_at, file_name`, [
      monitoringUnitRef,
    ]);
    return rows.map((row) => ({
      id: row.id,
      monitoringUnitRef: row.monitoring_unit_ref,
      route: row.route,
      fileName: row.file_name,
      readingCount: row.reading_count,
      status: row.status,
      httpStatus: row.http_status,
      response: row.response,
      error: row.error,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    }));
  }

  async readings(monitoringUnitRef: string): Promise<StoredReading[]> {
    const rows = await this.dataSource.query<ReadingRow[]>(
      `SELECT * FROM mpcb.readings WHERE monitoring_unit_ref = $1 ORDER BY reading_time, parameter_id`,
      [monitoringUnitRef],
    );
    return rows.map(toReading);
  }

  /**
   * Removes the readings sent before `sentBefore`, then the uploads started before it that no reading refers
   * to any more (MPCB_RETENTION_DAYS), at most `batch` rows per statement so that no statement holds its
   * locks long. A reading not sent yet is never removed, however old: it is still owed to the server.
   */
  async pruneSent(sentBefore: Date, batch = 10_000): Promise<{ readings: number; uploads: number }> {
    const removeAll = (sql: string) => deleteInBatches(this.dataSource, sql, [sentBefore], batch);
    const readings = await removeAll(
      `DELETE FROM mpcb.readings WHERE id IN (
         SELECT id FROM mpcb.readings WHERE sent_at < $1 ORDER BY sent_at LIMIT $2)
       RETURNING id`,
    );
    const uploads = await removeAll(
      `DELETE FROM mpcb.uploads WHERE id IN (
         SELECT u.id FROM mpcb.uploads u
          WHERE u.started_at < $1 AND NOT EXISTS (SELECT 1 FROM mpcb.readings r WHERE r.upload_ref = u.id)
          ORDER BY u.started_at LIMIT $2)
       RETURNING id`,
    );
    return { readings, uploads };
  }

  /** Latest reading time per parameter of a unit (diagnostics). */
  async latestReadingTimes(monitoringUnitRef: string): Promise<Map<string, Date>> {
    const rows = await this.dataSource.query<{ parameter_ref: string; latest: Date }[]>(
      `SELECT parameter_ref, max(reading_time) AS latest FROM mpcb.readings
        WHERE monitoring_unit_ref = $1 GROUP BY parameter_ref`,
      [monitoringUnitRef],
    );
    return new Map(rows.map((row) => [row.parameter_ref, row.latest]));
  }
}

function toReading(row: ReadingRow): StoredReading {
  return {
    id: String(row.id),
    parameterRef: row.parameter_ref,
    monitoringUnitRef: row.monitoring_unit_ref,
    readingTime: row.reading_time,
    analyzerId: row.analyzer_id,
    parameterId: row.parameter_id,
    parameterName: row.parameter_name,
    readingUnit: row.reading_unit,
    rawReading: row.raw_reading,
    validatedReading: row.validated_reading,
    qualityCode: row.quality_code,
    calibrationFlag: Number(row.calibration_flag) === 1 ? 1 : 0,
    maintenanceFlag: Number(row.maintenance_flag) === 1 ? 1 : 0,
    deviceTime: row.device_time,
    forceDelayed: row.force_delayed,
    uploadRef: row.upload_ref,
    sentAt: row.sent_at,
  };
}
