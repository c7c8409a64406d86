/**
 * The Omega iServer 2 driver (issue #4): sensor readings, calibration (gain/offset) and diagnostics over
 * the unit's JSON WebSocket; logged history over its CGI extract. Unit maintenance (alarm settings,
 * logging interval, relays, contact closure, probe names, triggers) is IServer2Maintenance.
 * The iServer 2 is an environmental-sensor gateway, not an energy meter: it implements no meter
 * operation, so it carries out no UDIL command and serves no UDIL on-demand table
 * (ISERVER2_UNSUPPORTED gives the remark per operation).
 */
import {
  DateRange,
  DeviceDriver,
  DriverCapabilities,
  DriverDescription,
  DriverError,
  GatewayEndpoint,
  MeterOperation,
  OperationContext,
  SensorCalibration,
  SensorReading,
  UnsupportedOperationError,
} from '../driver.contract';
import { ExchangeObserver } from './iserver2-client';
import { ExtractColumn, buildExtractQuery, readExtract } from './iserver2-extract';
import { IServer2ProtocolError, SensorMetaAnswer, channelId, readAnswer } from './iserver2-messages';
import { ClientCache, GatewayHttp, HttpAnswer } from '../kit';
import {
  ISERVER2_DRIVER_NAME,
  IServer2UnitOptions,
  IServer2Units,
  observerFor,
  round,
} from './iserver2-units';

export { ISERVER2_DRIVER_NAME } from './iserver2-units';

const NOT_A_METER =
  'the iServer 2 is an environmental sensor gateway (temperature, humidity, pressure), not a meter';

/** Why each energy-meter operation is missing on an iServer 2 device (docs/iserver2.md, docs/udil.md). */
export const ISERVER2_UNSUPPORTED: Readonly<Record<MeterOperation, string>> = {
  discoverMeters: 'probes are discovered by the unit itself (probeList), not meters',
  discoverResources: `${NOT_A_METER}; its probes and sensors are listed by readDiagnostics`,
  registerMeter: 'probes are discovered by the unit itself (probeList), not created',
  readClock: `${NOT_A_METER}; its unit metadata carries no meter clock`,
  setClock: 'the unit has no clock-setting command in its WebSocket interface',
  readInstantaneous: `${NOT_A_METER}; read its sensors with readSensors`,
  readBilling: `${NOT_A_METER}; there is no billing data`,
  readMonthlyBilling: `${NOT_A_METER}; there is no billing data`,
  readLoadProfile: `${NOT_A_METER}; its logged sensor data is read with readHistory`,
  readEvents: 'the unit keeps no event log reachable over its WebSocket or CGI interface',
  operateRelay: `${NOT_A_METER}; its alarm relays follow sensor alarms and are configured with relayTrigger`,
  setLoadLimit: `${NOT_A_METER}; there is no load to limit`,
  setTimeOfUse: `${NOT_A_METER}; there are no tariffs`,
  configureSampling: 'use the logging interval (logConfig) through the driver, not UDIL sampling',
  resetTimeOfUse: `${NOT_A_METER}; there are no tariffs`,
  setThresholdAlarm: `${NOT_A_METER}; its sensor alarms (alarmInfo) watch temperature, humidity and pressure, not supply quantities`,
  clearThresholdAlarm: `${NOT_A_METER}; its sensor alarms (alarmInfo) watch temperature, humidity and pressure, not supply quantities`,
  setBillingReset: `${NOT_A_METER}; there is no billing period`,
  setCommunicationAddress: 'the unit has no network-settings command in its WebSocket interface',
  activateOpticalPort: 'the unit has no optical port',
  setWakeUpNumbers: 'the unit has no SIM',
  readSupplyRelay: `${NOT_A_METER}; its alarm relays follow sensor alarms (relayTrigger), there is no supply relay`,
  readLoadLimit: `${NOT_A_METER}; there is no load limit`,
  readSampling: 'its logging interval (logConfig) is not UDIL meter data sampling',
  readTimeOfUse: `${NOT_A_METER}; there are no tariffs`,
  readThresholdAlarm: `${NOT_A_METER}; its sensor alarms (alarmInfo) watch temperature, humidity and pressure, not supply quantities`,
};

