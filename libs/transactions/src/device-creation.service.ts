import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Gateway, GatewayRepository } from '@hes/database';
import {
  DeviceDriver,
  DriverError,
  DriverRegistry,
  OperationContext,
  implementsOperation,
} from '@hes/drivers';
import { gatewayEndpointOf } from './device-directory';
import { CommandOutcome } from './udil-command-runner';

/**
 * device_creation (UDIL §3.4.6) for one device: finds the gateway the meter (`dsn`) is on — first among
 * the meters the gateways already list, then by asking each gateway to register it — registers it there,
 * and records the device with its device_creation attributes in the registry. A global_device_id already
 * registered with another serial is refused; the same request again updates the attributes.
 */
@Injectable()
export class DeviceCreationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateways: GatewayRepository,
    private readonly drivers: DriverRegistry,
  ) {}

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

    let chosen: { gateway: Gateway; driver: DeviceDriver } | undefined;
    // A meter the gateway already lists needs no registration.
    for (const gateway of candidates) {
      const driver = this.drivers.get(gateway.driver);
      if (!driver.discoverMeters) continue;
      const meters = await driver.discoverMeters(
        gatewayEndpointOf(gateway, this.gateways.credentialsOf(gateway), this.gateways.clockZoneOf(gateway)),
        ctx,
      );
      if (meters.some((meter) => meter.serial === dsn)) {
        chosen = { gateway, driver };
        break;
      }
    }
    // Otherwise the gateway that accepts to register it is the one the meter is on.
    const refusals: string[] = [];
    for (const gateway of chosen ? [] : candidates) {
      const driver = this.drivers.get(gateway.driver);
      if (!driver.registerMeter) continue;
      try {
        await driver.registerMeter(
          {
            gateway: gatewayEndpointOf(
              gateway,
              this.gateways.credentialsOf(gateway),
              this.gateways.clockZoneOf(gateway),
            ),
            serial: dsn,
            globalDeviceId,
            msn: dsn,
          },
          ctx,
        );
        chosen = { gateway, driver };
        break;
      } catch (error) {
        // A gateway that cannot reach the serial (COSEM error), refuses it or our credentials is not the
        // meter's gateway; a network fault is retried with the whole command.
        if (!(error instanceof DriverError) || error.kind === 'unreachable' || error.kind === 'timeout')
          throw error;
        refusals.push(`${gateway.name}: ${error.message}`);
      }
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
