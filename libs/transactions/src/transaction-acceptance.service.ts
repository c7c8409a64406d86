import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DriverRegistry } from '@hes/drivers';
import { JobName, JobQueueRepository } from '@hes/queue';
import {
  OnDemandType,
  ParameterType,
  RenderedReadCache,
  UdilCommand,
  UdilJsonAnswer,
  UdilJsonMember,
  UdilRequestError,
  UdilValue,
  formatUdilDatetime,
  planOf,
  renderedReadCache,
  rowSetVersion,
  UDIL_JSON_PIECE_BYTES,
} from '@hes/udil';
import { readRefusalOf, refusalOf, transactionType } from './udil-command-plans';
import { transactionJobId, transactionQueueJobOptions } from './transaction-jobs';
import {
  RegisteredDevice,
  TransactionStatusRepository,
  TransactionStatusRow,
} from './transaction-status.repository';

export interface DeviceOutcome {
  [key: string]: UdilValue;
  global_device_id: string;
  msn: string;
  indv_status: '0' | '1';
  remarks: string;
}

export interface AcceptanceAnswer {
  [key: string]: UdilValue;
  status: '0' | '1';
  transactionid: string;
  data: DeviceOutcome[];
  message: string;
}

/**
 * What a transaction does to each device: a write command (requested by `service`, its 2019 or 3.x
 * name), an on-demand read of one type, or a parameter read.
 */
export type TransactionOperation =
  | { kind: 'command'; command: UdilCommand; service: string }
  | { kind: 'read'; type: OnDemandType }
  | { kind: 'parameter'; type: ParameterType };

/** The service name recorded with a read transaction (udil_transactions.service). */
const READ_SERVICES = { read: 'on_demand_request', parameter: 'on_demand_parameter_read' } as const;

export interface TransactionRequest {
  operation: TransactionOperation;
  /**
   * The UDIL service the request came to, when the operation alone does not name it (a read type comes to
   * on_demand_request or to on_demand_data_read). A transactionid reused on another service is refused.
   */
  service?: string;
  transactionid: string;
  clientId: string;
  /** The validated parameters, kept as TRANSACTION_STATUS.type_parameters (JSON). */
  parameters: Record<string, unknown>;
  /** Devices addressed, with the MSN the request gave for them (device_creation's dsn). */
  devices: { globalDeviceId: string; msn?: string }[];
}

/** Commands that must reach a device even when it is inactive (they are what changes that). */
const ALLOWED_WHEN_INACTIVE = new Set([UdilCommand.MeterStatusUpdate, UdilCommand.DeviceCreation]);

/**
 * Accepts UDIL write commands: one TRANSACTION_STATUS row per device, committed in one database
 * transaction together with the request's record, then answered. The device jobs are queued behind the
 * answer by a worker: the api adds one job (JobName.TransactionQueue) after the commit, and the worker
 * that takes it queues one job per live row and sets udil_transactions.queued_at. The MDM does not wait
 * for 100 000 jobs to reach Redis, and the api does not hold them in memory. If the api stops or Redis
 * fails between the commit and that one job, or a worker dies while queueing, nothing is lost: the
 * reconciler queues every transaction whose queued_at stays NULL for a reconcile interval (job ids are
 * deterministic, so what is queued twice runs once). Devices the head-end cannot serve are refused
 * individually (indv_status 0 with a remark; their row is cancelled by the MDC).
 */
