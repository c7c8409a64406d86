export * from './entities';
export * from './credential-cipher';
export * from './data-source-options';
export * from './database.module';
export * from './repositories/gateway.repository';
export * from './repositories/worker-heartbeat.repository';
export * from './query-result.util';
export * from './statement-batcher';
