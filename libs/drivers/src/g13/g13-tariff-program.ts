import { DriverError, TimeOfUseSchedule } from '../driver.contract';

/**
 * UDIL time-of-use parameters → the G13 tariff calendar (manual 6.3.83–6.3.90): day profiles
 * (actions 1–4 activate tariffs 1–4 at a start time), week profiles (Monday → Sunday day-profile
 * ids), season profiles (start day/month → week profile) and special days (date → day profile).
 */

export interface G13DayProfileProgram {
  profile: number;
  actions: Array<[number, string]>;
}
export interface G13WeekProfileProgram {
  profile: string;
  dayid: number[];
}
export interface G13SeasonProfileProgram {
  day: number;
  month: number;
  profile: string;
  weekprofile: string;
}
export interface G13SpecialDayProgram {
  profile: number;
  dayprofile: number;
  date: { year: number; month: number; week: number; day: number };
}
export interface G13TariffProgram {
  dayProfiles: G13DayProfileProgram[];
  weekProfiles: G13WeekProfileProgram[];
  seasonProfiles: G13SeasonProfileProgram[];
  specialDays: G13SpecialDayProgram[];
}

export const G13_LIMITS = {
  dayProfiles: 16,
  weekProfiles: 4,
  specialDays: 50,
  tariffs: 4,
  nameLength: 30,
} as const;

const refuse = (message: string) => new DriverError('refused', `time of use: ${message}`, false);

function hhmm(text: unknown, what: string): string {
  const value = String(text).trim();
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(value)) throw refuse(`${what} "${value}" is not HH:MM`);
  return value;
}

function dayMonth(text: string, what: string): { day: number; month: number } {
  const match = /^(\d{1,2})-(\d{1,2})$/.exec(text.trim());
  if (!match) throw refuse(`${what} "${text}" is not dd-MM`);
  const [day, month] = [Number(match[1]), Number(match[2])];
  if (day < 1 || day > 31 || month < 1 || month > 12)
    throw refuse(`${what} "${text}" is not a day of the year`);
  return { day, month };
}

/** tariff_slabs (ascending start times) → actions: tariff n+1 from slab n. */
function slabActions(slabs: readonly unknown[], what: string): Array<[number, string]> {
  if (slabs.length === 0 || slabs.length > G13_LIMITS.tariffs)
    throw refuse(`${what} has ${slabs.length} tariff slabs; the G13 supports 1 to ${G13_LIMITS.tariffs}`);
  const times = slabs.map((s) => hhmm(s, `${what} slab`));
  for (let i = 1; i < times.length; i++)
    if (times[i] <= times[i - 1]) throw refuse(`${what} slabs must be in ascending order`);
  return times.map((time, index): [number, string] => [index + 1, time]);
}

function checkName(name: string, what: string): string {
  if (name.length === 0 || name.length > G13_LIMITS.nameLength)
    throw refuse(`${what} name "${name}" must be 1 to ${G13_LIMITS.nameLength} characters`);
  return name;
}

export function buildTariffProgram(schedule: TimeOfUseSchedule): G13TariffProgram {
  if (schedule.dayProfiles && schedule.dayProfiles.length > 0) return fromCalendar(schedule);
  return fromTimeSlab(schedule);
}

/** UDIL 3.2 calendar. */
function fromCalendar(schedule: TimeOfUseSchedule): G13TariffProgram {
  const days = schedule.dayProfiles ?? [];
  if (days.length > G13_LIMITS.dayProfiles)
    throw refuse(`${days.length} day profiles; the G13 holds at most ${G13_LIMITS.dayProfiles}`);
  const dayIds = new Map<string, number>();
  const dayProfiles = days.map((day, index) => {
    dayIds.set(day.name, index + 1);
    return { profile: index + 1, actions: slabActions(day.tariffSlabs, `day profile ${day.name}`) };
  });
  const dayId = (name: string, what: string) => {
    const id = dayIds.get(name);
    if (id === undefined) throw refuse(`${what} refers to unknown day profile "${name}"`);
    return id;
  };
  const weeks = schedule.weekProfiles ?? [];
  if (weeks.length === 0) throw refuse('at least one week profile is needed');
  if (weeks.length > G13_LIMITS.weekProfiles)
    throw refuse(`${weeks.length} week profiles; the G13 holds at most ${G13_LIMITS.weekProfiles}`);
  const weekProfiles = weeks.map((week) => {
    if (week.weeklyDayProfile.length !== 7)
      throw refuse(`week profile ${week.name} must name 7 day profiles`);
    return {
      profile: checkName(week.name, 'week profile'),
      dayid: week.weeklyDayProfile.map((name) => dayId(name, `week profile ${week.name}`)),
    };
  });
  const weekNames = new Set(weekProfiles.map((w) => w.profile));
  const seasons = schedule.seasonProfiles ?? [];
  if (seasons.length === 0) throw refuse('at least one season profile is needed');
  const seasonProfiles = seasons.map((season) => {
    if (!weekNames.has(season.weekProfileName))
      throw refuse(`season ${season.name} refers to unknown week profile "${season.weekProfileName}"`);
    return {
      ...dayMonth(season.startDate, `season ${season.name} start_date`),
      profile: checkName(season.name, 'season'),
      weekprofile: season.weekProfileName,
    };
  });
  const holidays = schedule.holidayProfiles ?? [];
  if (holidays.length > G13_LIMITS.specialDays)
    throw refuse(`${holidays.length} holidays; the G13 holds at most ${G13_LIMITS.specialDays} special days`);
  const specialDays = holidays.map((holiday, index) => {
    const { day, month } = dayMonth(holiday.date, `holiday ${holiday.name} date`);
    return {
      profile: index + 1,
      dayprofile: dayId(holiday.dayProfileName, `holiday ${holiday.name}`),
      date: { year: 65535, month, week: 255, day },
    };
  });
  return { dayProfiles, weekProfiles, seasonProfiles, specialDays };
}

