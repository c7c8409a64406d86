import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import {
  MonthPartitionRepository,
  PARTITIONED_TABLES,
  PartitionedTable,
  SPENT_PRIVATEKEY_DAYS,
  UdilPrivateKeyRepository,
} from '@hes/database';
import { McsRequestRepository } from '@hes/mcs';
import { MpcbReadingRepository } from '@hes/mpcb';
import { JobHandler, JobName, ScheduleSupervisor } from '@hes/queue';

export interface PartitionMaintenanceOutcome {
  created: string[];
  dropped: string[];
  /** Sent MPCB readings and their uploads removed by MPCB_RETENTION_DAYS. */
  mpcb: { readings: number; uploads: number };
  /** UDIL privatekeys removed SPENT_PRIVATEKEY_DAYS after they expired or were revoked. */
  privatekeys: number;
  /** Finished MCS requests removed by MCS_RETENTION_DAYS. */
  mcs: number;
  /** The steps that failed (a table, `mpcb`, `privatekeys` or `mcs`), with why; the others were done all the same. */
  failed: { step: MaintenanceStep; error: string }[];
}

type MaintenanceStep = PartitionedTable | 'mpcb' | 'privatekeys' | 'mcs';

/** The retention variable of each partitioned table (README, Configuration). */
const RETENTION: Record<PartitionedTable, (config: AppConfig) => number> = {
  load_profile_data: (c) => c.PARTITION_RETENTION_MONTHS_LOAD_PROFILE_DATA,
  instantaneous_data: (c) => c.PARTITION_RETENTION_MONTHS_INSTANTANEOUS_DATA,
  events: (c) => c.PARTITION_RETENTION_MONTHS_EVENTS,
  device_communication_history: (c) => c.PARTITION_RETENTION_MONTHS_DEVICE_COMMUNICATION_HISTORY,
  transaction_status: (c) => c.PARTITION_RETENTION_MONTHS_TRANSACTION_STATUS,
};

/**
 * Keeps the monthly partitions (docs/partitions.md): the current month and PARTITION_MONTHS_AHEAD months
 * after it exist, and months older than a table's retention are dropped. Then MPCB's sent readings older
 * than MPCB_RETENTION_DAYS go, with the uploads that carried them (docs/mpcb.md), and the UDIL privatekeys
 * that expired or were revoked more than SPENT_PRIVATEKEY_DAYS ago, and finished MCS requests older than
 * MCS_RETENTION_DAYS. Runs once when the worker starts
 * and then as a repeating job that the ScheduleSupervisor brings back if the queue lost it. A month that
 * was not created in time loses nothing: its rows wait in the DEFAULT partition and move when it is.
 */
@Injectable()
export class PartitionMaintenanceJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('Partitions');

  constructor(
    private readonly partitions: MonthPartitionRepository,
    private readonly mpcbReadings: MpcbReadingRepository,
    private readonly privatekeys: UdilPrivateKeyRepository,
    private readonly mcsRequests: McsRequestRepository,
    private readonly supervisor: ScheduleSupervisor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // At start, beside the worker's start rather than before it: the migration already made the current and
    // the next month, and a month still missing loses nothing (DEFAULT holds its rows until it exists).
    void this.maintain(new Date()).catch((error: Error) =>
      this.logger.warn({ error: error.message }, 'partition maintenance failed at start; the job retries'),
    );
    await this.supervisor.keep(
      'partition-maintenance',
      this.config.PARTITION_MAINTENANCE_SECONDS * 1000,
      JobName.PartitionMaintenance,
      {},
    );
  }

  /** A pass; the job fails (and shows so in the queue) when a step did, after the other steps were done. */
  @JobHandler(JobName.PartitionMaintenance)
  async run(): Promise<PartitionMaintenanceOutcome> {
    const outcome = await this.maintain(new Date());
    if (outcome.failed.length > 0)
      throw new Error(
        `partition maintenance failed for ${outcome.failed.map((f) => `${f.step} (${f.error})`).join(', ')}`,
      );
    return outcome;
  }

  /**
   * One pass as of `now`: every table's months ahead created, its expired months dropped; MPCB pruned. A
   * step that fails is logged and recorded in `failed`; the tables after it, and the pruning, are done all
   * the same (a table whose month cannot be created would otherwise keep every later table without its
   * months, and their rows in DEFAULT).
   */
  async maintain(now: Date): Promise<PartitionMaintenanceOutcome> {
    const outcome: PartitionMaintenanceOutcome = {
      created: [],
      dropped: [],
      mpcb: { readings: 0, uploads: 0 },
      privatekeys: 0,
      mcs: 0,
      failed: [],
    };
    const step = async (name: MaintenanceStep, work: () => Promise<void>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        const message = (error as Error).message;
        outcome.failed.push({ step: name, error: message });
        this.logger.error(
          { step: name, error: message },
          'partition maintenance step failed; the others go on',
        );
      }
    };
    for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[])
      await step(table, async () => {
        outcome.created.push(
          ...(await this.partitions.ensureAhead(table, this.config.PARTITION_MONTHS_AHEAD, now)),
        );
        const retention = RETENTION[table](this.config);
        outcome.dropped.push(...(await this.partitions.dropExpired(table, retention, now)));
      });
    if (this.config.MPCB_RETENTION_DAYS > 0)
      await step('mpcb', async () => {
        outcome.mpcb = await this.mpcbReadings.pruneSent(
          new Date(now.getTime() - this.config.MPCB_RETENTION_DAYS * 86_400_000),
        );
      });
    await step('privatekeys', async () => {
      outcome.privatekeys = await this.privatekeys.pruneSpent(
        new Date(now.getTime() - SPENT_PRIVATEKEY_DAYS * 86_400_000),
      );
    });
    if (this.config.MCS_RETENTION_DAYS > 0)
      await step('mcs', async () => {
        outcome.mcs = await this.mcsRequests.pruneFinished(
          new Date(now.getTime() - this.config.MCS_RETENTION_DAYS * 86_400_000),
        );
      });
    if (
      outcome.created.length > 0 ||
      outcome.dropped.length > 0 ||
      outcome.mpcb.readings > 0 ||
      outcome.mpcb.uploads > 0 ||
      outcome.privatekeys > 0 ||
      outcome.mcs > 0
    )
      this.logger.log(outcome, 'monthly partitions, MPCB and MCS retention, spent privatekeys');
    return outcome;
  }
}
