import { G13LogName } from '../g13-meter-model';
import { Route, DATE, formatG13DateTime, parseG13DateTime, invalid, meterRoute } from './router';

/** The system, quality and event logs. */
export function eventRoutes(): Route[] {
  return [
    meterRoute('GET', `/events/${DATE}(?:/(\\d+))?`, (meter, [until, countText]) => {
      const untilMs = parseG13DateTime(until);
      if (untilMs === undefined) throw invalid();
      const count = countText === undefined ? 100 : Number(countText);
      if (count < 1 || count > 100) throw invalid('count must be 1 to 100.');
      const events = meter.eventsUntil(untilMs, count);
      const format = (name: G13LogName) =>
        events[name].map((e) => ({
          datetime: formatG13DateTime(e.datetime),
          duration: e.duration,
          category: e.category,
          logid: e.logid,
        }));
      return { system: format('system'), quality: format('quality'), event: format('event') };
    }),
  ];
}
