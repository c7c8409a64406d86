/**
 * The G13 quantity catalogue: GET /parametermapping (manual 6.3.28) and GET /storablequantities
 * (6.3.29). Ids are the manual's; names in load-profile / previous-value mappings are the
 * parameter names lower-cased without "_ENERGY" (ACTIVE_ENERGY_IMPORT_TOTAL → active_import_total),
 * as the manual's example mapping ["active_import_total", "Wh"] shows.
 */
export const G13_PARAMETER_MAP: Readonly<Record<number, string>> = {
  1: 'ACTIVE_ENERGY_IMPORT_TOTAL',
  2: 'ACTIVE_ENERGY_EXPORT_TOTAL',
  3: 'ACTIVE_ENERGY_IMPORT_L1',
  4: 'ACTIVE_ENERGY_IMPORT_L2',
  5: 'ACTIVE_ENERGY_IMPORT_L3',
  6: 'ACTIVE_ENERGY_EXPORT_L1',
  7: 'ACTIVE_ENERGY_EXPORT_L2',
  8: 'ACTIVE_ENERGY_EXPORT_L3',
  9: 'ACTIVE_ENERGY_IMPORT_TAR1',
  10: 'ACTIVE_ENERGY_IMPORT_TAR2',
  11: 'ACTIVE_ENERGY_IMPORT_TAR3',
  12: 'ACTIVE_ENERGY_IMPORT_TAR4',
  13: 'ACTIVE_ENERGY_NET_TOTAL',
  14: 'ACTIVE_ENERGY_NET_L1',
  15: 'ACTIVE_ENERGY_NET_L2',
  16: 'ACTIVE_ENERGY_NET_L3',
  17: 'REACTIVE_ENERGY_IMPORT_TAR1',
  18: 'REACTIVE_ENERGY_IMPORT_TAR2',
  19: 'REACTIVE_ENERGY_IMPORT_TAR3',
  20: 'REACTIVE_ENERGY_IMPORT_TAR4',
  21: 'REACTIVE_ENERGY_IMPORT_TOTAL',
  22: 'REACTIVE_ENERGY_EXPORT_TOTAL',
  23: 'REACTIVE_ENERGY_IMPORT_L1',
  24: 'REACTIVE_ENERGY_IMPORT_L2',
  25: 'REACTIVE_ENERGY_IMPORT_L3',
  26: 'REACTIVE_ENERGY_EXPORT_L1',
  27: 'REACTIVE_ENERGY_EXPORT_L2',
  28: 'REACTIVE_ENERGY_EXPORT_L3',
  29: 'REACTIVE_ENERGY_NET_TOTAL',
  30: 'REACTIVE_ENERGY_NET_L1',
  31: 'REACTIVE_ENERGY_NET_L2',
  32: 'REACTIVE_ENERGY_NET_L3',
  33: 'APPARENT_ENERGY_IMPORT_TOTAL',
  34: 'APPARENT_ENERGY_EXPORT_TOTAL',
  35: 'APPARENT_ENERGY_IMPORT_L1',
  36: 'APPARENT_ENERGY_IMPORT_L2',
  37: 'APPARENT_ENERGY_IMPORT_L3',
  38: 'APPARENT_ENERGY_EXPORT_L1',
  39: 'APPARENT_ENERGY_EXPORT_L2',
  40: 'APPARENT_ENERGY_EXPORT_L3',
  41: 'APPARENT_ENERGY_NET_TOTAL',
  42: 'APPARENT_ENERGY_NET_L1',
  43: 'APPARENT_ENERGY_NET_L2',
  44: 'APPARENT_ENERGY_NET_L3',
  51: 'IO_INPUT_CUMULATION_1',
  52: 'IO_INPUT_CUMULATION_2',
  53: 'IO_INPUT_CUMULATION_3',
  54: 'IO_INPUT_CUMULATION_4',
  55: 'IO_STORED_INPUT_STATE_1',
  56: 'IO_STORED_INPUT_STATE_2',
  57: 'IO_STORED_INPUT_STATE_3',
  58: 'IO_STORED_INPUT_STATE_4',
  59: 'THD_VOLTAGE_L1',
  60: 'THD_VOLTAGE_L2',
  61: 'THD_VOLTAGE_L3',
  62: 'THD_VOLTAGE_L1_L2',
  63: 'THD_VOLTAGE_L2_L3',
  64: 'THD_VOLTAGE_L1_L3',
  65: 'THD_CURRENT_L1',
  66: 'THD_CURRENT_L2',
  67: 'THD_CURRENT_L3',
  68: 'THD_CURRENT_NEUTRAL',
  69: 'VOLTAGE_L1',
  70: 'CURRENT_L1',
  71: 'POWER_FACTOR_L1',
  72: 'VOLTAGE_L2',
  73: 'CURRENT_L2',
  74: 'POWER_FACTOR_L2',
  75: 'VOLTAGE_L3',
  76: 'CURRENT_L3',
  77: 'POWER_FACTOR_L3',
  78: 'VOLTAGE_L1_L2',
  79: 'VOLTAGE_L2_L3',
  80: 'VOLTAGE_L1_L3',
  81: 'CURRENT_NEUTRAL',
  82: 'POWER_FACTOR_TOTAL',
  83: 'NRG_CONVERSION_FACTOR_CURR',
  84: 'NRG_CONVERSION_FACTOR_CO2',
  85: 'ACTIVE_ENERGY_EXPORT_TAR1',
  86: 'ACTIVE_ENERGY_EXPORT_TAR2',
  87: 'ACTIVE_ENERGY_EXPORT_TAR3',
  88: 'ACTIVE_ENERGY_EXPORT_TAR4',
  89: 'REACTIVE_ENERGY_EXPORT_TAR1',
  90: 'REACTIVE_ENERGY_EXPORT_TAR2',
  91: 'REACTIVE_ENERGY_EXPORT_TAR3',
  92: 'REACTIVE_ENERGY_EXPORT_TAR4',
  93: 'ACTIVE_POWER_L1',
  94: 'ACTIVE_POWER_L2',
  95: 'ACTIVE_POWER_L3',
  96: 'ACTIVE_POWER_TOTAL',
  97: 'REACTIVE_POWER_L1',
  98: 'REACTIVE_POWER_L2',
  99: 'REACTIVE_POWER_L3',
  100: 'REACTIVE_POWER_TOTAL',
  101: 'APPARENT_POWER_L1',
  102: 'APPARENT_POWER_L2',
  103: 'APPARENT_POWER_L3',
  104: 'APPARENT_POWER_TOTAL',
  105: 'PHASE_ANGLE_POWER_L1',
  106: 'PHASE_ANGLE_POWER_L2',
  107: 'PHASE_ANGLE_POWER_L3',
  108: 'PHASE_ANGLE_POWER_TOTAL',
  109: 'PREVIOUS_VALUES',
  110: 'DEMAND',
  111: 'LOAD_PROFILE_CH_1',
  112: 'ALARM_SETTINGS_1',
  113: 'NRG_ENERGY_VALUE_CURR',
  114: 'TARIFF_CALENDAR_CONFIG',
  115: 'TARIFF_SPECIAL_DAYS_CONFIG',
  116: 'IO_SETTING',
  117: 'IO_PULSE_LENGTH_1',
  118: 'SYSTEM_STATUS_ERROR',
  119: 'SYSTEM_STATUS_WARNING',
  120: 'SYSTEM_STATUS_INFO',
  121: 'LOG_SYSTEM',
  122: 'NRG_ENERGY_VALUE_CO2',
  123: 'LOG_EVENT',
  124: 'LOG_QUALITY',
  137: 'SERIAL_NR',
  138: 'TYPE_DESIGNATION',
  139: 'FIRMWARE_VERSION',
  140: 'HARDWARE_VERSION_0',
  141: 'TRAFO_CT_RATIO_NUMERATOR',
  142: 'TRAFO_CT_RATIO_DENOMINATOR',
};

