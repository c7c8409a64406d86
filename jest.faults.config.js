/**
 * `npm run test:faults`: the fault suite (test/faults/*.fault-spec.ts), not part of `npm test`. It starts
 * its own embedded PostgreSQL and redis-server, so it needs neither the shared services nor globalSetup.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/faults'],
  testRegex: '.*\\.fault-spec\\.ts$',
  globalSetup: undefined,
  testTimeout: 300000,
  maxWorkers: 1,
};
