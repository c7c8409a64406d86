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

/** Previous values (billing snapshots) and their configuration. */
export function previousValueRoutes(): Route[] {
  return [
    meterRoute(
      'GET',
      '/previousvalues/configuration',
      (meter) => ({
        interval: meter.pvInterval,
        ...(meter.pvInterval === 'weekly' ? { weekday: meter.pvWeekday } : {}),
        pvconfig: [...meter.pvConfig],
      }),
      502,
    ),
    meterRoute(
      'POST',
      '/previousvalues/configuration',
      (meter, _params, body) => {
        const request = requireBody(body);
        const { interval, weekday, pvconfig } = request;
        if (interval !== 'daily' && interval !== 'weekly' && interval !== 'monthly') throw invalid();
        if (weekday !== undefined && !isInt(weekday, 1, 7)) throw invalid();
        if (
          !Array.isArray(pvconfig) ||
          pvconfig.length === 0 ||
          pvconfig.length > 50 ||
          !pvconfig.every((id) => isInt(id, 1, 255) && G13MeterModel.storable('pv', id))
        )
          throw invalid();
        meter.configurePreviousValues(interval, weekday ?? 1, pvconfig as number[]);
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'DELETE',
      '/previousvalues',
      (meter) => {
        meter.clearPreviousValues();
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'GET',
      `/previousvalues(?:/${DATE}(?:/${DATE})?)?`,
      (meter, params) => {
        let items = selectRequested(meter.previousValues(), (s) => s.time, params, 100);
        // At most 100 snapshots per answer; ask again from the last one for more.
        if (params.length > 0) items = items.slice(0, 100);
        const quantities = meter.pvConfig;
        return {
          mapping: quantities.map((q) => G13MeterModel.quantityMapping(q)),
          interval: meter.pvInterval,
          items: items.map((snapshot) => [
            ...quantities.map((q) => {
              const index = snapshot.quantities.indexOf(q);
              return index < 0 ? ['0', '0.000'] : [String(snapshot.status), fixed(snapshot.values[index], 3)];
            }),
            { time: formatG13DateTime(snapshot.time) },
          ]),
        };
      },
      502,
    ),
  ];
}
