import { BillingReading, LoadProfileReading, UdilRow } from '@hes/drivers';
import { McsRegisterValue, McsSurveyChannel, formatMcsTime } from './mcs-result';

interface RegisterName {
  name: string;
  units: string;
}

/** billing_data columns → MCS register names (kWh / kvarh, as the UDIL tables hold them). */
const REGISTER_NAMES: Readonly<Record<string, RegisterName>> = (() => {
  const names: Record<string, RegisterName> = {};
  for (const [kind, units] of [
    ['active', 'kWh'],
    ['reactive', 'kvarh'],
  ] as const) {
    for (const [direction, label] of [
      ['pos', 'Import'],
      ['neg', 'Export'],
    ] as const) {
      names[`${kind}_energy_${direction}_tl`] = { name: `${units} ${label}`, units };
      for (const tariff of [1, 2, 3, 4])
        names[`${kind}_energy_${direction}_t${tariff}`] = { name: `${units} ${label} T${tariff}`, units };
    }
  }
  return names;
})();

/** load_profile_data columns → survey channel names. */
const SURVEY_NAMES: Readonly<Record<string, RegisterName>> = {
  active_energy_pos_tl: { name: 'kWh Import', units: 'kWh' },
  active_energy_neg_tl: { name: 'kWh Export', units: 'kWh' },
  reactive_energy_pos_tl: { name: 'kvarh Import', units: 'kvarh' },
  reactive_energy_neg_tl: { name: 'kvarh Export', units: 'kvarh' },
  voltage_phase_a: { name: 'Voltage L1', units: 'V' },
  voltage_phase_b: { name: 'Voltage L2', units: 'V' },
  voltage_phase_c: { name: 'Voltage L3', units: 'V' },
  current_phase_a: { name: 'Current L1', units: 'A' },
  current_phase_b: { name: 'Current L2', units: 'A' },
  current_phase_c: { name: 'Current L3', units: 'A' },
  average_pf: { name: 'Power factor', units: '' },
};

/** Status flag of a snapshot whose value the meter marked as not valid (the driver leaves it empty). */
export const INVALID_VALUE_FLAG = 'INVALID VALUE';

function numberOrNull(value: UdilRow[string]): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}

/** A billing reading (the meter's energy registers) → MCS register values, in a fixed order. */
export function registerValuesOf(reading: BillingReading): McsRegisterValue[] {
  const timestamp = formatMcsTime(reading.meter_datetime);
  return Object.entries(REGISTER_NAMES)
    .filter(([column]) => reading[column] !== undefined)
    .map(([column, { name, units }]) => ({ name, timestamp, value: numberOrNull(reading[column]), units }));
}

/**
 * Load-profile rows (one per timestamp and load-profile channel, as in load_profile_data) → one
 * survey channel per quantity, readings in time order. A value the meter flagged as bad arrives as
 * null and is reported with the INVALID VALUE flag; snapshots the meter does not hold are absent.
 */
export function surveyDataOf(rows: readonly LoadProfileReading[]): McsSurveyChannel[] {
  const channels = new Map<string, McsSurveyChannel>();
  const sorted = [...rows].sort((a, b) => a.meter_datetime.getTime() - b.meter_datetime.getTime());
  for (const [column, { name, units }] of Object.entries(SURVEY_NAMES)) {
    for (const row of sorted) {
      if (!(column in row) || row[column] === undefined) continue;
      let channel = channels.get(column);
      if (!channel) {
        channel = { name, units, readings: [] };
        channels.set(column, channel);
      }
      const value = numberOrNull(row[column]);
      channel.readings.push({
        timestamp: formatMcsTime(row.meter_datetime),
        value,
        status: value === null ? [INVALID_VALUE_FLAG] : [],
      });
    }
  }
  return [...channels.values()];
}
