import {
  BadRequestException,
  ConflictException,
  HttpException,
  HttpStatus,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validate } from 'class-validator';
import { DataSource } from 'typeorm';
import { AdminGatewaysService } from '../gateways/admin-gateways.service';
import { validationMessages } from '../common/admin-validation.pipe';
import {
  BulkRegistrationDto,
  BulkRowDto,
  BulkRowErrorDto,
  CreateDeviceDto,
  DeviceRemovalDto,
  DiscoveredRegistrationDto,
  GLOBAL_DEVICE_ID,
  MSN,
  REGISTRY_FIELDS,
  RegisterDiscoveredDto,
  RegisteredMeterDto,
  SkippedMeterDto,
  UpdateDeviceDto,
} from './device-registration.dto';

/** Most devices one bulk registration takes. */
export const MAX_BULK_DEVICES = 10_000;

interface GatewayRow {
  id: string;
  name: string;
  driver: string;
}

interface DeviceRow {
  global_device_id: string;
  msn: string;
  gateway_id: string | null;
  serial_on_gateway: string | null;
}

/** A row of a bulk registration with where it came from (CSV line) and what is wrong with it. */
interface CandidateRow {
  row: number;
  line?: number;
  input: Record<string, unknown>;
  device?: CreateDeviceDto;
  outcome: BulkRowDto['outcome'];
  errors: BulkRowErrorDto[];
}

/** The status of a refused bulk registration: the worst kind of problem of its rows. */
const REFUSAL: Record<string, HttpStatus> = {
  invalid: HttpStatus.BAD_REQUEST,
  'unknown-gateway': HttpStatus.NOT_FOUND,
  duplicate: HttpStatus.CONFLICT,
};

function flatten(error: ValidationError): BulkRowErrorDto[] {
  return validationMessages(error).map((message) => ({ field: error.property, message }));
}

/** The `row N (line L), column c: message` of a CSV row, or `devices[i].field: message` of a JSON one. */
function describe(row: CandidateRow, error: BulkRowErrorDto): string {
  if (row.line !== undefined)
    return `row ${row.row} (line ${row.line}), column ${error.field}: ${error.message}`;
  return `devices[${row.row - 1}].${error.field}: ${error.message}`;
}

/**
 * Registers, changes, moves and removes devices in `public.devices` from the admin API (docs/admin.md).
 * It records what the gateway already knows; it does not configure the gateway (UDIL device_creation does
 * that). Removing a device keeps its UDIL history (readings, transaction_status, communication history):
 * those tables do not reference the registry.
 */
