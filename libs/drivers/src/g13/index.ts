export { G13Driver } from './g13-driver';
export type { G13DriverOptions } from './g13-driver';
export { G13Client, G13_MAX_PAYLOAD_BYTES, normalizeFingerprint } from './g13-client';
export { G13_CAPABILITIES, G13_DESCRIPTION } from './g13-capabilities';
export {
  G13_LOG_IDS,
  G13_TO_UDIL_EVENT,
  UDIL_EVENT_DESCRIPTIONS,
  mapG13LogId,
  udilCodeForAlarm,
} from './g13-event-codes';
export { G13_THRESHOLD_ALARMS } from './g13-parameter-reads';
export type { G13ThresholdLayout } from './g13-parameter-reads';
