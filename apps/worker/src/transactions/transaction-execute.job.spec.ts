import { Job } from 'bullmq';
import { AppConfig } from '@hes/config';
import { DriverError, DriverRegistry, OperationContext } from '@hes/drivers';
import { JobQueueRepository, QueueUnavailableError } from '@hes/queue';
import {
  CommunicationHistoryRepository,
  DeviceCreationService,
  DeviceDirectory,
  GatewayGate,
  LevelTimes,
  MeterVisualsRepository,
  ResolvedDevice,
  SLICE_LOCK_CHECK_MS,
  TransactionStatusRepository,
  UdilCommandRunner,
  UdilParameterRunner,
  UdilReadRunner,
} from '@hes/transactions';
import { TransactionExecuteJob } from './transaction-execute.job';

/** What the job asked of TRANSACTION_STATUS, in order. */
type Call = string;

/**
 * The job with its collaborators replaced by recorders; `operate` plays the driver's part of the command
 * (its progress reports and exchanges).
 */
function jobWith(
  operate: (ctx: OperationContext, device: string) => Promise<void>,
  {
    live = true,
    cancelled = false,
    lookup,
    gate: gateOverrides = {},
    queues = {},
    config = {},
    completion,
  }: {
    live?: boolean;
    /** The row was cancelled: every level statement finds it so. */
    cancelled?: boolean;
    lookup?: () => Promise<ResolvedDevice>;
    gate?: Record<string, unknown>;
    queues?: Record<string, unknown>;
    config?: Partial<AppConfig>;
    /** What the completion's statement does after it is recorded (default: the row completed). */
    completion?: () => Promise<boolean>;
  } = {},
) {
  const calls: Call[] = [];
  /** The times of the levels written with a later statement, as each statement was given them. */
  const stamps: LevelTimes[] = [];
  const stamped = (reached?: LevelTimes) => (reached ? ` (stamping ${Object.keys(reached).join(', ')})` : '');
  const statuses = {
    start: async (_t: string, device: string) => {
      calls.push('start');
      await new Promise((resolve) => setTimeout(resolve, 5));
      calls.push('started');
      if (!live) return undefined;
      return {
        transactionid: 'T',
        global_device_id: device,
        msn: '1',
        type: 'AUX_RELAY_OPERATIONS',
        type_parameters: '{"relay_operate":"1"}',
        command_receiving_datetime: new Date('2026-11-30T10:00:00Z'),
        status_level: 1,
      };
    },
    advance: (_t: string, _d: string, level: number, _at: Date, reached?: LevelTimes) => {
      calls.push(`advance ${level}${stamped(reached)}`);
      if (reached) stamps.push(reached);
      return new Promise((resolve) => setTimeout(() => resolve(!cancelled), 2));
    },
    complete: (
      _t: string,
      _d: string,
      response: string,
      _at: Date,
      traces?: unknown,
      reached?: LevelTimes,
    ) => {
      calls.push(`complete ${response}${traces ? ' with traces' : ''}${stamped(reached)}`);
      if (reached) stamps.push(reached);
      return completion ? completion() : Promise.resolve(true);
    },
    fail: (_t: string, _d: string, reason: string) => {
      calls.push(`fail ${reason}`);
      return Promise.resolve();
    },
    find: () => Promise.resolve(cancelled ? { request_cancelled: 1, status_level: 1 } : undefined),
    note: (_t: string, device: string, reason: string) => {
      calls.push(`note ${device} ${reason}`);
      return Promise.resolve();
    },
  };
  const targetOf = (device: string) =>
    ({
      device: { msn: '1', driver: 'TEST' },
      address: { globalDeviceId: device, msn: '1', serial: '1', gateway: { id: 'g', name: 'gw' } },
    }) as unknown as ResolvedDevice;
  const runner = {
    run: async (
      _command: unknown,
      _parameters: unknown,
      target: ResolvedDevice,
      _driver: unknown,
      ctx: OperationContext,
    ) => {
      await operate(ctx, target.address.globalDeviceId);
      return { response: 'relay connected' };
    },
  };
  const lease = { gatewayId: 'g' };
  const gate = {
    admit: () => Promise.resolve(lease),
    admitOr: () => Promise.resolve(lease),
    observe: () => Promise.resolve(undefined),
    leave: () => Promise.resolve(),
    keep: () => Promise.resolve(undefined),
    postpone: (_job: Job, _token: string | undefined, at: number) => {
      calls.push(`put back ${at}`);
      return Promise.reject(new Error('put back'));
    },
    ...gateOverrides,
  };
  const job = new TransactionExecuteJob(
    statuses as unknown as TransactionStatusRepository,
    {
      resolve: (device: string) => {
        calls.push('lookup');
        return lookup ? lookup() : Promise.resolve(targetOf(device));
      },
    } as unknown as DeviceDirectory,
    { names: () => ['TEST'], get: () => ({}) } as unknown as DriverRegistry,
    runner as unknown as UdilCommandRunner,
    {} as DeviceCreationService,
    {} as UdilReadRunner,
    {} as UdilParameterRunner,
    { update: () => Promise.resolve() } as unknown as MeterVisualsRepository,
    { record: () => Promise.resolve() } as unknown as CommunicationHistoryRepository,
    queues as unknown as JobQueueRepository,
    gate as unknown as GatewayGate,
    {
      TIME_ZONE: 'UTC',
      WORKER_CONCURRENCY: 4,
      TRANSACTION_ATTEMPTS: 5,
      TRANSACTION_BACKOFF_MS: 2000,
      GATEWAY_LEASE_SECONDS: 10,
      TRANSACTION_LEVEL_DELAY_MS: 1000,
      ...config,
    } as AppConfig,
  );
  const run = () =>
    job.execute({ transactionid: 'T', globalDeviceId: 'D', receivedAt: '2026-11-30T10:00:00Z' }, {
      attemptsMade: 0,
      opts: { attempts: 1 },
    } as unknown as Job);
  return { calls, stamps, run, job };
}

