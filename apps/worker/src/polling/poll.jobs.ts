import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { createHash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DateRange, DriverError, DriverRegistry, implementsOperation } from '@hes/drivers';
import { JobHandler, JobName, JobPayloads, JobQueueRepository, ScheduleSupervisor } from '@hes/queue';
import {
  CommunicationHistoryRepository,
  DeviceDirectory,
  GatewayGate,
  POLLED_TYPES,
  PollScheduleRepository,
  PolledType,
  UdilReadRunner,
  startMessageLog,
} from '@hes/transactions';
import { ON_DEMAND_OPERATIONS, OnDemandType, formatUdilDatetime } from '@hes/udil';

const CLAIM_BATCH = 10_000;

/**
 * The job of one claimed read. The device id is hashed, as a transaction's job id is: a global_device_id may
 * contain ':' (the registry allows it; discovered meters get prefixes like `f12:`), which BullMQ refuses in a
 * job id, and one refused id would fail the whole tick's addBulk.
 */
export function pollJobId(dataType: string, globalDeviceId: string, claimedAt: number): string {
  return `poll-${dataType}-${createHash('sha1').update(globalDeviceId).digest('hex')}-${claimedAt}`;
}

/**
 * Poll schedules: every POLL_TICK_SECONDS a tick gives new meters their default schedules (per
 * driver: the types it can read) and queues the reads that are due. Load profiles and events are
 * read from the last stored timestamp, so that an outage leaves no gap once the meter answers again.
 */
@Injectable()
export class PollJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger('Polling');

  constructor(
    private readonly schedules: PollScheduleRepository,
    private readonly queues: JobQueueRepository,
    private readonly supervisor: ScheduleSupervisor,
    private readonly drivers: DriverRegistry,
    private readonly directory: DeviceDirectory,
    private readonly reads: UdilReadRunner,
    private readonly history: CommunicationHistoryRepository,
    private readonly gate: GatewayGate,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.POLLING_ENABLED) return;
    await this.supervisor.keep('poll-tick', this.config.POLL_TICK_SECONDS * 1000, JobName.PollTick, {});
  }

  @JobHandler(JobName.PollTick)
  async tick(): Promise<{ created: number; queued: number }> {
    if (!this.config.POLLING_ENABLED) return { created: 0, queued: 0 };
    let created = 0;
    for (const name of this.drivers.names()) {
      const driver = this.drivers.get(name);
      const intervals: Partial<Record<PolledType, number>> = {};
      for (const type of POLLED_TYPES) {
        if (implementsOperation(driver, ON_DEMAND_OPERATIONS[type as OnDemandType]))
          intervals[type] = this.config[`POLL_DEFAULT_MINUTES_${type}`];
      }
      created += await this.schedules.ensureDefaults(name, intervals);
    }
    const due = await this.schedules.claimDue(CLAIM_BATCH, this.config.POLL_CLAIM_LEASE_MINUTES);
    const claimedAt = Date.now();
    try {
      await this.queues.addBulk(
        due.map((read) => ({
          name: JobName.PollRead,
          data: {
            globalDeviceId: read.global_device_id,
            dataType: read.data_type,
            ...(read.claimed_at
              ? { claimedAt: read.claimed_at, leaseMinutes: this.config.POLL_CLAIM_LEASE_MINUTES }
              : {}),
          },
          // One read per device, type and claim; a transient fault is retried once, then waits for the next claim.
          opts: {
            jobId: pollJobId(read.data_type, read.global_device_id, claimedAt),
            attempts: 2,
            removeOnComplete: 1000,
          },
        })),
      );
    } catch (error) {
      // Not queued (Redis unavailable): the claims are due again, so the next tick queues them rather than
      // each waiting a whole interval. Some of them may have been queued: a read twice is stored once.
      await this.schedules
        .releaseClaims(due)
        .catch((release: Error) =>
          this.logger.warn(
            { error: release.message },
            'poll claims not released; they wait for their interval',
          ),
        );
      throw error;
    }
    return { created, queued: due.length };
  }

  @JobHandler(JobName.PollRead)
  async read(
    { globalDeviceId, dataType, claimedAt, leaseMinutes }: JobPayloads[JobName.PollRead],
    job: Job,
    token?: string,
  ): Promise<string> {
    const startedAt = new Date();
    const { lines: messageLog, log } = startMessageLog(this.config.TIME_ZONE);
    const claimed = claimedAt && leaseMinutes ? { at: claimedAt, leaseMinutes } : undefined;
    // A read claimed again since (its lease ran out while it waited; its tick released it) is another job's.
    if (claimed && !(await this.schedules.holdsClaim(globalDeviceId, dataType, claimed)))
      return 'left out: the schedule was claimed again, or asked to be read now, since this claim';
    const target = await this.directory.resolve(globalDeviceId);
    try {
      const driver = this.drivers.get(target.device.driver);
      const range = await this.rangeOf(globalDeviceId, dataType);
      log(`POLL ${dataType}${range ? ` from ${formatUdilDatetime(range.from, this.config.TIME_ZONE)}` : ''}`);
      const outcome = await this.gate.run(
        target.address.gateway,
        job,
        token,
        () =>
          this.reads.read(
            dataType as OnDemandType,
            range,
            target,
            driver,
            { progress: () => undefined, log },
            { respond: false },
          ),
        (until) => {
          // Not retried: the next claim of the schedule reads it (from the last stored timestamp).
          throw new DriverError(
            'unreachable',
            `gateway ${target.address.gateway.name} is marked down until ${formatUdilDatetime(until, this.config.TIME_ZONE)}`,
            false,
          );
        },
      );
      const summary = `${outcome.rows} ${dataType} row(s) read${outcome.remarks ? ` (${outcome.remarks})` : ''}`;
      log(`OK ${summary}`);
      await this.schedules.recordOutcome(globalDeviceId, dataType, true, summary, claimed);
      await this.history.record({
        globalDeviceId,
        msn: target.device.msn,
        successful: true,
        messageLog,
        startedAt,
        endedAt: new Date(),
      });
      return summary;
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      const reason =
        error instanceof DriverError ? `${error.kind}: ${error.message}` : (error as Error).message;
      log(`FAIL ${reason}`);
      await this.schedules.recordOutcome(globalDeviceId, dataType, false, reason, claimed);
      await this.history.record({
        globalDeviceId,
        msn: target.device.msn,
        successful: false,
        messageLog,
        startedAt,
        endedAt: new Date(),
      });
      if (error instanceof DriverError && error.retryable) throw error;
      this.logger.warn({ globalDeviceId, dataType, reason }, 'poll failed');
      return `failed: ${reason}`;
    }
  }

  /** Ranged types continue from the last stored timestamp (or look back on a meter's first poll). */
  private async rangeOf(globalDeviceId: string, dataType: PolledType): Promise<DateRange | undefined> {
    if (dataType !== 'LPRO' && dataType !== 'EVNT' && dataType !== 'MBIL') return undefined;
    const to = new Date();
    const last = await this.schedules.lastStored(globalDeviceId, dataType);
    const from = last
      ? new Date(last.getTime() + 1000)
      : new Date(to.getTime() - this.config.POLL_FIRST_LOOKBACK_HOURS * 3600_000);
    return { from, to };
  }
}
