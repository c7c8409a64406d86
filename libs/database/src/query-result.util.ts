/**
 * TypeORM's DataSource.query() answers UPDATE and DELETE with `[rows, rowCount]` but SELECT and INSERT
 * with `rows`. This returns the rows in every case, so `… RETURNING` reads the same for all statements.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
