import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { deleteInBatches, returnedRows } from '@hes/database';
import { McsCollectionRequest } from './mcs-request';
import { McsStatusDocument } from './mcs-result';

export type McsRequestState = 'queued' | 'in_progress' | 'completed' | 'cancelled';
export type McsDeliveryState = 'none' | 'pending' | 'delivered' | 'expired';

/** One row of mcs.collection_requests. */
export interface McsRequestRow {
  request_reference: string;
  client: string;
  request: McsCollectionRequest;
  priority: number;
  delay_until: Date | null;
  state: McsRequestState;
  /** Collection runs tried on the meter (or ended without it); a run put back in the queue is not one. */
  attempts: number;
  result: McsStatusDocument | null;
  result_summary: string | null;
  collection_start_time: Date | null;
  collection_end_time: Date | null;
  cancelled_at: Date | null;
  delivery_state: McsDeliveryState;
  delivery_attempts: number;
  delivery_next_at: Date | null;
  delivery_lease_until: Date | null;
  delivery_expires_at: Date | null;
  delivered_at: Date | null;
  delivery_last_error: string | null;
  received_at: Date;
}

export interface McsLimits {
  maxQueued: number;
  maxQueuedPerClient: number;
}

export type McsInsertOutcome = 'inserted' | 'duplicate' | 'queue-full' | 'client-full';

const ACTIVE = `state IN ('queued', 'in_progress')`;

