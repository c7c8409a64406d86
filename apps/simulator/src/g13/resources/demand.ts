import { G13MeterModel } from '../g13-meter-model';
import {
  Route,
  SUCCESS,
  DATE,
  formatG13DateTime,
  fixed,
  isInt,
  invalid,
  selectRequested,
  meterRoute,
  requireBody,
} from './router';

/** Maximum demand records and their configuration. */
export function demandRoutes(): Route[] {
  return [
    meterRoute(
      'GET',
      '/demand/configuration',
      (meter) => ({
        dmc: meter.demandConfig.map((c) => [...c]),
        interval: [...meter.demandInterval],
        period: meter.demandPeriod,
        ...(meter.demandPeriod === 'weekly' ? { weekday: meter.demandWeekday } : {}),
      }),
      502,
    ),
    meterRoute(
      'POST',
      '/demand/configuration',
      (meter, _params, body) => {
        const { dmc, interval, period, weekday } = requireBody(body);
        const valid = [60, 120, 180, 300, 600, 900, 1800, 3600];
        if (!Array.isArray(dmc) || dmc.length === 0 || dmc.length > 50) throw invalid();
        for (const entry of dmc) {
          if (!Array.isArray(entry) || entry.length !== 2) throw invalid();
          if (!isInt(entry[0], 1, 255) || !G13MeterModel.storable('dm', entry[0])) throw invalid();
          if (![1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15].includes(entry[1] as number)) throw invalid();
        }
        if (
          !Array.isArray(interval) ||
          interval.length !== 2 ||
          !valid.includes(interval[0] as number) ||
          !valid.includes(interval[1] as number)
        )
          throw invalid();
        if ((interval[1] as number) > (interval[0] as number))
          throw invalid('Sub interval exceeds interval.');
        if (period !== 'daily' && period !== 'weekly' && period !== 'monthly') throw invalid();
        if (weekday !== undefined && !isInt(weekday, 1, 7)) throw invalid();
        meter.configureDemand(
          dmc as Array<[number, number]>,
          interval as [number, number],
          period,
          weekday ?? 1,
        );
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'DELETE',
      '/demand',
      (meter) => {
        meter.clearDemand();
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'GET',
      `/demand(?:/${DATE}(?:/${DATE})?)?`,
      (meter, params) => {
        const records = selectRequested(meter.demandRecords(), (r) => r.time, params, 500);
        return {
          mapping: meter.demandConfig.map(([q]) => G13MeterModel.quantityMapping(q)),
          items: records.map((record) => [
            ...record.channels.map((c) => [
              '1',
              fixed(c.value, 0),
              formatG13DateTime(c.at),
              String(((c.code - 1) % 4) + 1),
            ]),
            { time: formatG13DateTime(record.time) },
          ]),
        };
      },
      502,
    ),
  ];
}
