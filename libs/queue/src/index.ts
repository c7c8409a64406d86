export * from './jobs';
export * from './job-handler';
export * from './job-queue.repository';
export * from './queue-connection';
export * from './queue-health.indicator';
export * from './queue.module';
export * from './gateway-leases';
export * from './schedule-supervisor';
