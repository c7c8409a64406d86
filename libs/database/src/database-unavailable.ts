/** SQLSTATEs of a server that is not there (yet): class 08, shutting down, starting up, crashed. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-4])$/;
/** Socket errors of a database that cannot be reached. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * node-postgres's own words for a connection that is gone or could not be made, and for a query that got
 * no answer within DATABASE_QUERY_TIMEOUT_MS (its connection is then closed: see BoundedClient).
 */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated due to connection timeout|Query read timeout|Client was closed and is not queryable)/;

/**
 * Errors of what the head-end talks to other than its database, whatever socket error they carry as their
 * cause: a device driver's (a gateway that refuses or resets connections is the device's fault, failed or
 * retried as such, never "the database is away").
 */
const NOT_THE_DATABASE = new Set(['DriverError', 'MpcbUnreachableError']);

/**
 * Whether an error means that PostgreSQL cannot be reached (stopped, restarting, network down), as
 * opposed to a query it refused. Looks through TypeORM's driverError, causes and AggregateErrors, but not
 * into a device driver's error.
 */
export function isDatabaseUnavailable(exception: unknown, depth = 0): boolean {
  if (depth > 5 || exception === null || typeof exception !== 'object') return false;
  if (NOT_THE_DATABASE.has((exception as { name?: unknown }).name as string)) return false;
  const error = exception as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (
    typeof error.code === 'string' &&
    (UNAVAILABLE_SQLSTATE.test(error.code) || UNREACHABLE_CODES.has(error.code))
  )
    return true;
  if (typeof error.message === 'string' && UNAVAILABLE_MESSAGE.test(error.message)) return true;
  const inner: unknown[] = [
    error.driverError,
    error.cause,
    ...(Array.isArray(error.errors) ? (error.errors as unknown[]) : []),
  ];
  return inner.some((cause) => isDatabaseUnavailable(cause, depth + 1));
}
