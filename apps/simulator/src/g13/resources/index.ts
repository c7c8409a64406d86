import { alarmRoutes } from './alarms';
import { datetimeRoutes } from './datetime';
import { demandRoutes } from './demand';
import { energyRoutes } from './energy';
import { eventRoutes } from './events';
import { gatewayRoutes } from './gateway';
import { infoRoutes } from './info';
import { ioRoutes } from './io';
import { loadProfileRoutes } from './load-profiles';
import { meterListRoutes } from './meters';
import { powerRoutes } from './power';
import { previousValueRoutes } from './previous-values';
import { Route, RouteState } from './router';
import { sessionRoutes } from './session';
import { tariffRoutes } from './tariff';

export * from './router';

/**
 * Every G13 resource, one module per family. The server answers a request with the first route whose
 * method and pattern match, so within a family a specific path comes before a pattern that would also
 * match it (…/configuration before …/<from>).
 */
export function buildRoutes(state: RouteState): Route[] {
  return [
    ...gatewayRoutes(state),
    ...sessionRoutes(state),
    ...meterListRoutes(state),
    ...datetimeRoutes(),
    ...infoRoutes(),
    ...energyRoutes(),
    ...powerRoutes(),
    ...eventRoutes(),
    ...alarmRoutes(),
    ...ioRoutes(),
    ...previousValueRoutes(),
    ...loadProfileRoutes(),
    ...demandRoutes(),
    ...tariffRoutes(),
  ];
}
