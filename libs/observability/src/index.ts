export * from './logging.module';
export * from './metrics';
