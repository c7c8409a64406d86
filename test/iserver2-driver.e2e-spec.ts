/**
 * The OMEGA_ISERVER2 driver against the iServer 2 simulator: every operation, progress and log lines,
 * one socket reused across operations, and the capability table.
 */
import {
  DeviceDriver,
  DriverError,
  DriverRegistry,
  GatewayEndpoint,
  MeterOperation,
  UnsupportedOperationError,
} from '@hes/drivers';
import { ISERVER2_UNSUPPORTED, IServer2Driver, IServer2Maintenance } from '@hes/drivers/iserver2';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { gatewayFor, recordingContext } from './iserver2-support';

describe('OMEGA_ISERVER2 driver against the simulator', () => {
  let sim: IServer2SimulatorHandle;
  let driver: IServer2Driver;
  let maintenance: IServer2Maintenance;
  let gateway: GatewayEndpoint;

  beforeAll(async () => {
    sim = await startIServer2Simulator({ port: 0, loggingIntervalSeconds: 30, historySeconds: 7200 });
    driver = new IServer2Driver();
    maintenance = new IServer2Maintenance(driver.units);
    gateway = gatewayFor(sim);
  });

  afterAll(async () => {
    await driver.close();
    await sim.stop();
  });

  it('reads every sensor of the connected probes with value, unit, precision and timestamp', async () => {
    sim.setTrueValue('p1ch0', 21.44);
    const ctx = recordingContext();
    const readings = await driver.readSensors(gateway, ctx);
    expect(readings.map((r) => `${r.channel} ${r.name} ${r.unit}`)).toEqual([
      'p1ch0 Temperature C',
      'p1ch1 Humidity %',
      'p1ch2 Barometer mbar',
      'p2ch0 Humidex C',
      'p2ch1 Dewpoint C',
      'p2ch2 Temperature C',
      'p2ch3 Humidity %',
    ]);
    expect(readings[0].value).toBe(21.4); // rounded to the sensor's precision, not 21.399999618530273
    expect(readings[0].precision).toBe(1);
    for (const reading of readings) {
      expect(Math.abs(reading.timestamp.getTime() - Date.now())).toBeLessThan(5000);
      expect(reading.value).toBeCloseTo(sim.reportedValue(reading.channel), 0);
    }
    expect(ctx.levels).toEqual([2, 3, 4]);
    expect(ctx.lines.some((line) => line.startsWith('WS probeList') && line.includes('-> success'))).toBe(
      true,
    );
    expect(ctx.lines.join('\n')).not.toContain('00000000'); // password and token are not logged
    sim.setTrueValue('p1ch0', null);
  });

  it('leaves out a sensor whose answer is not understood, with a remark, and reads the others', async () => {
    sim.garbleSensor('p1ch1', true);
    try {
      const remarks: string[] = [];
      const ctx = { ...recordingContext(), remark: (text: string) => remarks.push(text) };
      const readings = await driver.readSensors(gateway, ctx);
      expect(readings.map((r) => r.channel)).toEqual(['p1ch0', 'p1ch2', 'p2ch0', 'p2ch1', 'p2ch2', 'p2ch3']);
      expect(remarks).toEqual([
        'sensor p1ch1 left out: its answer was not understood (sensorData.value is not a number (null))',
      ]);
      expect(ctx.lines).toContain(remarks[0]);
      // Every sensor garbled: a unit answering in a form the driver does not know is refused.
      for (const channel of ['p1ch0', 'p1ch2', 'p2ch0', 'p2ch1', 'p2ch2', 'p2ch3'])
        sim.garbleSensor(channel, true);
      await expect(driver.readSensors(gateway, recordingContext())).rejects.toMatchObject({
        kind: 'protocol',
        message: 'iServer 2 answer not understood: sensorData.value is not a number (null)',
      });
    } finally {
      for (const channel of ['p1ch0', 'p1ch1', 'p1ch2', 'p2ch0', 'p2ch1', 'p2ch2', 'p2ch3'])
        sim.garbleSensor(channel, false);
    }
  });

  it('reads and writes calibration; the reported value follows gain and offset', async () => {
    sim.setTrueValue('p2ch2', 25);
    const ctx = recordingContext();
    expect(await driver.readCalibration(gateway, 'p2ch2', ctx)).toEqual({
      channel: 'p2ch2',
      gain: 1,
      offset: 0,
    });
    await driver.writeCalibration(gateway, { channel: 'p2ch2', gain: 1.5, offset: -2 }, recordingContext());
    expect(await driver.readCalibration(gateway, 'p2ch2', recordingContext())).toEqual({
      channel: 'p2ch2',
      gain: 1.5,
      offset: -2,
    });
    const reading = (await driver.readSensors(gateway, recordingContext())).find(
      (r) => r.channel === 'p2ch2',
    );
    expect(reading?.value).toBe(35.5);
    await driver.writeCalibration(gateway, { channel: 'p2ch2', gain: 1, offset: 0 }, recordingContext());
    sim.setTrueValue('p2ch2', null);
  });

  it('refuses channels the unit cannot have, before sending anything', async () => {
    const ctx = recordingContext();
    await expect(driver.readCalibration(gateway, 'p3ch0', ctx)).rejects.toMatchObject({
      kind: 'unsupported',
    });
    expect(ctx.levels).toEqual([]);
  });

  it('reports the unit refusing a sensor that is not there', async () => {
    await expect(driver.readCalibration(gateway, 'p1ch3', recordingContext())).rejects.toMatchObject({
      kind: 'refused',
      retryable: false,
      message: expect.stringContaining('"error"'),
    });
  });

  it('writes alarm settings, sees the alarm trip and the relay it drives', async () => {
    const ctx = recordingContext();
    await maintenance.writeAlarmSettings(
      gateway,
      { channel: 'p1ch0', type: 'high-low', lowThreshold: 10, highThreshold: 30, deadband: 2, latch: false },
      ctx,
    );
    expect(await maintenance.readAlarmSettings(gateway, 'p1ch0', recordingContext())).toEqual({
      channel: 'p1ch0',
      type: 'high-low',
      lowThreshold: 10,
      highThreshold: 30,
      deadband: 2,
      latch: false,
    });
    await maintenance.writeRelayTrigger(
      gateway,
      {
        relayId: 2,
        name: 'Cold room',
        normallyOpen: true,
        latch: false,
        log: true,
        display: true,
        triggers: { probeDisconnect: false, outOfMemory: false, lowBattery: true, contact: false },
        triggeredBy: ['p1ch0'],
      },
      recordingContext(),
    );
    sim.setTrueValue('p1ch0', 5);
    expect(await maintenance.readAlarmStatus(gateway, 'p1ch0', recordingContext())).toEqual({
      channel: 'p1ch0',
      low: true,
      high: false,
      code: 1,
    });
    expect(await maintenance.readRelay(gateway, 2, recordingContext())).toMatchObject({
      relayId: 2,
      name: 'Cold room',
      open: true,
      normallyOpen: true,
      triggeredBy: ['p1ch0'],
      triggers: { lowBattery: true, probeDisconnect: false },
    });
    sim.setTrueValue('p1ch0', 20);
    expect((await maintenance.readAlarmStatus(gateway, 'p1ch0', recordingContext())).code).toBe(0);
    expect((await maintenance.readRelay(gateway, 2, recordingContext())).open).toBe(false);
    await maintenance.writeAlarmSettings(gateway, { channel: 'p1ch0', type: 'none' }, recordingContext());
    sim.setTrueValue('p1ch0', null);
  });

  it('clears a latched relay', async () => {
    await maintenance.writeAlarmSettings(
      gateway,
      { channel: 'p1ch1', type: 'high', highThreshold: 80, deadband: 1, latch: false },
      recordingContext(),
    );
    await maintenance.writeRelayTrigger(
      gateway,
      {
        relayId: 1,
        name: 'Relay1',
        normallyOpen: true,
        latch: true,
        log: false,
        display: true,
        triggers: { probeDisconnect: false, outOfMemory: false, lowBattery: false, contact: false },
        triggeredBy: ['p1ch1'],
      },
      recordingContext(),
    );
    sim.setTrueValue('p1ch1', 90);
    expect((await maintenance.readRelay(gateway, 1, recordingContext())).open).toBe(true);
    sim.setTrueValue('p1ch1', 50);
    expect((await maintenance.readRelay(gateway, 1, recordingContext())).open).toBe(true); // latched
    await maintenance.clearRelayLatch(gateway, 1, recordingContext());
    expect((await maintenance.readRelay(gateway, 1, recordingContext())).open).toBe(false);
    await expect(
      maintenance.writeRelayTrigger(
        gateway,
        {
          relayId: 1,
          name: 'Relay1',
          normallyOpen: true,
          latch: false,
          log: false,
          display: true,
          triggers: { probeDisconnect: false, outOfMemory: false, lowBattery: false, contact: false },
          triggeredBy: ['p1ch3'],
        },
        recordingContext(),
      ),
    ).rejects.toMatchObject({ kind: 'refused' });
    sim.setTrueValue('p1ch1', null);
  });

  it('reads probe and unit metadata and the diagnostics', async () => {
    expect(await maintenance.readProbeMetadata(gateway, 1, recordingContext())).toEqual({
      probe: 1,
      model: 'SP-003-1',
      sensors: 3,
      outputs: 2,
      firmware: '2.6.4.0',
      core: '3.44.15.3', // 0x03441503 read in hex (guide 3.5.2)
      manufactured: new Date('2002-09-09T07:19:01Z'),
      calibrated: new Date('2002-09-09T07:19:01Z'),
    });
    expect(await maintenance.readUnitMetadata(gateway, recordingContext())).toMatchObject({
      manufacturer: 'Omega',
      serial: 'F2215i030123',
      dualProbe: true,
      samplingSeconds: 1,
    });
    const diagnostics = await driver.readDiagnostics(gateway, recordingContext());
    expect(diagnostics).toMatchObject({
      unit: { model: 'iS2-THB-DP' },
      logging: { intervalSeconds: 30, enabled: true },
      relays: [{ relayId: 1 }, { relayId: 2 }],
    });
    const probes = diagnostics.probes as Record<string, unknown>[];
    expect(probes.map((p) => [p.probe, p.connected])).toEqual([
      [0, false],
      [1, true],
      [2, true],
    ]);
    expect(probes[2]).toMatchObject({ name: 'Device_10342FD1', model: 'SP-004-2' });
    expect((probes[2].sensors as unknown[]).length).toBe(4);
  });

  it('reads the logged history over the CGI extract at the logging interval', async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 30 * 60 * 1000);
    const ctx = recordingContext();
    const readings = await driver.readHistory(gateway, ['p1ch0', 'p2ch3'], { from, to }, ctx);
    const temperature = readings.filter((r) => r.channel === 'p1ch0');
    const humidity = readings.filter((r) => r.channel === 'p2ch3');
    expect(temperature.length).toBeGreaterThanOrEqual(59);
    expect(temperature.length).toBeLessThanOrEqual(61);
    expect(humidity.length).toBe(temperature.length);
    for (let i = 1; i < temperature.length; i++)
      expect(temperature[i].timestamp.getTime() - temperature[i - 1].timestamp.getTime()).toBe(30_000);
    expect(temperature[0]).toMatchObject({ name: 'Temperature', unit: 'C', precision: 1 });
    expect(humidity[0]).toMatchObject({ name: 'Humidity', unit: '%' });
    for (const reading of temperature) {
      expect(reading.timestamp.getTime()).toBeGreaterThanOrEqual(from.getTime() - 1000);
      expect(reading.timestamp.getTime()).toBeLessThanOrEqual(to.getTime() + 1000);
      // What the unit showed at that time, as the simulator computes it.
      const sensor = sim.unit.sensorById('p1ch0');
      expect(reading.value).toBeCloseTo(sensor.reportedValue(reading.timestamp.getTime() / 1000), 1);
    }
    expect(
      ctx.lines.some((line) =>
        /^GET \/cgi-bin\/query\?startTime=\d+&endTime=\d+&p1ch0=p1ch0&p2ch3=p2ch3 200/.test(line),
      ),
    ).toBe(true);
    await expect(
      driver.readHistory(gateway, ['p1ch0'], { from: to, to: from }, recordingContext()),
    ).rejects.toMatchObject({
      kind: 'refused',
    });
  });

  // After the history test: an interval change inside its range would leave a gap in the samples.
  it('reads and writes the logging interval', async () => {
    expect(await maintenance.readLoggingConfig(gateway, recordingContext())).toEqual({
      intervalSeconds: 30,
      enabled: true,
    });
    await maintenance.writeLoggingConfig(gateway, { intervalSeconds: 60 }, recordingContext());
    expect(await maintenance.readLoggingConfig(gateway, recordingContext())).toEqual({
      intervalSeconds: 60,
      enabled: true,
    });
    await maintenance.writeLoggingConfig(gateway, { intervalSeconds: 30 }, recordingContext());
    await expect(
      maintenance.writeLoggingConfig(gateway, { intervalSeconds: 0 }, recordingContext()),
    ).rejects.toMatchObject({ kind: 'refused' });
  });

  it('renames a probe (probeConfig) and refuses names the unit cannot hold', async () => {
    expect(await maintenance.readProbeName(gateway, 1, recordingContext())).toBe('Device_31312FD1');
    await maintenance.writeProbeName(gateway, 1, 'Cold room 3', recordingContext());
    expect(await maintenance.readProbeName(gateway, 1, recordingContext())).toBe('Cold room 3');
    await expect(
      maintenance.writeProbeName(gateway, 1, 'x'.repeat(17), recordingContext()),
    ).rejects.toMatchObject({
      kind: 'refused',
    });
    await maintenance.writeProbeName(gateway, 1, 'Device_31312FD1', recordingContext());
  });

  it('reads and writes the buzzer and e-mail triggers (alarmTrigger, notiTrigger)', async () => {
    await maintenance.writeBuzzerTriggers(
      gateway,
      {
        alarm: { isAlarmEnabled: 1, a: 0, b: 1, c: 0, d: 0, e: 0, f: 0, g: 0 },
        probeEventList: [{ probeInfo: { probe: 2, channel: 1, buzzer: 1 } }],
      },
      recordingContext(),
    );
    const buzzer = await maintenance.readBuzzerTriggers(gateway, recordingContext());
    expect(buzzer.alarm).toMatchObject({ isAlarmEnabled: 1, b: 1 });
    expect(
      buzzer.probeEventList.find((e) => e.probeInfo.probe === 2 && e.probeInfo.channel === 1)?.probeInfo,
    ).toEqual({
      probe: 2,
      channel: 1,
      buzzer: 1,
      channelname: 'Dewpoint',
      probename: 'Device_10342FD1',
    });
    await maintenance.writeNotificationTriggers(
      gateway,
      {
        notiInfo: { emailList: 'ops@example.org', heartbeatInterval: 60, nextAlarmInterval: 15 },
        trigger: { a: 1, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0 },
        probeEventList: [{ probeInfo: { probe: 1, channel: 2, isSend: 1 } }],
      },
      recordingContext(),
    );
    const noti = await maintenance.readNotificationTriggers(gateway, recordingContext());
    expect(noti.notiInfo).toEqual({
      isEmailEnabled: 1,
      emailList: 'ops@example.org',
      heartbeatInterval: 60,
      nextAlarmInterval: 15,
    });
    expect(noti.trigger.a).toBe(1);
    expect(noti.probeEventList.find((e) => e.probeInfo.isSend === 1)?.probeInfo).toEqual({
      probe: 1,
      channel: 2,
      isSend: 1,
    });
    await expect(
      maintenance.writeBuzzerTriggers(
        gateway,
        { probeEventList: [{ probeInfo: { probe: 1, channel: 3, buzzer: 1 } }] },
        recordingContext(),
      ),
    ).rejects.toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('alarmTrigger with "error"'),
    });
  });

  it('configures contact closures and clears the latched contact output', async () => {
    await maintenance.writeContactClosure(
      gateway,
      {
        contact1: { isContactEnabled: 1, initiateState: 0, contactName: 'Door', isDisplay: 1, isLog: 1 },
        contactOutput: { isDisplay: 1, isLog: 0, outputType: 2, isLatch: 1 },
      },
      recordingContext(),
    );
    sim.setContactInput(1, true);
    const active = await maintenance.readContactClosure(gateway, recordingContext());
    expect(active.contact1).toMatchObject({ contactName: 'Door', isLog: 1, OpenStatus: 1 });
    expect(active.contact2.contactName).toBe('Digital Input 2');
    expect(active.contactOutput.relayStatus).toBe(1);
    sim.setContactInput(1, false);
    expect(
      (await maintenance.readContactClosure(gateway, recordingContext())).contactOutput.relayStatus,
    ).toBe(1);
    await maintenance.clearContactOutputLatch(gateway, recordingContext());
    expect(
      (await maintenance.readContactClosure(gateway, recordingContext())).contactOutput.relayStatus,
    ).toBe(0);
  });

  it('keeps one socket and one login across operations, one command at a time', async () => {
    const before = sim.stats();
    await Promise.all([
      driver.readCalibration(gateway, 'p1ch0', recordingContext()),
      driver.readCalibration(gateway, 'p1ch1', recordingContext()),
      driver.readSensors(gateway, recordingContext()),
      maintenance.readAlarmStatus(gateway, 'p2ch0', recordingContext()),
    ]);
    const after = sim.stats();
    expect(after.connections).toBe(before.connections);
    expect(after.logins).toBe(before.logins);
    expect(after.connections).toBe(1);
    expect(after.logins).toBe(1);
    expect(after.maxPendingPerConnection).toBe(1);
  });

  it('implements no meter operation; the registry refuses each with a remark', () => {
    const registry = new DriverRegistry();
    registry.register(driver);
    for (const operation of Object.keys(ISERVER2_UNSUPPORTED) as MeterOperation[]) {
      const asDevice: DeviceDriver = driver;
      expect(asDevice[operation]).toBeUndefined();
      expect(() => registry.assertOperation('OMEGA_ISERVER2', operation)).toThrow(UnsupportedOperationError);
      const refusal = driver.unsupported(operation);
      expect(refusal.message).toBe(
        `OMEGA_ISERVER2 driver does not support ${operation}: ${ISERVER2_UNSUPPORTED[operation]}`,
      );
      expect(refusal).toBeInstanceOf(DriverError);
      expect(refusal.retryable).toBe(false);
    }
    expect(registry.assertOperation('OMEGA_ISERVER2', 'readSensors')).toBe(driver);
    const asDevice: DeviceDriver = driver;
    expect(asDevice.readInstantaneous).toBeUndefined();
    expect(asDevice.operateRelay).toBeUndefined();
  });
});
