import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { DriverRegistry } from '@hes/drivers';
import { JobName, JobQueueRepository } from '@hes/queue';
import { McsErrorCode, McsRequestError } from './mcs-error';
import { collectionJobId, collectionJobOptions } from './mcs-jobs';
import { parseCollectionRequest } from './mcs-request';
import { McsRequestRepository, McsRequestRow } from './mcs-request.repository';
import { McsStatusDocument, statusDocument } from './mcs-result';

export const CANCELLED_SUMMARY = 'ERROR: cancelled by the master application';

/**
 * The MCS Request API's use cases: a collection request is validated, committed to PostgreSQL and
 * only then queued (a request the queue loses is re-queued by the reconciler); cancel and status read
 * the stored row.
 */
@Injectable()
export class McsAcceptanceService {
  private readonly logger = new Logger('Mcs');

  constructor(
    private readonly requests: McsRequestRepository,
    private readonly queues: JobQueueRepository,
    private readonly drivers: DriverRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** meterType values: the installed drivers. */
  meterTypes(): string[] {
    return this.drivers.names();
  }

  async accept(body: unknown, client: string): Promise<{ requestReference: string }> {
    const request = parseCollectionRequest(body, this.meterTypes());
    const outcome = await this.requests.insert(request, client, {
      maxQueued: this.config.MCS_MAX_QUEUED,
      maxQueuedPerClient: this.config.MCS_MAX_QUEUED_PER_CLIENT,
    });
    switch (outcome) {
      case 'duplicate':
        throw new McsRequestError(
          McsErrorCode.Duplicate,
          `requestReference ${request.requestReference} has already been used; requestReference must be unique`,
        );
      case 'queue-full':
        throw new McsRequestError(
          McsErrorCode.Throttled,
          `the collection queue is full (${this.config.MCS_MAX_QUEUED} requests waiting); retry later`,
        );
      case 'client-full':
        throw new McsRequestError(
          McsErrorCode.Throttled,
          `this client has ${this.config.MCS_MAX_QUEUED_PER_CLIENT} requests waiting, the configured limit; retry later`,
        );
      case 'inserted':
        break;
    }
    try {
      await this.queues.add(
        JobName.McsCollect,
        { requestReference: request.requestReference },
        collectionJobOptions(this.config, request),
      );
    } catch (error) {
      this.logger.warn(
        { requestReference: request.requestReference, error: (error as Error).message },
        'accepted but not queued; the reconciler will queue it',
      );
    }
    this.logger.log(
      { requestReference: request.requestReference, priority: request.priority, client },
      'collection request accepted',
    );
    return { requestReference: request.requestReference };
  }

  /** Removes a queued request; answers positively for one in progress or processed (MCS spec). */
  async cancel(requestReference: string): Promise<{ requestReference: string }> {
    const row = await this.requests.find(requestReference);
    if (!row)
      throw new McsRequestError(McsErrorCode.NotFound, `requestReference ${requestReference} is not known`);
    const cancelled = await this.requests.cancelQueued(requestReference, CANCELLED_SUMMARY);
    if (cancelled) {
      await this.queues
        .remove(JobName.McsCollect, collectionJobId(requestReference))
        .catch((error: Error) =>
          this.logger.warn(
            { requestReference, error: error.message },
            'cancelled job not removed from the queue',
          ),
        );
    }
    return { requestReference };
  }

  async status(requestReference: string): Promise<McsStatusDocument> {
    const row = await this.requests.find(requestReference);
    if (!row)
      throw new McsRequestError(McsErrorCode.NotFound, `requestReference ${requestReference} is not known`);
    return documentOf(row);
  }
}

/** The status document of a stored request, whatever its state. */
export function documentOf(row: McsRequestRow): McsStatusDocument {
  if (row.state === 'completed' && row.result) return row.result;
  const result = row.state === 'cancelled' ? CANCELLED_SUMMARY : 'PENDING';
  return statusDocument(row.request, { result }, { start: row.collection_start_time, end: null });
}
