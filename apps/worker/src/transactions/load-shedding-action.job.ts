import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DriverError, DriverRegistry } from '@hes/drivers';
import { JobHandler, JobName, JobPayloads } from '@hes/queue';
import { CommunicationHistoryRepository, DeviceDirectory, MeterVisualsRepository } from '@hes/transactions';
import { formatUdilDatetime } from '@hes/udil';

/**
 * One slab of a head-end load-shedding schedule: at its action time the meter's relay is opened
 * (relay_operate 0) or closed (1). Inactive meters are left alone; faults are retried by the queue.
 */
@Injectable()
export class LoadSheddingActionJob {
  constructor(
    private readonly directory: DeviceDirectory,
    private readonly drivers: DriverRegistry,
    private readonly visuals: MeterVisualsRepository,
    private readonly history: CommunicationHistoryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @JobHandler(JobName.LoadSheddingAction)
  async act({
    globalDeviceId,
    relayOperate,
    actionTime,
  }: JobPayloads[JobName.LoadSheddingAction]): Promise<string> {
    const target = await this.directory.resolve(globalDeviceId);
    if (target.device.activationStatus === 0)
      return `meter ${globalDeviceId} is inactive: slab ${actionTime} skipped`;
    const driver = this.drivers.get(target.device.driver);
    if (!driver.operateRelay)
      throw new DriverError('unsupported', `${driver.name} cannot operate a relay`, false);
    const startedAt = new Date();
    const messageLog: string[] = [];
    const log = (line: string) =>
      messageLog.push(`${formatUdilDatetime(new Date(), this.config.TIME_ZONE)} ${line}`);
    const connect = relayOperate === 1;
    log(`LSCH slab ${actionTime}: relay ${connect ? 'connect' : 'disconnect'}`);
    try {
      await driver.operateRelay(target.address, connect, { progress: () => undefined, log });
    } catch (error) {
      log(`FAIL ${(error as Error).message}`);
      await this.history.record({
        globalDeviceId,
        msn: target.device.msn,
        successful: false,
        messageLog,
        startedAt,
        endedAt: new Date(),
      });
      throw error;
    }
    const now = new Date();
    await this.visuals.update(globalDeviceId, target.device.msn, {
      auxr_status: connect ? 1 : 0,
      auxr_datetime: now,
      [connect ? 'last_contactor_on_datetime' : 'last_contactor_off_datetime']: now,
      last_communication_datetime: now,
    });
    log('OK');
    await this.history.record({
      globalDeviceId,
      msn: target.device.msn,
      successful: true,
      messageLog,
      startedAt,
      endedAt: now,
    });
    return `relay ${connect ? 'connected' : 'disconnected'} (slab ${actionTime})`;
  }
}
