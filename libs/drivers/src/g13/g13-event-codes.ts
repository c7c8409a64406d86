/**
 * G13 meter log ids (manual 6.3.51) → UDIL event codes (UDIL 2019 §3.5.2: 101–121).
 *
 * | G13 log id | G13 name                      | UDIL code                                      |
 * |------------|-------------------------------|------------------------------------------------|
 * | 2055       | POWERFAIL_INFO                | 111 Power fail start; 112 Power fail end at datetime + duration (when duration > 0) |
 * | 1000–1002  | U1/U2/U3_MISSING_WARNING      | 113 Phase failure                              |
 * | 1003       | PHASE_CONN_NEUTRAL_WARNING    | 118 Reverse polarity (phase wired to neutral)  |
 * | 1004–1007  | NEG_POW_ELEMENT_1..3 / NEG_TOT_POW_WARNING | 117 Reverse energy                |
 * | 2013–2037  | ALARMn_ACTIVE_INFO            | by the alarm's configured quantity (alarms/configuration): active power (93–96) → 116 Demand over load; voltage (69, 72, 75, 78–80) rising alarm → 114 Over voltage, falling alarm → 115 Under voltage; other quantities unmapped |
 * | all others (40–53 errors, 1008–1011, 2054) | —                | unmapped: kept with the G13 log id as event_code and the manual's description |
 *
 * UDIL 101 (MDI reset), 102 (Parameterization) and 121 (CT bypass) have no G13 log entry.
 */

export interface G13LogDefinition {
  name: string;
  description: string;
}

/** The manual's log-id table (6.3.51). */
export const G13_LOG_IDS: Readonly<Record<number, G13LogDefinition>> = {
  40: { name: 'AUDIT_LOG_ERROR', description: 'Audit log error' },
  41: { name: 'PROGRAM_CRC_ERROR', description: 'Program CRC error' },
  42: { name: 'PERSISTENT_STORAGE_ERROR', description: 'Persistent memory storage error' },
  43: { name: 'ABB_SPECIFIC_STR_1_ERROR', description: 'ABB specific STR 1 error' },
  44: { name: 'ABB_SPECIFIC_STR_2_ERROR', description: 'ABB specific STR 2 error' },
  45: { name: 'ABB_SPECIFIC_STR_3_ERROR', description: 'ABB specific STR 3 error' },
  46: { name: 'ABB_SPECIFIC_STR_4_ERROR', description: 'ABB specific STR 4 error' },
  47: { name: 'ABB_SPECIFIC_STR_5_ERROR', description: 'ABB specific STR 5 error' },
  48: { name: 'ABB_SPECIFIC_STR_6_ERROR', description: 'ABB specific STR 6 error' },
  49: { name: 'ABB_SPECIFIC_STR_7_ERROR', description: 'ABB specific STR 7 error' },
  50: { name: 'ABB_SPECIFIC_STR_8_ERROR', description: 'ABB specific STR 8 error' },
  51: { name: 'ACREF_ERROR', description: 'ACREF Error' },
  52: { name: 'TEMP_SENSOR_ERROR', description: 'Temperature sensor error' },
  53: { name: 'RTC_CIRCUIT_ERROR', description: 'Real Time Clock circuit error' },
  1000: { name: 'U1_MISSING_WARNING', description: 'Phase 1 is missing warning' },
  1001: { name: 'U2_MISSING_WARNING', description: 'Phase 2 is missing warning' },
  1002: { name: 'U3_MISSING_WARNING', description: 'Phase 3 is missing warning' },
  1003: { name: 'PHASE_CONN_NEUTRAL_WARNING', description: 'Neutral warning' },
  1004: { name: 'NEG_POW_ELEMENT_1_WARNING', description: 'Negative power of Element 1 warning' },
  1005: { name: 'NEG_POW_ELEMENT_2_WARNING', description: 'Negative power of Element 2 warning' },
  1006: { name: 'NEG_POW_ELEMENT_3_WARNING', description: 'Negative power of Element 3 warning' },
  1007: { name: 'NEG_TOT_POW_WARNING', description: 'Negative total power warning' },
  1008: { name: 'FREQUENCY_WARNING', description: 'Frequency warning' },
  1009: { name: 'EXTERNAL_INPUT_WARNING', description: 'External Input warning' },
  1010: { name: 'DATE_NOT_SET_WARNING', description: 'Date is not set warning' },
  1011: { name: 'TIME_NOT_SET_WARNING', description: 'Time is not set warning' },
  ...Object.fromEntries(
    Array.from({ length: 25 }, (_, i) => [
      2013 + i,
      { name: `ALARM${i + 1}_ACTIVE_INFO`, description: `Alarm ${i + 1} Active information` },
    ]),
  ),
  2054: { name: 'PULSES_MERGED_INFO', description: 'Pulses Merged information' },
  2055: { name: 'POWERFAIL_INFO', description: 'Powerfail Information' },
};

