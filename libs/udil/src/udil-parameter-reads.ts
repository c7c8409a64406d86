import { parseDeviceIds, RawFields, toText } from './udil-parameters';
import { UdilRequestError } from './udil-error';
import { ApmsType } from './udil-vocabulary';

/**
 * Parameter reads of UDIL 3.2 §3.4.2 (`on_demand_parameter_read`) and 3.3 (PMAL): each type answers
 * with its METER_VISUALS columns (§3.1.6; the 3.3 notes list them per type).
 */
export enum ParameterType {
  AuxRelay = 'AUXR',
  DeviceTime = 'DVTM',
  SanctionedLoad = 'SANC',
  LoadShedding = 'LSCH',
  TimeOfUse = 'TIOU',
  IpPort = 'IPPO',
  DataSampling = 'MDSM',
  OpticalPort = 'OPPO',
  WakeUpSim = 'WSIM',
  SimId = 'MSIM',
  MeterStatus = 'MTST',
  DeviceMetadata = 'DMDT',
  MdiReset = 'MDI',
  OverVoltage = ApmsType.OverVoltage,
  UnderVoltage = ApmsType.UnderVoltage,
  OverCurrent = ApmsType.OverCurrent,
  OverLoad = ApmsType.OverLoad,
  VoltageUnbalance = ApmsType.VoltageUnbalance,
  PhaseFailure = ApmsType.PhaseFailure,
  CurrentUnbalance = ApmsType.CurrentUnbalance,
  HighApparentPower = ApmsType.HighApparentPower,
  MajorAlarms = 'PMAL',
}

/** The APMS type a parameter type reads (OVFC…HAPF are both), or undefined. */
export function apmsTypeOf(type: ParameterType): ApmsType | undefined {
  return Object.values(ApmsType).find((apms) => (apms as string) === (type as string));
}

/** The five threshold fields of an APMS function, after `<type>_` in METER_VISUALS. */
export const APMS_THRESHOLD_FIELDS = [
  'critical_event_threshold_limit',
  'critical_event_log_time',
  'tripping_event_threshold_limit',
  'tripping_event_log_time',
  'enable_tripping',
] as const;

const apmsColumns = (type: ApmsType): string[] => {
  const prefix = type.toLowerCase();
  return [`${prefix}_datetime`, ...APMS_THRESHOLD_FIELDS.map((field) => `${prefix}_${field}`)];
};

/**
 * The METER_VISUALS columns each type answers with, beside global_device_id and msn. PMAL's
 * `major_alarms_list` is the JSON list kept in `pmal_major_alarms_list`, answered as an array.
 */
export const PARAMETER_COLUMNS: Readonly<Record<ParameterType, readonly string[]>> = {
  [ParameterType.AuxRelay]: ['auxr_datetime', 'auxr_status'],
  [ParameterType.DeviceTime]: ['dvtm_datetime', 'dvtm_meter_clock'],
  [ParameterType.SanctionedLoad]: [
    'sanc_datetime',
    'sanc_load_limit',
    'sanc_maximum_retries',
    'sanc_retry_interval',
    'sanc_threshold_duration',
    'sanc_retry_clear_interval',
  ],
  [ParameterType.LoadShedding]: [
    'lsch_datetime',
    'lsch_start_datetime',
    'lsch_end_datetime',
    'lsch_load_shedding_slabs',
  ],
  [ParameterType.TimeOfUse]: [
    'tiou_datetime',
    'tiou_day_profile',
    'tiou_week_profile',
    'tiou_season_profile',
    'tiou_holiday_profile',
    'tiou_activation_datetime',
  ],
  [ParameterType.IpPort]: [
    'ippo_datetime',
    'ippo_primary_ip_address',
    'ippo_secondary_ip_address',
    'ippo_primary_port',
    'ippo_secondary_port',
  ],
  [ParameterType.DataSampling]: [
    'mdsm_datetime',
    'mdsm_activation_datetime',
    'mdsm_data_type',
    'mdsm_sampling_interval',
    'mdsm_sampling_initial_time',
  ],
  [ParameterType.OpticalPort]: [
    'oppo_datetime',
    'oppo_optical_port_on_datetime',
    'oppo_optical_port_off_datetime',
  ],
  [ParameterType.WakeUpSim]: [
    'wsim_datetime',
    'wsim_wakeup_number_1',
    'wsim_wakeup_number_2',
    'wsim_wakeup_number_3',
  ],
  [ParameterType.SimId]: ['msim_id'],
  [ParameterType.MeterStatus]: ['mtst_datetime', 'mtst_meter_activation_status'],
  [ParameterType.DeviceMetadata]: [
    'dmdt_datetime',
    'dmdt_communication_mode',
    'dmdt_bidirectional_device',
    'dmdt_communication_type',
    'dmdt_communication_interval',
    'dmdt_initial_communication_time',
    'dmdt_phase',
    'dmdt_meter_type',
  ],
  [ParameterType.MdiReset]: ['mdi_reset_date', 'mdi_reset_time'],
  [ParameterType.OverVoltage]: apmsColumns(ApmsType.OverVoltage),
  [ParameterType.UnderVoltage]: apmsColumns(ApmsType.UnderVoltage),
  [ParameterType.OverCurrent]: apmsColumns(ApmsType.OverCurrent),
  [ParameterType.OverLoad]: apmsColumns(ApmsType.OverLoad),
  [ParameterType.VoltageUnbalance]: apmsColumns(ApmsType.VoltageUnbalance),
  [ParameterType.PhaseFailure]: apmsColumns(ApmsType.PhaseFailure),
  [ParameterType.CurrentUnbalance]: apmsColumns(ApmsType.CurrentUnbalance),
  [ParameterType.HighApparentPower]: apmsColumns(ApmsType.HighApparentPower),
  [ParameterType.MajorAlarms]: ['major_alarms_list'],
};

