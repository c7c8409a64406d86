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

/**
 * Runs `sql` (a `DELETE … WHERE key IN (SELECT … LIMIT $n) RETURNING …` whose last parameter is the batch
 * size) until a statement removes fewer rows than a batch, so that no statement holds its locks long; answers
 * how many rows went in all.
 */
export async function deleteInBatches(
  dataSource: { query(sql: string, parameters: unknown[]): Promise<unknown> },
  sql: string,
  parameters: unknown[],
  batch: number,
): Promise<number> {
  let removed = 0;
  for (;;) {
    const count = returnedRows(await dataSource.query(sql, [...parameters, batch])).length;
    removed += count;
    if (count < batch) return removed;
  }
}
