/**
 * A request path as Express routes it: a route matches its path in any case and with a trailing slash
 * (Express's defaults, kept by Nest), so the filters that choose an API's error envelope by path must
 * compare paths the same way, or a refusal on `/Transaction_Status` or `/aux_relay_operations/` leaves
 * its envelope (a 500 where a 401 or 400 was due).
 */
export function routedPath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return (trimmed === '' ? '/' : trimmed).toLowerCase();
}