export const ISERVER2_CAPABILITIES: DriverCapabilities = { refusals: ISERVER2_UNSUPPORTED };

export const ISERVER2_DESCRIPTION: DriverDescription = {
  label: 'Omega iServer 2 sensor gateway (JSON WebSocket, CGI extract)',
  settings: {
    // The CGI extract is reached over http(s) on the same host (cgiPort in the endpoint's query).
    endpointSchemes: ['ws', 'wss'],
    endpointExample: 'ws://10.20.0.40:80',
    // Without a username the driver logs in as the unit's default user "admin".
    credentials: 'optional',
  },
};

export interface IServer2DriverOptions extends IServer2UnitOptions {
  /**
   * Base URL of the CGI extract for a gateway. Default: the WebSocket host over http (https for wss),
   * port 80 (443), or the port given as `cgiPort` in the endpoint's query ("ws://unit:8081/?cgiPort=8080").
   */
  cgiBaseUrl?(gateway: GatewayEndpoint): string;
}

/**
 * The production driver: the contract's sensor operations, which product paths call — readSensors (MPCB
 * acquisition), readDiagnostics (MPCB instructions, the admin connection test), read/writeCalibration
 * (admin channel calibration), readHistory (admin channel history, over the CGI extract). Unit maintenance
 * (alarms, relays, logging, probe names, triggers) is IServer2Maintenance, on the same connections.
 */
export class IServer2Driver implements DeviceDriver {
  readonly name = ISERVER2_DRIVER_NAME;
  readonly capabilities = ISERVER2_CAPABILITIES;
  readonly description = ISERVER2_DESCRIPTION;
  /** The connections to the units, shared with IServer2Maintenance. */
  readonly units: IServer2Units;

  /** The HTTP(S) connection of each unit's CGI extract (one request at a time, not kept open). */
  private readonly extracts = new ClientCache<GatewayHttp>(
    (gateway) =>
      new GatewayHttp(gateway, this.cgiBaseUrl(gateway), {
        maxSockets: 1,
        label: `iServer 2 ${gateway.name}`,
      }),
  );

  constructor(private readonly options: IServer2DriverOptions = {}) {
    this.units = new IServer2Units(options);
  }

  /** The refusal, with its remark, for an energy-meter operation on an iServer 2 device. */
  unsupported(operation: MeterOperation): UnsupportedOperationError {
    return new UnsupportedOperationError(this.name, operation, ISERVER2_UNSUPPORTED[operation]);
  }

  async gatewayChanged(gateway: GatewayEndpoint): Promise<void> {
    await Promise.all([this.units.settingsChanged(gateway), this.extracts.settingsChanged(gateway)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.units.close(), this.extracts.closeAll()]);
  }

  // --------------------------------------------------------------------------------------------------
  // SensorOperations

  async readSensors(gateway: GatewayEndpoint, ctx: OperationContext): Promise<SensorReading[]> {
    const observer = observerFor(ctx);
    return this.units.guard(async () => {
      const client = this.units.client(gateway);
      const list = readAnswer.probeList(await client.command('probeList', {}, [], observer));
      const readings: SensorReading[] = [];
      /** Sensors whose answer was not understood: left out, so that one does not cost the others. */
      const garbled: IServer2ProtocolError[] = [];
      for (const probe of list.probes) {
        if (probe.connected !== 1) continue;
        for (const channel of probe.sensors) {
          const address = { probe: probe.probe, channel };
          try {
            const meta = await this.units.sensorMeta(gateway, client, address, observer);
            const data = readAnswer.sensorData(await client.command('sensorData', address, [], observer));
            readings.push({
              channel: channelId(probe.probe, channel),
              name: meta.name,
              value: round(data.value, data.precision),
              unit: meta.unit,
              precision: data.precision,
              timestamp: new Date(data.time * 1000),
            });
          } catch (error) {
            if (!(error instanceof IServer2ProtocolError)) throw error;
            garbled.push(error);
            const remark = `sensor ${channelId(probe.probe, channel)} left out: its answer was not understood (${error.message})`;
            ctx.log?.(remark);
            ctx.remark?.(remark);
          }
        }
      }
      // Nothing understood at all: a unit that answers in a form this driver does not know.
      if (readings.length === 0 && garbled.length > 0) throw garbled[0];
      return readings;
    });
  }

