/**
 * The OMEGA_ISERVER2 driver when the unit misbehaves: expired tokens, refused logins, answers that come
 * too late, sockets dropped mid-command or while idle, a unit that is down and comes back.
 */
import { DriverError, OperationContext } from '@hes/drivers';
import { IServer2Driver, IServer2Maintenance } from '@hes/drivers/iserver2';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { gatewayFor, recordingContext } from './iserver2-support';

describe('OMEGA_ISERVER2 driver: fault paths', () => {
  let sim: IServer2SimulatorHandle;
  let driver: IServer2Driver;
  let maintenance: IServer2Maintenance;

  beforeEach(async () => {
    sim = await startIServer2Simulator({ port: 0, probeCount: 1 });
    driver = new IServer2Driver({ connectAttempts: 3, backoffMs: 20 });
    maintenance = new IServer2Maintenance(driver.units);
  });

  afterEach(async () => {
    await driver.close();
    await sim.stop();
  });

  it('logs in again, transparently, when the unit no longer accepts the token', async () => {
    const gateway = gatewayFor(sim);
    await driver.readCalibration(gateway, 'p1ch0', recordingContext());
    expect(sim.stats().logins).toBe(1);
    sim.expireTokens();
    const ctx = recordingContext();
    expect(await driver.readCalibration(gateway, 'p1ch0', ctx)).toEqual({
      channel: 'p1ch0',
      gain: 1,
      offset: 0,
    });
    expect(sim.stats().logins).toBe(2);
    expect(sim.stats().connections).toBe(1);
    expect(
      ctx.lines.some((line) => line.includes('refused the token') && line.includes('logging in again')),
    ).toBe(true);
    expect(ctx.lines.filter((line) => line.startsWith('WS adjustInfo'))).toHaveLength(2);
  });

  it('expires tokens by age too (tokenTtlSeconds), and logs in again', async () => {
    await sim.stop();
    sim = await startIServer2Simulator({ port: 0, probeCount: 1, tokenTtlSeconds: 0.05 });
    const gateway = gatewayFor(sim);
    await maintenance.readAlarmStatus(gateway, 'p1ch0', recordingContext());
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await maintenance.readAlarmStatus(gateway, 'p1ch0', recordingContext())).code).toBe(0);
    expect(sim.stats().logins).toBe(2);
  });

  it('fails with an authentication error, not retryable, when the new login is refused', async () => {
    const gateway = gatewayFor(sim);
    await driver.readCalibration(gateway, 'p1ch0', recordingContext());
    sim.expireTokens();
    sim.refuseLogins(true);
    const error = await driver.readCalibration(gateway, 'p1ch0', recordingContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriverError);
    expect(error).toMatchObject({ kind: 'authentication', retryable: false });
    expect((error as Error).message).toContain('authentication error');
  });

  it('fails with an authentication error when the credentials are wrong, before sending the command', async () => {
    const ctx = recordingContext();
    const error = await driver
      .readSensors(gatewayFor(sim, { password: 'wrong' }), ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'authentication', retryable: false });
    expect(ctx.levels).toEqual([2]); // connected, never logged in
    expect(sim.stats().commands.probeList).toBeUndefined();
  });

  it('times out a command the unit answers too late, then works again on a new socket', async () => {
    const gateway = gatewayFor(sim, { requestTimeoutMs: 150 });
    await driver.readCalibration(gateway, 'p1ch0', recordingContext()); // logged in, socket open
    sim.setLatency(600);
    const ctx = recordingContext();
    const error = await driver.readCalibration(gateway, 'p1ch1', ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(ctx.levels).toEqual([2, 3, 4]);
    expect(ctx.lines.some((line) => line.includes('no answer within 150 ms'))).toBe(true);
    sim.setLatency(0);
    await driver.writeCalibration(gateway, { channel: 'p1ch1', gain: 1.25, offset: 0 }, recordingContext());
    expect(await driver.readCalibration(gateway, 'p1ch1', recordingContext())).toEqual({
      channel: 'p1ch1',
      gain: 1.25,
      offset: 0,
    });
    expect(sim.stats().connections).toBe(2);
  });

  it('fails a command whose socket is dropped mid-command, retryable, and reconnects for the next', async () => {
    const gateway = gatewayFor(sim);
    await driver.readCalibration(gateway, 'p1ch0', recordingContext());
    sim.dropNextCommands(1);
    const ctx = recordingContext();
    const error = await maintenance.readAlarmSettings(gateway, 'p1ch0', ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unreachable', retryable: true });
    expect((error as Error).message).toContain('alarmInfo was waiting');
    expect(ctx.levels).toEqual([2, 3, 4]);
    const settings = await maintenance.readAlarmSettings(gateway, 'p1ch0', recordingContext());
    expect(settings.channel).toBe('p1ch0');
    expect(sim.stats().connections).toBe(2);
    expect(sim.stats().logins).toBe(1); // the token outlives the socket
  });

  it('reconnects transparently when the socket was dropped while idle', async () => {
    const gateway = gatewayFor(sim);
    await driver.readCalibration(gateway, 'p1ch0', recordingContext());
    sim.dropConnections();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const ctx = recordingContext();
    expect((await driver.readSensors(gateway, ctx)).length).toBe(3);
    expect(ctx.levels).toEqual([2, 3, 4]);
    expect(sim.stats().connections).toBe(2);
  });

  it('gives up, retryable, after its connection attempts when the unit is down', async () => {
    const gateway = gatewayFor(sim);
    await sim.stop();
    const ctx = recordingContext();
    const error = await driver.readSensors(gateway, ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unreachable', retryable: true });
    expect(ctx.lines.filter((line) => / attempt \d\/3 failed/.test(line))).toHaveLength(3);
    expect(ctx.levels).toEqual([2]);
    sim = await startIServer2Simulator({ port: 0, probeCount: 1 }); // for afterEach
  });

  it('reaches a unit that comes back while it backs off', async () => {
    const port = sim.port;
    const gateway = gatewayFor(sim);
    await sim.stop();
    const slowDriver = new IServer2Driver({ connectAttempts: 6, backoffMs: 100 });
    try {
      const reading = slowDriver.readSensors(gateway, recordingContext());
      await new Promise((resolve) => setTimeout(resolve, 150));
      sim = await startIServer2Simulator({ port, httpPort: 0, probeCount: 1 });
      expect((await reading).map((r) => r.channel)).toEqual(['p1ch0', 'p1ch1', 'p1ch2']);
    } finally {
      await slowDriver.close();
    }
  });

  it('closes the socket after its idle time and opens a new one when used again', async () => {
    const idleDriver = new IServer2Driver({ idleCloseMs: 50 });
    try {
      const gateway = gatewayFor(sim);
      await idleDriver.readCalibration(gateway, 'p1ch0', recordingContext());
      expect(sim.stats().openConnections).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(sim.stats().openConnections).toBe(0);
      await idleDriver.readCalibration(gateway, 'p1ch0', recordingContext());
      expect(sim.stats().connections).toBe(2);
    } finally {
      await idleDriver.close();
    }
  });

  it('keeps one socket per unit', async () => {
    const other = await startIServer2Simulator({ port: 0, probeCount: 2, serial: 'F2215i039999' });
    try {
      const [a, b] = await Promise.all([
        maintenance.readUnitMetadata(gatewayFor(sim), recordingContext()),
        maintenance.readUnitMetadata(gatewayFor(other, { id: 'gw-other' }), recordingContext()),
      ]);
      expect(a.dualProbe).toBe(false);
      expect(b.serial).toBe('F2215i039999');
      expect(sim.stats().connections).toBe(1);
      expect(other.stats().connections).toBe(1);
    } finally {
      await other.stop();
    }
  });

  it('stops waiting when the caller aborts', async () => {
    const gateway = gatewayFor(sim);
    await driver.readCalibration(gateway, 'p1ch0', recordingContext());
    sim.setLatency(500);
    const controller = new AbortController();
    const pending = driver.readCalibration(gateway, 'p1ch0', {
      ...recordingContext(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ message: expect.stringContaining('aborted') });
  });

  describe('progress is awaited: a cancel that wins at level 2 stops the command', () => {
    /**
     * A transaction row as the database decides it (docs/architecture.md, core idea 2): a level update succeeds
     * only while the row is not cancelled, a cancel only at levels 0–2. The driver's progress calls are
     * the level updates.
     */
    function transactionRow(): {
      ctx: OperationContext & { levels: number[] };
      cancel(): boolean;
      level(): number;
    } {
      let level = 1;
      let cancelled = false;
      const levels: number[] = [];
      const ctx = {
        levels,
        progress: async (next: number): Promise<void> => {
          await Promise.resolve(); // a database round trip
          if (cancelled) throw new Error(`transaction cancelled before level ${next}`);
          level = next;
          levels.push(next);
        },
      };
      return {
        ctx,
        cancel: () => {
          if (level > 2) return false;
          cancelled = true;
          return true;
        },
        level: () => level,
      };
    }

    it('a cancel racing the write wins at level 2: the write never reaches the unit', async () => {
      const gateway = gatewayFor(sim);
      await driver.readCalibration(gateway, 'p1ch0', recordingContext()); // socket open, logged in
      const row = transactionRow();
      let cancelAccepted: boolean | undefined;
      const racing: OperationContext = {
        progress: async (level) => {
          await row.ctx.progress(level);
          // The operator's cancel arrives right after level 2 was stamped, before the driver goes on.
          if (level === 2) cancelAccepted = row.cancel();
        },
      };
      await expect(
        driver.writeCalibration(gateway, { channel: 'p1ch0', gain: 2, offset: 1 }, racing),
      ).rejects.toThrow('transaction cancelled before level 3');
      expect(cancelAccepted).toBe(true);
      expect(row.ctx.levels).toEqual([2]);
      expect(row.level()).toBe(2);
      const writes = sim.stats().commands.adjustInfo ?? 0;
      expect(writes).toBe(1); // the read above; no write
      expect(await driver.readCalibration(gateway, 'p1ch0', recordingContext())).toEqual({
        channel: 'p1ch0',
        gain: 1,
        offset: 0,
      });
    });

    it('a cancel that comes after level 3 is refused and the write completes', async () => {
      const gateway = gatewayFor(sim);
      const row = transactionRow();
      let cancelAccepted: boolean | undefined;
      const late: OperationContext = {
        progress: async (level) => {
          await row.ctx.progress(level);
          if (level === 3) cancelAccepted = row.cancel();
        },
      };
      await driver.writeCalibration(gateway, { channel: 'p1ch1', gain: 2, offset: 1 }, late);
      expect(cancelAccepted).toBe(false);
      expect(row.ctx.levels).toEqual([2, 3, 4]);
      expect(await driver.readCalibration(gateway, 'p1ch1', recordingContext())).toMatchObject({ gain: 2 });
    });

    it('a refused level 4 ends a multi-command operation before its next command', async () => {
      const gateway = gatewayFor(sim);
      const refusing: OperationContext = {
        progress: (level) => (level === 4 ? Promise.reject(new Error('level 4 refused')) : undefined),
      };
      await expect(driver.readSensors(gateway, refusing)).rejects.toThrow('level 4 refused');
      expect(sim.stats().commands.probeList).toBe(1);
      expect(sim.stats().commands.sensorMeta).toBeUndefined();
    });

    it('a refused level 2 opens no socket', async () => {
      const refusing: OperationContext = {
        progress: () => Promise.reject(new Error('cancelled at level 1')),
      };
      await expect(driver.readSensors(gatewayFor(sim), refusing)).rejects.toThrow('cancelled at level 1');
      expect(sim.stats().connections).toBe(0);
    });
  });
});
