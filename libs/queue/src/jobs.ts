/**
 * Every queue and job of the system, in one place. A job name belongs to exactly one queue and has
 * exactly one payload type; payloads carry ids and small values, never bulk data (Postgres holds that).
 */
export enum QueueName {
  /** Housekeeping of the head-end itself. */
  System = 'system',
  /** UDIL transactions: one job per gateway's slice of a transaction, or per (transactionid, device). */
  Transactions = 'transactions',
  /** MPCB OCEMS site client: acquisition and transmission cycles. */
  Mpcb = 'mpcb',
  /** MCS collection requests (by priority and delayUntil) and the reconciler. */
  Mcs = 'mcs',
  /**
   * The delivery of MCS results to the master applications: a queue and worker slots of its own, so that
   * results for a master that is slow or away never hold up collections (a job without a priority is
   * taken before any prioritized one in the same queue, so deliveries would always go first).
   */
  McsDelivery = 'mcs-delivery',
  /** Scheduled reads of meters (UDIL poll schedules). */
  Polling = 'polling',
}

export enum JobName {
  /** Scheduled every HEARTBEAT_INTERVAL_SECONDS; the consuming worker records that it is alive. */
  WorkerHeartbeat = 'system.worker-heartbeat',
  /** Scheduled every PARTITION_MAINTENANCE_SECONDS: creates monthly partitions ahead and drops expired ones. */
  PartitionMaintenance = 'system.partition-maintenance',
  /** Carries out one device's part of a UDIL transaction, advancing its status_level. */
  TransactionExecute = 'transaction.execute',
  /**
   * Carries out the parts of several devices of one gateway in one UDIL transaction (a slice), up to the
   * gateway's max_in_flight at once; a device that needs a retry gets a TransactionExecute job of its own.
   */
  TransactionExecuteSlice = 'transaction.execute-slice',
  /** Scheduled: re-queues accepted rows that are neither finished nor cancelled (e.g. after Redis lost them). */
  TransactionReconcile = 'transaction.reconcile',
  /** Added by the api after it committed a transaction: queues one TransactionExecute job per live row. */
  TransactionQueue = 'transaction.queue',
  /** Scheduled every MPCB_ACQUISITION_SECONDS: reads every configured analyser parameter and stores it. */
  MpcbAcquire = 'mpcb.acquire',
  /** Scheduled every MPCB_TRANSMISSION_SECONDS: real-time and delayed uploads, then the answer's flag flows. */
  MpcbTransmit = 'mpcb.transmit',
  /** Carries out one MCS collection request (BullMQ priority = MCS priority, delay = delayUntil). */
  McsCollect = 'mcs.collect',
  /** POSTs one stored MCS result to the master application's collection-result; reschedules itself on failure. */
  McsDeliverResult = 'mcs.deliver-result',
  /** Scheduled: re-queues MCS requests and result deliveries the queue lost. */
  McsReconcile = 'mcs.reconcile',
  /** Scheduled: claims the poll schedules that are due and queues their reads. */
  PollTick = 'poll.tick',
  /** Reads one data type of one meter into the UDIL tables. */
  PollRead = 'poll.read',
  /** Head-end load shedding: operates one meter's relay at one slab's action time. */
  LoadSheddingAction = 'transaction.load-shedding-action',
}

export interface JobPayloads {
  [JobName.WorkerHeartbeat]: { scheduledBy: string };
  [JobName.PartitionMaintenance]: Record<string, never>;
  /** receivedAt: the row's command_receiving_datetime (ISO), so that its statements touch one partition. */
  /**
   * receivedAt: the row's command_receiving_datetime (ISO), so that its statements touch one partition.
   * attemptsBefore: attempts the device already had in a slice (counted with this job's own).
   */
  [JobName.TransactionExecute]: {
    transactionid: string;
    globalDeviceId: string;
    receivedAt?: string;
    attemptsBefore?: number;
  };
  /** devices: the slice's devices not started yet; lanes: how many run at once (the gateway's max_in_flight). */
  [JobName.TransactionExecuteSlice]: {
    transactionid: string;
    devices: { globalDeviceId: string; receivedAt: string }[];
    lanes: number;
  };
  [JobName.TransactionReconcile]: Record<string, never>;
  [JobName.TransactionQueue]: { transactionid: string };
  [JobName.MpcbAcquire]: Record<string, never>;
  [JobName.MpcbTransmit]: Record<string, never>;
  [JobName.McsCollect]: { requestReference: string };
  [JobName.McsDeliverResult]: { requestReference: string };
  [JobName.McsReconcile]: Record<string, never>;
  [JobName.PollTick]: Record<string, never>;
  /**
   * claimedAt, leaseMinutes: the claim of the schedule (ISO, to the microsecond) and the lease it was claimed
   * with (absent in jobs queued before 2026-12-03).
   */
  [JobName.PollRead]: {
    globalDeviceId: string;
    dataType: 'INST' | 'BILL' | 'MBIL' | 'LPRO' | 'EVNT';
    claimedAt?: string;
    leaseMinutes?: number;
  };
  [JobName.LoadSheddingAction]: { globalDeviceId: string; relayOperate: 0 | 1; actionTime: string };
}

export const QUEUE_OF_JOB: { readonly [N in JobName]: QueueName } = {
  [JobName.WorkerHeartbeat]: QueueName.System,
  [JobName.PartitionMaintenance]: QueueName.System,
  [JobName.TransactionExecute]: QueueName.Transactions,
  [JobName.TransactionExecuteSlice]: QueueName.Transactions,
  [JobName.TransactionReconcile]: QueueName.System,
  [JobName.TransactionQueue]: QueueName.System,
  [JobName.MpcbAcquire]: QueueName.Mpcb,
  [JobName.MpcbTransmit]: QueueName.Mpcb,
  [JobName.McsCollect]: QueueName.Mcs,
  [JobName.McsDeliverResult]: QueueName.McsDelivery,
  [JobName.McsReconcile]: QueueName.Mcs,
  [JobName.PollTick]: QueueName.System,
  [JobName.PollRead]: QueueName.Polling,
  [JobName.LoadSheddingAction]: QueueName.Transactions,
};

/** A job name together with its payload: the discriminated union handlers and producers share. */
export type JobItem = { [N in JobName]: { name: N; data: JobPayloads[N] } }[JobName];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);
export const ALL_JOBS: readonly JobName[] = Object.values(JobName);

/**
 * Options of every queue's worker. stalledInterval: how often a worker looks for active jobs whose lock is
 * gone (their worker died, or Redis lost the lock in a failover) to run them again; such a job is found
 * within two looks. BullMQ's default is 30 s; a job is taken back only once its lock is missing (a live
 * worker renews it every 15 s, and it lasts 30 s), so looking more often takes nothing from a live worker.
 * A slice of a transaction carries up to TRANSACTION_SLICE_SIZE devices, so waiting less for it matters more.
 */
export const WORKER_OPTIONS = { stalledInterval: 10_000 } as const;
