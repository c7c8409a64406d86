/**
 * A second model of an Omega iServer 2 for tests: a WebSocket server that answers exactly as the JSON
 * Websocket Guide's example answers print (M-5807/0225, chapter 3), quirks included, where our simulator
 * (apps/simulator/src/iserver2) answers as the guide's "Response Content" schemas describe. It keeps no
 * state: writes are answered as the guide's write examples and change nothing.
 *
 * The guide's quirks it reproduces:
 * - 3.2.3 probeList: each probe carries "probeld" (sic) beside "probe"; probe 1 alone is connected, with
 *   sensors 0, 1, 2.
 * - 3.3.3 sensorData: the example's time (1706231919, 2024-01-26) and value 52.900001525878906 – a unit
 *   whose clock is not today's.
 * - 3.6.3 systemMeta: the answer carries a "dbupdate" object beside "systemMeta".
 * - 3.7.3 adjustInfo read and 3.8.3 alarmInfo read: "channel": 0 whatever channel was asked.
 * - 3.12.3 alarmTrigger read: "probeEventList" printed beside the "alarmTrigger" body, not inside it.
 * - 3.12.5 … 3.17: writes of the trigger, contact and latch commands answered {"dbupdate":{…}}.
 * - Requests: keys with a leading space (" alarmStatus") and tokens with spaces around (" cb2f… ").
 *
 * Where the guide prints no example the model says what it does: sensorMeta of channels 1 and 2 uses the
 * channel names of 3.12.3 (Humidity, Barometer) with units chosen here; the relay read echoes relayId;
 * unknown commands get {"<key>":{"status":"error"}}. The CGI extract (4.1) has no example answer in the
 * guide: the model serves it in the format given by `extract` (the parser's variants are in
 * iserver2-extract.spec.ts).
 *
 * Records what reached it (`upgrades`, `messages`) so that TLS tests can prove an impostor heard nothing.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { RawData, WebSocketServer } from 'ws';

export const GUIDE_TOKEN = 'cb2fc968-5234-483c-8ded-8be8422abe6f';
export const GUIDE_PASSWORD = '00000000';
/** 3.3.3: the example's sensor time, 2024-01-26T01:18:39Z. */
export const GUIDE_SENSOR_TIME = 1706231919;

type Json = Record<string, unknown>;

export interface GuideUnitOptions {
  /** Serve wss:// (and https:// for the extract) with this certificate. */
  tls?: { key: string; cert: string };
  /** Body of the CGI extract for the requested column keys (default: quoted CSV, LF, header "Date Time"). */
  extract?(columns: string[], startTime: number, endTime: number): string;
}

export interface GuideUnitHandle {
  /** ws(s)://127.0.0.1:port/?cgiPort=… – the driver's gateway endpoint. */
  endpoint: string;
  port: number;
  httpPort: number;
  /** HTTP upgrade requests received (a refused TLS peer must never send one). */
  upgrades(): number;
  /** WebSocket text messages received, as sent. */
  messages(): string[];
  /** CGI extract requests received. */
  extracts(): number;
  stop(): Promise<void>;
}

const DBUPDATE_SUCCESS = { dbupdate: { status: 'success' } };

/** 3.12.3 sensors: probe 1 (Device_31312FD1) and probe 2 (Device_10342FD1). */
const GUIDE_CHANNELS: { probe: number; channel: number; name: string; probename: string }[] = [
  { probe: 1, channel: 0, name: 'Temperature', probename: 'Device_31312FD1' },
  { probe: 1, channel: 1, name: 'Humidity', probename: 'Device_31312FD1' },
  { probe: 1, channel: 2, name: 'Barometer', probename: 'Device_31312FD1' },
  { probe: 2, channel: 0, name: 'Humidex', probename: 'Device_10342FD1' },
  { probe: 2, channel: 1, name: 'Dewpoint', probename: 'Device_10342FD1' },
  { probe: 2, channel: 2, name: 'Temperature', probename: 'Device_10342FD1' },
  { probe: 2, channel: 3, name: 'Humidity', probename: 'Device_10342FD1' },
];
/** sensorMeta of probe 1: channel 0 is the 3.4.3 example; 1 and 2 are named after 3.12.3. */
const PROBE1_META: Record<number, { type: number; typestr: string; unit: string; name: string }> = {
  0: { type: 1, typestr: 'temperature', unit: 'C', name: 'Temperature' },
  1: { type: 2, typestr: 'humidity', unit: '%', name: 'Humidity' },
  2: { type: 3, typestr: 'barometer', unit: 'mbar', name: 'Barometer' },
};

function triggerFlags(f = 0): Json {
  return { a: 0, b: 0, c: 0, d: 0, e: 0, f, g: 0 };
}

