import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MpcbCentralClient, MpcbUnreachableError, describeAnswer } from './mpcb-central.client';
import { MPCB_CLOCK, MpcbClock } from './mpcb-clock';
import { InstructionOutcome, MpcbInstructionService } from './mpcb-instruction.service';
import { MpcbReadingRepository, StoredReading, UploadRoute } from './mpcb-reading.repository';
import { MPCB_SETTINGS, MpcbSettings } from './mpcb-settings';
import { MpcbMonitoringUnit, MpcbSite, MpcbSiteRepository } from './mpcb-site.repository';
import {
  MpcbDataRow,
  MpcbResponseFlags,
  buildUploadPackage,
  isSuccessStatus,
  parseDataFileName,
  parseFileTimestamp,
  readResponseFlags,
} from './mpcb-wire-format';

export type BatchOutcome =
  | { status: 'accepted'; route: UploadRoute; fileName: string; readings: number; flags: MpcbResponseFlags }
  | {
      status: 'rejected';
      route: UploadRoute;
      fileName: string;
      readings: number;
      httpStatus: number;
      error: string;
    }
  | { status: 'unreachable'; route: UploadRoute; fileName: string; readings: number; error: string };

export interface UnitTransmission {
  siteId: string;
  monitoringId: string;
  batches: BatchOutcome[];
  instructions: InstructionOutcome[];
}

export interface SiteTransmission {
  siteId: string;
  /** False when another worker was transmitting this site. */
  ran: boolean;
  units: UnitTransmission[];
  /**
   * What ended the site's cycle besides its central server being unreachable (a fault of the database, an
   * answer the client could not handle): logged, and the other sites' cycles went on. Its readings wait.
   */
  error?: string;
}

export function toDataRow(site: MpcbSite, unit: MpcbMonitoringUnit, reading: StoredReading): MpcbDataRow {
  return {
    siteId: site.siteId,
    siteUid: site.siteUid,
    monitoringUnitId: unit.monitoringId,
    analyzerId: reading.analyzerId,
    parameterId: reading.parameterId,
    parameterName: reading.parameterName,
    rawReading: reading.rawReading,
    readingUnit: reading.readingUnit,
    dataQualityCode: reading.qualityCode,
    validatedReading: reading.validatedReading,
    unixTimestamp: Math.floor(reading.readingTime.getTime() / 1000),
    calibrationFlag: reading.calibrationFlag,
    maintenanceFlag: reading.maintenanceFlag,
  };
}

/**
 * One transmission cycle per site: for each monitoring unit, the readings of the real-time window go to
 * realtimeUpload, older ones (or ones the real-time route refused) to delayedUpload in time order. A reading
 * is marked sent in the transaction that records its upload's success, so a reading the server accepted is
 * never sent again, and one it did not accept is kept. The first unreachable answer ends the cycle; the
 * flags of the last accepted answer of each unit are then carried out.
 */
