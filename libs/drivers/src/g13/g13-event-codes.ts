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
  // The rest of the UDIL event table (3.2 §3.1.5) by its event names; then the codes 3.3 added.
  122: 'CT Bypass End',
  131: 'Phase Failure L1 Start',
  132: 'Phase Failure L1 End',
  133: 'Phase Failure L2 Start',
  134: 'Phase Failure L2 End',
  135: 'Phase Failure L3 Start',
  136: 'Phase Failure L3 End',
  137: 'Phase failure Trip',
  138: 'Over Voltage L1 Start',
  139: 'Over Voltage L1 End',
  140: 'Over Voltage L2 Start',
  141: 'Over Voltage L2 End',
  142: 'Over Voltage L3 Start',
  143: 'Over Voltage L3 End',
  144: 'Over Voltage Trip',
  145: 'Under Voltage L1 Start',
  146: 'Under Voltage L1 End',
  147: 'Under Voltage L2 Start',
  148: 'Under Voltage L2 End',
  149: 'Under Voltage L3 Start',
  150: 'Under Voltage L3 End',
  151: 'Under Voltage Trip',
  152: 'Phase Over Current L1 Start',
  153: 'Phase Over Current L1 End',
  154: 'Phase Over Current L2 Start',
  155: 'Phase Over Current L2 End',
  156: 'Phase Over Current L3 Start',
  157: 'Phase Over Current L3 End',
  158: 'Phase Over Current Trip',
  159: 'Demand Overload End',
  160: 'Overload Start',
  161: 'Overload End',
  162: 'Over Load Trip',
  163: 'Voltage Unbalance Start',
  164: 'Voltage Unbalance End',
  165: 'Current Unbalance Start',
  166: 'Current Unbalance End',
  167: 'High Apparent Power Start',
  168: 'High Apparent Power End',
  169: 'Remote Switch ON',
  170: 'Remote Switch OFF',
  171: 'Automatic Switch ON',
  172: 'Automatic Switch OFF',
  173: 'Manual Switch ON',
  174: 'Manual Switch OFF',
  175: 'Residual Current Alarm Start',
  176: 'Residual Current Alarm End',
  177: 'Residual Current Trip',
  179: 'Short Circuit Trip',
  180: 'MCCB Trip',
  187: 'Reverse Energy L1 Start',
  188: 'Reverse Energy L1 End',
  189: 'Reverse Energy L2 Start',
  190: 'Reverse Energy L2 End',
  191: 'Reverse Energy L3 Start',
  192: 'Reverse Energy L3 End',
  193: 'Reverse Polarity L1 Start',
  194: 'Reverse Polarity L1 End',
  195: 'Reverse Polarity L2 Start',
  196: 'Reverse Polarity L2 End',
  197: 'Reverse Polarity L3 Start',
  198: 'Reverse Polarity L3 End',
  201: 'Time Synchronization',
  202: 'Contactor ON',
  203: 'Contactor OFF',
  206: 'Door Open',
  207: 'Battery Low',
  208: 'Memory Failure',
  209: 'SIM Removed',
  210: 'SIM Inserted',
  301: 'Optical Port Login',
  302: 'Optical Port Login Failure',
  303: 'Sanction Load Control',
  304: 'Load Shedding Schedule',
  305: 'IP & Port',
  306: 'Time of Use',
  307: 'Wakeup SIM',
  308: 'Over Voltage Function',
  309: 'Under Voltage Function',
  310: 'Over Current Function',
  311: 'Over Load Function',
  312: 'Phase Failure Function',
  313: 'Voltage Unbalance Function',
  314: 'Current Unbalance Function',
  315: 'High Apparent Power Function',
  316: 'Over Voltage Function Cancelled',
  317: 'Under Voltage Function Cancelled',
  318: 'Over Current Function Cancelled',
  319: 'Over Load Function Cancelled',
  320: 'Phase Failure Function Cancelled',
  321: 'Voltage Unbalance Function Cancelled',
  322: 'Current Unbalance Function Cancelled',
  323: 'High Apparent Power Function Cancelled',
  324: 'Sanction Load Control Cancelled',
  325: 'Load Shedding Schedule Cancelled',
  326: 'Time of use Programmed Cancelled',
  // 3.3 (udil-3.3-notes.md) names them only in a list, in this order.
  327: 'Uni-directional Mode',
  328: 'Bi-directional Mode',
  329: 'Display Sequence',
  330: 'MDI Reset Date Programmed',
  331: 'Sampling Rate Programmed',
  332: 'Optical Port Activated',
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