export const UDIL_EVENT_DESCRIPTIONS: Readonly<Record<number, string>> = {
  101: 'MDI reset',
  102: 'Parameterization',
  111: 'Power fail start',
  112: 'Power fail end',
  113: 'Phase failure',
  114: 'Over voltage',
  115: 'Under voltage',
  116: 'Demand over load',
  117: 'Reverse energy',
  118: 'Reverse polarity',
  121: 'CT bypass',
};

/** Fixed log-id mappings; alarms (2013–2037) depend on the alarm configuration. */
export const G13_TO_UDIL_EVENT: Readonly<Record<number, number>> = {
  2055: 111,
  1000: 113,
  1001: 113,
  1002: 113,
  1003: 118,
  1004: 117,
  1005: 117,
  1006: 117,
  1007: 117,
};

const ACTIVE_POWER_QUANTITIES = new Set([93, 94, 95, 96]);
const VOLTAGE_QUANTITIES = new Set([69, 72, 75, 78, 79, 80]);

/** An alarm as GET /alarms/configuration reports it (inactive alarms carry only the id). */
export interface G13AlarmDefinition {
  id: number;
  quantity?: number;
  onthreshold?: number;
  offthreshold?: number;
}

/** UDIL code for an ALARMn_ACTIVE_INFO entry, from what alarm n watches; undefined = unmapped. */
export function udilCodeForAlarm(alarm: G13AlarmDefinition | undefined): number | undefined {
  if (!alarm || alarm.quantity === undefined) return undefined;
  if (ACTIVE_POWER_QUANTITIES.has(alarm.quantity)) return 116;
  if (VOLTAGE_QUANTITIES.has(alarm.quantity)) {
    const rising = (alarm.onthreshold ?? 0) >= (alarm.offthreshold ?? 0);
    return rising ? 114 : 115;
  }
  return undefined;
}

export interface MappedEvent {
  code: number;
  description: string;
  /** The G13 log id, kept when code is a UDIL code. */
  logId: number;
  mapped: boolean;
}

/** Maps one log id; unmapped ids keep the G13 id as code and the manual's description. */
export function mapG13LogId(logId: number, alarms: readonly G13AlarmDefinition[] = []): MappedEvent {
  const definition = G13_LOG_IDS[logId];
  const alarmNumber = logId >= 2013 && logId <= 2037 ? logId - 2012 : undefined;
  const code =
    alarmNumber !== undefined
      ? udilCodeForAlarm(alarms.find((a) => a.id === alarmNumber))
      : G13_TO_UDIL_EVENT[logId];
  const g13Text = definition ? `${definition.name}: ${definition.description}` : `G13 log id ${logId}`;
  if (code === undefined) return { code: logId, description: g13Text, logId, mapped: false };
  return { code, description: `${UDIL_EVENT_DESCRIPTIONS[code]} (G13 ${g13Text})`, logId, mapped: true };
}
