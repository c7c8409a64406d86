import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JobHandler, JobName, JobQueueRepository, QueueName, ScheduleSupervisor } from '@hes/queue';
import {
  AcquisitionResult,
  MPCB_SETTINGS,
  MpcbAcquisitionService,
  MpcbSettings,
  MpcbTransmissionService,
  SiteTransmission,
} from '@hes/mpcb';

const ACQUIRE_SCHEDULER = 'mpcb-acquire';
const TRANSMIT_SCHEDULER = 'mpcb-transmit';

/**
 * The MPCB site client's two repeating jobs: acquisition every MPCB_ACQUISITION_SECONDS and transmission
 * (with the flag flows) every MPCB_TRANSMISSION_SECONDS. Scheduled only when MPCB_ENABLED; when it is not,
 * schedulers left by an earlier run are removed so that nothing runs unless configured.
 */
@Injectable()
export class MpcbSiteClientJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('MpcbSiteClient');

  constructor(
    @Inject(MPCB_SETTINGS) private readonly settings: MpcbSettings,
    private readonly queues: JobQueueRepository,
    private readonly supervisor: ScheduleSupervisor,
    private readonly acquisition: MpcbAcquisitionService,
    private readonly transmission: MpcbTransmissionService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.enabled) {
      const queue = this.queues.queue(QueueName.Mpcb);
      await queue.removeJobScheduler(ACQUIRE_SCHEDULER);
      await queue.removeJobScheduler(TRANSMIT_SCHEDULER);
      return;
    }
    await this.supervisor.keep(
      ACQUIRE_SCHEDULER,
      this.settings.acquisitionIntervalSeconds * 1000,
      JobName.MpcbAcquire,
      {},
    );
    await this.supervisor.keep(
      TRANSMIT_SCHEDULER,
      this.settings.transmissionIntervalSeconds * 1000,
      JobName.MpcbTransmit,
      {},
    );
    this.logger.log(
      {
        baseUrl: this.settings.baseUrl,
        acquisitionSeconds: this.settings.acquisitionIntervalSeconds,
        transmissionSeconds: this.settings.transmissionIntervalSeconds,
      },
      'MPCB site client scheduled',
    );
  }

  @JobHandler(JobName.MpcbAcquire)
  async acquire(): Promise<Omit<AcquisitionResult, 'readingTime'> & { readingTime: string }> {
    const result = await this.acquisition.acquire();
    return { ...result, readingTime: result.readingTime.toISOString() };
  }

  @JobHandler(JobName.MpcbTransmit)
  transmit(): Promise<SiteTransmission[]> {
    return this.transmission.transmitAll();
  }
}