  async readCalibration(
    gateway: GatewayEndpoint,
    channel: string,
    ctx: OperationContext,
  ): Promise<SensorCalibration> {
    const observer = observerFor(ctx);
    const address = this.units.address(channel);
    return this.units.guard(async () => {
      const message = await this.units.client(gateway).command('adjustInfo', address, [], observer);
      const answer = readAnswer.adjustInfo(message);
      this.units.checkEcho(gateway, answer, address, 'adjustInfo', observer);
      return { channel: channelId(address.probe, address.channel), gain: answer.gain, offset: answer.offset };
    });
  }

  async writeCalibration(
    gateway: GatewayEndpoint,
    calibration: SensorCalibration,
    ctx: OperationContext,
  ): Promise<void> {
    const observer = observerFor(ctx);
    const address = this.units.address(calibration.channel);
    if (!Number.isFinite(calibration.gain) || !Number.isFinite(calibration.offset))
      throw new DriverError('refused', 'gain and offset must be finite numbers', false);
    await this.units.guard(async () => {
      const message = await this.units
        .client(gateway)
        .command(
          'adjustInfo',
          { ...address, gain: calibration.gain, offset: calibration.offset },
          [],
          observer,
        );
      this.units.checkEcho(
        gateway,
        readAnswer.channelWrite(message, 'adjustInfo'),
        address,
        'adjustInfo',
        observer,
      );
    });
  }

  async readHistory(
    gateway: GatewayEndpoint,
    channels: string[],
    range: DateRange,
    ctx: OperationContext,
  ): Promise<SensorReading[]> {
    const observer = observerFor(ctx);
    const addresses = channels.map((channel) => this.units.address(channel));
    if (!(range.from.getTime() <= range.to.getTime()))
      throw new DriverError('refused', 'history range ends before it starts', false);
    if (addresses.length === 0) return [];
    return this.units.guard(async () => {
      const client = this.units.client(gateway);
      const metas = new Map<string, SensorMetaAnswer>();
      for (const address of addresses)
        metas.set(
          channelId(address.probe, address.channel),
          await this.units.sensorMeta(gateway, client, address, observer),
        );
      // The requested header of each column is the channel id itself: unambiguous, free of commas.
      const columns: ExtractColumn[] = [...metas.keys()].map((key) => ({ key, header: key }));
      const csv = await this.httpGet(
        gateway,
        `/cgi-bin/query?${buildExtractQuery(range, columns)}`,
        observer,
      );
      // Extract times without an offset are in the unit's clock zone.
      const extract = readExtract(csv, columns, gateway.clockTimeZone || 'UTC');
      if (extract.missingColumns.length > 0)
        observer.log?.(`extract has no column for ${extract.missingColumns.join(', ')}: no samples for them`);
      const readings: SensorReading[] = [];
      for (const row of extract.rows) {
        for (const [key, meta] of metas) {
          const value = row.values[key];
          if (value === null || value === undefined) continue;
          readings.push({
            channel: key,
            name: meta.name,
            value: round(value, meta.precision),
            unit: meta.unit,
            precision: meta.precision,
            timestamp: row.time,
          });
        }
      }
      return readings;
    });
  }

