export * from './udil-command-plans';
export * from './transaction-jobs';
export * from './transaction-status.repository';
export * from './transaction-acceptance.service';
export * from './device-directory';
export * from './meter-visuals.repository';
export * from './communication-history.repository';
export * from './udil-command-runner';
