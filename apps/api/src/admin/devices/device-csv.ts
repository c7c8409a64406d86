import { BadRequestException } from '@nestjs/common';
import { parse } from 'csv-parse/sync';
import { IDENTITY_FIELDS, REGISTRY_FIELDS, RegistryField } from './device-registration.dto';

/** A data row of a device CSV: its line in the file and its cells as the fields of POST /admin/devices. */
export interface DeviceCsvRow {
  line: number;
  fields: Record<string, unknown>;
}

/** The columns a device CSV may have: the fields of POST /admin/devices, by the same names. */
export const DEVICE_CSV_COLUMNS: readonly RegistryField[] = [...IDENTITY_FIELDS, ...REGISTRY_FIELDS];
const REQUIRED = ['globalDeviceId', 'msn', 'gatewayId'];

/** A cell as the field's type: integers and booleans converted when they read as such (else left for validation to name). */
function cellValue(kind: RegistryField['kind'], cell: string): unknown {
  if (kind === 'int' && /^[+-]?\d{1,15}$/.test(cell)) return Number(cell);
  if (kind === 'boolean' && /^(?:true|yes|1)$/i.test(cell)) return true;
  if (kind === 'boolean' && /^(?:false|no|0)$/i.test(cell)) return false;
  return cell;
}

/**
 * Parses a device CSV (RFC 4180, by csv-parse): a header line naming the columns, then one device per
 * line. Cells are trimmed; an empty cell leaves the field out. A malformed document, an unknown or
 * repeated column, or a missing required one is a 400 naming the line and column.
 */
export function parseDeviceCsv(text: string): DeviceCsvRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
    }) as unknown as typeof records;
  } catch (error) {
    throw new BadRequestException(`csv: ${(error as Error).message}`);
  }
  if (records.length === 0)
    throw new BadRequestException('csv: the document is empty; the first line names the columns');
  const [header, ...rows] = records;
  const byName = new Map(DEVICE_CSV_COLUMNS.map((column) => [column.field, column]));
  const columns = header.record.map((name, index) => {
    const column = byName.get(name);
    if (!column)
      throw new BadRequestException(
        `csv: line ${header.info.lines}, column ${index + 1} "${name}" is not a device field; the columns are ${DEVICE_CSV_COLUMNS.map((c) => c.field).join(', ')}`,
      );
    if (header.record.indexOf(name) !== index)
      throw new BadRequestException(`csv: line ${header.info.lines}, column "${name}" is named twice`);
    return column;
  });
  const missing = REQUIRED.filter((name) => !header.record.includes(name));
  if (missing.length > 0)
    throw new BadRequestException(
      `csv: the header (line ${header.info.lines}) must name the column(s) ${missing.join(', ')}`,
    );
  return rows.map(({ record, info }) => ({
    line: info.lines,
    fields: Object.fromEntries(
      record.flatMap((cell, index) =>
        cell === '' ? [] : [[columns[index].field, cellValue(columns[index].kind, cell)]],
      ),
    ),
  }));
}
