/**
 * The northbound vocabulary of UDIL: its write commands and on-demand types. It belongs to the protocol
 * (this library), not to the southbound drivers: a driver says which device operations it implements,
 * and the service table (udil-services.ts) says which operation each UDIL service needs.
 */

/**
 * UDIL write commands, by their UDIL 2019 service name (§3.4.1–3.4.11) where 2019 has them, otherwise by
 * their UDIL 3.x name (3.2 §3.3.12–3.3.15, 3.3's update_major_alarms). A 3.x service that renames a
 * 2019 one (update_time_of_use, update_wake_up_sim_number, update_meter_status) is the same command:
 * UDIL_SERVICES names both.
 */
export enum UdilCommand {
  AuxRelayOperations = 'aux_relay_operations',
  TimeSynchronization = 'time_synchronization',
  SanctionedLoadControl = 'sanctioned_load_control',
  LoadSheddingScheduling = 'load_shedding_scheduling',
  TimeOfUseChange = 'time_of_use_change',
  DeviceCreation = 'device_creation',
  UpdateIpPort = 'update_ip_port',
  MeterDataSampling = 'meter_data_sampling',
  ActivateMeterOpticalPort = 'activate_meter_optical_port',
  WakeUpSimNumberUpdate = 'wake_up_sim_number_update',
  MeterStatusUpdate = 'meter_status_update',
  UpdateDeviceMetadata = 'update_device_metadata',
  UpdateMdiResetDate = 'update_mdi_reset_date',
  ApmsTrippingEvents = 'apms_tripping_events',
  ParameterizationCancellation = 'parameterization_cancellation',
  UpdateMajorAlarms = 'update_major_alarms',
}

/** UDIL on-demand types (2019 §3.5.1; 3.2 §3.4.1 drops VISL). */
export enum OnDemandType {
  Instantaneous = 'INST',
  Billing = 'BILL',
  MonthlyBilling = 'MBIL',
  LoadProfile = 'LPRO',
  Events = 'EVNT',
  Visuals = 'VISL',
}

/** APMS tripping functions (3.2 §3.3.14), with the unit of their thresholds. */
export enum ApmsType {
  OverVoltage = 'OVFC',
  UnderVoltage = 'UVFC',
  OverCurrent = 'OCFC',
  OverLoad = 'OLFC',
  VoltageUnbalance = 'VUFC',
  PhaseFailure = 'PFFC',
  CurrentUnbalance = 'CUFC',
  HighApparentPower = 'HAPF',
}

/** What parameterization_cancellation (3.2 §3.3.15) can put back to its default. */
export type CancellationType = 'SANC' | 'LSCH' | 'TIOU' | ApmsType;
export const CANCELLATION_TYPES: readonly CancellationType[] = [
  'SANC',
  'LSCH',
  'TIOU',
  ...Object.values(ApmsType),
];

/** Older APMS codes real MDM clients still send (udil-3.3-notes.md), mapped to 3.2's types. */
export const LEGACY_APMS_CODES: Readonly<Record<string, ApmsType>> = {
  OVVP: ApmsType.OverVoltage,
  UNVP: ApmsType.UnderVoltage,
  POCP: ApmsType.OverCurrent,
  OLPD: ApmsType.OverLoad,
  VUNP: ApmsType.VoltageUnbalance,
  PFPD: ApmsType.PhaseFailure,
  CUNP: ApmsType.CurrentUnbalance,
  HAPP: ApmsType.HighApparentPower,
};
