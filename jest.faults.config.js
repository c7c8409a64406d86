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
  // The four files side by side, two at a time, each on a bench of its own (free ports, its own data
  // directory): the suite's wall time is about its longest pair, not its sum (408 s in one process on
  // 2026-12-03 with three files; see docs/reliability.md).
  maxWorkers: 2,
  testSequencer: '<rootDir>/jest.faults.sequencer.js',
};
