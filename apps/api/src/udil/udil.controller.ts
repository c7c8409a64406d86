import { Controller, HttpCode, Inject, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { NoFilesInterceptor } from '@nestjs/platform-express';
import { ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { AcceptanceAnswer, TransactionAcceptanceService, TransactionWaiter } from '@hes/transactions';
import {
  OnDemandParameters,
  OnDemandType,
  RawFields,
  UdilAuthService,
  UdilCommand,
  UdilBody,
  UdilJsonAnswer,
  formatUdilDatetime,
  parseCommandParameters,
  parseDeviceIds,
  parseOnDemandDataReadParameters,
  parseOnDemandParameters,
  parseTransactionId,
  parseTransactionIds,
  toText,
} from '@hes/udil';
import { commandMessage } from './udil-messages';
import { onDemandDataAnswer } from './on-demand-data-answer';
import { UdilResponseInterceptor } from './udil-response.interceptor';
import { RequestTextGuard, RequestTextInterceptor } from '../common/request-text.interceptor';

function header(request: Request, name: string): string | undefined {
  const value = toText(request.headers[name] ?? (request.body as RawFields | undefined)?.[name]);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const KEY_HEADERS = [
  ApiHeader({ name: 'privatekey', required: true, description: 'from authorization_service' }),
  ApiHeader({
    name: 'transactionid',
    required: true,
    description: 'unique per request, up to 64 characters',
  }),
];

function commandRoute(summary: string): MethodDecorator {
  return (target, key, descriptor) => {
    ApiOperation({ summary })(target, key, descriptor);
    for (const decorate of KEY_HEADERS) decorate(target, key, descriptor);
  };
}

/** The UDIL services at their spec names: UDIL 2019 (§3.2, §3.4, §3.5.2–3.5.3) and the 3.x writes (3.2 §3.3, 3.3). */
@ApiTags('UDIL')
@ApiConsumes('application/x-www-form-urlencoded', 'application/json', 'multipart/form-data')
@ApiProduces('application/json', 'application/xml')
@Controller()
// Multipart bodies are parsed by NoFilesInterceptor: the request-text rule is applied to them after it.
@UseGuards(RequestTextGuard)
@UseInterceptors(NoFilesInterceptor(), RequestTextInterceptor, UdilResponseInterceptor)
export class UdilController {
  constructor(
    private readonly auth: UdilAuthService,
    private readonly transactions: TransactionAcceptanceService,
    private readonly waiter: TransactionWaiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('authorization_service')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange username, password and code (headers) for a privatekey' })
  @ApiHeader({ name: 'username', required: true })
  @ApiHeader({ name: 'password', required: true })
  @ApiHeader({ name: 'code', required: true })
  async authorize(@Req() request: Request): Promise<UdilBody> {
    const key = await this.auth.authorize(
      header(request, 'username'),
      header(request, 'password'),
      header(request, 'code'),
      request.ip ?? 'unknown',
    );
    return {
      status: '1',
      privatekey: key.privatekey,
      message: `You are authenticated successfully. Private key will be valid for ${this.config.UDIL_PRIVATEKEY_TTL_MINUTES} minutes (until ${formatUdilDatetime(key.expiresAt, this.config.TIME_ZONE)})`,
    };
  }

  @Post('aux_relay_operations')
  @HttpCode(200)
  @commandRoute('Disconnect (0) or connect (1) the supply relay')
  auxRelayOperations(@Req() r: Request) {
    return this.command(UdilCommand.AuxRelayOperations, r);
  }

  @Post('time_synchronization')
  @HttpCode(200)
  @commandRoute('Set the meter clock from the head-end clock')
  timeSynchronization(@Req() r: Request) {
    return this.command(UdilCommand.TimeSynchronization, r);
  }

  @Post('sanctioned_load_control')
  @HttpCode(200)
  @commandRoute('Load limit with retries')
  sanctionedLoadControl(@Req() r: Request) {
    return this.command(UdilCommand.SanctionedLoadControl, r);
  }

  @Post('load_shedding_scheduling')
  @HttpCode(200)
  @commandRoute('Relay schedule between two datetimes')
  loadSheddingScheduling(@Req() r: Request) {
    return this.command(UdilCommand.LoadSheddingScheduling, r);
  }

  @Post('time_of_use_change')
  @HttpCode(200)
  @commandRoute('Tariff time slabs')
  timeOfUseChange(@Req() r: Request) {
    return this.command(UdilCommand.TimeOfUseChange, r);
  }

  @Post('device_creation')
  @HttpCode(200)
  @commandRoute('Register meters (device_identity: dsn and global_device_id)')
  deviceCreation(@Req() r: Request) {
    return this.command(UdilCommand.DeviceCreation, r);
  }

  @Post('update_ip_port')
  @HttpCode(200)
  @commandRoute('Primary and secondary IP addresses and ports')
  updateIpPort(@Req() r: Request) {
    return this.command(UdilCommand.UpdateIpPort, r);
  }

  @Post('meter_data_sampling')
  @HttpCode(200)
  @commandRoute('Sampling interval of INST, BILL or LPRO data')
  meterDataSampling(@Req() r: Request) {
    return this.command(UdilCommand.MeterDataSampling, r);
  }

  @Post('activate_meter_optical_port')
  @HttpCode(200)
  @commandRoute('Optical port window')
  activateMeterOpticalPort(@Req() r: Request) {
    return this.command(UdilCommand.ActivateMeterOpticalPort, r);
  }

  @Post('wake_up_sim_number_update')
  @HttpCode(200)
  @commandRoute('Numbers allowed to wake the meter up')
  wakeUpSimNumberUpdate(@Req() r: Request) {
    return this.command(UdilCommand.WakeUpSimNumberUpdate, r);
  }

  @Post('meter_status_update')
  @HttpCode(200)
  @commandRoute('Activate (1) or deactivate (0) a meter')
  meterStatusUpdate(@Req() r: Request) {
    return this.command(UdilCommand.MeterStatusUpdate, r);
  }

  // UDIL 3.x names of 2019 services (3.2 §3.3.5, §3.3.10, §3.3.11): the same commands.

  @Post('update_time_of_use')
  @HttpCode(200)
  @commandRoute('UDIL 3.x: day, week, season and holiday profiles (the calendar of time_of_use_change)')
  updateTimeOfUse(@Req() r: Request) {
    return this.command(UdilCommand.TimeOfUseChange, r, 'update_time_of_use');
  }

  @Post('update_wake_up_sim_number')
  @HttpCode(200)
  @commandRoute('UDIL 3.x: numbers allowed to wake the meter up (wake_up_sim_number_update)')
  updateWakeUpSimNumber(@Req() r: Request) {
    return this.command(UdilCommand.WakeUpSimNumberUpdate, r, 'update_wake_up_sim_number');
  }

  @Post('update_meter_status')
  @HttpCode(200)
  @commandRoute('UDIL 3.x: activate (1) or deactivate (0) a meter (meter_status_update)')
  updateMeterStatus(@Req() r: Request) {
    return this.command(UdilCommand.MeterStatusUpdate, r, 'update_meter_status');
  }

  // UDIL 3.x services without a 2019 namesake (3.2 §3.3.12–3.3.15, 3.3).

  @Post('update_device_metadata')
  @HttpCode(200)
  @commandRoute('UDIL 3.x: communication mode, type, interval, phase and meter type')
  updateDeviceMetadata(@Req() r: Request) {
    return this.command(UdilCommand.UpdateDeviceMetadata, r);
  }

  @Post('update_mdi_reset_date')
  @HttpCode(200)
  @commandRoute('UDIL 3.x: day of the month (1–28) and time of the MDI reset')
  updateMdiResetDate(@Req() r: Request) {
    return this.command(UdilCommand.UpdateMdiResetDate, r);
  }

  @Post('apms_tripping_events')
  @HttpCode(200)
  @commandRoute('UDIL 3.x: critical and tripping thresholds of one APMS function (OVFC … HAPF)')
  apmsTrippingEvents(@Req() r: Request) {
    return this.command(UdilCommand.ApmsTrippingEvents, r);
  }

  @Post('parameterization_cancellation')
  @HttpCode(200)
  @commandRoute('UDIL 3.x: put SANC, LSCH, TIOU or an APMS function back to its default')
  parameterizationCancellation(@Req() r: Request) {
    return this.command(UdilCommand.ParameterizationCancellation, r);
  }

  @Post('update_major_alarms')
  @HttpCode(200)
  @commandRoute('UDIL 3.3: the event codes reported as major alarms (at most 10)')
  updateMajorAlarms(@Req() r: Request) {
    return this.command(UdilCommand.UpdateMajorAlarms, r);
  }

  @Post('on_demand_request')
  @HttpCode(200)
  @commandRoute(
    'Read INST, BILL, MBIL, LPRO, EVNT or VISL from the meters now; results come back in transaction_status',
  )
  async onDemandRequest(@Req() request: Request): Promise<UdilBody> {
    const { answer } = await this.acceptRead(
      request,
      'on_demand_request',
      parseOnDemandParameters,
      (type) => `${type} data of meters with indv_status 1 will be in transaction_status`,
    );
    return answer;
  }

  @Post('on_demand_data_read')
  @HttpCode(200)
  @commandRoute(
    'UDIL 3.x: read INST, BILL, MBIL, LPRO or EVNT from one meter and answer with its rows (within UDIL_ON_DEMAND_WAIT_SECONDS; later, transaction_status carries them)',
  )
  async onDemandDataRead(@Req() request: Request): Promise<UdilBody> {
    // The same engine as on_demand_request: one TRANSACTION_STATUS row, a queued read, rows in the UDIL tables.
    const { answer, type, ids } = await this.acceptRead(
      request,
      'on_demand_data_read',
      parseOnDemandDataReadParameters,
      (type) => `${type} read of the meter started`,
    );
    if (answer.status !== '1') return answer;
    const seconds = this.config.UDIL_ON_DEMAND_WAIT_SECONDS;
    // Waiting ends early when the client goes away (the response closes before it was written).
    const gone = new AbortController();
    const onClose = () => {
      if (!request.res?.writableEnded) gone.abort();
    };
    request.res?.on('close', onClose);
    const wait = await this.waiter
      .wait(answer.transactionid, ids, seconds * 1000, gone.signal)
      .finally(() => request.res?.off('close', onClose));
    return onDemandDataAnswer(type, answer, wait, seconds);
  }

  @Post('transaction_status')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Status rows of one transaction (transactionid header) or several (transactionid in the body)',
  })
  @ApiHeader({ name: 'privatekey', required: true })
  async transactionStatus(@Req() request: Request): Promise<UdilJsonAnswer> {
    const clientId = await this.auth.clientOf(header(request, 'privatekey'));
    const body = (request.body ?? {}) as RawFields;
    const ids =
      body.transactionid !== undefined
        ? parseTransactionIds(body.transactionid)
        : [parseTransactionId(request.headers.transactionid)];
    const data = await this.transactions.statusJson(ids, clientId);
    const answer = {
      status: data.count > 0 ? '1' : '0',
      // Every output value is a string (3.2 §3.4.3: "Param transactionid String"; clients parse every value
      // as one): several ids as the JSON array text they are sent as.
      transactionid: ids.length === 1 ? ids[0] : JSON.stringify(ids),
      data: [],
      message:
        data.count > 0 ? `${data.count} device row(s)` : `no transaction ${ids.join(', ')} of this client`,
    };
    return UdilJsonAnswer.ofArray(answer, 'data', data.items);
  }

  @Post('transaction_cancel')
  @HttpCode(200)
  @commandRoute('Cancel devices of a transaction still at status_level 0, 1 or 2')
  async transactionCancel(@Req() request: Request): Promise<UdilBody> {
    const clientId = await this.auth.clientOf(header(request, 'privatekey'));
    const transactionid = parseTransactionId(request.headers.transactionid);
    const devices = parseDeviceIds((request.body as RawFields | undefined)?.global_device_id, transactionid);
    return this.transactions.cancel(transactionid, devices, clientId);
  }

  /** Accepts an on-demand read (a TRANSACTION_STATUS row per device, queued) for the service it came to. */
  private async acceptRead(
    request: Request,
    service: 'on_demand_request' | 'on_demand_data_read',
    parse: (fields: RawFields, zone: string, transactionid: string) => OnDemandParameters,
    started: (type: OnDemandType) => string,
  ): Promise<{ answer: AcceptanceAnswer; type: OnDemandType; ids: string[] }> {
    const clientId = await this.auth.clientOf(header(request, 'privatekey'));
    const transactionid = parseTransactionId(request.headers.transactionid);
    const fields = (request.body ?? {}) as RawFields;
    const { global_device_id: ids, type, ...range } = parse(fields, this.config.TIME_ZONE, transactionid);
    const answer = await this.transactions.accept(
      {
        operation: { kind: 'read', type },
        service,
        transactionid,
        clientId,
        parameters: this.asText({ type, ...range }),
        devices: ids.map((globalDeviceId) => ({ globalDeviceId })),
      },
      (accepted) => (accepted > 0 ? started(type) : 'No device was accepted: see the remarks of each device'),
    );
    return { answer, type, ids };
  }

  /** A write command, requested by `service` (its 2019 name unless given). */
  private async command(
    command: UdilCommand,
    request: Request,
    service: string = command,
  ): Promise<UdilJsonAnswer> {
    const clientId = await this.auth.clientOf(header(request, 'privatekey'));
    const transactionid = parseTransactionId(request.headers.transactionid);
    const fields = (request.body ?? {}) as RawFields;
    const parameters = parseCommandParameters(
      command,
      fields,
      this.config.TIME_ZONE,
      transactionid,
      service,
    ) as Record<string, unknown>;
    const {
      global_device_id: ids,
      device_identity: identities,
      ...rest
    } = parameters as {
      global_device_id?: string[];
      device_identity?: { dsn: string; global_device_id: string }[];
    } & Record<string, unknown>;
    const devices = identities
      ? identities.map((identity) => ({ globalDeviceId: identity.global_device_id, msn: identity.dsn }))
      : (ids ?? []).map((globalDeviceId) => ({ globalDeviceId }));
    return this.transactions.acceptJson(
      {
        operation: { kind: 'command', command, service },
        transactionid,
        clientId,
        parameters: this.asText(rest),
        devices,
      },
      (accepted) => commandMessage(command, accepted),
    );
  }

  /** Parameters as UDIL text (datetimes back in the configured zone), for type_parameters. */
  private asText(parameters: Record<string, unknown>): Record<string, unknown> {
    const zone = this.config.TIME_ZONE;
    const walk = (value: unknown): unknown => {
      if (value instanceof Date) return formatUdilDatetime(value, zone);
      if (Array.isArray(value)) return value.map(walk);
      if (value && typeof value === 'object')
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
      return value;
    };
    return walk(parameters) as Record<string, unknown>;
  }
}
