import { G13_PARAMETER_MAP, G13_STORABLE_QUANTITIES } from '../g13-quantities';
import { Route, RouteState } from './router';

/** The gateway itself: /about, /lasterror and the quantity tables. */
export function gatewayRoutes(state: RouteState): Route[] {
  const { gateway } = state;
  return [
    {
      method: 'GET',
      pattern: /^\/about\/?$/,
      handle: () => ({
        cosemversion: 6,
        firmwareversion: 'G1.2.0.7',
        hardwareversion: 'HW-G13-2',
        model: 'G13',
        jsonapiversion: '0.9',
        logicaldevicename: `ABB${String(gateway.serial).padStart(14, '0')}`,
        releasedate: '2012-08-30T14:06:26',
        serial: gateway.serial,
      }),
    },
    {
      method: 'GET',
      pattern: /^\/lasterror\/(\d+)\/?$/,
      handle: ({ params }) => ({ des: state.lastErrors.get(Number(params[0])) ?? 'No error.' }),
    },
    { method: 'GET', pattern: /^\/storablequantities\/?$/, handle: () => ({ ...G13_STORABLE_QUANTITIES }) },
    {
      method: 'GET',
      pattern: /^\/parametermapping\/?$/,
      handle: () => ({ map: Object.fromEntries(Object.entries(G13_PARAMETER_MAP)) }),
    },
  ];
}
