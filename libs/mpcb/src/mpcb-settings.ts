import type { AppConfig } from '@hes/config';

/** The central server's routes; each may be a path relative to the base URL or an absolute URL. */
export interface MpcbRoutes {
  realtimeUpload: string;
  delayedUpload: string;
  getConfig: string;
  uploadConfig: string;
  completedConfig: string;
  getCalibrationConfig: string;
  updateCalibrationConfig: string;
  uploadDiagnosticInfo: string;
}

export type MpcbRouteName = keyof MpcbRoutes;

/** What the site client needs from the environment (MPCB_* variables, docs/mpcb.md). */
export interface MpcbSettings {
  enabled: boolean;
  baseUrl: string;
  routes: MpcbRoutes;
  acquisitionIntervalSeconds: number;
  transmissionIntervalSeconds: number;
  /** Readings older than this (at transmission) go to delayedUpload. */
  realtimeWindowSeconds: number;
  /** Zone of file names and header timestamps. */
  timeZone: string;
  /** How far in the past the Timestamp header is set. */
  timestampLagSeconds: number;
  requestTimeoutMs: number;
  /** Device time further than this from the capture time makes a reading suspect (QualityCode.Suspect). */
  clockToleranceSeconds: number;
  /** Readings per delayed upload file, and delayed files per transmission cycle. */
  delayedBatchSize: number;
  delayedBatchesPerCycle: number;
  /** Name of the multipart field that carries the zip. */
  uploadFieldName: string;
}

export const MPCB_SETTINGS = Symbol('MPCB_SETTINGS');

export const DEFAULT_MPCB_ROUTES: MpcbRoutes = {
  realtimeUpload: 'realtimeUpload',
  delayedUpload: 'delayedUpload',
  getConfig: 'getConfig',
  uploadConfig: 'uploadConfig',
  completedConfig: 'completedConfig',
  getCalibrationConfig: 'getCalibrationConfig',
  updateCalibrationConfig: 'updateCalibrationConfig',
  uploadDiagnosticInfo: 'uploadDiagnosticInfo',
};

export function mpcbSettingsFromConfig(config: AppConfig): MpcbSettings {
  return {
    enabled: config.MPCB_ENABLED,
    baseUrl: config.MPCB_BASE_URL,
    routes: {
      realtimeUpload: config.MPCB_ROUTE_REALTIME_UPLOAD,
      delayedUpload: config.MPCB_ROUTE_DELAYED_UPLOAD,
      getConfig: config.MPCB_ROUTE_GET_CONFIG,
      uploadConfig: config.MPCB_ROUTE_UPLOAD_CONFIG,
      completedConfig: config.MPCB_ROUTE_COMPLETED_CONFIG,
      getCalibrationConfig: config.MPCB_ROUTE_GET_CALIBRATION_CONFIG,
      updateCalibrationConfig: config.MPCB_ROUTE_UPDATE_CALIBRATION_CONFIG,
      uploadDiagnosticInfo: config.MPCB_ROUTE_UPLOAD_DIAGNOSTIC_INFO,
    },
    acquisitionIntervalSeconds: config.MPCB_ACQUISITION_SECONDS,
    transmissionIntervalSeconds: config.MPCB_TRANSMISSION_SECONDS,
    realtimeWindowSeconds: config.MPCB_REALTIME_WINDOW_SECONDS,
    timeZone: config.MPCB_TIME_ZONE,
    timestampLagSeconds: config.MPCB_TIMESTAMP_LAG_SECONDS,
    requestTimeoutMs: config.MPCB_REQUEST_TIMEOUT_MS,
    clockToleranceSeconds: config.MPCB_CLOCK_TOLERANCE_SECONDS,
    delayedBatchSize: config.MPCB_DELAYED_BATCH_SIZE,
    delayedBatchesPerCycle: config.MPCB_DELAYED_BATCHES_PER_CYCLE,
    uploadFieldName: config.MPCB_UPLOAD_FIELD_NAME,
  };
}

/** The URL of a route: an absolute route is used as is, a relative one is joined to the base URL. */
export function routeUrl(settings: Pick<MpcbSettings, 'baseUrl' | 'routes'>, route: MpcbRouteName): string {
  const value = settings.routes[route];
  if (/^https?:\/\//i.test(value)) return value;
  return `${settings.baseUrl.replace(/\/+$/, '')}/${value.replace(/^\/+/, '')}`;
}

/**
 * The URL of a route for a site: a site with its own central server (`centralServerUrl`) sends every route
 * there — a relative route joined to the site's address, an absolute one with its path kept and its origin
 * replaced by the site's (a site's credentials never go to another server); a site without one uses
 * `routeUrl` (MPCB_BASE_URL, absolute routes as they are).
 */
export function siteRouteUrl(
  settings: Pick<MpcbSettings, 'baseUrl' | 'routes'>,
  site: { centralServerUrl?: string | null },
  route: MpcbRouteName,
): string {
  const own = site.centralServerUrl;
  if (!own) return routeUrl(settings, route);
  const value = settings.routes[route];
  if (/^https?:\/\//i.test(value)) {
    const absolute = new URL(value);
    return `${new URL(own).origin}${absolute.pathname}${absolute.search}`;
  }
  return routeUrl({ baseUrl: own, routes: settings.routes }, route);
}
