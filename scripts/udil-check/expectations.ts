import { UDIL_2019_FIELDS, UDIL_3_2_FIELDS } from '../../libs/udil/src/udil-spec-fields';

export type Generation = '2019' | '3';

/** On-demand data types and the UDIL table whose record each item is. */
export const DATA_TABLES = {
  INST: 'instantaneous_data',
  BILL: 'billing_data',
  MBIL: 'monthly_billing_data',
  LPRO: 'load_profile_data',
  EVNT: 'events',
} as const;
export type DataType = keyof typeof DATA_TABLES;

/**
 * The keys every data item of a record must carry. UDIL 3.x: the 3.2 table's fields but the MDC's
 * internal `id` (INST 22, BILL 66, MBIL 73, LPRO 93, EVNT 9). UDIL 2019: the fields both generations
 * define for that table (2019's tables also list transaction columns that no data item carries).
 */
export function recordKeys(type: DataType, generation: Generation): string[] {
  const table = DATA_TABLES[type];
  const fields = UDIL_3_2_FIELDS[table].filter((field) => field !== 'id');
  if (generation === '3') return fields;
  const older = new Set(UDIL_2019_FIELDS[table] ?? []);
  return fields.filter((field) => older.has(field));
}

/** TRANSACTION_STATUS keys: 3.2 §3.4.3's 16; 2019 §3.5.2's list with the response_data its example carries. */
export function statusKeys(generation: Generation): string[] {
  if (generation === '3') return UDIL_3_2_FIELDS.transaction_status;
  return [...UDIL_2019_FIELDS.transaction_status, 'response_data'];
}

const APMS_FIELDS = [
  'critical_event_threshold_limit',
  'critical_event_log_time',
  'tripping_event_threshold_limit',
  'tripping_event_log_time',
  'enable_tripping',
];
export const APMS_TYPES = ['OVFC', 'UVFC', 'OCFC', 'OLFC', 'VUFC', 'PFFC', 'CUFC', 'HAPF'] as const;

/**
 * Kept apart from the head-end's own map (libs/udil/src/udil-parameter-reads.ts) on purpose: the check is
 * a second reading of the spec, so that a slip in the product's table cannot hide from it.
 *
 * The METER_VISUALS columns each on_demand_parameter_read type answers with (3.2 §3.4.2 "according to
 * relevant columns defined in meter visuals", §4.16–4.17; ../shared/specs/udil-3.3-notes.md for PMAL).
 */
export const PARAMETER_KEYS: Record<string, string[]> = {
  AUXR: ['auxr_datetime', 'auxr_status'],
  DVTM: ['dvtm_datetime', 'dvtm_meter_clock'],
  SANC: [
    'sanc_datetime',
    'sanc_load_limit',
    'sanc_maximum_retries',
    'sanc_retry_interval',
    'sanc_threshold_duration',
    'sanc_retry_clear_interval',
  ],
  LSCH: ['lsch_datetime', 'lsch_start_datetime', 'lsch_end_datetime', 'lsch_load_shedding_slabs'],
  TIOU: [
    'tiou_datetime',
    'tiou_day_profile',
    'tiou_week_profile',
    'tiou_season_profile',
    'tiou_holiday_profile',
    'tiou_activation_datetime',
  ],
  IPPO: [
    'ippo_datetime',
    'ippo_primary_ip_address',
    'ippo_secondary_ip_address',
    'ippo_primary_port',
    'ippo_secondary_port',
  ],
  MDSM: [
    'mdsm_datetime',
    'mdsm_activation_datetime',
    'mdsm_data_type',
    'mdsm_sampling_interval',
    'mdsm_sampling_initial_time',
  ],
  OPPO: ['oppo_datetime', 'oppo_optical_port_on_datetime', 'oppo_optical_port_off_datetime'],
  WSIM: ['wsim_datetime', 'wsim_wakeup_number_1', 'wsim_wakeup_number_2', 'wsim_wakeup_number_3'],
  MSIM: ['msim_id'],
  MTST: ['mtst_datetime', 'mtst_meter_activation_status'],
  DMDT: [
    'dmdt_datetime',
    'dmdt_communication_mode',
    'dmdt_bidirectional_device',
    'dmdt_communication_type',
    'dmdt_communication_interval',
    'dmdt_initial_communication_time',
    'dmdt_phase',
    'dmdt_meter_type',
  ],
  MDI: ['mdi_reset_date', 'mdi_reset_time'],
  ...Object.fromEntries(
    APMS_TYPES.map((type) => {
      const prefix = type.toLowerCase();
      return [type, [`${prefix}_datetime`, ...APMS_FIELDS.map((field) => `${prefix}_${field}`)]];
    }),
  ),
  PMAL: ['major_alarms_list'],
};