/** What each type reads, in the words of §3.4.2 (answer messages, remarks). */
export const PARAMETER_DESCRIPTIONS: Readonly<Record<ParameterType, string>> = {
  [ParameterType.AuxRelay]: 'Auxiliary Relay Status',
  [ParameterType.DeviceTime]: 'Device Time',
  [ParameterType.SanctionedLoad]: 'Programmed Sanctioned Load',
  [ParameterType.LoadShedding]: 'Programmed Load Shedding Schedule',
  [ParameterType.TimeOfUse]: 'Programmed Time of Use',
  [ParameterType.IpPort]: 'Programmed IP & Port',
  [ParameterType.DataSampling]: 'Programmed Meter Data Sampling',
  [ParameterType.OpticalPort]: 'Programmed Optical Port',
  [ParameterType.WakeUpSim]: 'Programmed Wake-up SIM Number',
  [ParameterType.SimId]: 'SIM-ID of SIM inside meter',
  [ParameterType.MeterStatus]: 'Meter Status',
  [ParameterType.DeviceMetadata]: 'Device Meta Data',
  [ParameterType.MdiReset]: 'Programmed MDI Reset Date & Time',
  [ParameterType.OverVoltage]: 'Over Voltage Function',
  [ParameterType.UnderVoltage]: 'Under Voltage Function',
  [ParameterType.OverCurrent]: 'Over Current Function',
  [ParameterType.OverLoad]: 'Over Load Function',
  [ParameterType.VoltageUnbalance]: 'Voltage Unbalance Function',
  [ParameterType.PhaseFailure]: 'Phase Failure Function',
  [ParameterType.CurrentUnbalance]: 'Current Unbalance Function',
  [ParameterType.HighApparentPower]: 'High Apparent Power Function',
  [ParameterType.MajorAlarms]: 'Programmed Major Alarms List',
};

/** True for a TRANSACTION_STATUS type that is a parameter read. */
export function isParameterType(value: string): value is ParameterType {
  return (Object.values(ParameterType) as string[]).includes(value);
}

export interface ParameterReadRequest {
  global_device_id: string[];
  type: ParameterType;
}

/** Devices one parameter read may name: the spec allows one; a few more cost nothing. */
export const MAX_PARAMETER_READ_DEVICES = 10;

/**
 * on_demand_parameter_read (§3.4.2): `type` any case, with stray spaces; `global_device_id` plain or a
 * JSON array (the spec says one id; up to {@link MAX_PARAMETER_READ_DEVICES} are served).
 */
export function parseParameterReadParameters(
  fields: RawFields,
  transactionid?: string,
): ParameterReadRequest {
  const problems: string[] = [];
  let ids: string[] = [];
  try {
    ids = parseDeviceIds(fields.global_device_id, transactionid);
    if (ids.length > MAX_PARAMETER_READ_DEVICES)
      problems.push(`global_device_id: must name at most ${MAX_PARAMETER_READ_DEVICES} devices`);
  } catch (error) {
    if (!(error instanceof UdilRequestError)) throw error;
    problems.push(error.message);
  }
  const text = toText(fields.type);
  const code = typeof text === 'string' ? text.toUpperCase() : undefined;
  const type = code !== undefined && isParameterType(code) ? code : undefined;
  if (typeof text !== 'string' || text === '') problems.push('type: is required');
  else if (!type) problems.push(`type: must be one of ${Object.values(ParameterType).join(', ')}`);
  if (problems.length > 0 || !type) throw new UdilRequestError(400, problems.join('; '), transactionid);
  return { global_device_id: ids, type };
}
