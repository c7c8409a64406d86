import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Gateway } from './gateway.entity';

/** A meter (or DCU, or other device) known to the head-end, with its UDIL device_creation attributes. */
@Entity({ name: 'devices', schema: 'public' })
export class Device {
  @PrimaryColumn({ name: 'global_device_id', type: 'varchar', length: 50 })
  globalDeviceId!: string;

  /** Meter serial number (bigint: kept as a string to keep all digits). */
  @Index('devices_msn_idx')
  @Column({ type: 'bigint' })
  msn!: string;

  @Column({ type: 'varchar', length: 32 })
  driver!: string;

  @Column({ name: 'gateway_id', type: 'uuid', nullable: true })
  gatewayId!: string | null;

  @ManyToOne(() => Gateway, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'gateway_id' })
  gateway?: Gateway | null;

  /** The device's serial as the gateway knows it (G13 meter serial, iServer 2 probe). */
  @Column({ name: 'serial_on_gateway', type: 'varchar', length: 64, nullable: true })
  serialOnGateway!: string | null;

  /** 1 meter, 2 DCU, 3 other. */
  @Column({ name: 'device_type', type: 'smallint', nullable: true })
  deviceType!: number | null;

  /** 1 GPRS/3G/4G, 2 RF, 3 PLC, 4 Ethernet, 5 other. */
  @Column({ name: 'communication_mode', type: 'smallint', nullable: true })
  communicationMode!: number | null;

  /** 0 always on, 1 periodic-on, 2 on-demand. */
  @Column({ name: 'communication_type', type: 'smallint', nullable: true })
  communicationType!: number | null;

  @Column({ name: 'communication_interval', type: 'integer', nullable: true })
  communicationInterval!: number | null;

  @Column({ name: 'initial_communication_time', type: 'time', nullable: true })
  initialCommunicationTime!: string | null;

  @Column({ name: 'bidirectional_device', type: 'boolean', nullable: true })
  bidirectionalDevice!: boolean | null;

  @Column({ name: 'sim_number', type: 'varchar', length: 20, nullable: true })
  simNumber!: string | null;

  @Column({ name: 'sim_id', type: 'varchar', length: 32, nullable: true })
  simId!: string | null;

  @Column({ name: 'mdi_reset_date', type: 'smallint', nullable: true })
  mdiResetDate!: number | null;

  @Column({ name: 'mdi_reset_time', type: 'time', nullable: true })
  mdiResetTime!: string | null;

  /** 1 single phase, 3 three phase (UDIL 3.2 adds 2 for other). */
  @Column({ type: 'smallint', nullable: true })
  phase!: number | null;

  /** 1 normal, 2 whole current, 3 CTO, 4 CTPT (UDIL 3.2 adds 5 other). */
  @Column({ name: 'meter_type', type: 'smallint', nullable: true })
  meterType!: number | null;

  @Column({ name: 'primary_ip_address', type: 'varchar', length: 45, nullable: true })
  primaryIpAddress!: string | null;

  @Column({ name: 'secondary_ip_address', type: 'varchar', length: 45, nullable: true })
  secondaryIpAddress!: string | null;

  @Column({ name: 'primary_port', type: 'integer', nullable: true })
  primaryPort!: number | null;

  @Column({ name: 'secondary_port', type: 'integer', nullable: true })
  secondaryPort!: number | null;

  @Column({ name: 'wakeup_number_1', type: 'varchar', length: 20, nullable: true })
  wakeupNumber1!: string | null;

  @Column({ name: 'wakeup_number_2', type: 'varchar', length: 20, nullable: true })
  wakeupNumber2!: string | null;

  @Column({ name: 'wakeup_number_3', type: 'varchar', length: 20, nullable: true })
  wakeupNumber3!: string | null;

  @Column({ name: 'optical_port_on_datetime', type: 'timestamptz', nullable: true })
  opticalPortOnDatetime!: Date | null;

  @Column({ name: 'optical_port_off_datetime', type: 'timestamptz', nullable: true })
  opticalPortOffDatetime!: Date | null;

  /** UDIL meter_activation_status: inactive (0) meters are neither read nor commanded. */
  @Column({ name: 'activation_status', type: 'smallint', default: 1 })
  activationStatus!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
