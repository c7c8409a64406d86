import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { JobHandler, JobName, JobPayloads, JobQueueRepository } from '@hes/queue';
import {
  McsRequestRepository,
  McsResultDeliveryService,
  deliveryBackoffMs,
  deliveryJobOptions,
} from '@hes/mcs';

/**
 * POSTs a stored result to the master application's collection-result. The delivery is leased in
 * PostgreSQL so that one worker at a time sends it, and marked delivered once the master application
 * answered 2xx. A failure schedules the next attempt with a doubling delay until the result expires;
 * before a retry, the master application's service-status must answer OK.
 */
@Injectable()
export class McsDeliverResultJob {
  private readonly logger = new Logger('Mcs');

  constructor(
    private readonly requests: McsRequestRepository,
    private readonly delivery: McsResultDeliveryService,
    private readonly queues: JobQueueRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @JobHandler(JobName.McsDeliverResult)
  async deliver({ requestReference }: JobPayloads[JobName.McsDeliverResult]): Promise<string> {
    const leaseSeconds = Math.ceil((this.config.MCS_DELIVERY_TIMEOUT_MS * 2) / 1000) + 5;
    const row = await this.requests.leaseDelivery(requestReference, leaseSeconds);
    if (!row || !row.result) return 'nothing to deliver';
    if (row.delivery_next_at && row.delivery_next_at.getTime() > Date.now() + 1000) {
      // An early duplicate (e.g. re-queued by the reconciler): wait for the scheduled attempt.
      await this.requests.releaseDelivery(requestReference);
      return 'not due yet';
    }
    const responseUrl = row.request.responseUrl;
    const notReady = row.delivery_attempts > 0 ? await this.delivery.notReady(responseUrl) : undefined;
    const failure = notReady ?? (await this.delivery.post(responseUrl, row.result));
    if (!failure) {
      await this.requests.markDelivered(requestReference);
      this.logger.log({ requestReference, attempt: row.delivery_attempts + 1 }, 'result delivered');
      return 'delivered';
    }
    const failures = row.delivery_attempts + 1;
    const delayMs = deliveryBackoffMs(
      failures,
      this.config.MCS_DELIVERY_BACKOFF_MS,
      this.config.MCS_DELIVERY_MAX_BACKOFF_MS,
    );
    const updated = await this.requests.deliveryFailed(
      requestReference,
      failure,
      new Date(Date.now() + delayMs),
    );
    if (!updated || updated.delivery_state !== 'pending') {
      this.logger.warn({ requestReference, failures, error: failure }, 'result delivery expired');
      return `expired: ${failure}`;
    }
    await this.queues.add(
      JobName.McsDeliverResult,
      { requestReference },
      deliveryJobOptions(requestReference, updated.delivery_attempts, delayMs),
    );
    this.logger.warn(
      { requestReference, failures, retryInMs: delayMs, error: failure },
      'result not delivered',
    );
    return `retry in ${delayMs} ms: ${failure}`;
  }
}
