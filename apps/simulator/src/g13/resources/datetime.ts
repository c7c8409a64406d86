import {
  Route,
  SUCCESS,
  formatG13DateTime,
  parseG13DateTime,
  isObject,
  invalid,
  meterRoute,
  requireBody,
} from './router';

/** A meter's clock and daylight-saving settings. */
export function datetimeRoutes(): Route[] {
  return [
    meterRoute('GET', '/datetime', (meter) => {
      const now = meter.meterNow();
      return {
        datetime: formatG13DateTime(now),
        dayofweek: ((new Date(now).getUTCDay() + 6) % 7) + 1,
        dst: 0,
        dstenable: meter.dstEnable,
        dstend: meter.dstEnd,
        dststart: meter.dstStart,
        status: 'set',
      };
    }),
    meterRoute('POST', '/datetime', (meter, _params, body) => {
      const request = requireBody(body);
      const when = typeof request.datetime === 'string' ? parseG13DateTime(request.datetime) : undefined;
      if (when === undefined) throw invalid('missing datetime tag in JSON .');
      if (request.dstenable === true) {
        if (!isObject(request.dststart) || !isObject(request.dstend))
          throw invalid('missing dststart or dstend tag in JSON .');
        meter.dstStart = request.dststart as typeof meter.dstStart;
        meter.dstEnd = request.dstend as typeof meter.dstEnd;
      }
      if (typeof request.dstenable === 'boolean') meter.dstEnable = request.dstenable;
      meter.setClock(when);
      return SUCCESS;
    }),
  ];
}
