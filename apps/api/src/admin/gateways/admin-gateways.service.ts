import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { Device, Gateway, GatewayChanges, GatewayRepository } from '@hes/database';
import {
  DeviceDriver,
  DriverError,
  DriverRegistry,
  GatewayEndpoint,
  GatewaySettings,
  OperationContext,
  ProgressLevel,
  SensorCalibration,
  UnsupportedOperationError,
  gatewaySettingsProblem,
  operationRefusal,
} from '@hes/drivers';
import { gatewayEndpointOf } from '@hes/transactions';
import { Paged, paged } from '../common/page-query.dto';
import {
  CLEARABLE_GATEWAY_FIELDS,
  CalibrationDto,
  ConnectionTestDto,
  CreateGatewayDto,
  DiscoveryDto,
  GatewayDto,
  GatewayListQueryDto,
  HISTORY_MAX_DAYS,
  MeterResourcesDto,
  SensorCalibrationDto,
  SensorHistoryDto,
  SensorHistoryQueryDto,
  UpdateGatewayDto,
} from './gateway.dto';

/** A PATCH body as validated: a field may be null (refused unless it is one of CLEARABLE_GATEWAY_FIELDS). */
export type GatewayUpdate = { [K in keyof UpdateGatewayDto]?: UpdateGatewayDto[K] | null };

/** A driver operation run from the admin API, with the progress and log lines it reported. */
interface Probe {
  ctx: OperationContext;
  reached(): number;
  log: string[];
}

function probe(gateway: Gateway): Probe {
  let level = 0;
  const log: string[] = [];
  return {
    ctx: {
      progress: (reached: ProgressLevel) => {
        level = Math.max(level, reached);
      },
      log: (line) => log.push(line),
      // Retries inside the driver are bounded by this, whatever the gateway's own timeout.
      signal: AbortSignal.timeout(Math.max(gateway.requestTimeoutMs, 1000) * 3),
    },
    reached: () => level,
    log,
  };
}

@Injectable()
export class AdminGatewaysService {
  constructor(
    private readonly gateways: GatewayRepository,
    @InjectRepository(Gateway) private readonly gatewayRows: Repository<Gateway>,
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly drivers: DriverRegistry,
  ) {}

  async create(input: CreateGatewayDto): Promise<GatewayDto> {
    if (!this.drivers.has(input.driver))
      throw new BadRequestException(
        `driver must be one of ${this.drivers.names().join(', ')} (GET /admin/drivers)`,
      );
    const tlsMode = input.tlsMode ?? 'verify';
    this.checkSettings(input.driver, { ...input, tlsMode });
    if (await this.gateways.findByName(input.name))
      throw new ConflictException(`name: a gateway named ${input.name} already exists`);
    const gateway = await this.gateways.create({ ...input, tlsMode });
    return this.view(gateway, 0);
  }

  /**
   * Changes the given settings of a gateway (PATCH): the result is checked as a whole, as at creation.
   * Once the change (and its audit row) has committed, every API and worker process closes its client of
   * the gateway if it was made with other settings (GatewayChangeListener).
   */
  async update(id: string, input: GatewayUpdate): Promise<GatewayDto> {
    for (const [field, value] of Object.entries(input))
      if (value === null && !(CLEARABLE_GATEWAY_FIELDS as readonly string[]).includes(field))
        throw new BadRequestException(`${field} must not be null`);
    // The validated body is a class instance: a field left out is there as undefined.
    if (Object.values(input).every((value) => value === undefined))
      throw new BadRequestException('body must change at least one field of the gateway');
    const gateway = await this.require(id);
    const credentials = this.gateways.credentialsOf(gateway);
    const merged = {
      endpoint: input.endpoint ?? gateway.endpoint,
      tlsMode: input.tlsMode ?? gateway.tlsMode,
      tlsFingerprintSha256:
        input.tlsFingerprintSha256 === undefined ? gateway.tlsFingerprintSha256 : input.tlsFingerprintSha256,
      username: input.username === undefined ? gateway.username : input.username,
      password: input.password === undefined ? credentials.password : input.password,
      maxInFlight: input.maxInFlight ?? gateway.maxInFlight,
    };
    this.checkSettings(gateway.driver, merged);
    if (input.name !== undefined && input.name !== null && input.name !== gateway.name) {
      const other = await this.gateways.findByName(input.name);
      if (other) throw new ConflictException(`name: a gateway named ${input.name} already exists`);
    }
    const { enabled, ...settings } = input;
    const updated = await this.gateways.update(id, {
      ...(Object.fromEntries(
        Object.entries(settings).filter(([, value]) => value !== undefined),
      ) as GatewayChanges),
      ...(enabled === undefined || enabled === null ? {} : { enabled }),
    });
    if (!updated) throw new NotFoundException(`id: no gateway ${id}`);
    // Once committed, every process (this one included) hears of it: GatewayChangeListener.
    return this.get(id);
  }

