/**
 * The OMEGA_ISERVER2 driver against two device models: our simulator, and a unit that answers exactly as
 * the guide's examples print (test/support/iserver2-guide-unit.ts). Every driver operation runs against
 * both; the guide's quirks (channel 0 echoed for channel 1, "probeld", probeEventList beside the body,
 * dbupdate beside systemMeta) must not break any of them.
 */
import { GatewayEndpoint, OperationContext } from '@hes/drivers';
import { IServer2Driver, IServer2Maintenance } from '@hes/drivers/iserver2';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { GUIDE_SENSOR_TIME, GuideUnitHandle, startGuideUnit } from './support/iserver2-guide-unit';
import { gatewayAt, recordingContext } from './iserver2-support';

function gateway(endpoint: string, id: string): GatewayEndpoint {
  return gatewayAt(endpoint, { id, name: id });
}

type Operation = [name: string, run: (ctx: OperationContext) => Promise<unknown>];

/** Every public operation of the driver and of its maintenance class, per channel where it takes one (probe 1: channels 0–2). */
function operations(driver: IServer2Driver, gw: GatewayEndpoint): Operation[] {
  const maintenance = new IServer2Maintenance(driver.units);
  const channels = ['p1ch0', 'p1ch1', 'p1ch2'];
  const now = new Date();
  const relay = {
    relayId: 1,
    name: 'Relay1',
    normallyOpen: true,
    latch: false,
    log: false,
    display: true,
    triggers: { probeDisconnect: false, outOfMemory: false, lowBattery: true, contact: false },
    triggeredBy: ['p1ch0'],
  };
  return [
    ['readSensors', (ctx) => driver.readSensors(gw, ctx)],
    ['readDiagnostics', (ctx) => driver.readDiagnostics(gw, ctx)],
    [
      'readHistory',
      (ctx) => driver.readHistory(gw, channels, { from: new Date(now.getTime() - 60_000), to: now }, ctx),
    ],
    ...channels.flatMap((channel): Operation[] => [
      [`readCalibration ${channel}`, (ctx) => driver.readCalibration(gw, channel, ctx)],
      [
        `writeCalibration ${channel}`,
        (ctx) => driver.writeCalibration(gw, { channel, gain: 1, offset: 0 }, ctx),
      ],
      [`readAlarmSettings ${channel}`, (ctx) => maintenance.readAlarmSettings(gw, channel, ctx)],
      [
        `writeAlarmSettings ${channel}`,
        (ctx) =>
          maintenance.writeAlarmSettings(gw, { channel, type: 'high', highThreshold: 60, deadband: 5 }, ctx),
      ],
      [`readAlarmStatus ${channel}`, (ctx) => maintenance.readAlarmStatus(gw, channel, ctx)],
    ]),
    ['readLoggingConfig', (ctx) => maintenance.readLoggingConfig(gw, ctx)],
    [
      'writeLoggingConfig',
      (ctx) => maintenance.writeLoggingConfig(gw, { intervalSeconds: 5, enabled: true }, ctx),
    ],
    ['readRelay 1', (ctx) => maintenance.readRelay(gw, 1, ctx)],
    ['readRelay 2', (ctx) => maintenance.readRelay(gw, 2, ctx)],
    ['writeRelayTrigger', (ctx) => maintenance.writeRelayTrigger(gw, relay, ctx)],
    ['clearRelayLatch', (ctx) => maintenance.clearRelayLatch(gw, 1, ctx)],
    ['readContactClosure', (ctx) => maintenance.readContactClosure(gw, ctx)],
    [
      'writeContactClosure',
      (ctx) =>
        maintenance.writeContactClosure(
          gw,
          { contactOutput: { isDisplay: 1, isLog: 0, outputType: 2, isLatch: 0 } },
          ctx,
        ),
    ],
    ['clearContactOutputLatch', (ctx) => maintenance.clearContactOutputLatch(gw, ctx)],
    ['readProbeName', (ctx) => maintenance.readProbeName(gw, 1, ctx)],
    ['writeProbeName', (ctx) => maintenance.writeProbeName(gw, 1, 'Device_06', ctx)],
    ['readBuzzerTriggers', (ctx) => maintenance.readBuzzerTriggers(gw, ctx)],
    [
      'writeBuzzerTriggers',
      (ctx) =>
        maintenance.writeBuzzerTriggers(
          gw,
          {
            alarm: { isAlarmEnabled: 0, a: 0, b: 0, c: 0, d: 0, e: 0, f: 1, g: 0 },
            probeEventList: [{ probeInfo: { probe: 1, channel: 0, buzzer: 1 } }],
          },
          ctx,
        ),
    ],
    ['readNotificationTriggers', (ctx) => maintenance.readNotificationTriggers(gw, ctx)],
    [
      'writeNotificationTriggers',
      (ctx) =>
        maintenance.writeNotificationTriggers(
          gw,
          {
            notiInfo: { emailList: 'test@test.com', heartbeatInterval: 30, nextAlarmInterval: 30 },
            trigger: { a: 0, b: 0, c: 0, d: 0, e: 0, f: 1, g: 0 },
            probeEventList: [{ probeInfo: { probe: 1, channel: 0, isSend: 1 } }],
          },
          ctx,
        ),
    ],
    ['readProbeMetadata', (ctx) => maintenance.readProbeMetadata(gw, 1, ctx)],
    ['readUnitMetadata', (ctx) => maintenance.readUnitMetadata(gw, ctx)],
  ];
}