const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Problems with one item: keys it lacks, and values that are not strings (`except` may be arrays). */
export function itemProblems(
  item: unknown,
  keys: readonly string[],
  what: string,
  except: readonly string[] = [],
): string[] {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return [`${what} is not an object`];
  const record = item as Record<string, unknown>;
  const problems: string[] = [];
  const missing = keys.filter((key) => !(key in record));
  if (missing.length > 0) problems.push(`${what} lacks ${missing.join(', ')}`);
  const notText = Object.entries(record)
    .filter(([key, value]) => !except.includes(key) && typeof value !== 'string')
    .map(([key]) => key);
  if (notText.length > 0) problems.push(`${what}: not a string: ${notText.join(', ')}`);
  return problems;
}

/** A finished TRANSACTION_STATUS row's stage times: present, well-formed, monotone. */
export function stageTimeProblems(row: Record<string, unknown>, what: string): string[] {
  const names = [
    'command_receiving_datetime',
    'status_1_datetime',
    'status_2_datetime',
    'status_3_datetime',
    'status_4_datetime',
    'status_5_datetime',
  ];
  const problems: string[] = [];
  let previous: string | undefined;
  for (const name of names) {
    const value = row[name];
    if (typeof value !== 'string' || !DATETIME.test(value)) {
      problems.push(`${what}: ${name} is ${JSON.stringify(value ?? null)}, not yyyy-MM-dd HH:mm:ss`);
      continue;
    }
    if (previous !== undefined && value < previous)
      problems.push(`${what}: ${name} ${value} is before ${previous}`);
    previous = value;
  }
  return problems;
}

/** The acceptance answer of a command: envelope and one item per device, each with its four keys. */
export function acceptanceProblems(
  body: Record<string, unknown> | undefined,
  transactionid: string,
  devices: readonly string[],
): string[] {
  if (!body) return ['the answer is not a JSON object'];
  const problems: string[] = [];
  for (const key of ['status', 'transactionid', 'data', 'message']) {
    if (!(key in body)) problems.push(`the answer lacks ${key}`);
  }
  if (body.status !== '1' && body.status !== '0')
    problems.push(`status is ${JSON.stringify(body.status)}, not "1" or "0"`);
  if (typeof body.transactionid === 'string' && body.transactionid.trim() !== transactionid) {
    problems.push(`transactionid ${body.transactionid} is not the one sent (${transactionid})`);
  }
  if (!Array.isArray(body.data)) return [...problems, 'data is not an array'];
  const items = body.data as Array<Record<string, unknown>>;
  items.forEach((item, index) =>
    problems.push(
      ...itemProblems(item, ['global_device_id', 'msn', 'indv_status', 'remarks'], `data[${index}]`),
    ),
  );
  for (const device of devices) {
    if (!items.some((item) => item?.global_device_id === device))
      problems.push(`data has no item for ${device}`);
  }
  for (const item of items) {
    if (item?.indv_status === '0' && !(typeof item.remarks === 'string' && item.remarks.trim() !== '')) {
      problems.push(`${String(item.global_device_id)} refused without a remark`);
    }
  }
  return problems;
}