@Injectable()
export class TransactionAcceptanceService {
  private readonly logger = new Logger('Transactions');
  /** statusJson's answers, per set of transactions, with the version of the rows they show (UDIL_READ_CACHE_MB). */
  private readonly statusAnswers: RenderedReadCache<KeptStatusAnswer> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly statuses: TransactionStatusRepository,
    private readonly queues: JobQueueRepository,
    private readonly drivers: DriverRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.statusAnswers = renderedReadCache(config.UDIL_READ_CACHE_MB);
  }

  /** {@link acceptJson}, answered as an object (reads and parameter reads). */
  async accept(
    request: TransactionRequest,
    message: (accepted: number) => string,
  ): Promise<AcceptanceAnswer> {
    return (await this.acceptJson(request, message)).toBody() as AcceptanceAnswer;
  }

  /**
   * Accepts the request and answers it as JSON text (the answer stored for a retry, byte for byte): an
   * answer of 100 000 devices is rendered once, from the columns the rows are inserted from, without an
   * object per device.
   */
  async acceptJson(
    request: TransactionRequest,
    message: (accepted: number) => string,
  ): Promise<UdilJsonAnswer> {
    const { operation } = request;
    // A request by its 2019 name fingerprints as before the 3.x names existed (a retry across an upgrade).
    const fingerprinted =
      operation.kind === 'command' && operation.service === (operation.command as string)
        ? { kind: operation.kind, command: operation.command }
        : operation;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([fingerprinted, request.parameters, request.devices]))
      .digest('hex');
    const type = operation.kind === 'command' ? transactionType(operation.service) : operation.type;
    const service =
      operation.kind === 'command' ? operation.service : (request.service ?? READ_SERVICES[operation.kind]);

    const outcome = await this.dataSource.transaction(async (manager) => {
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO public.udil_transactions (transactionid, service, request_fingerprint, client_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT (transactionid) DO NOTHING RETURNING 1`,
        [request.transactionid, service, fingerprint, request.clientId],
      );
      if (inserted.length === 0) {
        const [previous] = await manager.query<
          { service: string; request_fingerprint: string; client_id: string; response: string | null }[]
        >(
          `SELECT service, request_fingerprint, client_id, response FROM public.udil_transactions WHERE transactionid = $1`,
          [request.transactionid],
        );
        if (
          previous.service === service &&
          previous.request_fingerprint === fingerprint &&
          previous.client_id === request.clientId &&
          previous.response
        ) {
          return { answer: storedAnswer(previous.response), toQueue: false };
        }
        // Another client's transaction is not this client's business: not even which service it was.
        const what = previous.client_id === request.clientId ? ` (${previous.service})` : '';
        throw UdilRequestError.invalid(
          'transactionid',
          `${request.transactionid} was already used for another request${what}; use a new transactionid`,
          request.transactionid,
        );
      }

      const count = request.devices.length;
      const globalDeviceIds = new Array<string>(count);
      for (let i = 0; i < count; i++) globalDeviceIds[i] = request.devices[i].globalDeviceId;
      const byId = new Map<string, RegisteredDevice>();
      for (const device of await this.statuses.registeredDevices(manager, globalDeviceIds))
        byId.set(device.global_device_id, device);

      // The rows' columns and the answer's items, in the request's order.
      const refusalOf = this.refusals(operation, request.parameters);
      const msns = new Array<string | null>(count);
      const refusals = new Array<string | null>(count);
      const items = new Array<string>(count);
      let accepted = 0;
      for (let i = 0; i < count; i++) {
        const { globalDeviceId, msn: requestedMsn } = request.devices[i];
        const device = byId.get(globalDeviceId);
        const msn = device?.msn ?? requestedMsn ?? null;
        const refusal = refusalOf(globalDeviceId, device, requestedMsn);
        msns[i] = msn;
        refusals[i] = refusal ?? null;
        if (!refusal) accepted += 1;
        items[i] = deviceOutcomeJson(globalDeviceId, msn ?? '', refusal);
      }
      await this.statuses.insertColumns(
        manager,
        request.transactionid,
        type,
        JSON.stringify(request.parameters),
        {
          globalDeviceIds,
          msns,
          refusals,
        },
      );

      const answer = new UdilJsonAnswer(
        {
          status: accepted > 0 ? '1' : '0',
          transactionid: request.transactionid,
          data: [],
          message: message(accepted),
        },
        'data',
        `[${items.join(',')}]`,
      );
      // Nothing to queue: the transaction is queued as it stands (queued_at; see the class comment).
      await manager.query(
        `UPDATE public.udil_transactions SET response = $2, queued_at = CASE WHEN $3 THEN now() END
          WHERE transactionid = $1`,
        [request.transactionid, answer.json(), accepted === 0],
      );
      return { answer, toQueue: accepted > 0 };
    });

    // Committed: a worker queues the device jobs behind the answer (see the class comment).
    if (outcome.toQueue) {
      await this.queues
        .add(
          JobName.TransactionQueue,
          { transactionid: request.transactionid },
          transactionQueueJobOptions(this.config, request.transactionid),
        )
        .catch((error: Error) =>
          this.logger.warn(
            { transactionid: request.transactionid, error: error.message },
            'accepted but not queued; the reconciler will queue it',
          ),
        );
    }
    return outcome.answer;
  }

  /**
   * Why the head-end refuses a device of this request, or undefined when it accepts it. What depends on
   * the device's driver alone (its support of the operation) is worked out once per driver for the request.
   */
  private refusals(
    operation: TransactionOperation,
    parameters: Record<string, unknown>,
  ): (
    globalDeviceId: string,
    device: RegisteredDevice | undefined,
    requestedMsn?: string,
  ) => string | undefined {
    const command = operation.kind === 'command' ? operation.command : undefined;
    let plan: ReturnType<typeof planOf> | undefined;
    const planned = () => (command ? (plan ??= planOf(command, parameters)) : undefined);
    const byDriver = new Map<string, string | undefined>();
    const driverRefusal = (name: string, globalDeviceId: string): string | undefined => {
      if (!this.drivers.has(name)) return `no driver ${name} is installed for ${globalDeviceId}`;
      if (byDriver.has(name)) return byDriver.get(name);
      const driver = this.drivers.get(name);
      const refusal =
        operation.kind === 'command'
          ? refusalOf(operation.command, driver, parameters, operation.service)
          : operation.kind === 'read'
            ? readRefusalOf(operation.type, driver)
            : undefined;
      byDriver.set(name, refusal);
      return refusal;
    };
    return (globalDeviceId, device, requestedMsn) => {
      if (command === UdilCommand.DeviceCreation) {
        // A new device, or the same one again (its attributes are updated); never another meter's id.
        return device && device.msn !== requestedMsn
          ? `global_device_id ${globalDeviceId} is already registered with msn ${device.msn}`
          : undefined;
      }
      if (!device)
        return `global_device_id ${globalDeviceId} is not registered (create it with device_creation)`;
      // Parameter reads answer from the head-end's record where the device cannot be read (inactive, no
      // driver, no such read): they are never refused for a registered device.
      if (operation.kind === 'parameter') return undefined;
      if (device.activation_status === 0 && !(command && ALLOWED_WHEN_INACTIVE.has(command))) {
        return `meter ${globalDeviceId} is inactive (meter_status_update 1 activates it)`;
      }
      // What the head-end carries out on its own needs nothing of the device's driver.
      const chosen = planned();
      if (chosen && chosen.by === 'head-end' && !chosen.requires) return undefined;
      return driverRefusal(device.driver, globalDeviceId);
    };
  }

  /** TRANSACTION_STATUS rows of the client's transactions, formatted as UDIL strings (spec §3.5.2, 4.14). */
  async status(transactionids: string[], clientId: string): Promise<Record<string, UdilValue>[]> {
    const { owned, since } = await this.ownedTransactions(transactionids, clientId);
    if (owned.length === 0) return [];
    return this.formatStatusRows(await this.statuses.findByTransactions(owned, since));
  }

  /**
   * {@link status} as JSON text (byte for byte its JSON.stringify: `[`, `items` joined by commas, `]`) and
   * the number of rows: rendered and joined by PostgreSQL into pieces (findByTransactionsAsUdilJson) but for
   * the response_data that hold JSON, which are formatted here, or formatted from the stored rows when the
   * database cannot render them exactly.
   */
  async statusJson(transactionids: string[], clientId: string): Promise<{ count: number; items: string[] }> {
    const { owned, since } = await this.ownedTransactions(transactionids, clientId);
    if (owned.length === 0) return { count: 0, items: [] };
    const key = [...owned].sort().join('\n');
    if (this.statusAnswers) {
      const rendered = await this.statusJsonKept(this.statusAnswers, key, owned, since);
      if (rendered) return { count: rendered.count, items: rendered.items };
    } else {
      const rendered = await this.statusJsonPieces(owned, since);
      if (rendered) return { count: rendered.count, items: rendered.items };
    }
    const data = this.formatStatusRows(await this.statuses.findByTransactions(owned, since));
    return { count: data.length, items: data.map((item) => JSON.stringify(item)) };
  }

  /** The rows' items joined into pieces by PostgreSQL (findByTransactionsAsUdilJson), with their version. */
  private async statusJsonPieces(
    owned: string[],
    since: Date | undefined,
  ): Promise<{ version: string; count: number; items: string[] } | undefined> {
    const rendered = await this.statuses.findByTransactionsAsUdilJson(
      owned,
      STATUS_MEMBERS,
      this.config.TIME_ZONE,
      since,
    );
    return (
      rendered && {
        version: rendered.version,
        count: rendered.pieces.reduce((sum, piece) => sum + piece.count, 0),
        items: rendered.pieces.map((piece) => placeStructured(piece.items, piece.structured)),
      }
    );
  }

  /**
   * statusJson with its answers kept (UDIL_READ_CACHE_MB): a transaction polled again whose rows have not
   * changed since is answered as then (the rows' version asked for first: an index scan, no rendering); one
   * whose rows changed is read row by row with each row's version, and from then on renders only the rows
   * that changed, each row's item kept by its tuple's version (while its rows keep changing, without asking
   * for the version first). A first read renders every row into pieces (findByTransactionsAsUdilJson).
   * Undefined when PostgreSQL cannot render the rows exactly.
   */
  private async statusJsonKept(
    answers: RenderedReadCache<KeptStatusAnswer>,
    key: string,
    owned: string[],
    since: Date | undefined,
  ): Promise<KeptStatusAnswer | undefined> {
    const kept = answers.kept(key);
    if (!kept) {
      // A first read: joined into pieces by PostgreSQL, kept without the rows' versions if it fits. An answer too
      // large to keep (over a quarter of UDIL_READ_CACHE_MB: 8 MB, about 14 000 rows, by default) is read this
      // way every time, never row by row (for 100 000 rows that took twice the api's CPU and 150-230 MB more
      // of its memory, bench/RESULTS.md).
      const rendered = await this.statusJsonPieces(owned, since);
      if (!rendered) return undefined;
      const answer = {
        count: rendered.count,
        items: rendered.items,
        versions: [],
        places: new Int32Array(0),
        moving: false,
      };
      const size = rendered.items.reduce((sum, text) => sum + text.length, 0);
      answers.set(key, rendered.version, answer, size);
      return answer;
    }
    // A transaction whose rows had changed at the last read is likely still moving: its rows are asked for at
    // once (one statement, which tells the unchanged ones apart anyway); any other, for its version first (an
    // index scan that sends back two numbers).
    if (!kept.value.moving && kept.version === (await this.statuses.versionOfTransactions(owned, since)))
      return kept.value;
    // The rows whose versions the kept answer holds come without their items (none for an answer kept from a
    // first read, which holds no versions: every row is rendered, with its version, this once).
    const rows = await this.statuses.findByTransactionsAsUdilJsonRows(
      owned,
      STATUS_MEMBERS,
      this.config.TIME_ZONE,
      since,
      kept.value.versions,
    );
    if (!rows) return undefined;
    if (
      rows.length === kept.value.count &&
      rows.every((row, index) => row.item === null && row.version === kept.value.versions[index])
    ) {
      // Nothing changed since: the kept answer, and the version asked for first next time.
      kept.value.moving = false;
      return kept.value;
    }
    // Where each kept version's item is in the kept answer.
    const before = new Map<string, number>();
    kept.value.versions.forEach((version, index) => before.set(version, index));
    const pieces = new ItemPieces();
    let sum = 0n;
    for (const row of rows) {
      // A row whose version the statement found among the kept ones comes without its item: kept here.
      let item: string;
      if (row.item !== null)
        item = row.structured === null ? row.item : placeStructured(row.item, [row.structured]);
      else {
        const at = before.get(row.version);
        if (at === undefined)
          throw new Error(`status row version ${row.version} was neither rendered nor kept`);
        item = itemAt(kept.value, at);
      }
      pieces.add(item, row.version);
      sum += BigInt(row.version);
    }
    const answer = pieces.answer();
    // The set's version as versionOfTransactions gives it (the count and the sum of the rows' versions).
    answers.set(
      key,
      rowSetVersion({ rows: rows.length, version: rows.length ? String(sum) : null }),
      answer,
      pieces.size,
    );
    return answer;
  }

  /** The client's transactions among these, and the earliest acceptance of them. */
  private async ownedTransactions(
    transactionids: string[],
    clientId: string,
  ): Promise<{ owned: string[]; since?: Date }> {
    const owned = await this.dataSource.query<{ transactionid: string; created_at: Date }[]>(
      `SELECT transactionid, created_at FROM public.udil_transactions WHERE transactionid = ANY($1) AND client_id = $2`,
      [transactionids, clientId],
    );
    if (owned.length === 0) return { owned: [] };
    // A transaction's rows are not older than its acceptance: the months before it are not read.
    const since = new Date(owned.reduce((min, o) => Math.min(min, o.created_at.getTime()), Infinity));
    return { owned: owned.map((o) => o.transactionid), since };
  }

  /** Rows as UDIL data items: the keys of {@link STATUS_MEMBERS}, then response_data. */
  private formatStatusRows(rows: TransactionStatusRow[]): Record<string, UdilValue>[] {
    const datetime = memoisedDatetimeFormat(this.config.TIME_ZONE);
    return rows.map((row) => ({
      transactionid: row.transactionid,
      global_device_id: row.global_device_id,
      msn: row.msn ?? '',
      type: row.type,
      type_parameters: row.type_parameters ?? '',
      command_receiving_datetime: datetime(row.command_receiving_datetime),
      status_level: String(row.status_level),
      status_1_datetime: datetime(row.status_1_datetime),
      status_2_datetime: datetime(row.status_2_datetime),
      status_3_datetime: datetime(row.status_3_datetime),
      status_4_datetime: datetime(row.status_4_datetime),
      status_5_datetime: datetime(row.status_5_datetime),
      indv_status: String(row.indv_status),
      request_cancelled: String(row.request_cancelled),
      request_cancel_reason: row.request_cancel_reason ?? '',
      request_cancel_datetime: datetime(row.request_cancel_datetime),
      response_data: responseData(row.response_data),
    }));
  }

  /** transaction_cancel (§3.5.3): only devices at status_level 0, 1 or 2 can be cancelled. */
  async cancel(
    transactionid: string,
    globalDeviceIds: string[],
    clientId: string,
  ): Promise<AcceptanceAnswer> {
    const [owner] = await this.dataSource.query<{ client_id: string; created_at: Date }[]>(
      `SELECT client_id, created_at FROM public.udil_transactions WHERE transactionid = $1`,
      [transactionid],
    );
    if (!owner || owner.client_id !== clientId) {
      throw UdilRequestError.invalid(
        'transactionid',
        `${transactionid} is not a transaction of this client`,
        transactionid,
      );
    }
    const cancelled = await this.statuses.cancel(
      transactionid,
      globalDeviceIds,
      'cancelled by MDM (transaction_cancel)',
      owner.created_at,
    );
    const rows = new Map(
      (await this.statuses.findByTransactions([transactionid], owner.created_at)).map((r) => [
        r.global_device_id,
        r,
      ]),
    );
    // Their jobs out of the queue. When the queue does not answer (Redis away: each call waits up to
    // QUEUE_CALL_TIMEOUT_MS) the others are not tried: a job left finds its row cancelled when it starts.
    for (const globalDeviceId of cancelled) {
      const answered = await this.queues
        .remove(JobName.TransactionExecute, transactionJobId(transactionid, globalDeviceId))
        .then(
          () => true,
          () => false,
        );
      if (!answered) break;
    }
    const data: DeviceOutcome[] = globalDeviceIds.map((id) => {
      const row = rows.get(id);
      const base = { global_device_id: id, msn: row?.msn ?? '' };
      if (cancelled.has(id)) return { ...base, indv_status: '1', remarks: 'cancelled' };
      if (!row) return { ...base, indv_status: '0', remarks: `not part of transaction ${transactionid}` };
      if (row.request_cancelled === 1)
        return {
          ...base,
          indv_status: '0',
          remarks: `already cancelled: ${row.request_cancel_reason ?? ''}`,
        };
      if (row.indv_status !== 0) {
        return {
          ...base,
          indv_status: '0',
          remarks: row.indv_status === 1 ? 'already executed' : 'already failed',
        };
      }
      return {
        ...base,
        indv_status: '0',
        remarks: `status_level is ${row.status_level}: only levels 0, 1 and 2 can be cancelled`,
      };
    });
    return {
      status: cancelled.size > 0 ? '1' : '0',
      transactionid,
      data,
      message: `${cancelled.size} of ${globalDeviceIds.length} device(s) cancelled`,
    };
  }
}

/** The members of a TRANSACTION_STATUS data item before response_data, in the answer's order (formatStatusRows). */
const STATUS_MEMBERS: readonly UdilJsonMember[] = [
  'transactionid',
  'global_device_id',
  'msn',
  'type',
  'type_parameters',
  'command_receiving_datetime',
  'status_level',
  'status_1_datetime',
  'status_2_datetime',
  'status_3_datetime',
  'status_4_datetime',
  'status_5_datetime',
  'indv_status',
  'request_cancelled',
  'request_cancel_reason',
  'request_cancel_datetime',
].map((key) => ({ key, column: key }));

/**
 * formatUdilDatetime, remembered per whole second for one answer: the rows of a transaction share most
 * of their datetimes to the second (all of command_receiving_datetime, and a fan-out finishes tens or
 * hundreds of meters per second), and formatting in a time zone is the costly part of the answer.
 */
function memoisedDatetimeFormat(zone: string): (value: Date | null) => string {
  const seen = new Map<number, string>();
  return (value) => {
    if (!value) return formatUdilDatetime(value, zone);
    const second = Math.floor(value.getTime() / 1000);
    let text = seen.get(second);
    if (text === undefined) seen.set(second, (text = formatUdilDatetime(value, zone)));
    return text;
  };
}

/**
 * A transaction_status answer kept by statusJson: its items joined by commas into pieces of about
 * UDIL_JSON_PIECE_BYTES characters (as the database renders them: the answer is written piece by piece), and
 * for each row, in order, its tuple's version and where its item is (three numbers: piece, start, length).
 */
interface KeptStatusAnswer {
  count: number;
  items: string[];
  versions: string[];
  places: Int32Array;
  /** Rows had changed at the read that kept it (the transaction is moving): its versions are not asked for first. */
  moving: boolean;
}

/** Builds a {@link KeptStatusAnswer} from the rows' items and versions, in order. */
class ItemPieces {
  private readonly pieces: string[] = [];
  private readonly versions: string[] = [];
  private readonly places: number[] = [];
  private current = '';
  /** Characters held (items, commas and versions), for the answers' bound. */
  size = 0;

  add(item: string, version: string): void {
    if (this.current.length > 0 && this.current.length + item.length >= UDIL_JSON_PIECE_BYTES) {
      this.pieces.push(this.current);
      this.current = '';
    }
    const start = this.current.length === 0 ? 0 : this.current.length + 1;
    this.current = start === 0 ? item : `${this.current},${item}`;
    this.places.push(this.pieces.length, start, item.length);
    this.versions.push(version);
    this.size += item.length + 1 + version.length;
  }

  /** The answer of rows read because some had changed (the transaction is moving). */
  answer(): KeptStatusAnswer {
    if (this.current.length > 0) this.pieces.push(this.current);
    this.current = '';
    return {
      count: this.versions.length,
      items: this.pieces,
      versions: this.versions,
      places: Int32Array.from(this.places),
      moving: true,
    };
  }
}

/** The item of the `index`th row of a kept answer (a slice of its piece: nothing copied). */
function itemAt(kept: KeptStatusAnswer, index: number): string {
  const [piece, start, length] = kept.places.subarray(3 * index, 3 * index + 3);
  return kept.items[piece].substring(start, start + length);
}

/**
 * Rendered items with each U+0001 (the place of a response_data holding JSON) replaced by that response_data
 * formatted here, `structured` holding their stored texts in order.
 */
function placeStructured(items: string, structured: readonly string[]): string {
  if (structured.length === 0) return items;
  const texts = items.split('\u0001');
  let text = texts[0];
  structured.forEach((stored, index) => {
    text += JSON.stringify(responseData(stored)) + texts[index + 1];
  });
  return text;
}

/** response_data holds JSON (read results) or a sentence (a reason); JSON is returned as data. */
function responseData(text: string | null): UdilValue {
  if (!text) return '';
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      return toUdilValue(JSON.parse(text));
    } catch {
      return text;
    }
  }
  return text;
}

function toUdilValue(value: unknown): UdilValue {
  if (Array.isArray(value)) return value.map(toUdilValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toUdilValue(v)]));
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/**
 * One device's item of an acceptance answer as JSON text: JSON.stringify of
 * `{ global_device_id, msn, indv_status, remarks }` (DeviceOutcome), without the object.
 */
export function deviceOutcomeJson(globalDeviceId: string, msn: string, refusal: string | undefined): string {
  return `{"global_device_id":${JSON.stringify(globalDeviceId)},"msn":${JSON.stringify(msn)},"indv_status":"${
    refusal ? '0' : '1'
  }","remarks":${refusal ? JSON.stringify(refusal) : '"accepted"'}}`;
}

/** A stored answer (udil_transactions.response) as it was first answered. */
function storedAnswer(text: string): UdilJsonAnswer {
  const answer = JSON.parse(text) as AcceptanceAnswer;
  // data keeps its place among the keys.
  return new UdilJsonAnswer({ ...answer, data: [] }, 'data', JSON.stringify(answer.data));
}
