import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DriverError, DriverRegistry, OperationContext, ProgressLevel } from '@hes/drivers';
import { GatewayLease, JobHandler, JobName, JobPayloads, JobQueueRepository } from '@hes/queue';
import {
  CommunicationHistoryRepository,
  CommunicationRecord,
  DeviceCreationService,
  DeviceDirectory,
  GatewayGate,
  MeterVisualsRepository,
  NotYetDueError,
  QueueUnavailableError,
  ResolvedDevice,
  TransactionStatusRepository,
  UdilCommandRunner,
  UdilParameterRunner,
  UdilReadRunner,
  startMessageLog,
  transactionJobId,
  transactionJobOptions,
} from '@hes/transactions';
import {
  OnDemandType,
  ParameterType,
  UdilCommand,
  formatUdilDatetime,
  isParameterType,
  writeServiceNamed,
} from '@hes/udil';

/** Raised inside a driver's progress callback when the row was cancelled meanwhile: stop before touching the meter. */
class TransactionCancelledError extends Error {}

const READS = new Set<string>(Object.values(OnDemandType));

/**
 * Executes one device's part of a UDIL transaction: level 1 when it starts, 2–4 as the driver reports
 * them (each a conditional update, so a cancel that won the race stops the driver before level 3),
 * 5 when the device confirmed. Transient faults are retried by the queue with backoff; on the last
 * attempt, or for a fault that repeating cannot fix, the row fails (indv_status 2) with the reason.
 */
@Injectable()
export class TransactionExecuteJob {
  private readonly logger = new Logger('Transactions');

