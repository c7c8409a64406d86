import { FormValue, MdcAnswer, MdcClient } from './mdc-client';
import {
  DataType,
  Generation,
  acceptanceProblems,
  itemProblems,
  recordKeys,
  stageTimeProblems,
  statusKeys,
} from './expectations';

export type Verdict = 'PASS' | 'FAIL' | 'N/A';

export interface CheckResult {
  service: string;
  check: string;
  verdict: Verdict;
  reason: string;
}

/** A command the MDC accepted (or refused) for some devices, waiting to reach level 5. */
export interface Submission {
  service: string;
  check: string;
  transactionid: string;
  accepted: string[];
  /** Refused devices and the MDC's remark. */
  refused: Map<string, string>;
  submittedAt: number;
  /** Checks of each finished row beyond the common ones (e.g. on-demand response_data). */
  rowCheck?: (row: Record<string, unknown>, device: string) => string[];
  /** For reads: true when a finished row carries no data, so that its keys could not be checked. */
  carriesNoData?: (row: Record<string, unknown>) => boolean;
}

const FINISHED = (row: Record<string, unknown>) =>
  row.status_level === '5' || row.indv_status === '2' || row.request_cancelled === '1';

export function describeAnswer(answer: MdcAnswer): string {
  const message = answer.body?.message;
  return `HTTP ${answer.httpStatus}${typeof message === 'string' ? `: ${message}` : answer.body ? '' : `: ${answer.text.slice(0, 120)}`}`;
}

/** Runs checks against one MDC and keeps their results, in order. */
export class ConformanceRun {
  readonly results: CheckResult[] = [];

  constructor(
    readonly client: MdcClient,
    readonly devices: readonly string[],
    readonly generation: Generation,
    private readonly levelTimeoutMs: number,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  record(service: string, check: string, verdict: Verdict, reason: string): void {
    this.results.push({ service, check, verdict, reason });
    this.log(`${verdict.padEnd(4)} ${service} — ${check}${reason ? `: ${reason}` : ''}`);
  }

  /** Runs `work`; an exception (network, timeout) is that check's failure, never the run's end. */
  async guarded(service: string, check: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.record(service, check, 'FAIL', `no usable answer: ${(error as Error).message}`);
    }
  }

  /** Sends a command to `devices` and checks the acceptance answer; undefined when it was unusable. */
  async submit(
    service: string,
    check: string,
    fields: Record<string, FormValue>,
    devices: readonly string[] = this.devices,
  ): Promise<Submission | undefined> {
    const transactionid = this.client.nextTransactionId();
    let answer: MdcAnswer;
    try {
      answer = await this.client.call(service, fields, { transactionid });
    } catch (error) {
      this.record(service, check, 'FAIL', `no answer: ${(error as Error).message}`);
      return undefined;
    }
    if (answer.httpStatus !== 200) {
      this.record(service, check, 'FAIL', `expected HTTP 200, got ${describeAnswer(answer)}`);
      return undefined;
    }
    const problems = acceptanceProblems(answer.body, transactionid, devices);
    if (problems.length > 0) {
      this.record(service, check, 'FAIL', problems.join('; '));
      return undefined;
    }
    const items = (answer.body?.data ?? []) as Array<Record<string, string>>;
    const accepted = items.filter((i) => i.indv_status === '1').map((i) => i.global_device_id);
    const refused = new Map(
      items.filter((i) => i.indv_status !== '1').map((i) => [i.global_device_id, i.remarks] as const),
    );
    return { service, check, transactionid, accepted, refused, submittedAt: Date.now() };
  }

