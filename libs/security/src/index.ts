export * from './safe-text';
export * from './failure-counters';
export * from './credential-throttle';
export * from './password-hashing-gate';
export * from './security.module';
