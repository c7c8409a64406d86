import { LoadLimit, ThresholdAlarm, ThresholdFunction, TimeOfUseCalendar } from '../driver.contract';
import { G13AlarmDefinition } from './g13-event-codes';

/**
 * What the G13 holds of the parameters UDIL reads back (§3.4.2), as pure mappings of its answers:
 * the load-limit alarm, the protection-function alarms and the tariff calendar.
 */

/** An alarm as GET /alarms/configuration reports it (manual 6.3.52); inactive ones carry only the id. */
export interface G13AlarmSetting extends G13AlarmDefinition {
  ondelay?: number;
  offdelay?: number;
  log?: boolean | number;
  output?: number;
}

/**
 * The G13 alarms that carry the APMS protection functions (as apms_tripping_events programs them): per
 * watched quantity a critical alarm (logged only) and a tripping alarm (logged, driving the load-limit
 * output when tripping is enabled), at ids first, first+1 for the first quantity, first+2, first+3 for the
 * next, … Alarm 25 holds the sanctioned load. Thresholds are in the quantity's unit (V, A, W, VA): kW and
 * kVA are scaled. The unbalance functions have no G13 quantity; phase failure has no alarm left.
 */
export interface G13ThresholdLayout {
  quantities: number[];
  firstAlarm: number;
  scale: number;
  /** The alarm watches for a fall (on threshold below off threshold). */
  under?: true;
}

export const G13_THRESHOLD_ALARMS: Readonly<Partial<Record<ThresholdFunction, G13ThresholdLayout>>> = {
  overLoad: { quantities: [96], firstAlarm: 1, scale: 1000 }, // ACTIVE_POWER_TOTAL
  highApparentPower: { quantities: [104], firstAlarm: 3, scale: 1000 }, // APPARENT_POWER_TOTAL
  overVoltage: { quantities: [69, 72, 75], firstAlarm: 5, scale: 1 }, // VOLTAGE_L1..L3
  underVoltage: { quantities: [69, 72, 75], firstAlarm: 11, scale: 1, under: true },
  overCurrent: { quantities: [70, 73, 76], firstAlarm: 17, scale: 1 }, // CURRENT_L1..L3
};

const isActive = (alarm: G13AlarmSetting | undefined): alarm is Required<G13AlarmSetting> =>
  alarm !== undefined && alarm.quantity !== undefined && typeof alarm.onthreshold === 'number';

/**
 * A protection function from the alarm configuration: the first of its quantities whose critical or
 * tripping alarm watches it (the write programs every phase alike); null when none does (not
 * configured, or the alarms are used for something else).
 */
export function thresholdFromAlarms(
  alarms: readonly G13AlarmSetting[],
  layout: G13ThresholdLayout,
): Partial<Omit<ThresholdAlarm, 'function'>> | null {
  const watching = (id: number, quantity: number) => {
    const alarm = alarms.find((a) => a.id === id);
    return isActive(alarm) && alarm.quantity === quantity ? alarm : undefined;
  };
  for (const [index, quantity] of layout.quantities.entries()) {
    const critical = watching(layout.firstAlarm + 2 * index, quantity);
    const tripping = watching(layout.firstAlarm + 2 * index + 1, quantity);
    if (!critical && !tripping) continue;
    const level = (alarm: Required<G13AlarmSetting>) => ({
      threshold: alarm.onthreshold / layout.scale,
      delaySeconds: alarm.ondelay ?? 0,
    });
    return {
      ...(critical && { critical: level(critical) }),
      ...(tripping && { tripping: level(tripping) }),
      trippingEnabled: tripping !== undefined && (tripping.output ?? 0) > 0,
    };
  }
  return null;
}

/**
 * The load limit from its alarm (ACTIVE_POWER_TOTAL, quantity 96, in W): on threshold = limit, on delay =
 * threshold duration, off delay = retry interval. The G13 has no retry count nor retry-clear interval.
 */
export function loadLimitFromAlarm(alarm: G13AlarmSetting | undefined): Partial<LoadLimit> {
  if (!isActive(alarm) || alarm.quantity !== 96) return { loadLimit: 0 };
  return {
    loadLimit: alarm.onthreshold / 1000,
    thresholdDurationSeconds: alarm.ondelay ?? 0,
    retryIntervalSeconds: alarm.offdelay ?? 0,
  };
}

export interface G13TariffCalendarAnswers {
  dayprofiles?: Array<{ profile: number; actions: Array<[number, string]> }>;
  weekprofiles?: Array<{ profile: string; dayid: number[] }>;
  seasonprofiles?: Array<{ day: number; month: number; profile: string; weekprofile: string }>;
  specialdayprofiles?: Array<{
    profile: number;
    dayprofile: number;
    date: { year: number; month: number; week?: number; day: number };
  }>;
}

const two = (n: number) => String(n).padStart(2, '0');
/** G13 day profiles are numbered 1–16 and have no name: they are named d1…d16. */
const dayName = (id: number) => `d${id}`;

/**
 * The G13 calendar (manual 6.3.83–6.3.89) in the UDIL structure: day profiles' tariff slabs are the
 * start times of their actions in ascending order, seasons and special days start on dd-MM.
 */
export function calendarFromTariff(answers: G13TariffCalendarAnswers): TimeOfUseCalendar {
  return {
    dayProfiles: (answers.dayprofiles ?? []).map((day) => ({
      name: dayName(day.profile),
      tariffSlabs: day.actions.map(([, start]) => start).sort(),
    })),
    weekProfiles: (answers.weekprofiles ?? []).map((week) => ({
      name: week.profile,
      weeklyDayProfile: week.dayid.map(dayName),
    })),
    seasonProfiles: (answers.seasonprofiles ?? []).map((season) => ({
      name: season.profile,
      weekProfileName: season.weekprofile,
      startDate: `${two(season.day)}-${two(season.month)}`,
    })),
    holidayProfiles: (answers.specialdayprofiles ?? []).map((special) => ({
      name: `h${special.profile}`,
      date: `${two(special.date.day)}-${two(special.date.month)}`,
      dayProfileName: dayName(special.dayprofile),
    })),
  };
}
