import { G13MeterModel, LP_INTERVALS, LP_TOTAL_ITEMS } from '../g13-meter-model';
import {
  Route,
  SUCCESS,
  DATE,
  formatG13DateTime,
  isInt,
  invalid,
  selectRequested,
  meterRoute,
  requireBody,
} from './router';

/** Load profiles and their configuration. */
export function loadProfileRoutes(): Route[] {
  return [
    meterRoute(
      'GET',
      '/loadprofiles/configuration',
      (meter) => ({ lpconfig: meter.lpConfig.map((c) => [...c]) }),
      502,
    ),
    meterRoute(
      'POST',
      '/loadprofiles/configuration',
      (meter, _params, body) => {
        const list = requireBody(body).lpconfig;
        if (!Array.isArray(list) || list.length === 0 || list.length > 8) throw invalid();
        let total = 0;
        for (const entry of list) {
          if (!Array.isArray(entry) || entry.length !== 3) throw invalid();
          const [interval, quantity, count] = entry as unknown[];
          if (!LP_INTERVALS.includes(interval as number)) throw invalid('Invalid interval.');
          if (
            !isInt(quantity, 1, 255) ||
            !G13MeterModel.storable('lp', quantity) ||
            !meter.measures(quantity)
          )
            throw invalid('Invalid quantity.');
          if (!isInt(count, 1, LP_TOTAL_ITEMS)) throw invalid();
          total += count;
        }
        if (total > LP_TOTAL_ITEMS) throw invalid(`Sum of item counts exceeds ${LP_TOTAL_ITEMS}.`);
        meter.configureLoadProfile(list as Array<[number, number, number]>);
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'DELETE',
      '/loadprofiles(?:/(\\d))?',
      (meter, [channel]) => {
        meter.clearLoadProfile(channel === undefined ? undefined : Number(channel));
        return SUCCESS;
      },
      502,
    ),
    meterRoute(
      'GET',
      `/loadprofiles/(\\d+)(?:/${DATE}(?:/${DATE})?)?`,
      (meter, [channelText, ...rest]) => {
        const channel = Number(channelText);
        const config = meter.lpConfig[channel - 1];
        if (!config) throw invalid('Invalid channel.');
        const items = selectRequested(meter.loadProfile(channel), (i) => i.time, rest, config[2]);
        return {
          mapping: G13MeterModel.quantityMapping(config[1]),
          items: items.map((i) => [i.status, formatG13DateTime(i.time), Number(i.value.toFixed(3))]),
        };
      },
      502,
    ),
  ];
}
