export * from './logging.module';
export * from './metrics';
export * from './request-logging';
export * from './shutdown-deadline';
