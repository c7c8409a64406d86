export * from './g13-gateway-server';
export * from './g13-fleet';
export * from './g13-meter-model';
export * from './g13-quantities';
export { registerG13Command } from './cli';