/** The guide's example answer to one request (body already under its trimmed key). */
export function guideAnswer(key: string, body: Json): Json {
  const probe = typeof body.probe === 'number' ? body.probe : 1;
  const channel = typeof body.channel === 'number' ? body.channel : 0;
  const write = body.apiaction === 'write' || body.apiAction === 'write';
  switch (key) {
    case 'probeList': // 3.2.3
      return {
        probeList: {
          status: 'success',
          probes: [
            { probeld: 0, probe: 0, sensors: [], connected: 0, timestamp: 0, isLock: 0, isExtractIP: 0 },
            {
              probeld: 1,
              probe: 1,
              sensors: [0, 1, 2],
              connected: 1,
              timestamp: 1706144586,
              isLock: 0,
              isExtractIP: 0,
            },
            { probeld: 2, probe: 2, sensors: [], connected: 0, timestamp: 0, isLock: 0, isExtractIP: 0 },
          ],
        },
      };
    case 'sensorData': // 3.3.3
      return {
        sensorData: { probe, channel, time: GUIDE_SENSOR_TIME, value: 52.900001525878906, precision: 1 },
      };
    case 'sensorMeta': {
      // 3.4.3
      const meta = probe === 1 ? PROBE1_META[channel] : undefined;
      if (!meta) return { sensorMeta: { status: 'error', probe, channel } };
      return { sensorMeta: { status: 'success', probe, channel, ...meta, subtype: 0, precision: 1 } };
    }
    case 'probeMeta': // 3.5.3
      return {
        probeMeta: {
          probe,
          sensor: 3,
          output: 2,
          firmwareVer: 33948672,
          coreVer: 54793475,
          manufacturedDate: 84871141,
          calibratedDate: 84871141,
          status: 'success',
          probeModel: 'SP-003-1',
        },
      };
    case 'systemMeta': // 3.6.3
      return {
        dbupdate: { status: 'success' },
        systemMeta: {
          status: 'success',
          firmwareStr: '1.0.7.1',
          hardware: 16843266,
          manufacturer: 'Omega',
          model: 'iS2-THB-DP',
          deviceName: 'iServer2',
          systemName: 'is2-omegad79d',
          id: 'F2215i030123',
          samplingTime: 1,
          probeMode: 0,
        },
      };
    case 'adjustInfo': // 3.7.3 (channel 0 whatever was asked), 3.7.6
      if ('gain' in body || 'offset' in body) return { adjustInfo: { status: 'success', probe, channel } };
      return { adjustInfo: { status: 'success', probe, channel: 0, gain: 1.0, offset: 0.0 } };
    case 'alarmInfo': // 3.8.3 (channel 0 whatever was asked), 3.8.6
      if (['type', 'lowThreshold', 'highThreshold', 'latch', 'deadband'].some((k) => k in body))
        return { alarmInfo: { status: 'success', probe, channel } };
      return {
        alarmInfo: {
          status: 'success',
          probe,
          channel: 0,
          alarmStatus: 0,
          type: 0,
          latch: 0,
          lowThreshold: 0.0,
          highThreshold: 0.0,
          deadband: 5.0,
        },
      };
    case 'alarmStatus': // 3.9.3
      return { alarmStatus: { probe, channel, value: 0 } };
    case 'logConfig': // 3.10.3, 3.10.6
      if ('interval' in body || 'enable' in body) return { logConfig: { status: 'success' } };
      return { logConfig: { status: 'success', interval: 5, enable: 1 } };
    case 'probeConfig': // 3.11.3, 3.11.6
      if ('deviceName' in body) return { probeConfig: { status: 'success', probe } };
      return { probeConfig: { status: 'success', probe, samplingTime: 1, deviceName: 'Device_06332FD1' } };
    case 'alarmTrigger': // 3.12.3: probeEventList beside the body
      if (write) return DBUPDATE_SUCCESS;
      return {
        alarmTrigger: { status: 'success', alarm: { isAlarmEnabled: 0, ...triggerFlags() } },
        probeEventList: GUIDE_CHANNELS.map((c) => ({
          probeInfo: {
            probe: c.probe,
            channel: c.channel,
            buzzer: 0,
            channelname: c.name,
            probename: c.probename,
          },
        })),
      };
    case 'relayTrigger': // 3.13.3
      if (write) return DBUPDATE_SUCCESS;
      return {
        relayTrigger: {
          status: 'success',
          relayInfo: {
            relayId: typeof body.relayId === 'number' ? body.relayId : 1,
            setting: {
              istate: 1,
              name: 'Relay1',
              isLog: 0,
              isDisplay: 1,
              isLatch: 0,
              relayStatus: 0,
              ...triggerFlags(),
            },
          },
          probeEventList: GUIDE_CHANNELS.map((c) => ({
            probeInfo: { probe: c.probe, channel: c.channel, relay: c.probe === 1 ? 1 : 0 },
          })),
        },
      };
    case 'notiTrigger': // 3.14.3
      if (write) return DBUPDATE_SUCCESS;
      return {
        notiTrigger: {
          status: 'success',
          notiInfo: {
            isEmailEnabled: 1,
            emailList: 'test@test.com',
            heartbeatInterval: 0,
            nextAlarmInterval: 0,
          },
          trigger: triggerFlags(1),
          probeEventList: GUIDE_CHANNELS.map((c) => ({
            probeInfo: { probe: c.probe, channel: c.channel, isSend: 0 },
          })),
        },
      };
    case 'contactClosure': {
      // 3.15.3
      if (write) return DBUPDATE_SUCCESS;
      const input = (n: number): Json => ({
        isContactEnabled: 1,
        initiateState: 0,
        contactName: `Digital Input ${n}`,
        isDisplay: 1,
        isLog: 0,
        OpenStatus: 0,
      });
      return {
        contactClosure: {
          status: 'success',
          contact1: input(1),
          contact2: input(2),
          contactOutput: { isDisplay: 1, isLog: 0, outputType: 2, relayStatus: 1, isLatch: 0 },
        },
      };
    }
    case 'relayInfo': // 3.16.3
    case 'contactOutput': // 3.17.3
      return DBUPDATE_SUCCESS;
    default:
      return { [key]: { status: 'error' } };
  }
}

