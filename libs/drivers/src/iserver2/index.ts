/**
 * Omega iServer 2 driver. Names are prefixed so that `export * from './iserver2'` in the package index
 * cannot collide with other vendors'; the full message and extract modules are available as namespaces.
 */
export {
  IServer2Driver,
  ISERVER2_DRIVER_NAME,
  ISERVER2_CAPABILITIES,
  ISERVER2_DESCRIPTION,
  ISERVER2_UNSUPPORTED,
} from './iserver2-driver';
export type { IServer2DriverOptions } from './iserver2-driver';
export { IServer2Units } from './iserver2-units';
export type {
  IServer2UnitOptions,
  RelayState as IServer2RelayState,
  ProbeMetadata as IServer2ProbeMetadata,
  UnitMetadata as IServer2UnitMetadata,
} from './iserver2-units';
export { IServer2Maintenance } from './iserver2-maintenance';
export type {
  AlarmSettings as IServer2AlarmSettings,
  AlarmState as IServer2AlarmState,
  AlarmType as IServer2AlarmType,
  LoggingConfig as IServer2LoggingConfig,
  RelayConfiguration as IServer2RelayConfiguration,
} from './iserver2-maintenance';
export { IServer2Client } from './iserver2-client';
export type { IServer2ClientOptions, ExchangeObserver as IServer2ExchangeObserver } from './iserver2-client';
export {
  IServer2ProtocolError,
  channelId as iserver2ChannelId,
  parseChannelId as parseIServer2ChannelId,
} from './iserver2-messages';
export type { IServer2Requests, IServer2CommandName } from './iserver2-messages';
export * as IServer2Messages from './iserver2-messages';
export * as IServer2Extract from './iserver2-extract';
