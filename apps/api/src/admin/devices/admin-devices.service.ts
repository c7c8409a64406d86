import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, FindOptionsWhere, Like, Repository } from 'typeorm';
import { Device, newestFirst } from '@hes/database';
import { Paged, paged } from '../common/page-query.dto';
import {
  DeviceActivationDto,
  DeviceCommunicationDto,
  DeviceDetailDto,
  DeviceDto,
  DeviceListQueryDto,
  DeviceTransactionDto,
} from './device.dto';
import { REGISTRY_FIELDS } from './device-registration.dto';

const RECENT_TRANSACTIONS = 20;
const RECENT_COMMUNICATIONS = 10;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function withoutNulls(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null));
}

@Injectable()
export class AdminDevicesService {
  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async list(query: DeviceListQueryDto): Promise<Paged<DeviceDto>> {
    const where: FindOptionsWhere<Device> = {};
    if (query.gatewayId !== undefined) where.gatewayId = query.gatewayId;
    if (query.driver !== undefined) where.driver = query.driver;
    if (query.activationStatus !== undefined) where.activationStatus = query.activationStatus;
    if (query.msn !== undefined) where.msn = query.msn;
    if (query.search !== undefined) where.globalDeviceId = Like(`${escapeLike(query.search)}%`);
    const [rows, total] = await this.devices.findAndCount({
      where,
      order: { globalDeviceId: 'ASC' },
      skip: query.offset,
      take: query.pageSize,
    });
    return paged(
      query,
      rows.map((row) => this.view(row)),
      total,
    );
  }

  /** The device with its gateway, its meter_visuals row and its latest transactions and communications. */
  async detail(globalDeviceId: string): Promise<DeviceDetailDto> {
    const device = await this.devices.findOne({ where: { globalDeviceId }, relations: { gateway: true } });
    if (!device) throw new NotFoundException(`globalDeviceId: no device ${globalDeviceId}`);
    const [[visuals], recentTransactions, recentCommunications] = await Promise.all([
      this.dataSource.query<Record<string, unknown>[]>(
        `SELECT * FROM udil.meter_visuals WHERE global_device_id = $1`,
        [globalDeviceId],
      ),
      // Both tables are partitioned by month: the latest months are read first (newestFirst).
      newestFirst(
        (since) =>
          this.dataSource.query<DeviceTransactionDto[]>(
            `SELECT transactionid, type, type_parameters, command_receiving_datetime, status_level, indv_status,
                    request_cancelled, response_data
               FROM udil.transaction_status WHERE global_device_id = $1${since ? ' AND command_receiving_datetime >= $3' : ''}
              ORDER BY command_receiving_datetime DESC, transactionid DESC LIMIT $2`,
            since ? [globalDeviceId, RECENT_TRANSACTIONS, since] : [globalDeviceId, RECENT_TRANSACTIONS],
          ),
        (rows) => rows.length >= RECENT_TRANSACTIONS,
      ),
      newestFirst(
        (since) =>
          this.dataSource.query<DeviceCommunicationDto[]>(
            `SELECT mdc_read_datetime, communication_status, message_log, connection_duration
               FROM udil.device_communication_history WHERE global_device_id = $1${since ? ' AND mdc_read_datetime >= $3' : ''}
              ORDER BY mdc_read_datetime DESC, id DESC LIMIT $2`,
            since ? [globalDeviceId, RECENT_COMMUNICATIONS, since] : [globalDeviceId, RECENT_COMMUNICATIONS],
          ),
        (rows) => rows.length >= RECENT_COMMUNICATIONS,
      ),
    ]);
    const gateway = device.gateway;
    return {
      ...this.view(device),
      gateway: gateway
        ? { id: gateway.id, name: gateway.name, driver: gateway.driver, enabled: gateway.enabled }
        : null,
      visuals: visuals ? withoutNulls(visuals) : null,
      recentTransactions,
      recentCommunications,
    };
  }

  /**
   * Activates (1) or deactivates (0) a device in the registry, as UDIL meter_status_update does: an
   * inactive device is refused reads and commands. meter_visuals shows the new status to MDM systems.
   */
  async setActivation(globalDeviceId: string, status: 0 | 1): Promise<DeviceActivationDto> {
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(Device, { globalDeviceId }, { activationStatus: status });
      if (!result.affected) throw new NotFoundException(`globalDeviceId: no device ${globalDeviceId}`);
      await manager.query(
        `UPDATE udil.meter_visuals SET meter_activation_status = $2, mtst_datetime = now(),
                mtst_meter_activation_status = $3
          WHERE global_device_id = $1`,
        [globalDeviceId, status, String(status)],
      );
    });
    return {
      globalDeviceId,
      activationStatus: status,
      message:
        status === 1
          ? `${globalDeviceId} activated: it is read and commanded`
          : `${globalDeviceId} deactivated: it is neither read nor commanded`,
    };
  }

  private view(device: Device): DeviceDto {
    return {
      globalDeviceId: device.globalDeviceId,
      msn: device.msn,
      driver: device.driver,
      gatewayId: device.gatewayId,
      serialOnGateway: device.serialOnGateway,
      ...Object.fromEntries(
        REGISTRY_FIELDS.map(({ field }) => [field, (device as unknown as Record<string, unknown>)[field]]),
      ),
      activationStatus: device.activationStatus,
      createdAt: device.createdAt,
      updatedAt: device.updatedAt,
    };
  }
}
