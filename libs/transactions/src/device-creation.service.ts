import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { Gateway, GatewayRepository } from '@hes/database';
import {
  DeviceDriver,
  DriverError,
  DriverRegistry,
  GatewayEndpoint,
  OperationContext,
  implementsOperation,
} from '@hes/drivers';
import { gatewayEndpointOf } from './device-directory';
import { CommandOutcome } from './udil-command-runner';
import { GatewayGate, isGatewayUnresponsive } from './gateway-gate';

/**
 * device_creation (UDIL §3.4.6) for one device: finds the gateway the meter (`dsn`) is on — first among
 * the meters the gateways already list, then by asking the gateways to register it; all gateways are asked
 * at once, each with a short timeout, and those marked down are skipped — registers it there,
 * and records the device with its device_creation attributes in the registry. A global_device_id already
 * registered with another serial is refused; the same request again updates the attributes.
 */
@Injectable()
export class DeviceCreationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateways: GatewayRepository,
    private readonly drivers: DriverRegistry,
    private readonly gate: GatewayGate,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Runs one gateway's part with its own deadline: the driver gets a signal that aborts at the
   * deadline (or with the whole operation), and the answer is not awaited past it.
   */
  private async withinTimeout<T>(
    gateway: Gateway,
    ctx: OperationContext,
    work: (bounded: OperationContext) => Promise<T>,
  ): Promise<T> {
    const ms = this.config.DEVICE_CREATION_GATEWAY_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(ms);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new DriverError('timeout', `gateway ${gateway.name} gave no answer within ${ms} ms`, true)),
        ms,
      );
    });
    try {
      return await Promise.race([work({ ...ctx, signal }), expired]);
    } catch (error) {
      // The driver saw the deadline as a cancellation: it is a timeout of this gateway.
      if (deadline.aborted && !ctx.signal?.aborted)
        throw new DriverError(
          'timeout',
          `gateway ${gateway.name} gave no answer within ${ms} ms`,
          true,
          error,
        );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async create(
    globalDeviceId: string,
    dsn: string,
    parameters: Record<string, unknown>,
    ctx: OperationContext,
  ): Promise<CommandOutcome & { msn: string }> {
    const [existing] = await this.dataSource.query<{ msn: string; gateway_id: string | null }[]>(
      `SELECT msn::text AS msn, gateway_id FROM public.devices WHERE global_device_id = $1`,
      [globalDeviceId],
    );
    if (existing && existing.msn !== dsn) {
      throw new DriverError(
        'refused',
        `global_device_id ${globalDeviceId} is already registered with msn ${existing.msn}`,
        false,
      );
    }
    const candidates = (
      await this.dataSource.getRepository(Gateway).find({ where: { enabled: true }, order: { name: 'ASC' } })
    ).filter(
      (gateway) =>
        (!existing?.gateway_id || gateway.id === existing.gateway_id) &&
        this.drivers.names().includes(gateway.driver) &&
        implementsOperation(this.drivers.get(gateway.driver), 'registerMeter'),
    );
    if (candidates.length === 0) {
      throw new DriverError('refused', 'no enabled gateway whose driver can register meters', false);
    }

    // Gateways marked down (they kept timing out) are not asked; the others are asked concurrently, each
    // within DEVICE_CREATION_GATEWAY_TIMEOUT_MS, so one hung gateway costs one timeout, not one per gateway.
    const downUntil = await Promise.all(candidates.map((gateway) => this.gate.downUntil(gateway.id)));
    const skipped = candidates
      .filter((_, i) => downUntil[i])
      .map((gateway) => `${gateway.name}: marked down`);
    const reachable = candidates.filter((_, i) => !downUntil[i]);
    if (reachable.length === 0) {
      throw new DriverError(
        'unreachable',
        `every gateway that can register meters is marked down (${skipped.join('; ')})`,
        true,
      );
    }

    const silent: string[] = [];
    const refusals: string[] = [...skipped];
    const ask = async <T>(
      gateway: Gateway,
      work: (endpoint: GatewayEndpoint, ctx: OperationContext) => Promise<T>,
    ) => {
      const endpoint = gatewayEndpointOf(
        gateway,
        this.gateways.credentialsOf(gateway),
        this.gateways.clockZoneOf(gateway),
      );
      try {
        const value = await this.withinTimeout(gateway, ctx, (bounded) => work(endpoint, bounded));
        await this.gate.observe(endpoint).catch(() => undefined);
        return value;
      } catch (error) {
        await this.gate.observe(endpoint, error).catch(() => undefined);
        // A gateway that cannot reach the serial (COSEM error) or refuses it is not the meter's gateway;
        // one that does not answer might be: the command is retried when no other gateway has the meter.
        if (isGatewayUnresponsive(error)) silent.push(`${gateway.name}: ${(error as Error).message}`);
        else if (error instanceof DriverError) refusals.push(`${gateway.name}: ${error.message}`);
        else throw error;
        return undefined;
      }
    };

    // A meter the gateway already lists needs no registration (the first gateway by name that lists it).
    const listings = await Promise.all(
      reachable.map((gateway) => {
        const driver = this.drivers.get(gateway.driver);
        return driver.discoverMeters
          ? ask(gateway, (endpoint, bounded) => driver.discoverMeters!(endpoint, bounded))
          : Promise.resolve(undefined);
      }),
    );
    let chosen: { gateway: Gateway; driver: DeviceDriver } | undefined;
    const listedAt = listings.findIndex((meters) => meters?.some((meter) => meter.serial === dsn));
    if (listedAt >= 0)
      chosen = { gateway: reachable[listedAt], driver: this.drivers.get(reachable[listedAt].driver) };

    // Otherwise the gateway that accepts to register it is the one the meter is on (asked concurrently,
    // the first by name that accepted is chosen); gateways that did not answer the listing are not asked.
    if (!chosen) {
      const answering = reachable.filter(
        (_, i) => listings[i] !== undefined || !this.drivers.get(reachable[i].driver).discoverMeters,
      );
      const registered = await Promise.all(
        answering.map((gateway) => {
          const driver = this.drivers.get(gateway.driver);
          if (!driver.registerMeter) return Promise.resolve(false);
          return ask(gateway, async (endpoint, bounded) => {
            await driver.registerMeter!(
              { gateway: endpoint, serial: dsn, globalDeviceId, msn: dsn },
              bounded,
            );
            return true;
          }).then((accepted) => accepted === true);
        }),
      );
      const acceptedAt = registered.indexOf(true);
      if (acceptedAt >= 0)
        chosen = { gateway: answering[acceptedAt], driver: this.drivers.get(answering[acceptedAt].driver) };
    }
    if (!chosen && silent.length > 0) {
      throw new DriverError(
        'timeout',
        `meter ${dsn} is on none of the gateways that answered; ${silent.length} did not answer within ${this.config.DEVICE_CREATION_GATEWAY_TIMEOUT_MS} ms (${silent.join('; ')})`,
        true,
      );
    }
    if (!chosen) {
      throw new DriverError(
        'refused',
        `meter ${dsn} is on none of the ${candidates.length} gateway(s) that can register meters (${refusals.join('; ') || 'not listed'})`,
        false,
      );
    }

    const attributes = {
      device_type: Number(parameters.device_type),
      communication_mode: Number(parameters.communication_mode),
      communication_type:
        parameters.communication_type === undefined ? null : Number(parameters.communication_type),
      communication_interval: Number(parameters.communication_interval),
      sim_number: String(parameters.sim_number),
      sim_id: String(parameters.sim_id),
      mdi_reset_date: Number(parameters.mdi_reset_date),
      mdi_reset_time: String(parameters.mdi_reset_time),
      phase: Number(parameters.phase),
      meter_type: Number(parameters.meter_type),
      // UDIL 3.2 only; absent from a 2019 request.
      bidirectional_device:
        parameters.bidirectional_device === undefined ? null : Number(parameters.bidirectional_device) === 1,
      initial_communication_time:
        typeof parameters.initial_communication_time === 'string'
          ? parameters.initial_communication_time
          : null,
    };
    const names = Object.keys(attributes) as (keyof typeof attributes)[];
    await this.dataSource.query(
      `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway, activation_status, ${names.join(', ')})
       VALUES ($1, $2::bigint, $3, $4, $2::text, 1, ${names.map((_, i) => `$${i + 5}`).join(', ')})
       ON CONFLICT (global_device_id) DO UPDATE SET driver = EXCLUDED.driver, gateway_id = EXCLUDED.gateway_id,
         serial_on_gateway = EXCLUDED.serial_on_gateway, ${names.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, updated_at = now()`,
      [globalDeviceId, dsn, chosen.gateway.driver, chosen.gateway.id, ...names.map((n) => attributes[n])],
    );
    await ctx.progress(4, `meter ${dsn} recorded in the head-end registry`);
    const now = new Date();
    return {
      msn: dsn,
      response: `meter ${dsn} ${existing ? 'updated' : 'created'} on gateway ${chosen.gateway.name}`,
      visuals: {
        dmdt_datetime: now,
        dmdt_communication_mode: String(attributes.communication_mode),
        dmdt_communication_type:
          attributes.communication_type === null ? null : String(attributes.communication_type),
        dmdt_communication_interval: String(attributes.communication_interval),
        dmdt_phase: String(attributes.phase),
        dmdt_bidirectional_device:
          attributes.bidirectional_device === null ? null : attributes.bidirectional_device ? '1' : '0',
        dmdt_initial_communication_time: attributes.initial_communication_time,
        dmdt_meter_type: String(attributes.meter_type),
        mdi_reset_date: attributes.mdi_reset_date,
        mdi_reset_time: attributes.mdi_reset_time,
        msim_id: attributes.sim_id,
        meter_activation_status: 1,
        mtst_meter_activation_status: '1',
        mtst_datetime: now,
      },
    };
  }
}