/**
 * UDIL 2019 TIME_OF_USE_CHANGE: time_slab ["start","end"] with tariff_identification T programs T
 * from start to end and the other tariff (1, or 2 when T is 1) for the rest of the day, every day
 * of the year. Without tariff_identification, time_slab is read as ascending tariff start times.
 */
function fromTimeSlab(schedule: TimeOfUseSchedule): G13TariffProgram {
  const slabs = Array.isArray(schedule.timeSlabs)
    ? (schedule.timeSlabs as unknown[])
    : typeof schedule.timeSlabs === 'string'
      ? parseJsonArray(schedule.timeSlabs)
      : undefined;
  if (!slabs) throw refuse('time_slab must be an array of HH:MM times');
  const tariffText = schedule.tariffIdentification;
  let actions: Array<[number, string]>;
  if (tariffText !== undefined && tariffText !== null && scalarText(tariffText) !== '') {
    const tariff = Number(tariffText);
    if (!Number.isInteger(tariff) || tariff < 1 || tariff > G13_LIMITS.tariffs)
      throw refuse(
        `tariff_identification "${scalarText(tariffText)}" is not a tariff 1 to ${G13_LIMITS.tariffs}`,
      );
    if (slabs.length !== 2) throw refuse('time_slab must be [start, end] with tariff_identification');
    const [start, end] = [hhmm(slabs[0], 'time_slab start'), hhmm(slabs[1], 'time_slab end')];
    if (start === end) throw refuse('time_slab start and end are equal');
    const other = tariff === 1 ? 2 : 1;
    const points = new Map<string, number>([['00:00', other]]);
    points.set(start, tariff);
    points.set(end, other);
    actions = [...points]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([time, t]): [number, string] => [t, time]);
  } else {
    actions = slabActions(slabs, 'time_slab');
  }
  return {
    dayProfiles: [{ profile: 1, actions }],
    weekProfiles: [{ profile: 'Week1', dayid: [1, 1, 1, 1, 1, 1, 1] }],
    seasonProfiles: [{ day: 1, month: 1, profile: 'Season1', weekprofile: 'Week1' }],
    specialDays: [],
  };
}

function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function parseJsonArray(text: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a list into as few batches as keep `{ [key]: batch }` within maxBytes; one item too big is refused. */
export function batchesWithin<T>(key: string, items: readonly T[], maxBytes: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    if (Buffer.byteLength(JSON.stringify({ [key]: [item] })) > maxBytes)
      throw new DriverError('refused', `one ${key} entry exceeds the G13 limit of ${maxBytes} bytes`, false);
    const candidate = [...current, item];
    if (Buffer.byteLength(JSON.stringify({ [key]: candidate })) > maxBytes) {
      batches.push(current);
      current = [item];
    } else current = candidate;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * G13 names for the program's profiles: a name already on the meter is kept, the others take the
 * meter's names the program does not use (profiles cannot be deleted), then new names up to capacity.
 */
export function assignSlots(
  wanted: readonly string[],
  onMeter: readonly string[],
  capacity: number,
): Map<string, string> {
  const slots = new Map<string, string>();
  const free = onMeter.filter((name) => !wanted.includes(name));
  let used = onMeter.length;
  for (const name of wanted) {
    if (onMeter.includes(name)) slots.set(name, name);
    else if (free.length > 0) slots.set(name, free.shift()!);
    else if (used < capacity) {
      slots.set(name, name);
      used += 1;
    } else throw refuse(`the meter holds ${onMeter.length} profiles and cannot take more than ${capacity}`);
  }
  return slots;
}
