export * from './mpcb-central-simulator';
export { registerMpcbCommand, parseSiteOption } from './cli';
export type { MpcbCommandHooks } from './cli';