@Injectable()
export class DeviceRegistryService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateways: AdminGatewaysService,
  ) {}

  /** One device; 404 for an unknown gateway, 409 for a taken globalDeviceId or serial on the gateway. */
  async create(input: CreateDeviceDto): Promise<string> {
    const [row] = await this.check([
      { row: 1, input: { ...input }, device: input, outcome: 'valid', errors: [] },
    ]);
    const [error] = row.errors;
    if (row.outcome === 'unknown-gateway') throw new NotFoundException(`${error.field}: ${error.message}`);
    if (row.outcome === 'duplicate') throw new ConflictException(`${error.field}: ${error.message}`);
    await this.insert([input]);
    return input.globalDeviceId;
  }

  /**
   * A list of devices, all or nothing: every row is checked (fields, gateway, duplicates in the registry
   * and in the list); when one is wrong nothing is registered and the answer (400, 404 or 409, the
   * worst kind of problem) gives each row's outcome, naming the row and field (CSV: row, line, column).
   */
  async bulk(rows: { input: Record<string, unknown>; line?: number }[]): Promise<BulkRegistrationDto> {
    if (rows.length === 0) throw new BadRequestException('devices: the list is empty');
    if (rows.length > MAX_BULK_DEVICES)
      throw new BadRequestException(
        `devices: at most ${MAX_BULK_DEVICES} devices per request, got ${rows.length}`,
      );
    const candidates: CandidateRow[] = await Promise.all(
      rows.map(async ({ input, line }, index) => {
        const device = plainToInstance(CreateDeviceDto, input);
        const errors = (await validate(device, { whitelist: true, forbidNonWhitelisted: true })).flatMap(
          flatten,
        );
        return {
          row: index + 1,
          line,
          input,
          device: errors.length ? undefined : device,
          outcome: errors.length ? 'invalid' : 'valid',
          errors,
        };
      }),
    );
    await this.check(candidates);
    const refused = candidates.filter((row) => row.outcome !== 'valid');
    if (refused.length > 0) {
      const status = Math.min(...refused.map((row) => REFUSAL[row.outcome]));
      const problems = refused.flatMap((row) => row.errors.map((error) => describe(row, error)));
      const shown = problems.slice(0, 20).join('; ');
      throw new HttpException(
        {
          statusCode: status,
          message: `nothing was registered: ${refused.length} of ${rows.length} rows are refused: ${shown}${problems.length > 20 ? `; and ${problems.length - 20} more` : ''}`,
          rows: candidates.map((row) => this.outcomeOf(row)),
        },
        status,
      );
    }
    await this.insert(candidates.map((row) => row.device!));
    for (const row of candidates) row.outcome = 'created';
    return {
      message: `registered ${candidates.length} device${candidates.length === 1 ? '' : 's'}`,
      created: candidates.length,
      rows: candidates.map((row) => this.outcomeOf(row)),
    };
  }

  /**
   * Changes what is given and keeps the rest: null clears an optional registry field; a new gatewayId
   * moves the device (its driver becomes the gateway's), keeping its serial unless one is given.
   */
  async update(globalDeviceId: string, input: UpdateDeviceDto): Promise<void> {
    const device = await this.requireDevice(globalDeviceId);
    const given = Object.entries(input).filter(([, value]) => value !== undefined);
    if (given.length === 0) throw new BadRequestException('body: name at least one field to change');
    const sets: string[] = [];
    const values: unknown[] = [globalDeviceId];
    const set = (column: string, value: unknown, cast = '') => {
      values.push(value);
      sets.push(`${column} = $${values.length}${cast}`);
    };
    if (input.gatewayId !== undefined || input.serial !== undefined) {
      const gatewayId = input.gatewayId ?? device.gateway_id;
      const serial = input.serial ?? device.serial_on_gateway ?? device.msn;
      if (input.gatewayId !== undefined) {
        const gateway = await this.requireGateway(input.gatewayId);
        set('gateway_id', gateway.id);
        set('driver', gateway.driver);
      }
      set('serial_on_gateway', serial);
      if (gatewayId) await this.refuseTakenSerial(gatewayId, serial, globalDeviceId);
    }
    if (input.msn !== undefined) set('msn', input.msn, '::bigint');
    for (const { field, column } of REGISTRY_FIELDS) {
      const value = (input as unknown as Record<string, unknown>)[field];
      if (value !== undefined) set(column, value);
    }
    await this.dataSource.query(
      `UPDATE public.devices SET ${sets.join(', ')}, updated_at = now() WHERE global_device_id = $1`,
      values,
    );
    if (input.activationStatus !== undefined && input.activationStatus !== null)
      await this.dataSource.query(
        `UPDATE udil.meter_visuals SET meter_activation_status = $2, mtst_datetime = now(),
                mtst_meter_activation_status = $3
          WHERE global_device_id = $1`,
        [globalDeviceId, input.activationStatus, String(input.activationStatus)],
      );
  }

  /**
   * Removes a device from the registry (and its poll schedules). Its readings, transaction_status and
   * communication history stay. Refused (409) while a transaction of it is in progress or while it is
   * the source of an MPCB parameter.
   */
  async remove(globalDeviceId: string): Promise<DeviceRemovalDto> {
    const device = await this.requireDevice(globalDeviceId);
    const [{ n: inProgress }] = await this.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM udil.transaction_status
        WHERE global_device_id = $1 AND indv_status = 0 AND request_cancelled = 0 AND status_level < 5`,
      [globalDeviceId],
    );
    if (inProgress > 0)
      throw new ConflictException(
        `globalDeviceId: ${globalDeviceId} has ${inProgress} transaction(s) in progress; wait for them or cancel them (transaction_cancel) first`,
      );
    const serial = device.serial_on_gateway ?? device.msn;
    const sources = await this.dataSource.query<{ site_id: string; parameter_id: string }[]>(
      `SELECT s.site_id, p.parameter_id FROM mpcb.parameters p
         JOIN mpcb.analysers a ON a.id = p.analyser_ref
         JOIN mpcb.monitoring_units u ON u.id = a.monitoring_unit_ref
         JOIN mpcb.sites s ON s.id = u.site_ref
        WHERE p.source_kind = 'meter' AND p.source_gateway_ref = $1 AND p.source_device_serial = $2
        ORDER BY s.site_id, p.parameter_id`,
      [device.gateway_id, serial],
    );
    if (sources.length > 0)
      throw new ConflictException(
        `globalDeviceId: ${globalDeviceId} is the source of MPCB parameter(s) ${sources
          .map((s) => `${s.parameter_id} of site ${s.site_id}`)
          .join(', ')}; give them another source first`,
      );
    await this.dataSource.query(`DELETE FROM public.devices WHERE global_device_id = $1`, [globalDeviceId]);
    return {
      globalDeviceId,
      message: `${globalDeviceId} removed from the registry; its readings, transactions and communication history are kept`,
    };
  }

  /**
   * Asks the gateway for its meters and registers those not registered yet, in one call: the global id
   * is `globalDeviceIdPrefix + serial`, the msn the serial (a serial that is not digits is skipped, with
   * the reason: such a meter needs its msn from the operator), the phase as discovered.
   */
  async registerDiscovered(
    gatewayId: string,
    input: RegisterDiscoveredDto,
  ): Promise<DiscoveredRegistrationDto> {
    const discovery = await this.gateways.discoverMeters(gatewayId);
    const wanted = input.serials ? new Set(input.serials) : undefined;
    const prefix = input.globalDeviceIdPrefix ?? '';
    const alreadyKnown: RegisteredMeterDto[] = [];
    const skipped: SkippedMeterDto[] = [];
    const candidates: { meter: (typeof discovery.meters)[number]; globalDeviceId: string }[] = [];
    for (const meter of discovery.meters) {
      if (wanted && !wanted.has(meter.serial)) continue;
      if (meter.globalDeviceId !== null) {
        alreadyKnown.push({ serial: meter.serial, globalDeviceId: meter.globalDeviceId });
        continue;
      }
      const globalDeviceId = `${prefix}${meter.serial}`;
      if (!MSN.test(meter.serial))
        skipped.push({
          serial: meter.serial,
          reason: `serial ${meter.serial} is not a meter serial number (digits): register it with POST /admin/devices and its msn`,
        });
      else if (!GLOBAL_DEVICE_ID.test(globalDeviceId))
        skipped.push({ serial: meter.serial, reason: `${globalDeviceId} cannot be a globalDeviceId` });
      else candidates.push({ meter, globalDeviceId });
    }
    for (const serial of wanted ?? [])
      if (!discovery.meters.some((meter) => meter.serial === serial))
        skipped.push({ serial, reason: `the gateway does not list a meter ${serial}` });
    const taken = await this.existingDevices(candidates.map((c) => c.globalDeviceId));
    const registered: RegisteredMeterDto[] = [];
    const devices: CreateDeviceDto[] = [];
    for (const { meter, globalDeviceId } of candidates) {
      const other = taken.get(globalDeviceId);
      if (other) {
        skipped.push({
          serial: meter.serial,
          reason: `globalDeviceId ${globalDeviceId} is already registered for serial ${other.serial_on_gateway ?? other.msn} on ${other.gateway_id ? `gateway ${other.gateway_id}` : 'no gateway'}`,
        });
        continue;
      }
      devices.push(
        plainToInstance(CreateDeviceDto, {
          globalDeviceId,
          msn: meter.serial,
          gatewayId,
          serial: meter.serial,
          ...(meter.phases ? { phase: meter.phases } : {}),
        }),
      );
      registered.push({ serial: meter.serial, globalDeviceId, msn: meter.serial });
    }
    if (devices.length > 0) await this.insert(devices);
    return {
      id: gatewayId,
      message: `the gateway lists ${discovery.meters.length} meters: ${registered.length} registered now, ${alreadyKnown.length} already known, ${skipped.length} skipped`,
      registered,
      alreadyKnown,
      skipped,
    };
  }

  /** Marks each valid row whose gateway is unknown, or whose id or serial is taken (in the registry or by an earlier row). */
  private async check(rows: CandidateRow[]): Promise<CandidateRow[]> {
    const valid = rows.filter((row) => row.device);
    const devices = valid.map((row) => row.device!);
    const gatewayIds = [...new Set(devices.map((d) => d.gatewayId))];
    const gateways = new Map(
      (
        await this.dataSource.query<GatewayRow[]>(
          `SELECT id, name, driver FROM public.gateways WHERE id = ANY($1::uuid[])`,
          [gatewayIds],
        )
      ).map((g) => [g.id, g]),
    );
    const takenIds = await this.existingDevices(devices.map((d) => d.globalDeviceId));
    const takenSerials = new Map(
      (
        await this.dataSource.query<(DeviceRow & { serial: string })[]>(
          `SELECT d.global_device_id, d.gateway_id, COALESCE(d.serial_on_gateway, d.msn::text) AS serial
             FROM public.devices d
             JOIN unnest($1::uuid[], $2::text[]) AS k(gateway_id, serial)
               ON d.gateway_id = k.gateway_id AND COALESCE(d.serial_on_gateway, d.msn::text) = k.serial`,
          [devices.map((d) => d.gatewayId), devices.map((d) => d.serial ?? d.msn)],
        )
      ).map((d) => [`${d.gateway_id} ${d.serial}`, d.global_device_id]),
    );
    const seenIds = new Map<string, number>();
    const seenSerials = new Map<string, number>();
    for (const row of valid) {
      const device = row.device!;
      const serial = device.serial ?? device.msn;
      const gateway = gateways.get(device.gatewayId);
      const fail = (outcome: CandidateRow['outcome'], field: string, message: string) => {
        row.outcome = row.outcome === 'valid' ? outcome : row.outcome;
        row.errors.push({ field, message });
      };
      if (!gateway) fail('unknown-gateway', 'gatewayId', `no gateway ${device.gatewayId}`);
      if (takenIds.has(device.globalDeviceId))
        fail('duplicate', 'globalDeviceId', `${device.globalDeviceId} is already registered`);
      const earlierId = seenIds.get(device.globalDeviceId);
      if (earlierId !== undefined)
        fail('duplicate', 'globalDeviceId', `${device.globalDeviceId} is also in row ${earlierId}`);
      const serialKey = `${device.gatewayId} ${serial}`;
      const holder = takenSerials.get(serialKey);
      if (gateway && holder)
        fail(
          'duplicate',
          'serial',
          `gateway ${gateway.name} already has a device with serial ${serial} (${holder})`,
        );
      const earlierSerial = seenSerials.get(serialKey);
      if (earlierSerial !== undefined)
        fail('duplicate', 'serial', `serial ${serial} on the same gateway is also in row ${earlierSerial}`);
      seenIds.set(device.globalDeviceId, earlierId ?? row.row);
      seenSerials.set(serialKey, earlierSerial ?? row.row);
    }
    return rows;
  }

  /** Inserts checked devices in one statement, each with its gateway's driver. */
  private async insert(devices: CreateDeviceDto[]): Promise<void> {
    const columns = REGISTRY_FIELDS.map((f) => f.column);
    const records = devices.map((device) => ({
      global_device_id: device.globalDeviceId,
      msn: device.msn,
      gateway_id: device.gatewayId,
      serial_on_gateway: device.serial ?? device.msn,
      ...Object.fromEntries(
        REGISTRY_FIELDS.map(({ field, column }) => [
          column,
          (device as unknown as Record<string, unknown>)[field] ?? null,
        ]),
      ),
    }));
    await this.dataSource.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway, ${columns.join(', ')})
       SELECT r.global_device_id, r.msn::bigint, g.driver, g.id, r.serial_on_gateway,
              ${REGISTRY_FIELDS.map(({ column }) => (column === 'activation_status' ? `COALESCE(r.${column}, 1)` : `r.${column}`)).join(', ')}
         FROM jsonb_to_recordset($1::jsonb) AS r(global_device_id varchar, msn text, gateway_id uuid,
              serial_on_gateway varchar, ${REGISTRY_FIELDS.map(({ column, sqlType }) => `${column} ${sqlType}`).join(', ')})
         JOIN public.gateways g ON g.id = r.gateway_id`,
      [JSON.stringify(records)],
    );
  }

  private async existingDevices(ids: string[]): Promise<Map<string, DeviceRow>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<DeviceRow[]>(
      `SELECT global_device_id, msn::text AS msn, gateway_id, serial_on_gateway FROM public.devices
        WHERE global_device_id = ANY($1::varchar[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.global_device_id, row]));
  }

  private async refuseTakenSerial(gatewayId: string, serial: string, globalDeviceId: string): Promise<void> {
    const [holder] = await this.dataSource.query<{ global_device_id: string; name: string }[]>(
      `SELECT d.global_device_id, g.name FROM public.devices d JOIN public.gateways g ON g.id = d.gateway_id
        WHERE d.gateway_id = $1 AND COALESCE(d.serial_on_gateway, d.msn::text) = $2 AND d.global_device_id <> $3`,
      [gatewayId, serial, globalDeviceId],
    );
    if (holder)
      throw new ConflictException(
        `serial: gateway ${holder.name} already has a device with serial ${serial} (${holder.global_device_id})`,
      );
  }

  private async requireDevice(globalDeviceId: string): Promise<DeviceRow> {
    const [device] = await this.dataSource.query<DeviceRow[]>(
      `SELECT global_device_id, msn::text AS msn, gateway_id, serial_on_gateway FROM public.devices
        WHERE global_device_id = $1`,
      [globalDeviceId],
    );
    if (!device) throw new NotFoundException(`globalDeviceId: no device ${globalDeviceId}`);
    return device;
  }

  private async requireGateway(id: string): Promise<GatewayRow> {
    const [gateway] = await this.dataSource.query<GatewayRow[]>(
      `SELECT id, name, driver FROM public.gateways WHERE id = $1`,
      [id],
    );
    if (!gateway) throw new NotFoundException(`gatewayId: no gateway ${id}`);
    return gateway;
  }

  private outcomeOf(row: CandidateRow): BulkRowDto {
    const id = row.device?.globalDeviceId ?? row.input.globalDeviceId;
    return {
      row: row.row,
      ...(row.line === undefined ? {} : { line: row.line }),
      globalDeviceId: typeof id === 'string' ? id : null,
      outcome: row.outcome,
      ...(row.errors.length ? { errors: row.errors } : {}),
    };
  }
}