/** GET /storablequantities, as the manual lists it (pv previous values, lp load profile, dm demand, ac alarms). */
export const G13_STORABLE_QUANTITIES = {
  pv: [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 51, 52, 53, 54, 113, 122, 85, 86, 87, 88, 89,
    90, 91, 92, 171, 172, 173, 174,
  ],
  lp: [
    1, 2, 3, 4, 5, 6, 7, 8, 21, 22, 23, 24, 25, 26, 27, 28, 33, 34, 35, 36, 37, 38, 39, 40, 51, 52, 53, 54,
    113, 122, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 179, 180, 181, 182, 183, 184, 185, 186,
    187, 188,
  ],
  dm: [
    51, 52, 53, 54, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 72, 73, 75, 76, 78, 79, 80, 81, 93, 94,
    95, 96, 97, 98, 99, 100, 101, 102, 103, 104,
  ],
  ac: [
    59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 93, 94,
    95, 96, 97, 98, 99, 100, 101, 102, 103, 104,
  ],
} as const;

/** active_import_total for ACTIVE_ENERGY_IMPORT_TOTAL; undefined for an id the map does not name. */
export function quantityName(id: number): string | undefined {
  const parameter = G13_PARAMETER_MAP[id];
  return parameter?.toLowerCase().replace('_energy_', '_');
}

/** The unit the meter reports a quantity in (registers in Wh / varh / VAh, as the manual's mappings). */
export function quantityUnit(id: number): string {
  const parameter = G13_PARAMETER_MAP[id] ?? '';
  if (parameter.startsWith('ACTIVE_ENERGY')) return 'Wh';
  if (parameter.startsWith('REACTIVE_ENERGY')) return 'varh';
  if (parameter.startsWith('APPARENT_ENERGY')) return 'VAh';
  if (parameter.startsWith('ACTIVE_POWER')) return 'W';
  if (parameter.startsWith('REACTIVE_POWER')) return 'var';
  if (parameter.startsWith('APPARENT_POWER')) return 'VA';
  if (parameter.startsWith('VOLTAGE')) return 'V';
  if (parameter.startsWith('CURRENT')) return 'A';
  if (parameter.startsWith('THD')) return '%';
  return '';
}
