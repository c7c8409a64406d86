import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DriverError, DriverRegistry } from '@hes/drivers';
import { JobHandler, JobName, JobPayloads, ScheduleSupervisor } from '@hes/queue';
import {
  CommunicationHistoryRepository,
  DeviceDirectory,
  GatewayGate,
  LoadSheddingSchedules,
  MeterVisualsRepository,
  startMessageLog,
} from '@hes/transactions';
import { formatUdilDatetime } from '@hes/udil';

/**
 * One slab of a head-end load-shedding schedule: at its action time the meter's relay is opened
 * (relay_operate 0) or closed (1). Inactive meters are left alone; faults are retried by the queue.
 * The schedules live in PostgreSQL; the supervisor rebuilds their job schedulers if the queue lost them.
 */
@Injectable()
export class LoadSheddingActionJob implements OnApplicationBootstrap {
  constructor(
    private readonly directory: DeviceDirectory,
    private readonly drivers: DriverRegistry,
    private readonly visuals: MeterVisualsRepository,
    private readonly history: CommunicationHistoryRepository,
    private readonly gate: GatewayGate,
    private readonly schedules: LoadSheddingSchedules,
    private readonly supervisor: ScheduleSupervisor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.supervisor.keepDerived(this.schedules);
    await this.supervisor.assert();
  }

  @JobHandler(JobName.LoadSheddingAction)
  async act(
    { globalDeviceId, relayOperate, actionTime }: JobPayloads[JobName.LoadSheddingAction],
    job: Job,
    token?: string,
  ): Promise<string> {
    const target = await this.directory.resolve(globalDeviceId);
    if (target.device.activationStatus === 0)
      return `meter ${globalDeviceId} is inactive: slab ${actionTime} skipped`;
    const driver = this.drivers.get(target.device.driver);
    if (!driver.operateRelay)
      throw new DriverError('unsupported', `${driver.name} cannot operate a relay`, false);
    const operateRelay = driver.operateRelay.bind(driver);
    const startedAt = new Date();
    const { lines: messageLog, log } = startMessageLog(this.config.TIME_ZONE);
    const connect = relayOperate === 1;
    log(`LSCH slab ${actionTime}: relay ${connect ? 'connect' : 'disconnect'}`);
    const record = (successful: boolean, endedAt = new Date()) =>
      this.history.record({
        globalDeviceId,
        msn: target.device.msn,
        successful,
        messageLog,
        startedAt,
        endedAt,
      });
    try {
      await this.gate.run(
        target.address.gateway,
        job,
        token,
        // A retry of the slab may follow an attempt that reached the meter: the driver reads the relay first.
        () =>
          operateRelay(target.address, connect, {
            progress: () => undefined,
            log,
            resend: job.attemptsMade > 0,
          }),
        (until) => {
          throw new DriverError(
            'unreachable',
            `gateway ${target.address.gateway.name} is marked down until ${formatUdilDatetime(until, this.config.TIME_ZONE)}`,
            true,
          );
        },
      );
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      log(`FAIL ${(error as Error).message}`);
      await record(false);
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
    await record(true, now);
    return `relay ${connect ? 'connected' : 'disconnected'} (slab ${actionTime})`;
  }
}