describe('TransactionExecuteJob: levels 2 and 4, written with the next level', () => {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('level 2 rides on level 3, level 4 on the completion, each with the time it was reached (two statements fewer)', async () => {
    // Before each level is reached, and after the exchange that follows it (before the next statement).
    const moments: number[] = [];
    const { calls, stamps, run } = jobWith(async (ctx) => {
      moments.push(Date.now());
      await ctx.progress(2);
      await pause(10); // the gateway's first exchange
      moments.push(Date.now());
      await ctx.progress(3);
      moments.push(Date.now());
      await ctx.progress(4, 'output 1 set to 1');
      await pause(10); // the state read back from the meter
      moments.push(Date.now());
    });
    await run();
    expect(calls.slice(3)).toEqual([
      'advance 3 (stamping 2)',
      'complete relay connected with traces (stamping 4)',
    ]);
    // Stamped with when they were reached, not when their statement went out (after the exchange).
    const [level2, level4] = [stamps[0][2]!.getTime(), stamps[1][4]!.getTime()];
    expect(level2).toBeGreaterThanOrEqual(moments[0]);
    expect(level2).toBeLessThan(moments[1]);
    expect(level4).toBeGreaterThanOrEqual(moments[2]);
    expect(level4).toBeLessThan(moments[3]);
  });

  it('writes a level on its own when its next one does not come within TRANSACTION_LEVEL_DELAY_MS', async () => {
    const { calls, run } = jobWith(
      async (ctx) => {
        await ctx.progress(2);
        await pause(60); // a gateway slow to answer
        await ctx.progress(3);
        await ctx.progress(4);
        await pause(60); // a meter slow to answer
      },
      { config: { TRANSACTION_LEVEL_DELAY_MS: 20 } },
    );
    await run();
    expect(calls.slice(3)).toEqual([
      'advance 2 (stamping 2)',
      'advance 3',
      'advance 4 (stamping 4)',
      'complete relay connected with traces',
    ]);
  });

  it('writes the levels reached before the failure when the driver fails after them', async () => {
    const { calls, run } = jobWith(async (ctx) => {
      await ctx.progress(2);
      await ctx.progress(3);
      await ctx.progress(4);
      throw new DriverError('device', 'output reads 0 after being set to 1', false);
    });
    expect(await run()).toMatch(/^failed: /);
    expect(calls.slice(3)).toEqual([
      'advance 3 (stamping 2)',
      'advance 4 (stamping 4)',
      'fail device: output reads 0 after being set to 1',
    ]);
  });

  it('a level written on its own that finds the row cancelled stops the operation: the row ends cancelled, not failed', async () => {
    const { calls, run } = jobWith(
      async (ctx) => {
        await ctx.progress(2);
        // The gateway does not answer before the cancellation's signal ends the exchange.
        await new Promise<void>((_resolve, reject) =>
          ctx.signal!.addEventListener('abort', () =>
            reject(new DriverError('timeout', 'GET /about: cancelled', false)),
          ),
        );
      },
      { cancelled: true, config: { TRANSACTION_LEVEL_DELAY_MS: 20 } },
    );
    expect(await run()).toBe('cancelled');
    expect(calls.slice(3)).toEqual(['advance 2 (stamping 2)']);
  });
});

