export * from './logging.module';
export * from './metrics';
export * from './shutdown-deadline';
