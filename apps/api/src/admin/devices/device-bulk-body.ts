import { BadRequestException } from '@nestjs/common';
import { parseDeviceCsv } from './device-csv';

/** The rows of a bulk registration body: a CSV document (a string), a JSON list, or `{devices: [...]}`. */
export function bulkRows(body: unknown): { input: Record<string, unknown>; line?: number }[] {
  if (typeof body === 'string')
    return parseDeviceCsv(body).map((row) => ({ input: row.fields, line: row.line }));
  const list: unknown =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as { devices?: unknown }).devices : body;
  if (!Array.isArray(list))
    throw new BadRequestException(
      'devices: give a JSON list of devices, {"devices": [...]}, or a CSV document with Content-Type text/csv',
    );
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const other = Object.keys(body).find((key) => key !== 'devices');
    if (other) throw new BadRequestException(`property ${other} should not exist`);
  }
  return list.map((item: unknown, index) => {
    if (!item || typeof item !== 'object' || Array.isArray(item))
      throw new BadRequestException(`devices[${index}]: must be an object with the fields of a device`);
    return { input: item as Record<string, unknown> };
  });
}