describe('TransactionExecuteJob: the device lookup', () => {
  it('runs while the row starts (one round trip instead of two)', async () => {
    const { calls, run } = jobWith(() => Promise.resolve());
    await run();
    expect(calls.slice(0, 3)).toEqual(['lookup', 'start', 'started']);
  });

  it('fails the row with its reason when it fails, and is left alone for a row that is not live', async () => {
    const refused = () =>
      Promise.reject(new DriverError('refused', 'global_device_id D is no longer registered', false));
    const failing = jobWith(() => Promise.resolve(), { lookup: refused });
    expect(await failing.run()).toBe('failed: refused: global_device_id D is no longer registered');
    const notLive = jobWith(() => Promise.resolve(), { lookup: refused, live: false });
    expect(await notLive.run()).toBe('nothing to do (cancelled, finished or unknown)');
  });
});

describe('TransactionExecuteJob: the database fails, not the device', () => {
  const terminated = () => Promise.reject(new Error('Connection terminated unexpectedly'));

  it('leaves the row live for a retry when the completion statement loses its connection', async () => {
    // The meter carried the command out; the next statements (history, fail) would succeed.
    const { calls, run } = jobWith(() => Promise.resolve(), { completion: terminated });
    await expect(run()).rejects.toThrow('Connection terminated unexpectedly');
    expect(calls.filter((call) => call.startsWith('fail'))).toEqual([]);
  });

  it('leaves the row live for a retry when the device lookup loses its connection', async () => {
    const { calls, run } = jobWith(() => Promise.resolve(), { lookup: terminated });
    await expect(run()).rejects.toThrow('Connection terminated unexpectedly');
    expect(calls.filter((call) => call.startsWith('fail'))).toEqual([]);
  });

  it("fails the row of a gateway that refuses connections: the socket error is the device's, not the database's", async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    const { calls, run } = jobWith(() =>
      Promise.reject(new DriverError('unreachable', 'GET /about: connection refused', true, refused)),
    );
    expect(await run()).toBe('failed: unreachable: GET /about: connection refused after 1 attempt(s)');
    expect(calls.at(-1)).toBe('fail unreachable: GET /about: connection refused after 1 attempt(s)');
  });

  it('still fails the row for a statement PostgreSQL refused (not a connection fault)', async () => {
    const refused = () => Promise.reject(Object.assign(new Error('value too long'), { code: '22001' }));
    const { calls, run } = jobWith(() => Promise.resolve(), { completion: refused });
    expect(await run()).toBe('failed: head-end error: value too long (attempt 1 of 1)');
    expect(calls.at(-1)).toBe('fail head-end error: value too long (attempt 1 of 1)');
  });
});

