import { Client } from 'pg';

/** node-postgres's error for a query that got no answer within query_timeout. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * A node-postgres client that gives its connection up when a query got no answer within query_timeout
 * (DATABASE_QUERY_TIMEOUT_MS). node-postgres fails the query but keeps the connection, with the
 * unanswered query still in front of every later one: a database that silently drops packets would
 * leave the pool full of connections that can only time out. Ending the client closes its socket
 * (pg forces it when a query is active) and the pool does not hand it out again.
 */
export class BoundedClient extends Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's query() has a dozen overloads: its result passes through unchanged
  override query(...args: unknown[]): any {
    const last: unknown = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
        this.giveUpAfter(error);
        (last as (...callbackArgs: unknown[]) => void)(error, ...rest);
      };
    }
    const result: unknown = (super.query as (...queryArgs: unknown[]) => unknown)(...args);
    if (result instanceof Promise) result.catch((error: unknown) => this.giveUpAfter(error));
    return result;
  }

  private giveUpAfter(error: unknown): void {
    if ((error as Error | undefined)?.message === QUERY_READ_TIMEOUT) this.end().catch(() => undefined);
  }
}