/** Runs every operation; returns the names of those that failed, with their error. */
async function failures(list: Operation[]): Promise<string[]> {
  const failed: string[] = [];
  for (const [name, run] of list) {
    try {
      await run(recordingContext());
    } catch (error) {
      failed.push(`${name}: ${(error as Error).message}`);
    }
  }
  return failed;
}

describe('OMEGA_ISERVER2 driver against two device models', () => {
  let guide: GuideUnitHandle;
  let sim: IServer2SimulatorHandle;
  let driver: IServer2Driver;
  let maintenance: IServer2Maintenance;
  const warnings: string[] = [];

  beforeAll(async () => {
    guide = await startGuideUnit();
    sim = await startIServer2Simulator({ port: 0, probeCount: 2 });
    driver = new IServer2Driver({ warn: (message) => warnings.push(message) });
    maintenance = new IServer2Maintenance(driver.units);
  });

  afterAll(async () => {
    await driver.close();
    await guide.stop();
    await sim.stop();
  });

  it('runs every operation against our simulator', async () => {
    const list = operations(driver, gateway(sim.endpoint, 'simulator'));
    expect(list.length).toBe(35);
    expect(await failures(list)).toEqual([]);
  });

  it('runs every operation against a unit answering as the guide prints', async () => {
    const list = operations(driver, gateway(guide.endpoint, 'guide-unit'));
    expect(await failures(list)).toEqual([]);
  });

  it('reads the guide example values, the channel asked for, and warns of the echo once per command', async () => {
    warnings.length = 0;
    const gw = gateway(guide.endpoint, 'guide-unit-echo');
    const ctx = recordingContext();
    expect(await driver.readCalibration(gw, 'p1ch1', ctx)).toEqual({ channel: 'p1ch1', gain: 1, offset: 0 });
    expect(ctx.lines).toContain('adjustInfo for p1ch1 answered as p1ch0: taken as the answer to p1ch1');
    await driver.readCalibration(gw, 'p1ch2', recordingContext());
    await driver.readCalibration(gw, 'p1ch1', recordingContext());
    expect(await maintenance.readAlarmSettings(gw, 'p1ch2', recordingContext())).toEqual({
      channel: 'p1ch2',
      type: 'none',
      lowThreshold: 0,
      highThreshold: 0,
      deadband: 5,
      latch: false,
    });
    await maintenance.readAlarmSettings(gw, 'p1ch1', recordingContext());
    // Channel 0 is echoed right: no warning for it.
    await driver.readCalibration(gw, 'p1ch0', recordingContext());
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('adjustInfo for p1ch1 as p1ch0');
    expect(warnings[1]).toContain('alarmInfo for p1ch2 as p1ch0');
  });

  it('reads the unit as the guide shows it: versions in hex, the sensor time as sent', async () => {
    const gw = gateway(guide.endpoint, 'guide-unit-values');
    expect(await maintenance.readProbeMetadata(gw, 1, recordingContext())).toMatchObject({
      firmware: '2.6.4.0',
      core: '3.44.15.3',
      model: 'SP-003-1',
    });
    const readings = await driver.readSensors(gw, recordingContext());
    expect(readings.map((r) => `${r.channel} ${r.name} ${r.value}`)).toEqual([
      'p1ch0 Temperature 52.9',
      'p1ch1 Humidity 52.9',
      'p1ch2 Barometer 52.9',
    ]);
    expect(readings[0].timestamp).toEqual(new Date(GUIDE_SENSOR_TIME * 1000));
    const buzzer = await maintenance.readBuzzerTriggers(gw, recordingContext());
    expect(buzzer.probeEventList).toHaveLength(7); // printed beside the body in 3.12.3
  });

  describe('reads the history whatever extract format the unit sends', () => {
    const at = (time: number): string => new Date(time * 1000).toISOString().slice(0, 19).replace('T', ' ');
    /** Two samples 5 s apart inside the requested range. */
    const samples = (start: number): number[] => [start + 10, start + 15];
    const variants: [string, (columns: string[], start: number) => string][] = [
      [
        'no header, LF',
        (columns, start) =>
          samples(start)
            .map((t) => [at(t), ...columns.map(() => '21.5')].join(','))
            .join('\n'),
      ],
      [
        'semicolons, decimal commas, CRLF',
        (columns, start) =>
          [
            ['Time', ...columns].join(';'),
            ...samples(start).map((t) => [at(t), ...columns.map(() => '21,5')].join(';')),
          ].join('\r\n'),
      ],
      [
        'date and time columns, every cell quoted',
        (columns, start) =>
          [
            ['Date', 'Time', ...columns].map((c) => `"${c}"`).join(','),
            ...samples(start).map((t) =>
              [at(t).slice(0, 10), at(t).slice(11), ...columns.map(() => '21.5')]
                .map((c) => `"${c}"`)
                .join(','),
            ),
          ].join('\n'),
      ],
    ];
    it.each(variants)('%s', async (_name, extract) => {
      const unit = await startGuideUnit({ extract });
      try {
        const to = new Date();
        const readings = await driver.readHistory(
          gateway(unit.endpoint, `guide-extract-${_name}`),
          ['p1ch0', 'p1ch1'],
          { from: new Date(to.getTime() - 60_000), to },
          recordingContext(),
        );
        expect(readings).toHaveLength(4);
        expect(readings.map((r) => r.value)).toEqual([21.5, 21.5, 21.5, 21.5]);
        expect(readings.map((r) => `${r.channel} ${r.name}`)).toEqual([
          'p1ch0 Temperature',
          'p1ch1 Humidity',
          'p1ch0 Temperature',
          'p1ch1 Humidity',
        ]);
        expect(readings[2].timestamp.getTime() - readings[0].timestamp.getTime()).toBe(5000);
      } finally {
        await unit.stop();
      }
    });

    it("reports the extract's bytes to the communication history, as the G13's exchanges do", async () => {
      // Multibyte on purpose: bytes, not characters, are counted.
      let body = '';
      const unit = await startGuideUnit({
        extract: (columns, start) => {
          body = `"Date Time °",${columns.join(',')}\n${at(start + 10)},${columns.map(() => '21.5').join(',')}\n`;
          return body;
        },
      });
      try {
        const to = new Date();
        const ctx = recordingContext();
        const readings = await driver.readHistory(
          gateway(unit.endpoint, 'guide-extract-bytes'),
          ['p1ch0'],
          { from: new Date(to.getTime() - 60_000), to },
          ctx,
        );
        expect(readings).toHaveLength(1);
        expect(Buffer.byteLength(body)).toBeGreaterThan(body.length);
        expect(ctx.bytes).toContainEqual([0, Buffer.byteLength(body)]);
        // The WebSocket exchanges before it (login, sensor metadata) count their frames too.
        expect(ctx.bytes.filter(([sent, received]) => sent > 0 && received > 0).length).toBeGreaterThan(0);
      } finally {
        await unit.stop();
      }
    });

    it('logs a requested column the extract lacks and reads the others', async () => {
      const unit = await startGuideUnit({
        extract: (columns, start) => `Time,${columns[0]}\n${at(start + 10)},21.5\n`,
      });
      try {
        const to = new Date();
        const ctx = recordingContext();
        const readings = await driver.readHistory(
          gateway(unit.endpoint, 'guide-extract-missing'),
          ['p1ch0', 'p1ch1'],
          { from: new Date(to.getTime() - 60_000), to },
          ctx,
        );
        expect(readings.map((r) => `${r.channel} ${r.value}`)).toEqual(['p1ch0 21.5']);
        expect(ctx.lines).toContain('extract has no column for p1ch1: no samples for them');
      } finally {
        await unit.stop();
      }
    });
  });
});
