import Redis from 'ioredis';
import { FaultBench } from './fault-bench';
import { FaultCases } from './fault-cases';
import { healthyMeters, startFaultFleet, stopFaultFleet } from './fault-fleet';

/**
 * `npm run test:faults`: faults a field deployment meets every week, each while a command is being
 * carried out to a fleet of simulated G13 meters. Each case prints what it measured (lost, stuck,
 * duplicated, 5xx: see fault-cases.ts) and asserts lost = 0 and stuck = 0. docs/reliability.md keeps the
 * figures. This file: the head-end's own stores and processes fail (the worker, Redis,
 * PostgreSQL); field-faults.fault-spec.ts: what the head-end talks to fails.
 */
describe("fault suite: the head-end's own stores and processes", () => {
  let bench: FaultBench;
  let cases: FaultCases;

  beforeAll(async () => {
    ({ bench, cases } = await startFaultFleet(0));
  }, 300_000);

  afterAll(() => stopFaultFleet(bench, cases), 120_000);

  const healthy = () => healthyMeters(bench);

  it('worker kill -9 mid-command: the new worker finishes the rows (stalled jobs run again)', async () => {
    const result = await cases.run(
      'worker kill -9 mid-command',
      { service: 'aux_relay_operations', operate: 0 },
      healthy(),
      async () => {
        await bench.worker.stop('SIGKILL');
        bench.worker.start();
      },
      150_000,
    );
    expect(result).toMatchObject({ lost: 0, stuck: 0 });
  });

  it('Redis flushed with the worker running: the reconciler and the supervisor bring the work back', async () => {
    const result = await cases.run(
      'Redis FLUSHALL, worker running',
      { service: 'aux_relay_operations', operate: 1 },
      healthy(),
      async () => {
        const redis = new Redis(bench.redis.url);
        await redis.flushall();
        redis.disconnect();
      },
      120_000,
    );
    expect(result).toMatchObject({ lost: 0, stuck: 0 });
  });

  it('PostgreSQL restart (2 s): jobs retry, the reconciler re-queues what failed meanwhile', async () => {
    const result = await cases.run(
      'PostgreSQL restart, 2 s down',
      { service: 'time_synchronization' },
      healthy(),
      () => bench.restartPostgres(2_000),
      150_000,
    );
    expect(result).toMatchObject({ lost: 0, stuck: 0 });
  });

  it('PostgreSQL restart (45 s): longer than every retry of a job', async () => {
    const result = await cases.run(
      'PostgreSQL restart, 45 s down',
      { service: 'aux_relay_operations', operate: 0 },
      healthy(),
      () => bench.restartPostgres(45_000),
      180_000,
    );
    expect(result).toMatchObject({ lost: 0, stuck: 0 });
  });
});