  constructor(
    private readonly statuses: TransactionStatusRepository,
    private readonly directory: DeviceDirectory,
    private readonly drivers: DriverRegistry,
    private readonly runner: UdilCommandRunner,
    private readonly creation: DeviceCreationService,
    private readonly reads: UdilReadRunner,
    private readonly parameterReads: UdilParameterRunner,
    private readonly visuals: MeterVisualsRepository,
    private readonly history: CommunicationHistoryRepository,
    private readonly queues: JobQueueRepository,
    private readonly gate: GatewayGate,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @JobHandler(JobName.TransactionExecute)
  async execute(
    { transactionid, globalDeviceId, receivedAt }: JobPayloads[JobName.TransactionExecute],
    job: Job,
    token?: string,
  ): Promise<string> {
    // Level 1, or the row as a previous attempt left it; nothing when it was cancelled or has finished.
    // The device is looked up while the row starts (one database round trip instead of two); a lookup
    // that fails is answered where the job uses it (and a device_creation looks its device up again).
    const lookup = this.directory.resolve(globalDeviceId);
    lookup.catch(() => undefined);
    const row = await this.statuses.start(transactionid, globalDeviceId, receivedAt);
    if (!row) return 'nothing to do (cancelled, finished or unknown)';
    // The row's month (TRANSACTION_STATUS is partitioned on it): every later statement touches one partition.
    const at = row.command_receiving_datetime;
    const command = writeServiceNamed(row.type)?.command;
    const isRead = READS.has(row.type);
    const isParameterRead = isParameterType(row.type);
    if (!isRead && !isParameterRead && !command) {
      await this.statuses.fail(transactionid, globalDeviceId, `unknown transaction type ${row.type}`, at);
      return 'failed';
    }

    const startedAt = new Date();
    const { lines: messageLog, log } = startMessageLog(this.config.TIME_ZONE);
    let gate: Promise<void> = Promise.resolve();
    let lease: GatewayLease | undefined;
    const abort = new AbortController();
    const traffic = { sent: 0, received: 0 };
    const ctx: OperationContext = {
      log,
      signal: abort.signal,
      // Level 2 or more: an earlier attempt (a crashed worker, a failed write of the outcome) may have
      // reached the device; drivers read the state back before writing it again.
      resend: row.status_level >= 2,
      traffic: (sent, received) => {
        traffic.sent += sent;
        traffic.received += received;
      },
      progress: (level: ProgressLevel, note?: string) => {
        if (note) log(note);
        if (level === 4) {
          // The command was sent to the meter. Past level 2 no cancel can win (transaction_cancel takes rows
          // at 0–2 only), so nothing waits for this write: it goes out on the next turn of the event loop,
          // unless the completion comes first (nothing more to exchange, e.g. a clock set), whose statement
          // then stamps level 4 with level 5 (levelStamps: a level passed without its own write is stamped
          // with the next one's time) instead of a statement of its own.
          level4.state = 'pending';
          setImmediate(() => {
            if (level4.state === 'pending') writeLevel4();
          });
          return Promise.resolve();
        }
        return advance(level);
      },
    };
    const advance = (level: ProgressLevel): Promise<void> => {
      gate = gate.then(async () => {
        if (await this.statuses.advance(transactionid, globalDeviceId, level, at)) return;
        const current = await this.statuses.find(transactionid, globalDeviceId, at);
        if (current?.request_cancelled === 1) {
          abort.abort();
          throw new TransactionCancelledError(`cancelled at status_level ${current.status_level}`);
        }
      });
      // Marked handled here so a driver that does not await it cannot cause an unhandled rejection.
      gate.catch(() => undefined);
      return gate;
    };
    /** Level 4 reached and not written yet ('pending'), or left to the completion's statement. */
    const level4: { state: 'none' | 'pending' | 'with completion' } = { state: 'none' };
    const writeLevel4 = () => {
      if (level4.state === 'none') return;
      level4.state = 'none';
      void advance(4);
    };

    let target: ResolvedDevice | undefined;
    try {
      const parameters = JSON.parse(row.type_parameters ?? '{}') as Record<string, unknown>;
      // device_creation registers a device the registry does not have yet: it finds the gateway itself.
      const created =
        command === UdilCommand.DeviceCreation
          ? await this.creation.create(globalDeviceId, row.msn ?? '', parameters, ctx)
          : undefined;
      target = await (created ? this.directory.resolve(globalDeviceId) : lookup);
      const driver = this.drivers.names().includes(target.device.driver)
        ? this.drivers.get(target.device.driver)
        : undefined;
      // A lease of the gateway, or the job is put back (busy; marked down: the reason in response_data).
      // A parameter read the head-end's record answers alone does not wait for the gateway.
      const recordOnly =
        isParameterRead && !this.parameterReads.touchesDevice(row.type as ParameterType, target, driver);
      if (!created && !recordOnly)
        lease = await this.gate.admit(
          target.address.gateway,
          job,
          token,
          new Date(row.command_receiving_datetime),
          (reason) =>
            this.statuses.note(transactionid, globalDeviceId, reason, row.command_receiving_datetime),
        );
      log(`${row.type} via ${target.address.gateway.name} (${target.device.driver})`);
      const outcome =
        created ??
        (isParameterRead
          ? await this.parameterReads.run(row.type as ParameterType, target, driver, ctx)
          : command
            ? await this.runner.run(command, parameters, target, driver, ctx)
            : await this.reads.run(row.type as OnDemandType, parameters, target, driver, ctx));
      // Level 4 not written yet: the completion stamps it (and if the completion fails, the catch writes it).
      // Decided before anything else is awaited, so a level-4 write cannot start behind the gate awaited here
      // and race the completion's statement.
      if (level4.state === 'pending') level4.state = 'with completion';
      await gate;
      if (lease) await this.gate.observe(target.address.gateway, undefined, lease);
      const summary =
        'rows' in outcome
          ? `${outcome.rows} ${row.type} row(s) read${outcome.remarks ? ` (${outcome.remarks})` : ''}`
          : 'summary' in outcome && typeof outcome.summary === 'string'
            ? outcome.summary
            : outcome.response;
      log(`OK ${summary}`);
      // The traces of the command (METER_VISUALS, the history) are written in the statement that says
      // level 5: an MDM that sees 5 finds them.
      await this.statuses.complete(transactionid, globalDeviceId, outcome.response, at, {
        msn: target.device.msn,
        visuals: {
          ...('visuals' in outcome ? outcome.visuals : {}),
          last_command: row.type,
          last_command_datetime: row.command_receiving_datetime,
          last_command_resp: summary.slice(0, 255),
          last_command_resp_datetime: new Date(),
          last_communication_datetime: new Date(),
        },
        communication: communicationRecord(globalDeviceId, target, true, messageLog, startedAt, traffic),
      });
      return summary;
    } catch (error) {
      // A failure right after level 4: the level is written before the failure is.
      writeLevel4();
      await gate.catch(() => undefined);
      if (error instanceof NotYetDueError) return this.hold(transactionid, globalDeviceId, error.dueAt, at);
      // Put back until its gateway has a free lease or is up again: not an attempt, nothing to record.
      if (error instanceof DelayedError) throw error;
      // The queue's store failed, not the device: the row stays unfinished (retry, or the reconciler).
      if (error instanceof QueueUnavailableError) {
        this.logger.warn(
          { transactionid, globalDeviceId, error: error.message },
          'queue unavailable: row left for a retry',
        );
        throw error;
      }
      if (lease && target)
        await this.gate.observe(target.address.gateway, error, lease).catch(() => undefined);
      if (error instanceof TransactionCancelledError) {
        log(`STOPPED ${error.message}`);
        await this.history.record(
          communicationRecord(globalDeviceId, target, false, messageLog, startedAt, traffic),
        );
        return 'cancelled';
      }
      const attempt = job.attemptsMade + 1;
      const attempts = job.opts.attempts ?? 1;
      const retryable = error instanceof DriverError && error.retryable && attempt < attempts;
      const reason = describe(error, attempt, attempts);
      log(`FAIL ${reason}`);
      await this.history.record(
        communicationRecord(globalDeviceId, target, false, messageLog, startedAt, traffic),
      );
      if (retryable) throw error;
      await this.statuses.fail(transactionid, globalDeviceId, reason, at);
      await this.visuals.update(globalDeviceId, target?.device.msn ?? row.msn, {
        last_command: row.type,
        last_command_datetime: row.command_receiving_datetime,
        last_command_resp: `failed: ${reason}`.slice(0, 255),
        last_command_resp_datetime: new Date(),
      });
      return `failed: ${reason}`;
    } finally {
      if (lease) await this.gate.leave(lease);
    }
  }

  /**
   * Holds the row (at its level, still cancellable) until `dueAt`: recorded in PostgreSQL, where the
   * reconciler finds it again once due, and woken up on time by a delayed job.
   */
  private async hold(
    transactionid: string,
    globalDeviceId: string,
    dueAt: Date,
    receivedAt: Date,
  ): Promise<string> {
    await this.statuses.defer(transactionid, globalDeviceId, dueAt, receivedAt);
    const options = transactionJobOptions(this.config, transactionid, globalDeviceId);
    await this.queues
      .add(
        JobName.TransactionExecute,
        { transactionid, globalDeviceId, receivedAt: receivedAt.toISOString() },
        {
          ...options,
          jobId: `${transactionJobId(transactionid, globalDeviceId)}-due-${dueAt.getTime()}`,
          delay: Math.max(0, dueAt.getTime() - Date.now()),
        },
      )
      .catch(() => undefined); // the reconciler queues it once due
    return `held until ${formatUdilDatetime(dueAt, this.config.TIME_ZONE)}`;
  }
}

/** The DEVICE_COMMUNICATION_HISTORY record of a job's exchange with its device, ending now. */
function communicationRecord(
  globalDeviceId: string,
  target: ResolvedDevice | undefined,
  successful: boolean,
  messageLog: string[],
  startedAt: Date,
  traffic: { sent: number; received: number },
): CommunicationRecord {
  return {
    globalDeviceId,
    msn: target?.device.msn ?? null,
    successful,
    messageLog,
    startedAt,
    endedAt: new Date(),
    bytesSent: traffic.sent,
    bytesReceived: traffic.received,
  };
}

function describe(error: unknown, attempt: number, attempts: number): string {
  if (error instanceof DriverError) {
    const retries = error.retryable ? ` after ${attempt} attempt(s)` : '';
    return `${error.kind}: ${error.message}${retries}`;
  }
  return `head-end error: ${(error as Error).message} (attempt ${attempt} of ${attempts})`;
}
