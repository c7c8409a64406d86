/**
 * Node options the worker runs with (package.json's start:worker, docker-compose, the demo, the benchmarks):
 * a young generation of 64 MB semi-spaces instead of V8's default (16 MB on 64-bit), because a device's part
 * of a transaction allocates much that dies young (requests, answers, message logs, statement parameters).
 * Measured on 100 000 meters (bench/RESULTS.md, 2026-12-01): worker CPU per relay meter 0.40–0.44 ms against
 * 0.48–0.53 ms, per clock set 0.35 against 0.41 ms, for 70–100 MB more peak RSS (32 MB: 0.50 ms; 128 MB:
 * 0.42 ms and 642 MB). Keep the literal in package.json and docker-compose.yml the same.
 */
export const WORKER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=64'];
