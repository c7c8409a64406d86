export * from './environment';
export * from './app-config.module';
export * from './redis-url';
