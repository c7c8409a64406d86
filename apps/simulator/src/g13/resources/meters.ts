import { Json, COSEM, HttpError, Route, RouteState, SUCCESS, invalid, requireBody } from './router';

/** The meter list, meter registration, update and removal, and the permitted meters. */
export function meterListRoutes(state: RouteState): Route[] {
  const { meters, gateway, permittedMeters } = state;
  return [
    {
      method: 'GET',
      pattern: /^\/meters\/?$/,
      handle: () => {
        const locations = new Map<string, Json[]>();
        for (const meter of meters.values()) {
          if (!meter.registered) continue;
          const list = locations.get(meter.location) ?? [];
          const offline = state.meterFaults.get(meter.serial)?.offline;
          list.push({
            alias: meter.alias,
            serial: meter.serial,
            protocol: '3',
            address: String(17 + [...meters.keys()].indexOf(meter.serial)),
            status: offline ? -1 : 1,
          });
          locations.set(meter.location, list);
        }
        return {
          alias: gateway.alias,
          location: gateway.location,
          serial: `ABB${String(gateway.serial).padStart(13, '0')}`,
          locations: [...locations].map(([location, list]) => ({ location, serial: ' ', meters: list })),
        };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/meters\/?$/,
      handle: ({ body }) => {
        const request = requireBody(body);
        const { serial, alias, location } = request;
        if (typeof serial !== 'string' || serial.length > 17) throw invalid('missing serial tag in JSON .');
        const meter = meters.get(serial);
        // A serial that is not on any bus: the gateway gets no COSEM answer.
        if (!meter || state.meterFaults.get(serial)?.offline) throw new HttpError(500, COSEM);
        if (typeof alias === 'string') meter.alias = alias.slice(0, 21);
        if (typeof location === 'string') meter.location = location.slice(0, 51);
        meter.registered = true;
        return SUCCESS;
      },
    },
    {
      method: 'POST',
      pattern: /^\/meters\/([^/]+)\/?$/,
      handle: ({ params, body }) => {
        const meter = meters.get(params[0]);
        if (!meter || !meter.registered) throw new HttpError(404, 'URI not found.');
        const request = requireBody(body);
        if (typeof request.alias === 'string') meter.alias = request.alias.slice(0, 21);
        if (typeof request.location === 'string') meter.location = request.location.slice(0, 51);
        return SUCCESS;
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/meters\/([^/]+)\/?$/,
      handle: ({ params }) => {
        const meter = meters.get(params[0]);
        if (!meter || !meter.registered) throw new HttpError(404, 'URI not found.');
        meter.registered = false;
        return SUCCESS;
      },
    },
    { method: 'GET', pattern: /^\/permittedmeters\/?$/, handle: () => ({ meters: [...permittedMeters] }) },
    {
      method: 'PUT',
      pattern: /^\/permittedmeters\/?$/,
      handle: ({ body }) => {
        const list = requireBody(body).meters;
        if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length <= 17))
          throw invalid();
        for (const serial of list as string[])
          if (!permittedMeters.includes(serial)) permittedMeters.push(serial);
        if (permittedMeters.length > 25) {
          permittedMeters.splice(permittedMeters.length - list.length);
          throw invalid('At most 25 permitted meters.');
        }
        return SUCCESS;
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/permittedmeters\/?$/,
      handle: ({ body }) => {
        const list = requireBody(body).meters;
        if (!Array.isArray(list)) throw invalid();
        for (const serial of list) {
          const index = permittedMeters.indexOf(String(serial));
          if (index >= 0) permittedMeters.splice(index, 1);
        }
        return SUCCESS;
      },
    },
  ];
}
