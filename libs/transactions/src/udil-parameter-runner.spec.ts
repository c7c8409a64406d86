import { AppConfig } from '@hes/config';
import { Device } from '@hes/database';
import { DeviceDriver, DriverError, OperationContext, UnsupportedOperationError } from '@hes/drivers';
import { ParameterType, renderUdilXml } from '@hes/udil';
import { ResolvedDevice } from './device-directory';
import { MeterVisualsRepository } from './meter-visuals.repository';
import { UdilParameterRunner, majorAlarms } from './udil-parameter-runner';

const ZONE = 'Asia/Karachi';

function setUp(record: Record<string, unknown> | undefined, activationStatus = 1) {
  const visuals = { find: jest.fn(() => Promise.resolve(record)) } as unknown as MeterVisualsRepository;
  const runner = new UdilParameterRunner(visuals, { TIME_ZONE: ZONE } as AppConfig);
  const target = {
    device: { globalDeviceId: 'm1', msn: '3100001001', driver: 'TEST', activationStatus } as Device,
    address: { globalDeviceId: 'm1', msn: '3100001001', serial: '3100001001' },
  } as ResolvedDevice;
  const levels: number[] = [];
  const ctx: OperationContext = { progress: (level) => void levels.push(level) };
  return { runner, target, ctx, levels };
}

const driver = (operations: Partial<DeviceDriver>): DeviceDriver => ({
  name: 'TEST',
  capabilities: { refusals: {} },
  description: {
    label: 'test',
    settings: { endpointSchemes: ['https'], endpointExample: 'https://x', credentials: 'optional' },
  },
  ...operations,
});

describe('UdilParameterRunner', () => {
  it('answers from the device where the driver reads, and gives those values to METER_VISUALS', async () => {
    const { runner, target, ctx } = setUp({
      auxr_status: 0,
      auxr_datetime: new Date('2026-01-01T00:00:00Z'),
    });
    const outcome = await runner.run(
      ParameterType.AuxRelay,
      target,
      driver({ readSupplyRelay: () => Promise.resolve(true) }),
      ctx,
    );
    expect(outcome.item).toMatchObject({
      global_device_id: 'm1',
      msn: '3100001001',
      indv_status: '1',
      auxr_status: '1',
      remarks: 'Auxiliary Relay Status read from the meter through the TEST driver',
    });
    expect(outcome.item.auxr_datetime).not.toBe('2026-01-01 05:00:00');
    expect(outcome.visuals.auxr_status).toBe(1);
    expect(JSON.parse(outcome.response)).toEqual([outcome.item]);
  });

  it("answers from the record, stamping the head-end's own steps, when the driver has no such read", async () => {
    const { runner, target, ctx, levels } = setUp({
      dvtm_datetime: new Date('2026-01-01T00:00:00Z'),
      dvtm_meter_clock: new Date('2026-01-01T00:00:02Z'),
    });
    const outcome = await runner.run(ParameterType.DeviceTime, target, driver({}), ctx);
    expect(outcome.item).toEqual({
      global_device_id: 'm1',
      msn: '3100001001',
      indv_status: '1',
      remarks:
        "Device Time from the head-end's record of what it last programmed (METER_VISUALS): TEST driver does not support readClock",
      dvtm_datetime: '2026-01-01 05:00:00',
      dvtm_meter_clock: '2026-01-01 05:00:02',
    });
    expect(outcome.visuals).toEqual({});
    expect(levels).toEqual([2, 3, 4]);
  });

  it('a function the device cannot watch falls back to the record with the driver reason', async () => {
    const { runner, target, ctx } = setUp(undefined);
    const outcome = await runner.run(
      ParameterType.CurrentUnbalance,
      target,
      driver({
        readThresholdAlarm: () =>
          Promise.reject(new UnsupportedOperationError('TEST', 'the current unbalance function')),
      }),
      ctx,
    );
    expect(outcome.item.remarks).toMatch(/TEST driver does not support the current unbalance function$/);
    expect(outcome.item.cufc_enable_tripping).toBe('');
  });

  it('a device fault is not hidden behind the record: the executor retries or fails the row', async () => {
    const { runner, target, ctx } = setUp({ auxr_status: 1 });
    const fault = new DriverError('timeout', 'no answer', true);
    await expect(
      runner.run(
        ParameterType.AuxRelay,
        target,
        driver({
          readSupplyRelay: () => Promise.reject(fault),
        }),
        ctx,
      ),
    ).rejects.toBe(fault);
  });

  it('an inactive meter, LSCH and MTST are never read from the device', async () => {
    const read = jest.fn(() => Promise.resolve(true));
    const inactive = setUp({}, 0);
    const relay = await inactive.runner.run(
      ParameterType.AuxRelay,
      inactive.target,
      driver({ readSupplyRelay: read }),
      inactive.ctx,
    );
    expect(relay.item.remarks).toMatch(/the meter is inactive and is not read/);
    const active = setUp({ mtst_meter_activation_status: '1' });
    const status = await active.runner.run(ParameterType.MeterStatus, active.target, driver({}), active.ctx);
    expect(status.item.mtst_meter_activation_status).toBe('1');
    expect(status.item.remarks).toMatch(/meter status is head-end state/);
    expect(read).not.toHaveBeenCalled();
  });

  it('PMAL: the recorded list as objects of strings, [] when none; XML renders it', async () => {
    expect(majorAlarms(null)).toEqual([]);
    expect(majorAlarms('not json')).toEqual([]);
    expect(majorAlarms('[101, {"event_code": 102, "event_description": "Parameterization"}]')).toEqual([
      { event_code: '101', event_description: '' },
      { event_code: '102', event_description: 'Parameterization' },
    ]);
    const { runner, target, ctx } = setUp(undefined);
    const outcome = await runner.run(ParameterType.MajorAlarms, target, driver({}), ctx);
    expect(outcome.item.major_alarms_list).toEqual([]);
    expect(renderUdilXml({ status: '1', data: [outcome.item] })).toContain('<major_alarms_list>');
  });
});
