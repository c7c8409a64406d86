/**
 * The readers against the guide's own example answers (JSON Websocket Guide, chapter 3). Where the
 * printed example is not valid JSON (page breaks, stray braces) it is reassembled as the surrounding
 * "Response Content" schema shows; the field names and values are the guide's.
 */
import {
  IServer2ProtocolError,
  channelId,
  isAuthenticationStatus,
  parseChannelId,
  parseMessage,
  probeDate,
  readAnswer,
  versionString,
} from './iserver2-messages';

const TOKEN = 'cb2fc968-5234-483c-8ded-8be8422abe6f';

describe('iServer 2 messages: the guide examples', () => {
  it('3.1 login', () => {
    const answer = readAnswer.login(
      parseMessage(`{ "login": { "status": "success", "token": "${TOKEN}" } }`),
    );
    expect(answer).toEqual({ status: 'success', token: TOKEN });
  });

  it('3.2 probeList, with the field printed "probeld"', () => {
    const answer = readAnswer.probeList(
      parseMessage(`{ "probeList": { "status": "success", "probes": [
        { "probeld": 0, "probe": 0, "sensors": [], "connected": 0, "timestamp": 0, "isLock": 0, "isExtractIP": 0 },
        { "probeld": 1, "probe": 1, "sensors": [0, 1, 2], "connected": 1, "timestamp": 1706144586, "isLock": 0, "isExtractIP": 0 },
        { "probeld": 2, "probe": 2, "sensors": [], "connected": 0, "timestamp": 0, "isLock": 0, "isExtractIP": 0 } ] } }`),
    );
    expect(answer.status).toBe('success');
    expect(answer.probes).toHaveLength(3);
    expect(answer.probes[1]).toEqual({
      probeId: 1,
      probe: 1,
      sensors: [0, 1, 2],
      connected: 1,
      timestamp: 1706144586,
      isLock: 0,
      isExtractIP: 0,
    });
  });

  it('3.2 probeList with "probeId" as the unit spells it', () => {
    const answer = readAnswer.probeList(
      parseMessage(
        '{"probeList":{"status":"success","probes":[{"probeId":2,"probe":2,"sensors":[0],"connected":1,"timestamp":5,"isLock":1,"isExtractIP":0}]}}',
      ),
    );
    expect(answer.probes[0].probeId).toBe(2);
    expect(answer.probes[0].isLock).toBe(1);
  });

  it('3.3 sensorData keeps the single-precision value as sent', () => {
    const answer = readAnswer.sensorData(
      parseMessage(
        '{ "sensorData": { "probe": 1, "channel": 1, "time": 1706231919, "value": 52.900001525878906, "precision": 1 } }',
      ),
    );
    expect(answer).toEqual({
      probe: 1,
      channel: 1,
      time: 1706231919,
      value: 52.900001525878906,
      precision: 1,
    });
    expect(Number(answer.value.toFixed(answer.precision))).toBe(52.9);
  });

  it('3.4 sensorMeta', () => {
    const answer = readAnswer.sensorMeta(
      parseMessage(`{ "sensorMeta": { "status": "success", "probe": 1, "channel": 0, "type": 1,
        "typestr": "temperature", "unit": "C", "subtype": 0, "name": "Temperature", "precision": 1 } }`),
    );
    expect(answer).toMatchObject({ typestr: 'temperature', unit: 'C', name: 'Temperature', precision: 1 });
  });

  it('3.5 probeMeta: versions are hex bytes, dates count from 2000-01-01', () => {
    const answer = readAnswer.probeMeta(
      parseMessage(`{ "probeMeta": { "probe": 1, "sensor": 3, "output": 2, "firmwareVer": 33948672,
        "coreVer": 54793475, "manufacturedDate": 84871141, "calibratedDate": 84871141,
        "status": "success", "probeModel": "SP-003-1" } }`),
    );
    expect(answer.probeModel).toBe('SP-003-1');
    expect(versionString(answer.firmwareVer)).toBe('2.6.4.0');
    expect(versionString(answer.coreVer)).toBe('3.44.15.3'); // 0x03441503, read in hex (3.5.2)
    expect(versionString(0x0a0b1000)).toBe('a.b.10.0');
    expect(probeDate(answer.manufacturedDate).toISOString()).toBe('2002-09-09T07:19:01.000Z');
  });

  it('3.6 systemMeta comes with a dbupdate object', () => {
    const message = parseMessage(`{ "dbupdate": { "status": "success" }, "systemMeta": { "status": "success",
      "firmwareStr": "1.0.7.1", "hardware": 16843266, "manufacturer": "Omega", "model": "iS2-THB-DP",
      "deviceName": "iServer2", "systemName": "is2-omegad79d", "id": "F2215i030123", "samplingTime": 1, "probeMode": 0 } }`);
    expect(readAnswer.dbupdate(message).status).toBe('success');
    expect(readAnswer.systemMeta(message)).toMatchObject({
      model: 'iS2-THB-DP',
      id: 'F2215i030123',
      probeMode: 0,
    });
  });

  it('3.7 adjustInfo read and write answers', () => {
    expect(
      readAnswer.adjustInfo(
        parseMessage(
          '{ "adjustInfo": { "status": "success", "probe": 1, "channel": 0, "gain": 1.0, "offset": 0.0 } }',
        ),
      ),
    ).toEqual({ status: 'success', probe: 1, channel: 0, gain: 1, offset: 0 });
    expect(
      readAnswer.channelWrite(
        parseMessage('{ "adjustInfo": { "status": "success", "probe": 1, "channel": 0 } }'),
        'adjustInfo',
      ),
    ).toEqual({ status: 'success', probe: 1, channel: 0 });
  });

  it('3.8 alarmInfo read and write answers', () => {
    expect(
      readAnswer.alarmInfo(
        parseMessage(`{ "alarmInfo": { "status": "success", "probe": 1, "channel": 0, "alarmStatus": 0, "type": 0,
          "latch": 0, "lowThreshold": 0.0, "highThreshold": 0.0, "deadband": 5.0 } }`),
      ),
    ).toMatchObject({ alarmStatus: 0, type: 0, deadband: 5 });
    expect(
      readAnswer.channelWrite(
        parseMessage('{ "alarmInfo": { "status": "success", "probe": 1, "channel": 1 } }'),
        'alarmInfo',
      ).channel,
    ).toBe(1);
  });

  it('3.9 alarmStatus, including the key printed with a leading space', () => {
    expect(
      readAnswer.alarmStatus(parseMessage('{ "alarmStatus": { "probe": 1, "channel": 1, "value": 0 } }')),
    ).toEqual({ probe: 1, channel: 1, value: 0 });
    const command = parseMessage(`{ " alarmStatus": { "probe": 1, "channel": 1, "token": " ${TOKEN} " } }`);
    expect(Object.keys(command)).toEqual(['alarmStatus']);
  });

  it('3.10 logConfig read and write answers', () => {
    expect(
      readAnswer.logConfig(
        parseMessage('{ "logConfig": { "status": "success", "interval": 5, "enable": 1 } }'),
      ),
    ).toEqual({ status: 'success', interval: 5, enable: 1 });
    expect(
      readAnswer.status(parseMessage('{ "logConfig": { "status": "success" } }'), 'logConfig').status,
    ).toBe('success');
  });

  it('3.11 probeConfig read and write answers', () => {
    expect(
      readAnswer.probeConfig(
        parseMessage(
          '{ "probeConfig": { "status": "success", "probe": 1, "samplingTime": 1, "deviceName": "Device_06332FD1" } }',
        ),
      ).deviceName,
    ).toBe('Device_06332FD1');
    expect(
      readAnswer.probeConfigWrite(parseMessage('{ "probeConfig": { "status": "success", "probe": 1 } }')),
    ).toEqual({ status: 'success', probe: 1 });
  });

  it('3.12 alarmTrigger read, with probeEventList printed beside the body', () => {
    const answer = readAnswer.alarmTrigger(
      parseMessage(`{ "alarmTrigger": { "status": "success", "alarm": { "isAlarmEnabled": 0, "a": 0, "b": 0,
          "c": 0, "d": 0, "e": 0, "f": 0, "g": 0 } },
        "probeEventList": [
          { "probeInfo": { "probe": 1, "channel": 0, "buzzer": 0, "channelname": "Temperature", "probename": "Device_31312FD1" } },
          { "probeInfo": { "probe": 1, "channel": 1, "buzzer": 0, "channelname": "Humidity", "probename": "Device_31312FD1" } },
          { "probeInfo": { "probe": 1, "channel": 2, "buzzer": 0, "channelname": "Barometer", "probename": "Device_31312FD1" } },
          { "probeInfo": { "probe": 2, "channel": 0, "buzzer": 0, "channelname": "Humidex", "probename": "Device_10342FD1" } },
          { "probeInfo": { "probe": 2, "channel": 1, "buzzer": 0, "channelname": "Dewpoint", "probename": "Device_10342FD1" } },
          { "probeInfo": { "probe": 2, "channel": 2, "buzzer": 0, "channelname": "Temperature", "probename": "Device_10342FD1" } },
          { "probeInfo": { "probe": 2, "channel": 3, "buzzer": 0, "channelname": "Humidity", "probename": "Device_10342FD1" } }
        ] }`),
    );
    expect(answer.alarm.isAlarmEnabled).toBe(0);
    expect(answer.probeEventList).toHaveLength(7);
    expect(answer.probeEventList[3].probeInfo).toMatchObject({
      probe: 2,
      channel: 0,
      channelname: 'Humidex',
    });
  });

  it('3.12–3.17 writes are answered with dbupdate', () => {
    expect(readAnswer.dbupdate(parseMessage('{ "dbupdate": { "status": "success" } }'))).toEqual({
      status: 'success',
    });
  });

  it('3.13 relayTrigger read', () => {
    const entries = [
      [1, 0, 1],
      [1, 1, 1],
      [1, 2, 1],
      [2, 0, 0],
      [2, 1, 0],
      [2, 2, 0],
      [2, 3, 0],
    ].map(
      ([probe, channel, relay]) =>
        `{ "probeInfo": { "probe": ${probe}, "channel": ${channel}, "relay": ${relay} } }`,
    );
    const answer = readAnswer.relayTrigger(
      parseMessage(`{ "relayTrigger": { "status": "success", "relayInfo": { "relayId": 1, "setting": {
        "istate": 1, "name": "Relay1", "isLog": 0, "isDisplay": 1, "isLatch": 0, "relayStatus": 0,
        "a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "f": 0, "g": 0 } },
        "probeEventList": [ ${entries.join(',')} ] } }`),
    );
    expect(answer.relayInfo.setting).toMatchObject({ name: 'Relay1', istate: 1, relayStatus: 0 });
    expect(answer.probeEventList.filter((entry) => entry.probeInfo.relay === 1)).toHaveLength(3);
  });

  it('3.14 notiTrigger read', () => {
    const entries = [
      [1, 0],
      [1, 1],
      [1, 2],
      [2, 0],
      [2, 1],
      [2, 2],
      [2, 3],
    ].map(([probe, channel]) => `{ "probeInfo": { "probe": ${probe}, "channel": ${channel}, "isSend": 0 } }`);
    const answer = readAnswer.notiTrigger(
      parseMessage(`{ "notiTrigger": { "status": "success", "notiInfo": { "isEmailEnabled": 1,
        "emailList": "test@test.com", "heartbeatInterval": 0, "nextAlarmInterval": 0 },
        "trigger": { "a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "f": 1, "g": 0 },
        "probeEventList": [ ${entries.join(',')} ] } }`),
    );
    expect(answer.notiInfo.emailList).toBe('test@test.com');
    expect(answer.trigger.f).toBe(1);
    expect(answer.probeEventList).toHaveLength(7);
  });

  it('3.15 contactClosure read', () => {
    const answer = readAnswer.contactClosure(
      parseMessage(`{ "contactClosure": { "status": "success",
        "contact1": { "isContactEnabled": 1, "initiateState": 0, "contactName": "Digital Input 1", "isDisplay": 1, "isLog": 0, "OpenStatus": 0 },
        "contact2": { "isContactEnabled": 1, "initiateState": 0, "contactName": "Digital Input 2", "isDisplay": 1, "isLog": 0, "OpenStatus": 0 },
        "contactOutput": { "isDisplay": 1, "isLog": 0, "outputType": 2, "relayStatus": 1, "isLatch": 0 } } }`),
    );
    expect(answer.contact2.contactName).toBe('Digital Input 2');
    expect(answer.contactOutput).toEqual({
      isDisplay: 1,
      isLog: 0,
      outputType: 2,
      relayStatus: 1,
      isLatch: 0,
    });
  });
});