/** Default extract: a header naming the time "Date Time", every cell quoted, LF line ends. */
function quotedExtract(columns: string[], startTime: number, endTime: number): string {
  const lines = [['Date Time', ...columns].map((cell) => `"${cell}"`).join(',')];
  for (let time = startTime - (startTime % 5) + 5; time <= endTime && lines.length <= 20; time += 5)
    lines.push(
      [new Date(time * 1000).toISOString().slice(0, 19).replace('T', ' '), ...columns.map(() => '52.9')]
        .map((cell) => `"${cell}"`)
        .join(','),
    );
  return `${lines.join('\n')}\n`;
}

export async function startGuideUnit(options: GuideUnitOptions = {}): Promise<GuideUnitHandle> {
  let upgrades = 0;
  let extracts = 0;
  const messages: string[] = [];
  const secure = options.tls !== undefined;
  const wsServer = secure ? https.createServer(options.tls ?? {}) : http.createServer();
  wsServer.on('upgrade', () => upgrades++);
  const wss = new WebSocketServer({ server: wsServer });
  wss.on('connection', (socket) => {
    socket.on('message', (data: RawData) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as Uint8Array).toString('utf8');
      messages.push(text);
      let request: Json;
      try {
        request = JSON.parse(text) as Json;
      } catch {
        socket.send(JSON.stringify({ error: { status: 'invalid json' } }));
        return;
      }
      const [rawKey] = Object.keys(request);
      const key = (rawKey ?? '').trim();
      const body = (request[rawKey] ?? {}) as Json;
      if (key === 'login') {
        const ok = ['admin', 'user'].includes(String(body.username)) && body.password === GUIDE_PASSWORD;
        socket.send(
          JSON.stringify({
            login: ok ? { status: 'success', token: GUIDE_TOKEN } : { status: 'authentication error' },
          }),
        );
        return;
      }
      if (typeof body.token !== 'string' || body.token.trim() !== GUIDE_TOKEN) {
        socket.send(JSON.stringify({ [key]: { status: 'authentication error' } }));
        return;
      }
      socket.send(JSON.stringify(guideAnswer(key, body)));
    });
  });
  const extract = options.extract ?? quotedExtract;
  const handler: http.RequestListener = (request, response) => {
    const url = new URL(request.url ?? '/', 'http://unit');
    if (url.pathname !== '/cgi-bin/query') {
      response.writeHead(404).end();
      return;
    }
    extracts++;
    const columns = [...url.searchParams.entries()]
      .filter(([key]) => key !== 'startTime' && key !== 'endTime')
      .map(([, header]) => header);
    const start = Number(url.searchParams.get('startTime'));
    const end = Number(url.searchParams.get('endTime'));
    response.writeHead(200, { 'Content-Type': 'text/plain' }).end(extract(columns, start, end));
  };
  const cgi = secure ? https.createServer(options.tls ?? {}, handler) : http.createServer(handler);
  const listen = (server: http.Server): Promise<number> =>
    new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
  const port = await listen(wsServer);
  const httpPort = await listen(cgi);
  return {
    endpoint: `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}/?cgiPort=${httpPort}`,
    port,
    httpPort,
    upgrades: () => upgrades,
    messages: () => [...messages],
    extracts: () => extracts,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      wsServer.closeAllConnections();
      cgi.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => wsServer.close(() => resolve())),
        new Promise<void>((resolve) => cgi.close(() => resolve())),
      ]);
    },
  };
}
