/**
 * The queue's store (Redis) failed or did not answer within QUEUE_CALL_TIMEOUT_MS: while a request's job was
 * added (what is committed waits for the reconciler), or while a job entered its gateway or was put back
 * (not the device's fault, so the row must not fail for it: the job run ends with this error, a retry; when
 * Redis lost the job altogether, the reconciler queues the unfinished row again, PostgreSQL being the source
 * of truth).
 */
export class QueueUnavailableError extends Error {
  constructor(
    what: string,
    override readonly cause: unknown,
  ) {
    super(`${what}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'QueueUnavailableError';
  }
}