@Injectable()
export class MpcbTransmissionService {
  private readonly logger = new Logger('MpcbTransmission');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sites: MpcbSiteRepository,
    private readonly readings: MpcbReadingRepository,
    private readonly central: MpcbCentralClient,
    private readonly instructions: MpcbInstructionService,
    @Inject(MPCB_SETTINGS) private readonly settings: MpcbSettings,
    @Inject(MPCB_CLOCK) private readonly clock: MpcbClock,
  ) {}

  /** Every enabled site's cycle, one after another; a site whose cycle fails does not stop the others. */
  async transmitAll(): Promise<SiteTransmission[]> {
    const results: SiteTransmission[] = [];
    for (const site of await this.sites.enabledSites()) {
      try {
        results.push(await this.transmitSite(site));
      } catch (error) {
        const message = (error as Error).message;
        this.logger.error(
          { siteId: site.siteId, error: message },
          "MPCB transmission of a site failed; its readings wait for the next cycle, the other sites' go on",
        );
        results.push({ siteId: site.siteId, ran: true, units: [], error: message });
      }
    }
    return results;
  }

  /** Runs a site's cycle under a PostgreSQL advisory lock, so two workers never upload the same readings. */
  async transmitSite(site: MpcbSite): Promise<SiteTransmission> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const lockKey = `mpcb-transmit:${site.id}`;
      const rows = (await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [lockKey])) as {
        locked: boolean;
      }[];
      if (!rows[0]?.locked) return { siteId: site.siteId, ran: false, units: [] };
      try {
        const units: UnitTransmission[] = [];
        for (const unit of await this.sites.monitoringUnits(site.id)) {
          const result = await this.transmitUnit(site, unit);
          units.push(result);
          if (result.batches.some((b) => b.status === 'unreachable')) break;
        }
        return { siteId: site.siteId, ran: true, units };
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [lockKey]);
      }
    } finally {
      await runner.release();
    }
  }

  async transmitUnit(site: MpcbSite, unit: MpcbMonitoringUnit): Promise<UnitTransmission> {
    const batches: BatchOutcome[] = [];
    const since = new Date(this.clock.now().getTime() - this.settings.realtimeWindowSeconds * 1000);
    let flags: MpcbResponseFlags | null = null;

    const realtime = await this.readings.pendingRealtime(unit.id, since, this.settings.delayedBatchSize);
    if (realtime.length > 0) {
      const outcome = await this.sendBatch(site, unit, 'realtime', realtime);
      batches.push(outcome);
      if (outcome.status === 'unreachable')
        return { siteId: site.siteId, monitoringId: unit.monitoringId, batches, instructions: [] };
      if (outcome.status === 'accepted') flags = outcome.flags;
      // Refused as real-time (too late for the server's window, or malformed): kept, and sent as delayed.
      if (outcome.status === 'rejected' && outcome.httpStatus !== 401)
        await this.readings.markForDelayed(realtime.map((r) => r.id));
    }

    // Catching up stops at the file cap or at half the transmission interval, whichever comes first, so
    // that a slow central server cannot make a cycle run into the next one (which would skip the site).
    const budgetEnds = this.clock.now().getTime() + this.settings.transmissionIntervalSeconds * 500;
    for (let count = 0; count < this.settings.delayedBatchesPerCycle; count++) {
      if (count > 0 && this.clock.now().getTime() >= budgetEnds) break;
      const delayed = await this.readings.pendingDelayed(unit.id, since, this.settings.delayedBatchSize);
      if (delayed.length === 0) break;
      const outcome = await this.sendBatch(site, unit, 'delayed', delayed);
      batches.push(outcome);
      if (outcome.status !== 'accepted') break;
      flags = outcome.flags;
    }

    const instructions = flags ? await this.instructions.handle(site, unit, flags) : [];
    return { siteId: site.siteId, monitoringId: unit.monitoringId, batches, instructions };
  }

  /**
   * The time in the name of the unit's next file: now, or one second after the unit's previous file when
   * that one already has this second's name (catching up sends several files a second, and a server that
   * keeps uploads by file name must not overwrite one with the next). Only the name moves: the Timestamp
   * header stays the real time.
   */
  private async fileTime(site: MpcbSite, unit: MpcbMonitoringUnit, at: Date): Promise<Date> {
    const previous = await this.readings.lastFileName(unit.id);
    if (!previous) return at;
    let next: number;
    try {
      const { timestamp } = parseDataFileName(previous, site.siteId);
      next = parseFileTimestamp(timestamp, this.settings.timeZone).getTime() + 1000;
    } catch {
      return at; // a name of another form (the site id was changed since): nothing to follow
    }
    return next > at.getTime() ? new Date(next) : at;
  }

  private async sendBatch(
    site: MpcbSite,
    unit: MpcbMonitoringUnit,
    route: UploadRoute,
    readings: StoredReading[],
  ): Promise<BatchOutcome> {
    const at = this.clock.now();
    const pack = buildUploadPackage({
      siteId: site.siteId,
      monitoringId: unit.monitoringId,
      siteKey: site.siteKey,
      at: await this.fileTime(site, unit, at),
      timeZone: this.settings.timeZone,
      rows: readings.map((reading) => toDataRow(site, unit, reading)),
    });
    const base = { route, fileName: pack.zipName, readings: readings.length };
    const uploadId = await this.readings.startUpload(unit.id, route, pack.dataFileName, readings, at);
    try {
      const answer = await this.central.uploadZip(
        site,
        route === 'realtime' ? 'realtimeUpload' : 'delayedUpload',
        pack,
      );
      if (answer.body && isSuccessStatus(answer.body)) {
        await this.readings.uploadAccepted(
          uploadId,
          readings.map((r) => r.id),
          answer.httpStatus,
          answer.body,
          this.clock.now(),
        );
        return { ...base, status: 'accepted', flags: readResponseFlags(answer.body) };
      }
      const error = describeAnswer(answer);
      await this.readings.uploadFailed(
        uploadId,
        'rejected',
        answer.httpStatus,
        answer.body ?? answer.text,
        error,
        this.clock.now(),
      );
      this.logger.warn(
        { siteId: site.siteId, monitoringId: unit.monitoringId, route, error },
        'MPCB upload refused',
      );
      return { ...base, status: 'rejected', httpStatus: answer.httpStatus, error };
    } catch (error) {
      const message = (error as Error).message;
      await this.readings.uploadFailed(uploadId, 'unreachable', null, undefined, message, this.clock.now());
      if (!(error instanceof MpcbUnreachableError)) throw error;
      this.logger.warn(
        { siteId: site.siteId, monitoringId: unit.monitoringId, route, error: message },
        'MPCB server unreachable',
      );
      return { ...base, status: 'unreachable', error: message };
    }
  }
}
