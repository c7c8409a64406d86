/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument --
   the unit's raw JSON answers are untyped here on purpose: the tests assert their shape field by field. */
/**
 * The iServer 2 simulator spoken to with a bare WebSocket, as any client would: message shapes, status
 * strings, dbupdate answers to writes, authentication errors, and the CGI extract.
 */
import axios from 'axios';
import WebSocket from 'ws';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- raw answers, asserted field by field

/** A bare client: one frame out, the next frame in. */
async function rawSession(url: string): Promise<{ send(message: unknown): Promise<Json>; close(): void }> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    send: (message) =>
      new Promise<Json>((resolve, reject) => {
        // Both listeners go once the exchange ends, so that they do not pile up on the one socket.
        const onClose = (): void => {
          socket.off('message', onMessage);
          reject(new Error('closed'));
        };
        const onMessage = (data: WebSocket.RawData): void => {
          socket.off('close', onClose);
          resolve(JSON.parse((data as Buffer).toString('utf8')) as Json);
        };
        socket.once('message', onMessage);
        socket.once('close', onClose);
        socket.send(typeof message === 'string' ? message : JSON.stringify(message));
      }),
    close: () => socket.close(),
  };
}

describe('iServer 2 simulator (bare WebSocket)', () => {
  let sim: IServer2SimulatorHandle;
  let session: Awaited<ReturnType<typeof rawSession>>;
  let token: string;

  beforeAll(async () => {
    sim = await startIServer2Simulator({ port: 0, loggingIntervalSeconds: 10, historySeconds: 3600 });
    session = await rawSession(sim.url);
    const login = await session.send({ login: { username: 'admin', password: '00000000' } });
    expect(login.login.status).toBe('success');
    token = login.login.token as string;
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
  });

  afterAll(async () => {
    session.close();
    await sim.stop();
  });

  it('refuses a wrong password, a missing token and a wrong token with the authentication error', async () => {
    expect(await session.send({ login: { username: 'admin', password: 'wrong' } })).toEqual({
      login: { status: 'authentication error' },
    });
    expect(await session.send({ login: { username: 'root', password: '00000000' } })).toEqual({
      login: { status: 'authentication error' },
    });
    expect(await session.send({ probeList: {} })).toEqual({ probeList: { status: 'authentication error' } });
    expect(await session.send({ sensorData: { probe: 1, channel: 0, token: 'not-a-token' } })).toEqual({
      sensorData: { status: 'authentication error' },
    });
    expect(await session.send({ relayTrigger: { apiaction: 'write', token: 'x' } })).toEqual({
      relayTrigger: { status: 'authentication error' },
    });
  });

  it('accepts the token with the spaces the guide examples put around it, and keys with a leading space', async () => {
    const answer = await session.send(
      `{ " alarmStatus": { "probe": 1, "channel": 1, "token": " ${token} " } }`,
    );
    expect(answer).toEqual({ alarmStatus: { probe: 1, channel: 1, value: 0 } });
  });

  it('lists probe 0 (thermocouples) and the two probes with their sensors', async () => {
    const answer = await session.send({ probeList: { token } });
    expect(answer.probeList.status).toBe('success');
    expect(answer.probeList.probes.map((p: Json) => [p.probeId, p.probe, p.sensors, p.connected])).toEqual([
      [0, 0, [], 0],
      [1, 1, [0, 1, 2], 1],
      [2, 2, [0, 1, 2, 3], 1],
    ]);
    expect(Object.keys(answer.probeList.probes[1]).sort()).toEqual(
      ['connected', 'isExtractIP', 'isLock', 'probe', 'probeId', 'sensors', 'timestamp'].sort(),
    );
  });

  it('answers sensorData and sensorMeta with the guide fields; values follow the simulated sensor', async () => {
    const meta = await session.send({ sensorMeta: { probe: 1, channel: 0, token } });
    expect(meta).toEqual({
      sensorMeta: {
        status: 'success',
        probe: 1,
        channel: 0,
        type: 1,
        typestr: 'temperature',
        unit: 'C',
        subtype: 0,
        name: 'Temperature',
        precision: 1,
      },
    });
    sim.setTrueValue('p1ch0', 52.9);
    const data = await session.send({ sensorData: { probe: 1, channel: 0, token } });
    expect(Object.keys(data.sensorData).sort()).toEqual(['channel', 'precision', 'probe', 'time', 'value']);
    expect(data.sensorData.value).toBe(52.900001525878906); // single precision, as in the guide
    expect(Math.abs(data.sensorData.time - Date.now() / 1000)).toBeLessThan(5);
    sim.setTrueValue('p1ch0', null);
    const free = await session.send({ sensorData: { probe: 1, channel: 1, token } });
    expect(free.sensorData.value).toBeCloseTo(sim.reportedValue('p1ch1'), 0);
    expect(await session.send({ sensorData: { probe: 1, channel: 3, token } })).toEqual({
      sensorData: { status: 'error', probe: 1, channel: 3 },
    });
  });

  it('derives dew point and humidex from temperature and humidity', () => {
    sim.setTrueValue('p2ch2', 30);
    sim.setTrueValue('p2ch3', 70);
    expect(sim.trueValue('p2ch1')).toBeCloseTo(23.9, 0); // dew point of 30 °C / 70 %
    expect(sim.trueValue('p2ch0')).toBeGreaterThan(40); // humidex
    sim.setTrueValue('p2ch2', null);
    sim.setTrueValue('p2ch3', null);
  });

  it('answers probeMeta and systemMeta (with its dbupdate object)', async () => {
    const probe = await session.send({ probeMeta: { probe: 1, token } });
    expect(probe.probeMeta).toMatchObject({
      probe: 1,
      sensor: 3,
      output: 2,
      status: 'success',
      probeModel: 'SP-003-1',
    });
    const system = await session.send({ systemMeta: { token } });
    expect(system.dbupdate).toEqual({ status: 'success' });
    expect(system.systemMeta).toMatchObject({
      status: 'success',
      manufacturer: 'Omega',
      samplingTime: 1,
      probeMode: 1,
    });
    expect(await session.send({ probeMeta: { probe: 0, token } })).toEqual({
      probeMeta: { status: 'error', probe: 0 },
    });
  });

  it('writes gain and offset with adjustInfo; the reported value changes accordingly', async () => {
    sim.setTrueValue('p1ch1', 40);
    expect(await session.send({ adjustInfo: { probe: 1, channel: 1, token } })).toEqual({
      adjustInfo: { status: 'success', probe: 1, channel: 1, gain: 1, offset: 0 },
    });
    expect(
      await session.send({ adjustInfo: { probe: 1, channel: 1, gain: 2.0, offset: 1.0, token } }),
    ).toEqual({
      adjustInfo: { status: 'success', probe: 1, channel: 1 },
    });
    const data = await session.send({ sensorData: { probe: 1, channel: 1, token } });
    expect(data.sensorData.value).toBeCloseTo(81, 3);
    // Only the offset: the gain stays.
    await session.send({ adjustInfo: { probe: 1, channel: 1, offset: 0, token } });
    expect((await session.send({ adjustInfo: { probe: 1, channel: 1, token } })).adjustInfo).toMatchObject({
      gain: 2,
      offset: 0,
    });
    await session.send({ adjustInfo: { probe: 1, channel: 1, gain: 1, token } });
    sim.setTrueValue('p1ch1', null);
  });

  it('trips a high alarm past its threshold, clears it past the deadband, and drives relay 1', async () => {
    expect(
      await session.send({
        alarmInfo: {
          probe: 1,
          channel: 1,
          type: 2,
          lowThreshold: 0,
          highThreshold: 60,
          latch: 0,
          deadband: 5,
          token,
        },
      }),
    ).toEqual({
      alarmInfo: { status: 'success', probe: 1, channel: 1 },
    });
    expect(
      await session.send({
        relayTrigger: {
          apiaction: 'write',
          relayInfo: {
            relayId: 1,
            setting: {
              istate: 1,
              name: 'relay1',
              isLog: 0,
              isDisplay: 1,
              isLatch: 0,
              a: 0,
              b: 0,
              c: 0,
              d: 0,
              e: 0,
              f: 1,
              g: 0,
            },
          },
          probeEventList: [{ probeInfo: { probe: 1, channel: 1, relay: 1 } }],
          token,
        },
      }),
    ).toEqual({ dbupdate: { status: 'success' } });
    sim.setTrueValue('p1ch1', 65);
    expect((await session.send({ alarmStatus: { probe: 1, channel: 1, token } })).alarmStatus.value).toBe(2);
    const info = await session.send({ alarmInfo: { probe: 1, channel: 1, token } });
    expect(info.alarmInfo).toEqual({
      status: 'success',
      probe: 1,
      channel: 1,
      alarmStatus: 2,
      type: 2,
      latch: 0,
      lowThreshold: 0,
      highThreshold: 60,
      deadband: 5,
    });
    const relay = await session.send({ relayTrigger: { apiaction: 'read', relayId: 1, token } });
    expect(relay.relayTrigger.relayInfo.setting).toMatchObject({ name: 'relay1', relayStatus: 1, f: 1 });
    expect(relay.relayTrigger.probeEventList).toContainEqual({
      probeInfo: { probe: 1, channel: 1, relay: 1 },
    });
    sim.setTrueValue('p1ch1', 57); // inside the deadband: still in alarm
    expect((await session.send({ alarmStatus: { probe: 1, channel: 1, token } })).alarmStatus.value).toBe(2);
    sim.setTrueValue('p1ch1', 54); // 60 - 5 crossed: cleared
    expect((await session.send({ alarmStatus: { probe: 1, channel: 1, token } })).alarmStatus.value).toBe(0);
    const released = await session.send({ relayTrigger: { apiaction: 'read', relayId: 1, token } });
    expect(released.relayTrigger.relayInfo.setting.relayStatus).toBe(0);
  });

  it('holds a latched relay until the relay clear latch command (3.16)', async () => {
    await session.send({
      relayTrigger: {
        apiaction: 'write',
        relayInfo: {
          relayId: 1,
          setting: {
            istate: 1,
            name: 'relay1',
            isLog: 0,
            isDisplay: 1,
            isLatch: 1,
            a: 0,
            b: 0,
            c: 0,
            d: 0,
            e: 0,
            f: 0,
            g: 0,
          },
        },
        probeEventList: [{ probeInfo: { probe: 1, channel: 1, relay: 1 } }],
        token,
      },
    });
    sim.setTrueValue('p1ch1', 70);
    sim.setTrueValue('p1ch1', 40);
    const held = await session.send({ relayTrigger: { apiaction: 'read', relayId: 1, token } });
    expect(held.relayTrigger.relayInfo.setting.relayStatus).toBe(1);
    expect(
      await session.send({
        relayInfo: { relayId: 1, setting: { clearLatch: 1 }, apiaction: 'write', token },
      }),
    ).toEqual({ dbupdate: { status: 'success' } });
    const cleared = await session.send({ relayTrigger: { apiaction: 'read', relayId: 1, token } });
    expect(cleared.relayTrigger.relayInfo.setting.relayStatus).toBe(0);
    sim.setTrueValue('p1ch1', null);
    await session.send({ alarmInfo: { probe: 1, channel: 1, type: 0, token } });
  });

  it('reads and writes logConfig and probeConfig with the answers of the guide', async () => {
    expect(await session.send({ logConfig: { token } })).toEqual({
      logConfig: { status: 'success', interval: 10, enable: 1 },
    });
    expect(await session.send({ logConfig: { interval: 10, enable: 1, token } })).toEqual({
      logConfig: { status: 'success' },
    });
    expect(await session.send({ logConfig: { interval: 0, token } })).toEqual({
      logConfig: { status: 'error' },
    });
    expect(await session.send({ probeConfig: { probe: 1, token } })).toEqual({
      probeConfig: { status: 'success', probe: 1, samplingTime: 1, deviceName: 'Device_31312FD1' },
    });
    expect(await session.send({ probeConfig: { probe: 2, deviceName: 'Device_06', token } })).toEqual({
      probeConfig: { status: 'success', probe: 2 },
    });
    expect((await session.send({ probeConfig: { probe: 2, token } })).probeConfig.deviceName).toBe(
      'Device_06',
    );
    expect(
      await session.send({ probeConfig: { probe: 2, deviceName: 'a name longer than 16', token } }),
    ).toEqual({
      probeConfig: { status: 'error', probe: 2 },
    });
    await session.send({ probeConfig: { probe: 2, deviceName: 'Device_10342FD1', token } });
  });

  it('reads and writes the buzzer and e-mail triggers, answering writes with dbupdate', async () => {
    expect(
      await session.send({
        alarmTrigger: {
          apiaction: 'write',
          alarm: { isAlarmEnabled: 0, a: 0, b: 0, c: 0, d: 0, e: 0, f: 1, g: 0 },
          probeEventList: [
            { probeInfo: { probe: 1, channel: 0, buzzer: 1 } },
            { probeInfo: { probe: 2, channel: 0, buzzer: 1 } },
          ],
          token,
        },
      }),
    ).toEqual({ dbupdate: { status: 'success' } });
    const buzzer = await session.send({ alarmTrigger: { apiaction: 'read', token } });
    expect(buzzer.alarmTrigger.alarm).toEqual({
      isAlarmEnabled: 0,
      a: 0,
      b: 0,
      c: 0,
      d: 0,
      e: 0,
      f: 1,
      g: 0,
    });
    expect(buzzer.alarmTrigger.probeEventList).toHaveLength(7);
    expect(buzzer.alarmTrigger.probeEventList[3]).toEqual({
      probeInfo: { probe: 2, channel: 0, buzzer: 1, channelname: 'Humidex', probename: 'Device_10342FD1' },
    });
    expect(
      await session.send({
        notiTrigger: {
          apiaction: 'write',
          notiInfo: {
            emailList: 'ops@example.org;lab@example.org',
            heartbeatInterval: 30,
            nextAlarmInterval: 30,
          },
          trigger: { a: 0, b: 0, c: 0, d: 0, e: 0, f: 1, g: 0 },
          probeEventList: [{ probeInfo: { probe: 1, channel: 0, isSend: 1 } }],
          token,
        },
      }),
    ).toEqual({ dbupdate: { status: 'success' } });
    const noti = await session.send({ notiTrigger: { apiaction: 'read', token } });
    expect(noti.notiTrigger.notiInfo).toEqual({
      isEmailEnabled: 1,
      emailList: 'ops@example.org;lab@example.org',
      heartbeatInterval: 30,
      nextAlarmInterval: 30,
    });
    expect(noti.notiTrigger.probeEventList[0]).toEqual({ probeInfo: { probe: 1, channel: 0, isSend: 1 } });
    expect(
      await session.send({
        alarmTrigger: {
          apiaction: 'write',
          probeEventList: [{ probeInfo: { probe: 2, channel: 7, buzzer: 1 } }],
          token,
        },
      }),
    ).toEqual({ dbupdate: { status: 'error' } });
  });

  it('configures contact closures, reports inputs and latches the output until 3.17 clears it', async () => {
    expect(
      await session.send({
        contactClosure: {
          apiaction: 'write',
          contact1: {
            isContactEnabled: 1,
            initiateState: 0,
            contactName: 'Digital1',
            isDisplay: 1,
            isLog: 0,
          },
          contact2: {
            isContactEnabled: 1,
            initiateState: 0,
            contactName: 'Digital2',
            isDisplay: 1,
            isLog: 0,
          },
          contactOutput: { isDisplay: 1, isLog: 0, outputType: 2, isLatch: 1 },
          token,
        },
      }),
    ).toEqual({ dbupdate: { status: 'success' } });
    sim.setContactInput(1, true);
    sim.setContactInput(1, false);
    const read = await session.send({ contactClosure: { apiAction: 'read', token } });
    expect(read.contactClosure.contact1).toEqual({
      isContactEnabled: 1,
      initiateState: 0,
      contactName: 'Digital1',
      isDisplay: 1,
      isLog: 0,
      OpenStatus: 0,
    });
    expect(read.contactClosure.contactOutput).toEqual({
      isDisplay: 1,
      isLog: 0,
      outputType: 2,
      relayStatus: 1,
      isLatch: 1,
    });
    expect(await session.send({ contactOutput: { apiaction: 'write', clearLatch: 1, token } })).toEqual({
      dbupdate: { status: 'success' },
    });
    const cleared = await session.send({ contactClosure: { apiaction: 'read', token } });
    expect(cleared.contactClosure.contactOutput.relayStatus).toBe(0);
  });

  it('gives the read-only "user" account reads but not writes', async () => {
    const user = await rawSession(sim.url);
    try {
      const login = await user.send({ login: { username: 'user', password: '00000000' } });
      const userToken = login.login.token as string;
      expect(
        (await user.send({ adjustInfo: { probe: 1, channel: 0, token: userToken } })).adjustInfo.status,
      ).toBe('success');
      expect(await user.send({ adjustInfo: { probe: 1, channel: 0, gain: 3, token: userToken } })).toEqual({
        adjustInfo: { status: 'permission denied', probe: 1, channel: 0 },
      });
      expect(
        await user.send({ contactOutput: { apiaction: 'write', clearLatch: 1, token: userToken } }),
      ).toEqual({
        dbupdate: { status: 'permission denied' },
      });
    } finally {
      user.close();
    }
  });

  it('answers unknown commands and malformed frames', async () => {
    expect(await session.send({ reboot: { token } })).toEqual({ reboot: { status: 'unknown command' } });
    expect(await session.send('{not json')).toEqual({ error: { status: 'invalid json' } });
  });

  it('extracts the log over CGI with the requested headers at the logging interval', async () => {
    const end = Math.floor(Date.now() / 1000);
    const start = end - 600;
    const response = await axios.get<string>(`${sim.httpUrl}/cgi-bin/query`, {
      params: {
        startTime: start,
        endTime: end,
        p1ch0: 'Device_31312FD1-Temperature',
        relay1: 'Relay1',
        contact1: 'Digital Input 1',
      },
      responseType: 'text',
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/csv');
    const lines = response.data.trim().split(/\r\n/);
    expect(lines[0]).toBe('Time,Device_31312FD1-Temperature,Relay1,Digital Input 1');
    const rows = lines.slice(1).map((line) => line.split(','));
    expect(rows.length).toBeGreaterThanOrEqual(59);
    expect(rows.length).toBeLessThanOrEqual(61);
    const times = rows.map((row) => Date.parse(`${row[0].replace(' ', 'T')}Z`) / 1000);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(10);
    for (const row of rows) {
      const value = Number(row[1]);
      expect(value).toBeGreaterThan(15);
      expect(value).toBeLessThan(30);
    }
    const bad = await axios.get(`${sim.httpUrl}/cgi-bin/query?startTime=abc&endTime=1`, {
      validateStatus: () => true,
    });
    expect(bad.status).toBe(400);
  });
});