  /** The settings a gateway would have, against its driver's schema and the TLS rules: 400 naming the field. */
  private checkSettings(
    driverName: string,
    settings: GatewaySettings & { tlsMode: string; tlsFingerprintSha256?: string | null },
  ): void {
    if (settings.tlsMode === 'pinned' && !settings.tlsFingerprintSha256)
      throw new BadRequestException('tlsFingerprintSha256 is required when tlsMode is pinned');
    if (settings.password && !settings.username)
      throw new BadRequestException('username is required when a password is given');
    const problem = gatewaySettingsProblem(this.drivers.get(driverName), settings);
    if (problem) throw new BadRequestException(problem.message);
  }

  async list(query: GatewayListQueryDto): Promise<Paged<GatewayDto>> {
    const [rows, total] = await this.gatewayRows.findAndCount({
      where: {
        ...(query.driver === undefined ? {} : { driver: query.driver }),
        ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
      },
      order: { name: 'ASC' },
      skip: query.offset,
      take: query.pageSize,
    });
    const counts = await this.deviceCounts(rows.map((row) => row.id));
    return paged(
      query,
      rows.map((row) => this.view(row, counts.get(row.id) ?? 0)),
      total,
    );
  }

  async get(id: string): Promise<GatewayDto> {
    const gateway = await this.require(id);
    return this.view(gateway, (await this.deviceCounts([id])).get(id) ?? 0);
  }

  async setEnabled(id: string, enabled: boolean): Promise<GatewayDto> {
    const gateway = await this.require(id);
    await this.gateways.update(gateway.id, { enabled });
    return this.get(gateway.id);
  }

  /**
   * Logs in and lists the gateway's meters (G13), or reads its diagnostics (iServer 2): a failure is an
   * answer (`ok: false` with the kind of failure), not an error of the request.
   */
  async testConnection(id: string): Promise<ConnectionTestDto> {
    const gateway = await this.require(id);
    const driver = this.driverOf(gateway);
    const run = probe(gateway);
    const endpoint = this.endpointOf(gateway);
    try {
      let message: string;
      if (driver.discoverMeters) {
        const meters = await driver.discoverMeters(endpoint, run.ctx);
        message = `connected and authenticated; the gateway lists ${meters.length} meters`;
      } else if (driver.readDiagnostics) {
        await driver.readDiagnostics(endpoint, run.ctx);
        message = 'connected and authenticated; diagnostics read';
      } else {
        throw new UnsupportedOperationError(driver.name, 'connection test');
      }
      return { id, ok: true, reachedLevel: run.reached() || 4, message, log: run.log };
    } catch (error) {
      if (!(error instanceof DriverError)) throw error;
      return {
        id,
        ok: false,
        reachedLevel: run.reached(),
        errorKind: error.kind,
        message: `${gateway.name}: ${error.message}`,
        log: run.log,
      };
    }
  }