  async readDiagnostics(gateway: GatewayEndpoint, ctx: OperationContext): Promise<Record<string, unknown>> {
    const observer = observerFor(ctx);
    return this.units.guard(async () => {
      const client = this.units.client(gateway);
      const unit = await this.units.systemMeta(client, observer);
      const logging = readAnswer.logConfig(await client.command('logConfig', {}, [], observer));
      const list = readAnswer.probeList(await client.command('probeList', {}, [], observer));
      const probes: Record<string, unknown>[] = [];
      for (const probe of list.probes) {
        if (probe.connected !== 1) {
          probes.push({ probe: probe.probe, connected: false });
          continue;
        }
        const meta = await this.units.probeMeta(client, probe.probe, observer);
        const config = readAnswer.probeConfig(
          await client.command('probeConfig', { probe: probe.probe }, [], observer),
        );
        const sensors: Record<string, unknown>[] = [];
        for (const channel of probe.sensors) {
          const address = { probe: probe.probe, channel };
          const sensorMeta = await this.units.sensorMeta(gateway, client, address, observer);
          const alarm = readAnswer.alarmStatus(await client.command('alarmStatus', address, [], observer));
          sensors.push({
            channel: channelId(probe.probe, channel),
            name: sensorMeta.name,
            type: sensorMeta.typestr,
            unit: sensorMeta.unit,
            precision: sensorMeta.precision,
            alarm: alarm.value,
          });
        }
        probes.push({
          connected: true,
          name: config.deviceName,
          locked: probe.isLock === 1,
          extracting: probe.isExtractIP === 1,
          lastSeen: new Date(probe.timestamp * 1000),
          ...meta,
          sensors,
        });
      }
      const relays = [];
      for (const relayId of [1, 2]) relays.push(await this.units.readRelay(client, relayId, observer));
      const contacts = readAnswer.contactClosure(
        await client.command('contactClosure', { apiaction: 'read' }, [], observer),
      );
      return {
        unit,
        logging: { intervalSeconds: logging.interval, enabled: logging.enable === 1 },
        probes,
        relays,
        contacts: {
          contact1: contacts.contact1,
          contact2: contacts.contact2,
          contactOutput: contacts.contactOutput,
        },
      };
    });
  }

  // --------------------------------------------------------------------------------------------------

  private cgiBaseUrl(gateway: GatewayEndpoint): string {
    if (this.options.cgiBaseUrl) return this.options.cgiBaseUrl(gateway).replace(/\/+$/, '');
    const url = new URL(gateway.endpoint);
    const secure = url.protocol === 'wss:';
    const port = url.searchParams.get('cgiPort');
    return `${secure ? 'https' : 'http'}://${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}${port ? `:${port}` : ''}`;
  }

  /** One GET of the CGI extract on the kit's HTTP stack: the gateway's TLS mode and pin, byte counts. */
  private async httpGet(gateway: GatewayEndpoint, path: string, observer: ExchangeObserver): Promise<string> {
    const started = Date.now();
    let response: HttpAnswer;
    try {
      response = await this.extracts.get(gateway).send({ method: 'GET', path }, observer);
    } catch (error) {
      if (error instanceof DriverError && error.kind === 'authentication')
        throw new DriverError(
          'authentication',
          `iServer 2 extract: TLS refused: ${error.message}`,
          false,
          error,
        );
      if (error instanceof DriverError)
        throw new DriverError(error.kind, `iServer 2 extract: ${error.message}`, error.retryable, error);
      throw error;
    }
    observer.log?.(`GET ${path} ${response.status} (${Date.now() - started} ms)`);
    if (response.status === 401 || response.status === 403)
      throw new DriverError('authentication', `iServer 2 extract refused: HTTP ${response.status}`, false);
    if (response.status >= 500)
      throw new DriverError('device', `iServer 2 extract failed: HTTP ${response.status}`, true);
    if (response.status >= 400)
      throw new DriverError(
        'refused',
        `iServer 2 extract refused: HTTP ${response.status} ${response.body}`,
        false,
      );
    return response.body;
  }
}
