import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobHandler, JobName, JobPayloads, JobQueueRepository, QueueUnavailableError } from '@hes/queue';
import {
  McsCollectionService,
  McsRequestRepository,
  McsRetryableFailure,
  deliveryJobOptions,
  describeError,
  statusDocument,
} from '@hes/mcs';
import { GatewayGate, claimantOf } from '@hes/transactions';

/**
 * Carries out one MCS collection: claims the stored request (a cancelled one is skipped), collects,
 * stores the result with its collection times and queues its delivery to the master application.
 * A meter that cannot be reached is retried by the queue with backoff; the last attempt reports ERROR.
 * The collection enters its gateway like a UDIL command (GatewayGate): a busy gateway or one marked
 * down puts the job back in the queue (no worker slot held meanwhile; the deferral's reason in the
 * request's result_summary), and one still down GATEWAY_DEFER_LIMIT_SECONDS after the request was due
 * ends it with an ERROR result naming the reason.
 */
@Injectable()
export class McsCollectJob {
  private readonly logger = new Logger('Mcs');

  constructor(
    private readonly requests: McsRequestRepository,
    private readonly collector: McsCollectionService,
    private readonly queues: JobQueueRepository,
    private readonly gate: GatewayGate,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @JobHandler(JobName.McsCollect)
  async collect(
    { requestReference }: JobPayloads[JobName.McsCollect],
    job: Job,
    token?: string,
  ): Promise<string> {
    const row = await this.requests.claim(requestReference);
    if (!row) return 'nothing to do (cancelled, finished or unknown)';
    const attempts = job.opts.attempts ?? 1;
    const lastAttempt = job.attemptsMade + 1 >= attempts;
    let summary: string;
    try {
      // Deferral is counted from when the request was due: received, or its delayUntil.
      const due = new Date(Math.max(row.received_at.getTime(), row.delay_until?.getTime() ?? 0));
      const run = await this.collector.collect(row.request, lastAttempt, (gateway) =>
        this.gate.admitOr(
          gateway,
          due,
          (reason) => this.requests.note(requestReference, reason),
          (at) => this.putBack(requestReference, job, token, at),
          claimantOf(job),
        ),
      );
      const end = new Date();
      const document = statusDocument(row.request, run.outcome, {
        start: row.collection_start_time,
        end,
      });
      const expiresAt = new Date(end.getTime() + this.config.MCS_DELIVERY_EXPIRY_SECONDS * 1000);
      if (!(await this.requests.complete(requestReference, document, end, expiresAt)))
        return 'finished elsewhere';
      summary = document.result;
      this.logger.log(
        { requestReference, result: summary, failures: run.failures, exchanges: run.log.length },
        'collection finished',
      );
    } catch (error) {
      // Put back until its gateway has a free lease or is up again (putBack): not an attempt.
      if (error instanceof DelayedError) throw error;
      if (error instanceof QueueUnavailableError) {
        this.logger.warn(
          { requestReference, error: error.message },
          'queue unavailable: request left for a retry',
        );
        throw error;
      }
      if (error instanceof McsRetryableFailure) {
        this.logger.warn(
          { requestReference, attempt: job.attemptsMade + 1, attempts, error: error.message },
          'meter not reached; the collection will be retried',
        );
      } else {
        this.logger.error({ requestReference, error: describeError(error) }, 'collection failed');
      }
      throw error;
    }
    await this.queues
      .add(JobName.McsDeliverResult, { requestReference }, deliveryJobOptions(requestReference, 0, 0))
      .catch((error: Error) =>
        this.logger.warn(
          { requestReference, error: error.message },
          'result stored but its delivery not queued; the reconciler will queue it',
        ),
      );
    return summary;
  }

  /**
   * Puts the collection back in the queue until `at` (its gateway busy, or marked down): not an attempt, for
   * BullMQ (its attempts untouched) nor in the request's row, whose count and start time are taken back first,
   * before another run of it can be taken up.
   */
  private async putBack(
    requestReference: string,
    job: Job,
    token: string | undefined,
    at: number,
  ): Promise<never> {
    await this.requests
      .putBack(requestReference)
      .catch((failure: Error) =>
        this.logger.warn(
          { requestReference, error: failure.message },
          'collection put back; its attempt count and start time could not be taken back',
        ),
      );
    return this.gate.postpone(job, token, at);
  }
}
