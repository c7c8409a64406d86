import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface NewCalibration {
  monitoringUnitRef: string;
  calibrationType: 'Scheduled' | 'Immediate';
  remoteCalibrationId: string | null;
  /** Null: every analyser of the unit. */
  analyzerId: string | null;
  /** Null: every parameter of the analyser. */
  parameterId: string | null;
  startsAt: Date;
  endsAt: Date;
  configuration: Record<string, unknown>;
}

export interface CalibrationWindow {
  id: string;
  analyzerId: string | null;
  parameterId: string | null;
  startsAt: Date;
  endsAt: Date;
}

export type InstructionFlag =
  | 'ConfigurationDownloadFlag'
  | 'ConfigurationUpdateFlag'
  | 'RemoteCalibrationUpdateFlag'
  | 'DiagnosticUpdateFlag';

export interface InstructionRecord {
  flag: InstructionFlag;
  status: 'completed' | 'failed';
  detail: string;
  createdAt: Date;
}

/** Calibration schedules from getCalibrationConfig, and the log of the central server's instructions. */
@Injectable()
export class MpcbCalibrationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async schedule(input: NewCalibration): Promise<string> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO mpcb.calibrations (monitoring_unit_ref, calibration_type, remote_calibration_id, analyzer_id,
                                      parameter_id, starts_at, ends_at, configuration)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        input.monitoringUnitRef,
        input.calibrationType,
        input.remoteCalibrationId,
        input.analyzerId,
        input.parameterId,
        input.startsAt,
        input.endsAt,
        JSON.stringify(input.configuration),
      ],
    );
    return rows[0].id;
  }

  async acknowledged(id: string, at: Date): Promise<void> {
    await this.dataSource.query(`UPDATE mpcb.calibrations SET acknowledged_at = $2 WHERE id = $1`, [id, at]);
  }

  /** Calibration windows of a unit that overlap [from, to]. */
  async windows(monitoringUnitRef: string, from: Date, to: Date): Promise<CalibrationWindow[]> {
    const rows = await this.dataSource.query<
      {
        id: string;
        analyzer_id: string | null;
        parameter_id: string | null;
        starts_at: Date;
        ends_at: Date;
      }[]
    >(
      `SELECT id, analyzer_id, parameter_id, starts_at, ends_at FROM mpcb.calibrations
        WHERE monitoring_unit_ref = $1 AND starts_at <= $3 AND ends_at >= $2 ORDER BY starts_at`,
      [monitoringUnitRef, from, to],
    );
    return rows.map((row) => ({
      id: row.id,
      analyzerId: row.analyzer_id,
      parameterId: row.parameter_id,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
    }));
  }

  async logInstruction(
    monitoringUnitRef: string,
    flag: InstructionFlag,
    status: 'completed' | 'failed',
    detail: string,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO mpcb.instructions (monitoring_unit_ref, flag, status, detail) VALUES ($1, $2, $3, $4)`,
      [monitoringUnitRef, flag, status, detail],
    );
  }

  async instructions(monitoringUnitRef: string): Promise<InstructionRecord[]> {
    const rows = await this.dataSource.query<
      { flag: InstructionFlag; status: 'completed' | 'failed'; detail: string; created_at: Date }[]
    >(
      `SELECT flag, status, detail, created_at FROM mpcb.instructions WHERE monitoring_unit_ref = $1 ORDER BY id`,
      [monitoringUnitRef],
    );
    return rows.map((row) => ({
      flag: row.flag,
      status: row.status,
      detail: row.detail,
      createdAt: row.created_at,
    }));
  }
}

/** Whether a reading of (analyser, parameter) at `at` falls in one of the windows. */
export function inCalibration(
  windows: readonly CalibrationWindow[],
  analyzerId: string,
  parameterId: string,
  at: Date,
): boolean {
  const time = at.getTime();
  return windows.some(
    (w) =>
      (w.analyzerId === null || w.analyzerId === analyzerId) &&
      (w.parameterId === null || w.parameterId === parameterId) &&
      w.startsAt.getTime() <= time &&
      time <= w.endsAt.getTime(),
  );
}
