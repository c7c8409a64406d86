import { IServer2Unit } from './iserver2-unit';

const T0 = 1_736_000_000; // a whole multiple of 10 s

describe('simulated iServer 2 unit', () => {
  it('logs at the interval in force, skips the time logging was disabled, and stops at now', () => {
    const unit = new IServer2Unit({ loggingIntervalSeconds: 10, historySeconds: 100 }, T0);
    unit.setLogSettings(T0 + 30, { interval: 20, enable: 1 });
    unit.setLogSettings(T0 + 75, { interval: 20, enable: 0 });
    unit.setLogSettings(T0 + 100, { interval: 5, enable: 1 });
    const times = unit.logTimes(T0 - 1000, T0 + 1000, T0 + 112, 1000).map((t) => t - T0);
    expect(times).toEqual([
      -100,
      -90,
      -80,
      -70,
      -60,
      -50,
      -40,
      -30,
      -20,
      -10,
      0,
      10,
      20, // 10 s, back to the log's start
      40,
      60, // 20 s until disabled at +75
      100,
      105,
      110, // 5 s, up to now
    ]);
    expect(unit.logTimes(T0 - 1000, T0 + 1000, T0 + 112, 3)).toHaveLength(3);
  });

  it('reports true value × gain + offset with the calibration in force at each time', () => {
    const unit = new IServer2Unit({}, T0);
    const sensor = unit.sensorById('p1ch0');
    sensor.setTrueValue(T0, 20);
    sensor.setCalibration(T0 + 10, { gain: 2, offset: 1 });
    expect(sensor.reportedValue(T0 + 5)).toBe(20);
    expect(sensor.reportedValue(T0 + 15)).toBe(41);
    expect(unit.loggedValue('p1ch0', T0 + 15)).toBe(41);
    sensor.setTrueValue(T0 + 20, null);
    expect(sensor.trueValue(T0 + 25)).toBeGreaterThan(15);
    expect(sensor.trueValue(T0 + 25)).toBeLessThan(30);
  });

  it('keeps sensor values plausible and smooth from one second to the next', () => {
    const unit = new IServer2Unit({}, T0);
    for (const sensor of unit.sensors) {
      let previous = sensor.trueValue(T0);
      for (let t = T0 + 1; t < T0 + 600; t++) {
        const value = sensor.trueValue(t);
        expect(Math.abs(value - previous)).toBeLessThan(2);
        previous = value;
      }
    }
    const humidity = unit.sensorById('p1ch1').trueValue(T0);
    expect(humidity).toBeGreaterThanOrEqual(0);
    expect(humidity).toBeLessThanOrEqual(100);
  });

  it('latches an alarm until its settings are written again, and drives the relays set to follow it', () => {
    const unit = new IServer2Unit({}, T0);
    const sensor = unit.sensorById('p1ch0');
    sensor.alarm = { type: 1, latch: 1, lowThreshold: 5, highThreshold: 0, deadband: 1 };
    sensor.relay[2] = 1;
    sensor.setTrueValue(T0 + 1, 3);
    unit.evaluate(T0 + 1);
    expect(sensor.alarmStatus).toBe(1);
    expect(unit.relays[2].status).toBe(1);
    expect(unit.relays[1].status).toBe(0);
    sensor.setTrueValue(T0 + 2, 20);
    unit.evaluate(T0 + 2);
    expect(sensor.alarmStatus).toBe(1); // latched
    sensor.alarm = { ...sensor.alarm, latch: 0 };
    unit.evaluate(T0 + 3);
    expect(sensor.alarmStatus).toBe(0);
    expect(unit.relays[2].status).toBe(0);
    expect(unit.loggedValue('relay2', T0 + 1.5)).toBe(1);
    expect(unit.loggedValue('relay2', T0 + 4)).toBe(0);
  });

  it('operates a relay set to trigger on probe disconnection', () => {
    const unit = new IServer2Unit({}, T0);
    unit.relays[1].settings = { ...unit.relays[1].settings, b: 1 };
    unit.setProbeConnected(T0 + 1, 2, false);
    expect(unit.relays[1].status).toBe(1);
    expect(unit.sensor(2, 0)).toBeUndefined();
    expect(unit.loggedValue('p2ch0', T0 + 2)).toBeNull();
    unit.setProbeConnected(T0 + 2, 2, true);
    expect(unit.relays[1].status).toBe(0);
  });
});