  /** The meters a gateway reports (G13 `GET /meters`), each with the device registered for it, if any. */
  async discoverMeters(id: string): Promise<DiscoveryDto> {
    const gateway = await this.require(id);
    const driver = this.driverOf(gateway);
    if (!driver.discoverMeters)
      throw new UnprocessableEntityException(
        new UnsupportedOperationError(driver.name, 'meter discovery').message,
      );
    let meters;
    try {
      meters = await driver.discoverMeters(this.endpointOf(gateway), probe(gateway).ctx);
    } catch (error) {
      if (error instanceof DriverError)
        throw new BadGatewayException(`${gateway.name} (${error.kind}): ${error.message}`);
      throw error;
    }
    const registered = await this.devices.find({
      select: { globalDeviceId: true, serialOnGateway: true, msn: true },
      where: { gatewayId: id },
    });
    const bySerial = new Map(registered.map((d) => [d.serialOnGateway ?? d.msn, d.globalDeviceId]));
    const answer = meters.map((meter) => ({
      serial: meter.serial,
      description: meter.description,
      phases: meter.phases,
      globalDeviceId: bySerial.get(meter.serial) ?? null,
    }));
    const unregistered = answer.filter((m) => m.globalDeviceId === null).length;
    return {
      id,
      message: `the gateway lists ${answer.length} meters, ${unregistered} of them not registered`,
      meters: answer,
    };
  }

  /**
   * Asks one meter which optional resources it has (G13: reactive energy, alarms, demand, load
   * profiles…) and replaces what the catalogue held; reads skip what it lacks from then on.
   */
  async rediscoverMeterResources(id: string, serial: string): Promise<MeterResourcesDto> {
    const gateway = await this.require(id);
    const driver = this.driverOf(gateway);
    if (!driver.discoverResources)
      throw new UnprocessableEntityException(
        new UnsupportedOperationError(driver.name, 'meter resource discovery').message,
      );
    const device = await this.devices.findOne({
      select: { globalDeviceId: true, msn: true },
      // msn is a number: a serial such as ABB_8 can only be the serial on the gateway.
      where: [
        { gatewayId: id, serialOnGateway: serial },
        ...(/^\d{1,18}$/.test(serial) ? [{ gatewayId: id, msn: serial }] : []),
      ],
    });
    let resources: Record<string, boolean>;
    try {
      resources = await driver.discoverResources(
        {
          gateway: this.endpointOf(gateway),
          serial,
          globalDeviceId: device?.globalDeviceId ?? '',
          msn: device?.msn ?? serial,
        },
        probe(gateway).ctx,
      );
    } catch (error) {
      if (error instanceof DriverError && error.kind === 'refused')
        throw new NotFoundException(`serial: ${error.message}`);
      if (error instanceof DriverError)
        throw new BadGatewayException(`${gateway.name} (${error.kind}): ${error.message}`);
      throw error;
    }
    const lacking = Object.keys(resources).filter((name) => !resources[name]);
    return {
      id,
      serial,
      resources,
      message: lacking.length
        ? `meter ${serial} lacks ${lacking.join(', ')}`
        : `meter ${serial} provides every resource the driver reads`,
    };
  }

  /** The gain and offset a sensor channel of an analyser gateway (iServer 2 `adjustInfo`) applies. */
  async readCalibration(id: string, channel: string): Promise<CalibrationDto> {
    const gateway = await this.require(id);
    const driver = this.driverOf(gateway);
    const read = driver.readCalibration?.bind(driver);
    if (!read) throw this.unsupported(driver, 'readCalibration');
    const run = probe(gateway);
    const calibration = await this.onChannel(gateway, () => read(this.endpointOf(gateway), channel, run.ctx));
    return this.calibrationView(id, channel, calibration, run.log);
  }

  /**
   * Writes a channel's gain and offset, then reads them back from the unit: the answer is what the unit
   * holds, not what was asked.
   */
  async writeCalibration(id: string, channel: string, input: SensorCalibrationDto): Promise<CalibrationDto> {
    const gateway = await this.require(id);
    const driver = this.driverOf(gateway);
    const write = driver.writeCalibration?.bind(driver);
    if (!write) throw this.unsupported(driver, 'writeCalibration');
    const read = driver.readCalibration?.bind(driver);
    if (!read) throw this.unsupported(driver, 'readCalibration');
    const run = probe(gateway);
    const endpoint = this.endpointOf(gateway);
    const held = await this.onChannel(gateway, async () => {
      await write(endpoint, { channel, gain: input.gain, offset: input.offset }, run.ctx);
      return read(endpoint, channel, run.ctx);
    });
    return this.calibrationView(id, channel, held, run.log);
  }

