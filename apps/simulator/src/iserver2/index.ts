export {
  startIServer2Simulator,
  EXTRACT_ROW_LIMIT as ISERVER2_EXTRACT_ROW_LIMIT,
} from './iserver2-simulator';
export type {
  IServer2SimulatorHandle,
  IServer2SimulatorOptions,
  IServer2SimulatorStats,
} from './iserver2-simulator';
export { IServer2Unit, defaultProbes as defaultIServer2Probes } from './iserver2-unit';
export type {
  IServer2UnitOptions,
  SimulatedProbeOptions as IServer2SimulatedProbeOptions,
  SimulatedSensorOptions as IServer2SimulatedSensorOptions,
} from './iserver2-unit';
export { registerIServer2Command } from './cli';
export type { IServer2CommandHooks } from './cli';
