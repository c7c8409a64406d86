import { formatUdilDatetime } from './udil-datetime';

/**
 * UDIL data items rendered by PostgreSQL: SQL expressions that produce, for a stored row, the same JSON
 * text as `JSON.stringify(formatUdilRecord(…))` does from node-pg's row (udil-records.ts), so a read can
 * send the database's text without building objects in JavaScript. Only the column types whose text is
 * known to match are rendered; everything else (and every value outside the checked ranges) is left to
 * the JavaScript formatter by the callers.
 */

/** `information_schema.columns.data_type` of each column of a table. */
export type ColumnTypes = ReadonlyMap<string, string>;

/** One member of a data item: its key and the column it comes from (none: always ""). */
export interface UdilJsonMember {
  key: string;
  column?: string;
}

export interface UdilJsonSql {
  /** SQL text: one data item `{"key":"value",…}` (a text expression). */
  item: string;
  /** SQL boolean: true when every value of the row is within what {@link item} renders exactly. */
  exact: string;
}

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * Instants rendered in SQL: from 1970 (zones' local mean times and other pre-1970 offsets with seconds
 * are not rendered the same by ICU and PostgreSQL) to two days before year 10000 in UTC, so that the year
 * has four digits in every zone (offsets stay within ±1 day) without converting each value to the zone to
 * know it: the last two days of year 9999 are left to the JavaScript formatter.
 */
const FIRST_INSTANT = `'1970-01-01T00:00:00Z'::timestamptz`;
const LAST_INSTANT = `'9999-12-30T00:00:00Z'::timestamptz`;

/**
 * SQL text of a `timestamptz` expression as a UDIL datetime in `zone` (an SQL expression): the local time
 * truncated to the second, printed by timestamp's output (`YYYY-MM-DD HH24:MI:SS` under PostgreSQL's ISO
 * DateStyle, which node-pg needs too; postgresFormatsZoneAsUdil checks this very expression), cheaper than
 * to_char's formatting. Only for instants within {@link FIRST_INSTANT} and {@link LAST_INSTANT}.
 */
export function udilDatetimeSql(instant: string, zone: string): string {
  return `date_trunc('second', ${instant} AT TIME ZONE ${zone})::text`;
}

/** Arguments of one call of concat(): PostgreSQL takes at most 100 (FUNC_MAX_ARGS). */
const CONCAT_ARGUMENTS = 100;

/**
 * SQL text expression joining `elements` (text expressions, a NULL one counting as nothing) in order:
 * concat(), nested by groups when there are more than one call takes.
 */
export function concatSql(elements: readonly string[]): string {
  if (elements.length <= CONCAT_ARGUMENTS) return `concat(${elements.join(', ')})`;
  const groups: string[] = [];
  for (let start = 0; start < elements.length; start += CONCAT_ARGUMENTS)
    groups.push(concatSql(elements.slice(start, start + CONCAT_ARGUMENTS)));
  return concatSql(groups);
}

/**
 * The JSON text of `udilText(value)` for a column of `dataType` (node-pg's value of it: numbers and
 * bigint/numeric text as PostgreSQL prints them, datetimes in `zone`, bytea as base64 without line breaks,
 * NULL as ""), as pieces joined by {@link udilJsonItemSql}: `text` SQL literals and `sql` text
 * expressions, a NULL expression counting as nothing (concat leaves NULL arguments out). Undefined
 * when the type is not rendered in SQL. `zone` is an SQL expression (a parameter).
 */
export function udilJsonValueSql(
  column: string,
  dataType: string,
  zone: string,
): { pieces: ({ text: string } | { sql: string })[]; exact?: string } | undefined {
  const c = quoteIdentifier(column);
  const quoted = (sql: string) => [{ text: '"' }, { sql }, { text: '"' }];
  switch (dataType) {
    case 'text':
    case 'character varying':
      // to_json escapes exactly the characters JSON.stringify escapes (", \, control characters).
      return { pieces: [{ sql: `COALESCE(to_json(${c})::text, '""')` }] };
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'numeric':
      return { pieces: quoted(`${c}::text`) };
    case 'bytea':
      return { pieces: quoted(`translate(encode(${c}, 'base64'), E'\\n', '')`) };
    case 'timestamp with time zone':
      return {
        pieces: quoted(udilDatetimeSql(c, zone)),
        exact: `(${c} IS NULL OR (${c} >= ${FIRST_INSTANT} AND ${c} < ${LAST_INSTANT}))`,
      };
    default:
      return undefined;
  }
}

/** A piece of a data item's text: an SQL literal's text, or an SQL text expression (NULL: nothing). */
export type UdilJsonPiece = { text: string } | { sql: string };

/**
 * The SQL of one data item, `{` its members in the order given, then `tail`, `}`; undefined when a member's
 * column has a type {@link udilJsonValueSql} does not render. A member whose column the table does not have
 * is always "". `tail` follows the last member as is (e.g. `,"response_data":…`).
 */