  /** Polls transaction_status until every accepted device of every submission is finished, then judges each. */
  async settle(submissions: ReadonlyArray<Submission | undefined>): Promise<void> {
    const open = submissions.filter((s): s is Submission => s !== undefined);
    const rows = new Map<Submission, Map<string, Record<string, unknown>>>();
    const problems = new Map<Submission, string[]>();
    for (const submission of open) {
      rows.set(submission, new Map());
      problems.set(submission, []);
    }
    const deadline = Date.now() + this.levelTimeoutMs;
    let pending = open.filter((s) => s.accepted.length > 0);
    while (pending.length > 0) {
      for (const submission of pending) {
        const answer = await this.client
          .call('transaction_status', {}, { transactionid: submission.transactionid })
          .catch((error: Error) => ({ httpStatus: 0, body: undefined, text: error.message }));
        if (answer.httpStatus !== 200 || !Array.isArray(answer.body?.data)) {
          problems.get(submission)!.push(`transaction_status answered ${describeAnswer(answer)}`);
          continue;
        }
        for (const row of answer.body.data as Array<Record<string, unknown>>) {
          if (typeof row?.global_device_id === 'string') rows.get(submission)!.set(row.global_device_id, row);
        }
      }
      pending = pending.filter((submission) =>
        submission.accepted.some((device) => {
          const row = rows.get(submission)!.get(device);
          return !row || !FINISHED(row);
        }),
      );
      if (pending.length === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    for (const submission of open) this.judge(submission, rows.get(submission)!, problems.get(submission)!);
  }

  private judge(
    submission: Submission,
    rows: Map<string, Record<string, unknown>>,
    transport: string[],
  ): void {
    const { service, check } = submission;
    if (submission.accepted.length === 0) {
      const remarks = [...new Set(submission.refused.values())].join(' | ');
      this.record(service, check, 'N/A', `refused on every device, with remarks: ${remarks}`);
      return;
    }
    const problems = [...new Set(transport)].slice(0, 1);
    const keys = statusKeys(this.generation);
    for (const device of submission.accepted) {
      const row = rows.get(device);
      if (!row) {
        problems.push(`transaction_status has no row for ${device}`);
        continue;
      }
      problems.push(...itemProblems(row, keys, `status row of ${device}`, ['response_data']));
      if (!FINISHED(row)) {
        problems.push(
          `${device} still at level ${String(row.status_level)} after ${Math.round(this.levelTimeoutMs / 1000)} s`,
        );
      } else if (row.indv_status === '2') {
        problems.push(
          `${device} failed at level ${String(row.status_level)}: ${JSON.stringify(row.response_data)}`,
        );
      } else if (row.request_cancelled === '1') {
        problems.push(`${device} was cancelled by the MDC: ${String(row.request_cancel_reason)}`);
      } else {
        if (row.indv_status !== '1')
          problems.push(`${device} at level 5 with indv_status ${String(row.indv_status)}`);
        problems.push(...stageTimeProblems(row, device));
        if (submission.rowCheck) problems.push(...submission.rowCheck(row, device));
      }
    }
    const seconds = Math.round((Date.now() - submission.submittedAt) / 1000);
    const refusedNote =
      submission.refused.size > 0
        ? `; refused with a remark: ${[...submission.refused.keys()].join(', ')}`
        : '';
    const empty =
      submission.carriesNoData &&
      submission.accepted.every((device) => {
        const row = rows.get(device);
        return row !== undefined && submission.carriesNoData!(row);
      });
    if (problems.length > 0) this.record(service, check, 'FAIL', problems.join('; '));
    else if (empty)
      this.record(
        service,
        check,
        'N/A',
        'level 5, but the meter holds no data in the range: keys not checked',
      );
    else
      this.record(
        service,
        check,
        'PASS',
        `level 5 with monotone stage times on ${submission.accepted.join(', ')} (${seconds} s)${refusedNote}`,
      );
  }

  /** The checks of one item list of on-demand data: every key of the record, every value a string. */
  dataProblems(type: DataType, data: unknown, what: string): { problems: string[]; count: number } {
    if (!Array.isArray(data)) return { problems: [`${what} is not an array`], count: 0 };
    const keys = recordKeys(type, this.generation);
    const problems = data.flatMap((item, index) => itemProblems(item, keys, `${what}[${index}]`));
    return { problems: [...new Set(problems)].slice(0, 5), count: data.length };
  }
}
