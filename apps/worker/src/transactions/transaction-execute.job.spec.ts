import { Job } from 'bullmq';
import { AppConfig } from '@hes/config';
import { DriverError, DriverRegistry, OperationContext } from '@hes/drivers';
import { JobQueueRepository } from '@hes/queue';
import {
  CommunicationHistoryRepository,
  DeviceCreationService,
  DeviceDirectory,
  GatewayGate,
  MeterVisualsRepository,
  ResolvedDevice,
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
  operate: (ctx: OperationContext) => Promise<void>,
  { live = true, lookup }: { live?: boolean; lookup?: () => Promise<ResolvedDevice> } = {},
) {
  const calls: Call[] = [];
  const statuses = {
    start: async () => {
      calls.push('start');
      await new Promise((resolve) => setTimeout(resolve, 5));
      calls.push('started');
      if (!live) return undefined;
      return {
        transactionid: 'T',
        global_device_id: 'D',
        msn: '1',
        type: 'AUX_RELAY_OPERATIONS',
        type_parameters: '{"relay_operate":"1"}',
        command_receiving_datetime: new Date('2026-11-30T10:00:00Z'),
        status_level: 1,
      };
    },
    advance: (_t: string, _d: string, level: number) => {
      calls.push(`advance ${level}`);
      return new Promise((resolve) => setTimeout(() => resolve(true), 2));
    },
    complete: (_t: string, _d: string, response: string, _at: Date, traces?: unknown) => {
      calls.push(`complete ${response}${traces ? ' with traces' : ''}`);
      return Promise.resolve(true);
    },
    fail: (_t: string, _d: string, reason: string) => {
      calls.push(`fail ${reason}`);
      return Promise.resolve();
    },
    find: () => Promise.resolve(undefined),
  };
  const target = {
    device: { msn: '1', driver: 'TEST' },
    address: { globalDeviceId: 'D', msn: '1', serial: '1', gateway: { id: 'g', name: 'gw' } },
  } as unknown as ResolvedDevice;
  const runner = {
    run: async (
      _command: unknown,
      _parameters: unknown,
      _target: unknown,
      _driver: unknown,
      ctx: OperationContext,
    ) => {
      await operate(ctx);
      return { response: 'relay connected' };
    },
  };
  const lease = { gatewayId: 'g' };
  const gate = {
    admit: () => Promise.resolve(lease),
    observe: () => Promise.resolve(undefined),
    leave: () => Promise.resolve(),
  };
  const job = new TransactionExecuteJob(
    statuses as unknown as TransactionStatusRepository,
    {
      resolve: () => {
        calls.push('lookup');
        return lookup ? lookup() : Promise.resolve(target);
      },
    } as unknown as DeviceDirectory,
    { names: () => ['TEST'], get: () => ({}) } as unknown as DriverRegistry,
    runner as unknown as UdilCommandRunner,
    {} as DeviceCreationService,
    {} as UdilReadRunner,
    {} as UdilParameterRunner,
    { update: () => Promise.resolve() } as unknown as MeterVisualsRepository,
    { record: () => Promise.resolve() } as unknown as CommunicationHistoryRepository,
    {} as JobQueueRepository,
    gate as unknown as GatewayGate,
    { TIME_ZONE: 'UTC' } as AppConfig,
  );
  const run = () =>
    job.execute({ transactionid: 'T', globalDeviceId: 'D', receivedAt: '2026-11-30T10:00:00Z' }, {
      attemptsMade: 0,
      opts: { attempts: 1 },
    } as unknown as Job);
  return { calls, run };
}

describe('TransactionExecuteJob: level 4', () => {
  it('is stamped by the completion when nothing is exchanged after it (one statement fewer)', async () => {
    const { calls, run } = jobWith(async (ctx) => {
      await ctx.progress(2);
      await ctx.progress(3);
      await ctx.progress(4, 'clock set');
    });
    await run();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.slice(3)).toEqual(['advance 2', 'advance 3', 'complete relay connected with traces']);
  });

  it('is written before the completion when the driver exchanges more after it', async () => {
    const { calls, run } = jobWith(async (ctx) => {
      await ctx.progress(2);
      await ctx.progress(3);
      await ctx.progress(4, 'output 1 set to 1');
      await new Promise((resolve) => setTimeout(resolve, 10)); // the state read back from the meter
    });
    await run();
    expect(calls.slice(3)).toEqual([
      'advance 2',
      'advance 3',
      'advance 4',
      'complete relay connected with traces',
    ]);
  });

  it('is written before the failure when the driver fails right after it', async () => {
    const { calls, run } = jobWith(async (ctx) => {
      await ctx.progress(2);
      await ctx.progress(3);
      await ctx.progress(4);
      throw new DriverError('device', 'output reads 0 after being set to 1', false);
    });
    expect(await run()).toMatch(/^failed: /);
    expect(calls.slice(3)).toEqual([
      'advance 2',
      'advance 3',
      'advance 4',
      'fail device: output reads 0 after being set to 1',
    ]);
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
