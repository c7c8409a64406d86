import {
  G13DayProfile,
  G13SeasonProfile,
  G13SpecialDay,
  G13WeekProfile,
  toMinutes,
} from '../g13-meter-model';
import { Route, SUCCESS, isObject, isInt, invalid, meterRoute, requireBody } from './router';

/** Replaces the profiles of the same name and adds the others (the meter keeps them by name). */
function replaceOrAdd<T extends { profile: string }>(profiles: T[], updates: T[]): void {
  for (const update of updates) {
    const index = profiles.findIndex((p) => p.profile === update.profile);
    if (index >= 0) profiles[index] = update;
    else profiles.push(update);
  }
}

/** The current tariff and the day, week, season and special-day profiles. */
export function tariffRoutes(): Route[] {
  return [
    meterRoute('GET', '/tariff', (meter) => {
      if (meter.tariffSource === 2)
        return {
          tariff: meter.currentTariff(meter.meterNow()),
          source: 2,
          inputconfig: [...meter.inputConfig],
        };
      if (meter.tariffSource === 1) return { tariff: meter.communicationTariff, source: 1 };
      const now = meter.meterNow();
      const season = meter.seasonAt(now);
      return {
        daytype: meter.dayProfileAt(now) ?? 0,
        season: season ? meter.seasonProfiles.indexOf(season) + 1 : 0,
        tariff: meter.currentTariff(now),
        source: 0,
      };
    }),
    meterRoute('POST', '/tariff', (meter, _params, body) => {
      const { tariff, source, inputconfig } = requireBody(body);
      if (source !== undefined && !isInt(source, 0, 2)) throw invalid();
      const newSource = (source ?? meter.tariffSource) as 0 | 1 | 2;
      if (tariff !== undefined && (!isInt(tariff, 1, 4) || newSource !== 1))
        throw invalid('Tariff source must be Communication to set the tariff.');
      if (
        inputconfig !== undefined &&
        (!Array.isArray(inputconfig) || newSource !== 2 || !inputconfig.every((v) => isInt(v, 1, 4)))
      )
        throw invalid();
      meter.tariffSource = newSource;
      if (typeof tariff === 'number') meter.communicationTariff = tariff;
      if (Array.isArray(inputconfig)) meter.inputConfig = inputconfig;
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/dayprofiles', (meter) => ({
      dayprofiles: [...meter.dayProfiles.values()]
        .sort((a, b) => a.profile - b.profile)
        .map((p) => ({ actions: p.actions.map((a) => [...a]), profile: p.profile })),
    })),
    meterRoute('POST', '/tariff/dayprofiles', (meter, _params, body) => {
      const { actions, profile } = requireBody(body);
      if (!isInt(profile, 1, 16)) throw invalid('Invalid day profile id.');
      if (!Array.isArray(actions) || actions.length === 0 || actions.length > 10) throw invalid();
      for (const action of actions) {
        if (!Array.isArray(action) || !isInt(action[0], 1, 12) || typeof action[1] !== 'string')
          throw invalid();
        if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(action[1])) throw invalid('Invalid start time.');
      }
      const sorted = (actions as Array<[number, string]>)
        .map((a): [number, string] => [a[0], a[1]])
        .sort((a, b) => toMinutes(a[1]) - toMinutes(b[1]));
      const dayProfile: G13DayProfile = { profile, actions: sorted };
      meter.dayProfiles.set(profile, dayProfile);
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/weekprofiles', (meter) => ({
      weekprofiles: meter.weekProfiles.map((w) => ({ dayid: [...w.dayid], profile: w.profile })),
    })),
    meterRoute('POST', '/tariff/weekprofiles', (meter, _params, body) => {
      const list = requireBody(body).weekprofiles;
      if (!Array.isArray(list) || list.length === 0) throw invalid();
      const updates: G13WeekProfile[] = [];
      for (const entry of list) {
        if (!isObject(entry) || typeof entry.profile !== 'string' || entry.profile.length > 30)
          throw invalid();
        const dayid = entry.dayid;
        if (
          !Array.isArray(dayid) ||
          dayid.length !== 7 ||
          !dayid.every((d) => isInt(d, 1, 16) && meter.dayProfiles.has(d))
        )
          throw invalid('Unknown day profile.');
        updates.push({ profile: entry.profile, dayid: dayid as number[] });
      }
      const names = new Set([...meter.weekProfiles.map((w) => w.profile), ...updates.map((u) => u.profile)]);
      if (names.size > 4) throw invalid('At most 4 week profiles.');
      replaceOrAdd(meter.weekProfiles, updates);
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/seasonprofiles', (meter) => ({
      seasonprofiles: meter.seasonProfiles.map((s) => ({ ...s })),
    })),
    meterRoute('POST', '/tariff/seasonprofiles', (meter, _params, body) => {
      const list = requireBody(body).seasonprofiles;
      if (!Array.isArray(list) || list.length === 0) throw invalid();
      const updates: G13SeasonProfile[] = [];
      for (const entry of list) {
        if (!isObject(entry) || typeof entry.profile !== 'string' || entry.profile.length > 30)
          throw invalid();
        if (
          !isInt(entry.month, 1, 12) ||
          !(isInt(entry.day, 1, 31) || entry.day === 254 || entry.day === 255)
        )
          throw invalid();
        if (
          typeof entry.weekprofile !== 'string' ||
          !meter.weekProfiles.some((w) => w.profile === entry.weekprofile)
        )
          throw invalid('Unknown week profile.');
        updates.push({
          day: entry.day,
          month: entry.month,
          profile: entry.profile,
          weekprofile: entry.weekprofile,
        });
      }
      replaceOrAdd(meter.seasonProfiles, updates);
      return SUCCESS;
    }),
    meterRoute('GET', '/tariff/specialdayprofiles', (meter) => ({
      specialdayprofiles: meter.specialDays.map((s) => ({
        date: { ...s.date },
        dayprofile: s.dayprofile,
        profile: s.profile,
      })),
    })),
    meterRoute('POST', '/tariff/specialdayprofiles', (meter, _params, body) => {
      const { profile, dayprofile, date } = requireBody(body);
      if (!isInt(profile, 1, 50) || !isInt(dayprofile, 1, 16) || !meter.dayProfiles.has(dayprofile))
        throw invalid();
      if (
        !isObject(date) ||
        !isInt(date.year, 1970, 65535) ||
        !isInt(date.month, 1, 255) ||
        !isInt(date.day, 1, 255) ||
        !isInt(date.week ?? 255, 1, 255)
      )
        throw invalid();
      const entryDate = {
        year: date.year,
        month: date.month,
        week: (date.week as number | undefined) ?? 255,
        day: date.day,
      };
      const same = meter.specialDays.find(
        (s) =>
          s.date.year === entryDate.year && s.date.month === entryDate.month && s.date.day === entryDate.day,
      );
      if (same) {
        same.dayprofile = dayprofile;
        return SUCCESS;
      }
      if (meter.specialDays.length >= 50) throw invalid('At most 50 special days.');
      const taken = meter.specialDays.some((s) => s.profile === profile);
      const special: G13SpecialDay = {
        profile: taken ? Math.max(...meter.specialDays.map((s) => s.profile)) + 1 : profile,
        dayprofile,
        date: entryDate,
      };
      meter.specialDays.push(special);
      return SUCCESS;
    }),
  ];
}