describe('iServer 2 messages: refusals and identities', () => {
  it('rejects an answer that lacks a field the guide lists', () => {
    expect(() =>
      readAnswer.sensorData(parseMessage('{"sensorData":{"probe":1,"channel":1,"time":1}}')),
    ).toThrow(IServer2ProtocolError);
    expect(() =>
      readAnswer.adjustInfo(
        parseMessage('{"adjustInfo":{"status":"success","probe":1,"channel":0,"gain":"1"}}'),
      ),
    ).toThrow(/gain is not a number/);
  });

  it('rejects frames that are not a JSON object', () => {
    expect(() => parseMessage('not json')).toThrow(IServer2ProtocolError);
    expect(() => parseMessage('[1,2]')).toThrow(IServer2ProtocolError);
  });

  it('recognises authentication statuses', () => {
    expect(isAuthenticationStatus('authentication error')).toBe(true);
    expect(isAuthenticationStatus('Invalid token')).toBe(true);
    expect(isAuthenticationStatus('success')).toBe(false);
    expect(isAuthenticationStatus('error')).toBe(false);
  });

  it('names channels as the CGI extract does', () => {
    expect(channelId(2, 3)).toBe('p2ch3');
    expect(parseChannelId('p1ch0')).toEqual({ probe: 1, channel: 0 });
    expect(parseChannelId('p0ch1')).toEqual({ probe: 0, channel: 1 });
    expect(() => parseChannelId('p0ch2')).toThrow(RangeError);
    expect(() => parseChannelId('p3ch0')).toThrow(RangeError);
    expect(() => parseChannelId('temperature')).toThrow(RangeError);
  });
});
