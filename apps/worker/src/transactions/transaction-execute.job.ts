import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import pLimit from 'p-limit';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { isDatabaseUnavailable } from '@hes/database';
import { DriverError, DriverRegistry, OperationContext, ProgressLevel } from '@hes/drivers';
import {
  Claimant,
  GatewayLease,
  JobHandler,
  JobName,
  JobPayloads,
  JobQueueRepository,
  QueueUnavailableError,
} from '@hes/queue';
import {
  CommunicationHistoryRepository,
  CommunicationRecord,
  DeviceCreationService,
  DeviceDirectory,
  GatewayGate,
  LaterLevels,
  LevelTimes,
  MeterVisualsRepository,
  NotYetDueError,
  ResolvedDevice,
  SLICE_LOCK_CHECK_MS,
  TransactionStatusRepository,
  UdilCommandRunner,
  UdilParameterRunner,
  UdilReadRunner,
  claimantOf,
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

/** The lock a worker holds on an active job (BullMQ's default lockDuration, which the workers keep). */
const JOB_LOCK_MS = 30_000;

/** A device of a slice met its gateway busy or marked down: the slice is put back at `at` (epoch ms). */
class SlicePutBack extends Error {
  constructor(
    readonly at: number,
    readonly reason?: string,
  ) {
    super(`gateway busy or down: slice put back until ${new Date(at).toISOString()}`);
  }
}

/** How one device's run enters its gateway, and which of its device's attempts it is. */
interface DeviceCarrier {
  /** A lease of the gateway, or the run ends by putting its job back (the error says how). */
  admit(
    gateway: ResolvedDevice['address']['gateway'],
    acceptedAt: Date,
    deferred: (reason: string) => Promise<void>,
  ): Promise<GatewayLease>;
  /** Gives the lease up once the device is done with the gateway (default: GatewayGate.leave). */
  leave?(lease: GatewayLease): Promise<void>;
  attempt: number;
  attempts: number;
}

/** A slice's lane's carrier (see TransactionExecuteJob.laneCarrier). */
interface LaneCarrier extends DeviceCarrier {
  /** A lease is kept for the lane's next device. */
  keeps(): boolean;
  /** Leaves the lease still kept, if any (the lane ends). */
  finish(): Promise<void>;
}

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
  /** Devices this process runs at once, single jobs and slices' lanes together: WORKER_CONCURRENCY. */
  private readonly permits: pLimit.Limit;
  private stopping = false;

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
  ) {
    this.permits = pLimit(config.WORKER_CONCURRENCY);
  }

  @JobHandler(JobName.TransactionExecute)
  execute(
    {
      transactionid,
      globalDeviceId,
      receivedAt,
      attemptsBefore = 0,
    }: JobPayloads[JobName.TransactionExecute],
    job: Job,
    token?: string,
  ): Promise<string> {
    return this.permits(() =>
      this.runDevice(transactionid, globalDeviceId, receivedAt, {
        admit: (gateway, acceptedAt, deferred) => this.gate.admit(gateway, job, token, acceptedAt, deferred),
        attempt: job.attemptsMade + 1 + attemptsBefore,
        attempts: (job.opts.attempts ?? 1) + attemptsBefore,
      }),
    );
  }

  /**
   * A gateway's slice of a transaction: its devices run as {@link execute} runs one, up to `lanes` (the
   * gateway's max_in_flight) at once, each under a lease of the gateway. A device whose attempt failed and
   * may be retried gets a TransactionExecute job of its own (with the backoff, its attempts counting this
   * one). When the gateway is busy or marked down, or the head-end's own store fails, or the worker stops,
   * the slice stops starting devices, waits for the running ones, and keeps only the devices not done in
   * its payload: put back in the queue (busy, down, stopping) or retried by the queue (a fault). Before a
   * device it renews its lock on the job once SLICE_LOCK_CHECK_MS have passed since the last renewal: a slice
   * that is no longer this worker's (Redis lost it; its lock lapsed and another worker took it) starts no
   * more devices. A device done is never run again by the
   * slice; one that was running when the worker died is, as after any crash (the driver reads the state
   * back first).
   */
  @JobHandler(JobName.TransactionExecuteSlice)
  async executeSlice(
    data: JobPayloads[JobName.TransactionExecuteSlice],
    job: Job,
    token?: string,
  ): Promise<string> {
    const { transactionid, devices, lanes } = data;
    const waiting = [...devices];
    const claimant = claimantOf(job);
    const returned: typeof devices = [];
    /** lost: the slice's job is no longer this worker's (Redis lost it, or its lock lapsed and another took it). */
    const stop: { putBackAt?: number; reason?: string; fault?: unknown; lost?: boolean } = {};
    const stopped = () =>
      stop.putBackAt !== undefined || stop.fault !== undefined || stop.lost === true || this.stopping;
    /** Devices whose row already says why they wait (a marked-down gateway met on their own entry). */
    const noted = new Set<string>();
    let ran = 0;
    let handedOn = 0;
    /** When the last renewal of the slice's lock was sent (epoch ms), and the one under way (the lanes share it). */
    let renewedAt = -Infinity;
    let renewal: Promise<boolean> | undefined;
    /** Still this worker's job: renewed when the last renewal is SLICE_LOCK_CHECK_MS old, else as it was. */
    const stillOwned = (): boolean | Promise<boolean> => {
      if (token === undefined || Date.now() - renewedAt < SLICE_LOCK_CHECK_MS) return true;
      if (!renewal) {
        const sentAt = Date.now();
        renewal = job.extendLock(token, JOB_LOCK_MS).then(
          (held) => {
            renewal = undefined;
            if (held === 1) renewedAt = sentAt;
            return held === 1;
          },
          (error: unknown) => {
            renewal = undefined;
            throw error;
          },
        );
      }
      return renewal;
    };
    /** One device of the slice, run by a lane holding a permit; what became of it. */
    const runOne = async (
      current: (typeof devices)[number],
      carrier: DeviceCarrier,
    ): Promise<'ran' | 'handed on' | 'not started' | 'not done'> => {
      if (stopped()) return 'not started';
      try {
        // The lock first: a slice Redis lost (or whose lock lapsed and another worker took) must not run
        // another device (found within SLICE_LOCK_CHECK_MS); renewing also keeps a long slice's lock from lapsing.
        if (!(await stillOwned())) {
          stop.lost = true;
          return 'not started';
        }
        await this.runDevice(transactionid, current.globalDeviceId, current.receivedAt, carrier);
        return 'ran';
      } catch (error) {
        if (error instanceof SlicePutBack) {
          stop.putBackAt = Math.max(stop.putBackAt ?? 0, error.at);
          stop.reason ??= error.reason;
          if (error.reason) noted.add(current.globalDeviceId);
          return 'not started';
        }
        if (error instanceof DriverError && error.retryable) {
          await this.handOn(transactionid, current.globalDeviceId, current.receivedAt);
          return 'handed on';
        }
        stop.fault ??= error;
        return 'not done';
      }
    };
    const lane = async (): Promise<void> => {
      const carrier = this.laneCarrier(() => !stopped() && waiting.length > 0, claimant);
      try {
        while (waiting.length > 0 && !stopped()) {
          await this.permits(async () => {
            // Under one permit, the lane runs its devices one after another for as long as it keeps its
            // gateway's lease (LaneCarrier): no permit, lease or release between them.
            for (
              let device = waiting.shift();
              device;
              device = carrier.keeps() && !stopped() ? waiting.shift() : undefined
            ) {
              const outcome = await runOne(device, carrier);
              if (outcome === 'ran') ran += 1;
              else if (outcome === 'handed on') handedOn += 1;
              else returned.push(device);
            }
          });
        }
      } finally {
        await carrier.finish();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, devices.length)) }, lane));
    const left = [...returned, ...waiting];
    const summary = `${ran} device(s) run, ${handedOn} handed on to a retry, ${left.length} left`;
    if (left.length === 0) return summary;
    if (stop.lost) {
      this.logger.warn(
        { transactionid, slice: job.id, left: left.length },
        "slice stopped: its job is no longer this worker's (its devices are run by whoever has it, or by the reconciler)",
      );
      return `${summary} (the job was lost)`;
    }
    if (stop.reason)
      for (const device of left.filter((d) => !noted.has(d.globalDeviceId)))
        await this.statuses
          .note(transactionid, device.globalDeviceId, stop.reason, device.receivedAt)
          .catch(() => undefined);
    try {
      await job.updateData({ ...data, devices: left });
    } catch (error) {
      throw new QueueUnavailableError(`slice ${job.id}: its remaining devices could not be kept`, error);
    }
    // What a device's run threw past its own handling (a fault of the store or the database), as it was.
    if (stop.fault !== undefined) throw stop.fault as Error;
    return this.gate.postpone(job, token, stop.putBackAt ?? Date.now());
  }

  /**
   * How a slice's lane enters its gateway: a lease, kept for the lane's next device when the gateway
   * answered, `goesOn()` (the slice has devices waiting and is not stopping) and nobody else waits for the
   * gateway (GatewayGate.keep: a job of this process waiting for it gets the lease handed over; another
   * worker's job on the gateway's waiting list makes the lane give it back, heard within KEEP_CHECK_MS).
   * Else the lease is left as a single job leaves it, and the lane's next device is admitted anew. `finish`
   * leaves a lease still kept when the lane ends. `claimant`: the slice's job, put back if a device finds
   * the gateway busy.
   */
  private laneCarrier(goesOn: () => boolean, claimant: Claimant): LaneCarrier {
    let kept: GatewayLease | undefined;
    const leaveKept = async (): Promise<void> => {
      const held = kept;
      kept = undefined;
      if (held) await this.gate.leave(held);
    };
    return {
      admit: async (gateway, acceptedAt, deferred) => {
        if (kept && kept.gatewayId === gateway.id) {
          const lease = kept;
          kept = undefined;
          return lease;
        }
        await leaveKept();
        return this.gate.admitOr(
          gateway,
          acceptedAt,
          deferred,
          (at, reason) => Promise.reject(new SlicePutBack(at, reason)),
          claimant,
        );
      },
      leave: async (lease) => {
        const next = goesOn() ? await this.gate.keep(lease) : undefined;
        if (next) kept = next;
        else await this.gate.leave(lease);
      },
      keeps: () => kept !== undefined,
      finish: leaveKept,
      attempt: 1,
      attempts: this.config.TRANSACTION_ATTEMPTS,
    };
  }

  /** The worker stops: slices start no more devices and put the rest back (see WorkerShutdown). */
  stopSlices(): void {
    this.stopping = true;
  }

  /**
   * A device of a slice whose attempt failed and may be retried: a TransactionExecute job of its own, after
   * the first backoff, with the attempts left. When the queue refuses it, the row stays pending and the
   * reconciler queues it once the slice is over.
   */
  private async handOn(transactionid: string, globalDeviceId: string, receivedAt: string): Promise<void> {
    const options = transactionJobOptions(this.config, transactionid, globalDeviceId);
    await this.queues
      .add(
        JobName.TransactionExecute,
        { transactionid, globalDeviceId, receivedAt, attemptsBefore: 1 },
        {
          ...options,
          attempts: this.config.TRANSACTION_ATTEMPTS - 1,
          delay: this.config.TRANSACTION_BACKOFF_MS,
        },
      )
      .catch((error: Error) =>
        this.logger.warn(
          { transactionid, globalDeviceId, error: error.message },
          'retry not queued; the reconciler will queue it',
        ),
      );
  }

  /** One device's part of the transaction (see the class comment); `carrier` says how it is admitted and retried. */
  private async runDevice(
    transactionid: string,
    globalDeviceId: string,
    receivedAt: string | undefined,
    carrier: DeviceCarrier,
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
        // Levels 2 and 4 ride on the statement of the next level (LaterLevels): nothing waits for them. Level 2
        // is written before anything is written to the device all the same, by level 3's statement, which the
        // drivers await (communication established, before any write): that statement decides a cancel
        // racing the command (transaction_cancel takes rows at 0–2 only). Past it no cancel can win.
        if (level !== 3) {
          later.reach(level);
          return Promise.resolve();
        }
        return advance(level, later.take());
      },
    };
    const advance = (level: ProgressLevel, reached?: LevelTimes): Promise<void> => {
      gate = gate.then(async () => {
        if (await this.statuses.advance(transactionid, globalDeviceId, level, at, reached)) return;
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
    // A level written on its own (its next one did not come in time, or the operation failed) goes through
    // `advance` like the others: behind the gate, and a cancel it finds stops the operation.
    const later = new LaterLevels(
      (level, reached) => void advance(level, reached),
      this.config.TRANSACTION_LEVEL_DELAY_MS,
    );

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
        lease = await carrier.admit(
          target.address.gateway,
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
      // Level 4 (or 2) reached and not written yet: the completion stamps it with the time it was reached.
      // Taken before anything else is awaited, so that its own write cannot start behind the gate awaited
      // here and race the completion's statement.
      const reached = later.take();
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
      await this.statuses.complete(
        transactionid,
        globalDeviceId,
        outcome.response,
        at,
        {
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
        },
        reached,
      );
      return summary;
    } catch (thrown) {
      // Levels reached and not written (a failure while connecting, or after the command was sent): written
      // before the failure is, so that a failed row shows how far it got.
      later.flush();
      // A level written on its own that found the row cancelled stopped the operation through its signal:
      // the driver then fails with the cancellation it was given, and the row was cancelled, not failed.
      const stopped = await gate.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      const error = stopped instanceof TransactionCancelledError ? stopped : thrown;
      if (error instanceof NotYetDueError) return this.hold(transactionid, globalDeviceId, error.dueAt, at);
      // Put back until its gateway has a free lease or is up again: not an attempt, nothing to record.
      if (error instanceof DelayedError || error instanceof SlicePutBack) throw error;
      // The queue's store or the database failed, not the device: the row stays unfinished (a retry by the
      // queue, or the reconciler), never failed for it. A statement whose connection died while PostgreSQL is
      // otherwise up (a terminated backend, a failover, DATABASE_QUERY_TIMEOUT_MS) would else fail the row
      // through the next statements, which succeed: the MDM would read as failed a command the meter carried out.
      if (error instanceof QueueUnavailableError || isDatabaseUnavailable(error)) {
        this.logger.warn(
          { transactionid, globalDeviceId, error: (error as Error).message },
          `${error instanceof QueueUnavailableError ? 'queue' : 'database'} unavailable: row left for a retry`,
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
      const { attempt, attempts } = carrier;
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
      if (lease) await (carrier.leave ? carrier.leave(lease) : this.gate.leave(lease));
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
