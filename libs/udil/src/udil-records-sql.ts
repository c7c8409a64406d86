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
  /** SQL text: the members `"key":"value",…` of one data item, without braces (a text expression). */
  members: string;
  /** SQL boolean: true when every value of the row is within what {@link members} renders exactly. */
  exact: string;
}

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * Instants rendered in SQL: from 1970 (zones' local mean times and other pre-1970 offsets with seconds
 * are not rendered the same by ICU and PostgreSQL) to the last year of four digits in the zone.
 */
const FIRST_INSTANT = `'1970-01-01T00:00:00Z'::timestamptz`;

/**
 * The JSON text of `udilText(value)` for a column of `dataType` (node-pg's value of it: numbers and
 * bigint/numeric text as PostgreSQL prints them, datetimes in `zone`, bytea as base64 without line breaks,
 * NULL as ""), as pieces joined by {@link udilJsonMembersSql}: `text` SQL literals and `sql` text
 * expressions, a NULL expression counting as nothing (array_to_string leaves NULL elements out). Undefined
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
        pieces: quoted(`to_char(${c} AT TIME ZONE ${zone}, 'YYYY-MM-DD HH24:MI:SS')`),
        exact: `(${c} IS NULL OR (${c} >= ${FIRST_INSTANT} AND ${c} AT TIME ZONE ${zone} < '10000-01-01'))`,
      };
    default:
      return undefined;
  }
}

/**
 * The SQL of one data item's members, in the order given; undefined when a member's column has a type
 * {@link udilJsonValueSql} does not render. A member whose column the table does not have is always "".
 */
export function udilJsonMembersSql(
  members: readonly UdilJsonMember[],
  types: ColumnTypes,
  zone: string,
): UdilJsonSql | undefined {
  const elements: string[] = [];
  const exact: string[] = [];
  let literal = '';
  for (const [index, member] of members.entries()) {
    literal += `${index === 0 ? '' : ','}${JSON.stringify(member.key)}:`;
    const type = member.column === undefined ? undefined : types.get(member.column);
    if (member.column === undefined || type === undefined) {
      literal += '""';
      continue;
    }
    const value = udilJsonValueSql(member.column, type, zone);
    if (!value) return undefined;
    for (const piece of value.pieces) {
      if ('text' in piece) {
        literal += piece.text;
        continue;
      }
      if (literal !== '') elements.push(quoteLiteral(literal));
      elements.push(piece.sql);
      literal = '';
    }
    if (value.exact) exact.push(value.exact);
  }
  if (literal !== '' || elements.length === 0) elements.push(quoteLiteral(literal));
  // One array joined once (a chain of || would copy the growing text at every step), NULLs left out.
  return {
    members: `array_to_string(ARRAY[${elements.join(', ')}]::text[], '')`,
    exact: exact.length > 0 ? exact.join(' AND ') : 'true',
  };
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
      `SELECT at, to_char(at AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI:SS') AS text
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