/** PostgreSQL holds every accepted request and its result; the queue only carries references. */
@Injectable()
export class McsRequestRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores a new request unless its reference is taken or a limit is reached. The limits are checked
   * under a transaction-level advisory lock so that concurrent requests cannot overshoot them.
   */
  async insert(request: McsCollectionRequest, client: string, limits: McsLimits): Promise<McsInsertOutcome> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('mcs.collection_requests'))`);
      const [counts] = await manager.query<{ total: string; mine: string }[]>(
        `SELECT count(*) AS total, count(*) FILTER (WHERE client = $1) AS mine
           FROM mcs.collection_requests WHERE ${ACTIVE}`,
        [client],
      );
      const existing = await manager.query<unknown[]>(
        `SELECT 1 FROM mcs.collection_requests WHERE request_reference = $1`,
        [request.requestReference],
      );
      if (existing.length > 0) return 'duplicate';
      if (Number(counts.total) >= limits.maxQueued) return 'queue-full';
      if (Number(counts.mine) >= limits.maxQueuedPerClient) return 'client-full';
      await manager.query(
        `INSERT INTO mcs.collection_requests (request_reference, client, request, priority, delay_until)
         VALUES ($1, $2, $3, $4, $5)`,
        [request.requestReference, client, JSON.stringify(request), request.priority, request.delayUntil],
      );
      return 'inserted';
    });
  }

  async find(requestReference: string): Promise<McsRequestRow | undefined> {
    const [row] = await this.dataSource.query<McsRequestRow[]>(
      `SELECT * FROM mcs.collection_requests WHERE request_reference = $1`,
      [requestReference],
    );
    return row;
  }

  /** Cancels a request that has not started; undefined when it is not queued (any more). */
  async cancelQueued(requestReference: string, summary: string): Promise<McsRequestRow | undefined> {
    const rows = returnedRows<McsRequestRow>(
      await this.dataSource.query(
        `UPDATE mcs.collection_requests
            SET state = 'cancelled', cancelled_at = now(), result_summary = $2, updated_at = now()
          WHERE request_reference = $1 AND state = 'queued' RETURNING *`,
        [requestReference, summary],
      ),
    );
    return rows[0];
  }

  /** Marks an attempt as started; undefined when the request was cancelled or is finished. */
  async claim(requestReference: string): Promise<McsRequestRow | undefined> {
    const rows = returnedRows<McsRequestRow>(
      await this.dataSource.query(
        `UPDATE mcs.collection_requests
            SET state = 'in_progress', attempts = attempts + 1,
                collection_start_time = COALESCE(collection_start_time, now()), updated_at = now()
          WHERE request_reference = $1 AND ${ACTIVE} RETURNING *`,
        [requestReference],
      ),
    );
    return rows[0];
  }

  /**
   * Takes back what `claim` recorded for a run that is put back in the queue before it reached the meter (its
   * gateway busy or marked down): the attempt (`attempts` counts collections tried, not turns in the queue)
   * and, when it was the first, the start time (MCS: `collectionStartTime` is the start of the first attempt).
   * It is `queued` again: waiting in the queue, it can be cancelled (MCS: "remove the matching request from
   * the queue").
   */
  async putBack(requestReference: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE mcs.collection_requests
          SET state = 'queued', attempts = attempts - 1,
              collection_start_time = CASE WHEN attempts = 1 THEN NULL ELSE collection_start_time END
        WHERE request_reference = $1 AND attempts > 0 AND ${ACTIVE}`,
      [requestReference],
    );
  }

  /** Notes why an unfinished request waits (e.g. its gateway is marked down); the result stays PENDING. */
  async note(requestReference: string, summary: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE mcs.collection_requests SET result_summary = $2, updated_at = now()
        WHERE request_reference = $1 AND ${ACTIVE}`,
      [requestReference, summary.slice(0, 1000)],
    );
  }

  /** Stores the result and opens its delivery to the master application, in one statement. */
  async complete(
    requestReference: string,
    document: McsStatusDocument,
    collectionEnd: Date,
    deliveryExpiresAt: Date,
  ): Promise<boolean> {
    const rows = returnedRows<unknown>(
      await this.dataSource.query(
        `UPDATE mcs.collection_requests
            SET state = 'completed', result = $2, result_summary = $3, collection_end_time = $4,
                delivery_state = 'pending', delivery_attempts = 0, delivery_next_at = now(),
                delivery_expires_at = $5, updated_at = now()
          WHERE request_reference = $1 AND state = 'in_progress' RETURNING 1`,
        [requestReference, JSON.stringify(document), document.result, collectionEnd, deliveryExpiresAt],
      ),
    );
    return rows.length > 0;
  }

  /** Takes the delivery of a result for leaseSeconds (no other worker delivers it meanwhile). */
  async leaseDelivery(requestReference: string, leaseSeconds: number): Promise<McsRequestRow | undefined> {
    const rows = returnedRows<McsRequestRow>(
      await this.dataSource.query(
        `UPDATE mcs.collection_requests
            SET delivery_lease_until = now() + make_interval(secs => $2), updated_at = now()
          WHERE request_reference = $1 AND delivery_state = 'pending'
            AND (delivery_lease_until IS NULL OR delivery_lease_until < now()) RETURNING *`,
        [requestReference, leaseSeconds],
      ),
    );
    return rows[0];
  }

  /** Gives a lease back without counting an attempt. */
  async releaseDelivery(requestReference: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE mcs.collection_requests SET delivery_lease_until = NULL WHERE request_reference = $1`,
      [requestReference],
    );
  }

  async markDelivered(requestReference: string): Promise<boolean> {
    const rows = returnedRows<unknown>(
      await this.dataSource.query(
        `UPDATE mcs.collection_requests
            SET delivery_state = 'delivered', delivered_at = now(), delivery_attempts = delivery_attempts + 1,
                delivery_lease_until = NULL, delivery_last_error = NULL, updated_at = now()
          WHERE request_reference = $1 AND delivery_state = 'pending' RETURNING 1`,
        [requestReference],
      ),
    );
    return rows.length > 0;
  }

  /** Records a failed delivery: another attempt at nextAt, or expired when nextAt is past the expiry. */
  async deliveryFailed(
    requestReference: string,
    error: string,
    nextAt: Date,
  ): Promise<McsRequestRow | undefined> {
    const rows = returnedRows<McsRequestRow>(
      await this.dataSource.query(
        `UPDATE mcs.collection_requests
            SET delivery_attempts = delivery_attempts + 1, delivery_last_error = $2,
                delivery_state = CASE WHEN $3::timestamptz > delivery_expires_at THEN 'expired' ELSE 'pending' END,
                delivery_next_at = $3, delivery_lease_until = NULL, updated_at = now()
          WHERE request_reference = $1 AND delivery_state = 'pending' RETURNING *`,
        [requestReference, error.slice(0, 1000), nextAt],
      ),
    );
    return rows[0];
  }

  /**
   * Removes requests that are over (cancelled, or completed with their result delivered or expired) and
   * unchanged since `before`, `batch` rows per statement: their result documents, and the meter passwords
   * the requests carry, are not kept for ever (MCS_RETENTION_DAYS). Returns how many went.
   */
  async pruneFinished(before: Date, batch = 10_000): Promise<number> {
    return deleteInBatches(
      this.dataSource,
      `DELETE FROM mcs.collection_requests WHERE request_reference IN (
         SELECT request_reference FROM mcs.collection_requests
          WHERE updated_at < $1
            AND (state = 'cancelled' OR (state = 'completed' AND delivery_state IN ('delivered', 'expired')))
          LIMIT $2)
       RETURNING request_reference`,
      [before],
      batch,
    );
  }

  /**
   * Requests not finished although unchanged since `olderThan` (their jobs may have been lost), a page at a
   * time in reference order after `after`: a pass that goes on from where the last one stopped reaches every
   * request, however many wait (for their delayUntil, or their gateway) ahead of one whose job was lost.
   */
  async unfinished(
    olderThan: Date,
    limit: number,
    after = '',
  ): Promise<Pick<McsRequestRow, 'request_reference' | 'request'>[]> {
    return this.dataSource.query(
      `SELECT request_reference, request FROM mcs.collection_requests
        WHERE ${ACTIVE} AND updated_at < $1 AND request_reference > $3
        ORDER BY request_reference LIMIT $2`,
      [olderThan, limit, after],
    );
  }

  /**
   * Results whose next delivery attempt is overdue (its job may have been lost), a page at a time in
   * reference order after `after` (as {@link unfinished}); without the result documents.
   */
  async overdueDeliveries(
    olderThan: Date,
    limit: number,
    after = '',
  ): Promise<Pick<McsRequestRow, 'request_reference' | 'delivery_attempts'>[]> {
    return this.dataSource.query(
      `SELECT request_reference, delivery_attempts FROM mcs.collection_requests
        WHERE delivery_state = 'pending' AND delivery_next_at < $1
          AND (delivery_lease_until IS NULL OR delivery_lease_until < now()) AND request_reference > $3
        ORDER BY request_reference LIMIT $2`,
      [olderThan, limit, after],
    );
  }
}