describe('TransactionExecuteJob: a slice of a gateway', () => {
  const devices = ['D1', 'D2', 'D3', 'D4', 'D5'].map((globalDeviceId) => ({
    globalDeviceId,
    receivedAt: '2026-11-30T10:00:00Z',
  }));
  /** A BullMQ job of the slice that records what the handler kept of its payload and its lock renewals. */
  let lockHeld = true;
  beforeEach(() => {
    lockHeld = true;
  });
  // The clock some tests stop (Date.now), restored even when an assertion failed.
  afterEach(() => jest.restoreAllMocks());
  const sliceJob = () => {
    const kept: string[][] = [];
    const locks: string[] = [];
    const job = {
      id: 'ts-1',
      extendLock: (token: string) => {
        locks.push(token);
        return Promise.resolve(lockHeld ? 1 : 0);
      },
      attemptsMade: 0,
      opts: { attempts: 5 },
      updateData: (data: { devices: { globalDeviceId: string }[] }) => {
        kept.push(data.devices.map((d) => d.globalDeviceId));
        return Promise.resolve();
      },
    } as unknown as Job;
    return { job, kept, locks };
  };

  it('runs every device, never more than its lanes at once', async () => {
    let running = 0;
    let most = 0;
    const ran: string[] = [];
    const { job } = jobWith(async (_ctx, device) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running -= 1;
      ran.push(device);
    });
    const { job: bullJob, kept } = sliceJob();
    expect(await job.executeSlice({ transactionid: 'T', devices, lanes: 2 }, bullJob)).toBe(
      '5 device(s) run, 0 handed on to a retry, 0 left',
    );
    expect(ran.sort()).toEqual(['D1', 'D2', 'D3', 'D4', 'D5']);
    expect(most).toBe(2);
    expect(kept).toEqual([]);
  });

  it('hands a device whose attempt may be retried on to a job of its own, with the backoff', async () => {
    const added: unknown[] = [];
    const { job, calls } = jobWith(
      (_ctx, device) =>
        device === 'D3' ? Promise.reject(new DriverError('timeout', 'no answer', true)) : Promise.resolve(),
      {
        queues: {
          add: (name: string, data: unknown, options: { jobId: string; attempts: number; delay: number }) => {
            added.push({ name, data, attempts: options.attempts, delay: options.delay });
            return Promise.resolve('id');
          },
        },
      },
    );
    const { job: bullJob } = sliceJob();
    expect(await job.executeSlice({ transactionid: 'T', devices, lanes: 2 }, bullJob)).toBe(
      '4 device(s) run, 1 handed on to a retry, 0 left',
    );
    expect(added).toEqual([
      {
        name: 'transaction.execute',
        data: {
          transactionid: 'T',
          globalDeviceId: 'D3',
          receivedAt: '2026-11-30T10:00:00Z',
          attemptsBefore: 1,
        },
        attempts: 4,
        delay: 2000,
      },
    ]);
    // The row was not failed: its retry will run it.
    expect(calls.filter((call) => call.startsWith('fail'))).toEqual([]);
  });

  it('keeps the devices not done and is put back when its gateway is busy', async () => {
    let admitted = 0;
    const ran: string[] = [];
    const { job, calls } = jobWith(
      (_ctx, device) => {
        ran.push(device);
        return new Promise((resolve) => setTimeout(resolve, 5));
      },
      {
        gate: {
          // Two leases, then every lease is held by someone else.
          admitOr: (
            _gateway: unknown,
            _at: Date,
            _deferred: unknown,
            putBack: (at: number) => Promise<never>,
          ) => (admitted++ < 2 ? Promise.resolve({ gatewayId: 'g' }) : putBack(12345)),
        },
      },
    );
    const { job: bullJob, kept } = sliceJob();
    await expect(
      job.executeSlice({ transactionid: 'T', devices, lanes: 1 }, bullJob, 'token'),
    ).rejects.toThrow('put back');
    expect(ran).toEqual(['D1', 'D2']);
    expect(kept).toEqual([['D3', 'D4', 'D5']]);
    expect(calls).toContain('put back 12345');
  });

  it('notes the reason on every device left when its gateway is marked down', async () => {
    const { job, calls } = jobWith(() => Promise.resolve(), {
      gate: {
        admitOr: (
          _gateway: unknown,
          _at: Date,
          deferred: (reason: string) => Promise<void>,
          putBack: (at: number, reason?: string) => Promise<never>,
        ) => deferred('deferred: down').then(() => putBack(99, 'deferred: down')),
      },
    });
    const { job: bullJob, kept } = sliceJob();
    await expect(job.executeSlice({ transactionid: 'T', devices, lanes: 1 }, bullJob)).rejects.toThrow(
      'put back',
    );
    expect(kept).toEqual([['D1', 'D2', 'D3', 'D4', 'D5']]);
    expect(calls.filter((call) => call.startsWith('note'))).toEqual(
      devices.map((d) => `note ${d.globalDeviceId} deferred: down`),
    );
  });

  it('starts no more devices once the worker stops, and puts the rest back', async () => {
    const ran: string[] = [];
    const { job, calls } = jobWith((_ctx, device) => {
      ran.push(device);
      if (device === 'D2') job.stopSlices();
      return Promise.resolve();
    });
    const { job: bullJob, kept } = sliceJob();
    await expect(job.executeSlice({ transactionid: 'T', devices, lanes: 1 }, bullJob)).rejects.toThrow(
      'put back',
    );
    expect(ran).toEqual(['D1', 'D2']);
    expect(kept).toEqual([['D3', 'D4', 'D5']]);
    expect(calls.some((call) => call.startsWith('put back'))).toBe(true);
  });

  it('is retried by the queue with the devices not done when the head-end itself fails', async () => {
    const { job } = jobWith((_ctx, device) =>
      device === 'D2' ? Promise.reject(new Error('unexpected')) : Promise.resolve(),
    );
    // A head-end error fails the row itself (as for a single job); a fault of the store escapes.
    const failing = jobWith(() => Promise.resolve(), {
      gate: {
        admitOr: () => Promise.reject(new QueueUnavailableError('leases', new Error('ECONNREFUSED'))),
      },
    });
    const { job: bullJob } = sliceJob();
    expect(await job.executeSlice({ transactionid: 'T', devices, lanes: 1 }, bullJob)).toBe(
      '5 device(s) run, 0 handed on to a retry, 0 left',
    );
    const { job: other, kept } = sliceJob();
    await expect(
      failing.job.executeSlice({ transactionid: 'T', devices, lanes: 2 }, other),
    ).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(kept).toEqual([['D1', 'D2', 'D3', 'D4', 'D5']]);
  });

  it('renews its lock before a device once SLICE_LOCK_CHECK_MS have passed, and stops once the job is no longer its own', async () => {
    // Every device starts SLICE_LOCK_CHECK_MS after the one before: each renews the lock.
    let now = Date.parse('2026-11-30T10:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => (now += SLICE_LOCK_CHECK_MS));
    const ran: string[] = [];
    const { job } = jobWith((_ctx, device) => {
      ran.push(device);
      // Redis lost the job (or another worker took it) while D2 ran.
      if (device === 'D2') lockHeld = false;
      return Promise.resolve();
    });
    const { job: bullJob, kept, locks } = sliceJob();
    expect(await job.executeSlice({ transactionid: 'T', devices, lanes: 1 }, bullJob, 'token')).toBe(
      '2 device(s) run, 0 handed on to a retry, 3 left (the job was lost)',
    );
    expect(ran).toEqual(['D1', 'D2']);
    expect(locks).toEqual(['token', 'token', 'token']);
    // Nothing is written to a job that is gone or someone else's.
    expect(kept).toEqual([]);
  });

  it('renews its lock once per SLICE_LOCK_CHECK_MS, not per device, and finds a lost job at the next renewal', async () => {
    let now = Date.parse('2026-11-30T10:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const ran: string[] = [];
    const { job } = jobWith((_ctx, device) => {
      ran.push(device);
      // Redis lost the job while D2 ran; D3 starts within the second of the last renewal, D4 after it.
      if (device === 'D2') lockHeld = false;
      if (device === 'D3') now += SLICE_LOCK_CHECK_MS;
      return Promise.resolve();
    });
    const { job: bullJob, kept, locks } = sliceJob();
    const summary = await job.executeSlice({ transactionid: 'T', devices, lanes: 1 }, bullJob, 'token');
    expect(summary).toBe('3 device(s) run, 0 handed on to a retry, 2 left (the job was lost)');
    expect(ran).toEqual(['D1', 'D2', 'D3']);
    // Renewed before D1, then not until SLICE_LOCK_CHECK_MS had passed: before D4, which found the job gone.
    expect(locks).toEqual(['token', 'token']);
    expect(kept).toEqual([]);
  });

  it('shares one renewal between lanes that start devices at once', async () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const { job } = jobWith(() => Promise.resolve());
    const { job: bullJob, locks } = sliceJob();
    const summary = await job.executeSlice({ transactionid: 'T', devices, lanes: 3 }, bullJob, 'token');
    expect(summary).toBe('5 device(s) run, 0 handed on to a retry, 0 left');
    expect(locks).toEqual(['token']);
  });

  /**
   * A gate of one gateway whose leases record what the slice did with them (admit, carry, leave) and
   * which slots are still held; an exchange is answered unless the driver failed.
   */
  const recordingGate = () => {
    const events: string[] = [];
    const held = new Set<number>();
    let slots = 0;
    type Lease = { gatewayId: string; slot: number; answered: boolean };
    const lease = (slot: number): Lease => ({ gatewayId: 'g', slot, answered: false });
    const gate = {
      admitOr: () => {
        events.push('admit');
        held.add(++slots);
        return Promise.resolve(lease(slots));
      },
      observe: (_gateway: unknown, error: unknown, used: Lease) => {
        if (!error) used.answered = true;
        return Promise.resolve(undefined);
      },
      keep: (used: Lease) => {
        if (!used.answered) return Promise.resolve(undefined);
        events.push('carry');
        return Promise.resolve(lease(used.slot));
      },
      leave: (used: Lease) => {
        events.push('leave');
        held.delete(used.slot);
        return Promise.resolve();
      },
    };
    return { gate, events, held };
  };

  it("keeps its gateway's lease from one device to the next while the gateway answers, and gives it back at the end", async () => {
    const { gate, events, held } = recordingGate();
    const ran: string[] = [];
    const { job } = jobWith(
      (_ctx, device) => {
        ran.push(device);
        return Promise.resolve();
      },
      { gate },
    );
    expect(await job.executeSlice({ transactionid: 'T', devices, lanes: 1 }, sliceJob().job)).toBe(
      '5 device(s) run, 0 handed on to a retry, 0 left',
    );
    expect(ran).toEqual(['D1', 'D2', 'D3', 'D4', 'D5']);
    expect(events).toEqual(['admit', 'carry', 'carry', 'carry', 'carry', 'leave']);
    expect(held.size).toBe(0);
  });

  it('gives the lease back after a device the gateway did not answer, and when the gate will not keep it', async () => {
    const { gate, events, held } = recordingGate();
    const added: string[] = [];
    let refuse = false;
    const { job } = jobWith(
      (_ctx, device) => {
        // After D4 someone waits for the gateway: the gate keeps the lease no longer.
        refuse = device === 'D4';
        return device === 'D2'
          ? Promise.reject(new DriverError('timeout', 'no answer', true))
          : Promise.resolve();
      },
      {
        gate: {
          ...gate,
          keep: (used: Parameters<typeof gate.keep>[0]) =>
            refuse ? Promise.resolve(undefined) : gate.keep(used),
        },
        queues: {
          add: (_name: string, data: { globalDeviceId: string }) => {
            added.push(data.globalDeviceId);
            return Promise.resolve('id');
          },
        },
      },
    );
    const more = [...devices, { globalDeviceId: 'D6', receivedAt: '2026-11-30T10:00:00Z' }];
    expect(await job.executeSlice({ transactionid: 'T', devices: more, lanes: 1 }, sliceJob().job)).toBe(
      '5 device(s) run, 1 handed on to a retry, 0 left',
    );
    expect(added).toEqual(['D2']);
    // D1 admitted, kept for D2, which timed out: left. D3 admitted anew (the breaker is met again), kept
    // for D4; after D4 the gate keeps it no longer: left, and D5 admitted anew, kept for D6, left at the end.
    expect(events).toEqual(['admit', 'carry', 'leave', 'admit', 'carry', 'leave', 'admit', 'carry', 'leave']);
    expect(held.size).toBe(0);
  });

  it('gives its kept lease back when the worker stops', async () => {
    const { gate, events, held } = recordingGate();
    const { job } = jobWith(
      (_ctx, device) => {
        if (device === 'D2') job.stopSlices();
        return Promise.resolve();
      },
      { gate: { ...gate, postpone: () => Promise.reject(new Error('put back')) } },
    );
    await expect(job.executeSlice({ transactionid: 'T', devices, lanes: 2 }, sliceJob().job)).rejects.toThrow(
      'put back',
    );
    expect(events.filter((e) => e === 'admit').length).toBe(events.filter((e) => e === 'leave').length);
    expect(held.size).toBe(0);
  });
});