export function udilJsonItemSql(
  members: readonly UdilJsonMember[],
  types: ColumnTypes,
  zone: string,
  tail: readonly UdilJsonPiece[] = [],
): UdilJsonSql | undefined {
  const pieces: UdilJsonPiece[] = [{ text: '{' }];
  const exact: string[] = [];
  for (const [index, member] of members.entries()) {
    pieces.push({ text: `${index === 0 ? '' : ','}${JSON.stringify(member.key)}:` });
    const type = member.column === undefined ? undefined : types.get(member.column);
    if (member.column === undefined || type === undefined) {
      pieces.push({ text: '""' });
      continue;
    }
    const value = udilJsonValueSql(member.column, type, zone);
    if (!value) return undefined;
    pieces.push(...value.pieces);
    if (value.exact) exact.push(value.exact);
  }
  pieces.push(...tail, { text: '}' });
  // Adjacent literals as one; joined once by concat() (a chain of || would copy the growing text at every
  // step; an array joined by array_to_string cost about a fifth more in the transaction_status query).
  const elements: string[] = [];
  let literal = '';
  for (const piece of pieces) {
    if ('text' in piece) {
      literal += piece.text;
      continue;
    }
    if (literal !== '') elements.push(quoteLiteral(literal));
    elements.push(piece.sql);
    literal = '';
  }
  if (literal !== '') elements.push(quoteLiteral(literal));
  return {
    item: concatSql(elements),
    exact: exact.length > 0 ? exact.join(' AND ') : 'true',
  };
}

/**
 * Bytes of items a piece of a rendered array holds (about: a piece closes after the item that passes it).
 * The api receives each piece as a string: V8 places strings over about 128 KB in its large-object space,
 * several times costlier to make and to turn into bytes than a few smaller ones.
 */
export const UDIL_JSON_PIECE_BYTES = 32_768;

/**
 * SQL of the items of `rows` (a query with an `n` column, the item's place from 1, and an `item` column, its
 * JSON text) joined into pieces of about {@link UDIL_JSON_PIECE_BYTES}: one result row per piece, in order,
 * with the piece's items joined by commas as `items`, and `columns`, aggregates of the piece's rows (e.g.
 * `count(*) AS count`). `where` keeps rows out of the pieces (but not out of the window functions of
 * `rows`). No result row when no row is kept.
 */
export function udilJsonPiecesSql(rows: string, columns: string, where = 'true'): string {
  return `SELECT ${columns}, string_agg(item, ',' ORDER BY n) AS items
    FROM (SELECT *, (sum(octet_length(item)) OVER (ORDER BY n) - octet_length(item)) / ${UDIL_JSON_PIECE_BYTES} AS piece
            FROM (${rows}) AS rendered_rows) AS rendered
   WHERE ${where}
   GROUP BY piece ORDER BY piece`;
}

/** Zones whose rendering by PostgreSQL was compared with formatUdilDatetime, and the outcome. */
const zoneChecks = new Map<string, Promise<boolean>>();

/**
 * True when PostgreSQL formats instants in `zone` as formatUdilDatetime does (same zone name, same rules:
 * its time-zone data and Node's ICU data can differ), compared on one instant a week from 1970 to 2060 and
 * every three hours of this year and the next; computed once per zone and process (again after a failed query).
 */
export function postgresFormatsZoneAsUdil(
  zone: string,
  query: (sql: string, parameters: unknown[]) => Promise<{ at: Date; text: string }[]>,
): Promise<boolean> {
  let check = zoneChecks.get(zone);
  if (!check) {
    const year = new Date().getUTCFullYear();
    check = query(
      `SELECT at, ${udilDatetimeSql('at', '$1')} AS text
         FROM (SELECT generate_series('1970-01-01T00:00:00Z'::timestamptz, '2060-12-31T00:00:00Z', interval '7 days')
               UNION ALL
               SELECT generate_series(make_timestamptz($2, 1, 1, 0, 0, 0, 'UTC'), make_timestamptz($2 + 1, 12, 31, 23, 0, 0, 'UTC'),
                                      interval '3 hours')) AS s(at)`,
      [zone, year],
    ).then(
      (rows) => rows.length > 0 && rows.every((row) => formatUdilDatetime(row.at, zone) === row.text),
      (error: { code?: string }) => {
        // 22023: PostgreSQL does not know the zone (a lasting answer); anything else is asked again next time.
        if (error.code !== '22023') zoneChecks.delete(zone);
        return false;
      },
    );
    zoneChecks.set(zone, check);
  }
  return check;
}

/** The columns of `udil.<table>` and their types (information_schema's data_type). */
export async function udilColumnTypes(
  table: string,
  query: (sql: string, parameters: unknown[]) => Promise<{ column_name: string; data_type: string }[]>,
): Promise<ColumnTypes> {
  const rows = await query(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'udil' AND table_name = $1`,
    [table],
  );
  return new Map(rows.map((row) => [row.column_name, row.data_type]));
}