  /** The values a sensor channel logged between two date-times, as the unit's extract gives them. */
  async readHistory(id: string, channel: string, query: SensorHistoryQueryDto): Promise<SensorHistoryDto> {
    const from = new Date(query.from);
    const to = new Date(query.to);
    if (to.getTime() < from.getTime()) throw new BadRequestException('to must not be before from');
    if (to.getTime() - from.getTime() > HISTORY_MAX_DAYS * 86_400_000)
      throw new BadRequestException(`to must be at most ${HISTORY_MAX_DAYS} days after from`);
    const gateway = await this.require(id);
    const driver = this.driverOf(gateway);
    const read = driver.readHistory?.bind(driver);
    if (!read) throw this.unsupported(driver, 'readHistory');
    const run = probe(gateway);
    const readings = await this.onChannel(gateway, () =>
      read(this.endpointOf(gateway), [channel], { from, to }, run.ctx),
    );
    const values = readings
      .map((reading) => ({ timestamp: reading.timestamp, value: reading.value }))
      .sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
    return {
      id,
      channel,
      name: readings[0]?.name ?? null,
      unit: readings[0]?.unit ?? null,
      values,
      log: run.log,
    };
  }

  private unsupported(
    driver: DeviceDriver,
    operation: 'readCalibration' | 'writeCalibration' | 'readHistory',
  ): UnprocessableEntityException {
    const refusal =
      operationRefusal(driver, operation) ?? new UnsupportedOperationError(driver.name, operation);
    return new UnprocessableEntityException(refusal.message);
  }

  /**
   * Runs a channel operation: a channel the driver cannot address is the caller's error (400 naming
   * `channel`), a refusal by the unit 422, any other failure of the gateway 502.
   */
  private async onChannel<T>(gateway: Gateway, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof DriverError)) throw error;
      if (error.kind === 'unsupported') throw new BadRequestException(`channel: ${error.message}`);
      if (error.kind === 'refused')
        throw new UnprocessableEntityException(`${gateway.name}: ${error.message}`);
      throw new BadGatewayException(`${gateway.name} (${error.kind}): ${error.message}`);
    }
  }

  private calibrationView(
    id: string,
    channel: string,
    calibration: SensorCalibration,
    log: string[],
  ): CalibrationDto {
    return {
      id,
      channel: calibration.channel || channel,
      gain: calibration.gain,
      offset: calibration.offset,
      log,
    };
  }

  private async require(id: string): Promise<Gateway> {
    const gateway = await this.gateways.findById(id);
    if (!gateway) throw new NotFoundException(`id: no gateway ${id}`);
    return gateway;
  }

  private driverOf(gateway: Gateway): DeviceDriver {
    if (!this.drivers.has(gateway.driver))
      throw new ConflictException(`driver ${gateway.driver} of gateway ${gateway.name} is not installed`);
    return this.drivers.get(gateway.driver);
  }

  private endpointOf(gateway: Gateway): GatewayEndpoint {
    return gatewayEndpointOf(
      gateway,
      this.gateways.credentialsOf(gateway),
      this.gateways.clockZoneOf(gateway),
    );
  }

  private async deviceCounts(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.devices
      .createQueryBuilder('d')
      .select('d.gateway_id', 'gatewayId')
      .addSelect('count(*)::int', 'count')
      .where({ gatewayId: In(ids) })
      .groupBy('d.gateway_id')
      .getRawMany<{ gatewayId: string; count: number }>();
    return new Map(rows.map((row) => [row.gatewayId, row.count]));
  }

  private view(gateway: Gateway, deviceCount: number): GatewayDto {
    return {
      id: gateway.id,
      name: gateway.name,
      driver: gateway.driver,
      endpoint: gateway.endpoint,
      tlsMode: gateway.tlsMode,
      tlsFingerprintSha256: gateway.tlsFingerprintSha256,
      hasCaPem: Boolean(gateway.tlsCaPem),
      username: gateway.username,
      hasPassword: Boolean(gateway.passwordEncrypted),
      maxInFlight: gateway.maxInFlight,
      requestTimeoutMs: gateway.requestTimeoutMs,
      clockTimeZone: this.gateways.clockZoneOf(gateway),
      enabled: gateway.enabled,
      deviceCount,
      createdAt: gateway.createdAt,
      updatedAt: gateway.updatedAt,
    };
  }
}
