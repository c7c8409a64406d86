/**
 * The fault suite's order (jest.faults.config.js): its two long files first, side by side, then the short
 * ones on whichever jest worker is free. Jest's default puts the largest files first when it has no timings
 * of an earlier run (a clean clone in CI), which paired the two-api file with one long file and left the
 * other long one for last: 301 s against 253 s in this order (2026-12-03, one host, minutes apart).
 */
const Sequencer = require('@jest/test-sequencer').default;

/** Longest first, by their times side by side on 2026-12-03: 175, 147, 74 and 52 s. */
const ORDER = [
  'store-faults.fault-spec.ts',
  'field-faults.fault-spec.ts',
  'multiprocess.fault-spec.ts',
  'redis-cluster-failover.fault-spec.ts',
];

const rank = (path) => {
  const at = ORDER.findIndex((name) => path.endsWith(`/${name}`));
  return at < 0 ? ORDER.length : at;
};

class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = LongestFirstSequencer;
