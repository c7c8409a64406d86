import type { MeterOperation, ThresholdFunction } from '@hes/drivers';
import { ApmsType, CancellationType, OnDemandType, UdilCommand } from './udil-vocabulary';

/** The two generations of the protocol served side by side: UDIL 2019 and UDIL 3.x (3.2, 3.3). */
export type UdilGeneration = '2019' | '3';

/**
 * How the head-end carries out a write command for one device:
 * - `device`: the device does it through its driver's `operation`; a device whose driver does not
 *   implement it is refused at acceptance (indv_status 0, the remark names the driver and its reason);
 * - `head-end`: the head-end does it itself (`does`: its registry, its schedules). With `requires`,
 *   it needs that device operation to act (refused per driver without it); with `uses`, it also
 *   sends the command to the device when the driver implements that operation.
 */
export type CommandPlan =
  | {
      by: 'device';
      operation: MeterOperation;
      /** The variant of the operation the parameters ask for, which a driver may refuse on its own. */
      variant?: (parameters: Readonly<Record<string, unknown>>) => string | undefined;
    }
  | { by: 'head-end'; does: string; requires?: MeterOperation; uses?: MeterOperation }
  /** The plan depends on the request's `type` parameter. */
  | { by: 'type'; plans: Readonly<Record<string, CommandPlan>> };

/** The protection function of each APMS type, in the drivers' terms. */
export const APMS_FUNCTIONS: Readonly<Record<ApmsType, ThresholdFunction>> = {
  [ApmsType.OverVoltage]: 'overVoltage',
  [ApmsType.UnderVoltage]: 'underVoltage',
  [ApmsType.OverCurrent]: 'overCurrent',
  [ApmsType.OverLoad]: 'overLoad',
  [ApmsType.VoltageUnbalance]: 'voltageUnbalance',
  [ApmsType.PhaseFailure]: 'phaseFailure',
  [ApmsType.CurrentUnbalance]: 'currentUnbalance',
  [ApmsType.HighApparentPower]: 'highApparentPower',
};

const apmsFunction = (parameters: Readonly<Record<string, unknown>>) =>
  APMS_FUNCTIONS[parameters.type as ApmsType];

const CANCELLATION_PLANS: Readonly<Record<CancellationType, CommandPlan>> = {
  SANC: { by: 'device', operation: 'setLoadLimit' },
  LSCH: { by: 'head-end', does: "removes its load-shedding schedule of the meter's relay" },
  TIOU: { by: 'device', operation: 'resetTimeOfUse' },
  ...(Object.fromEntries(
    Object.values(ApmsType).map((type): [ApmsType, CommandPlan] => [
      type,
      { by: 'device', operation: 'clearThresholdAlarm', variant: () => APMS_FUNCTIONS[type] },
    ]),
  ) as Record<ApmsType, CommandPlan>),
};

export interface UdilServiceDefinition {
  command: UdilCommand;
  /** The service (route) name in each generation that has it. */
  names: Readonly<Partial<Record<UdilGeneration, string>>>;
  plan: CommandPlan;
}

const both = (name: string) => ({ '2019': name, '3': name });

/** THE table: every UDIL write service, by both its names, and its plan. docs/udil.md renders it. */
export const UDIL_COMMANDS: Readonly<Record<UdilCommand, UdilServiceDefinition>> = {
  [UdilCommand.AuxRelayOperations]: {
    command: UdilCommand.AuxRelayOperations,
    names: both('aux_relay_operations'),
    plan: { by: 'device', operation: 'operateRelay' },
  },
  [UdilCommand.TimeSynchronization]: {
    command: UdilCommand.TimeSynchronization,
    names: both('time_synchronization'),
    plan: { by: 'device', operation: 'setClock' },
  },
  [UdilCommand.SanctionedLoadControl]: {
    command: UdilCommand.SanctionedLoadControl,
    names: both('sanctioned_load_control'),
    plan: { by: 'device', operation: 'setLoadLimit' },
  },
  [UdilCommand.LoadSheddingScheduling]: {
    command: UdilCommand.LoadSheddingScheduling,
    names: both('load_shedding_scheduling'),
    plan: {
      by: 'head-end',
      does: "keeps the schedule and operates the relay at each slab's action time",
      requires: 'operateRelay',
    },
  },
  [UdilCommand.TimeOfUseChange]: {
    command: UdilCommand.TimeOfUseChange,
    names: { '2019': 'time_of_use_change', '3': 'update_time_of_use' },
    plan: { by: 'device', operation: 'setTimeOfUse' },
  },
  [UdilCommand.DeviceCreation]: {
    command: UdilCommand.DeviceCreation,
    names: both('device_creation'),
    plan: {
      by: 'head-end',
      does: 'registers the device (gateway found by discovery or registration)',
      uses: 'registerMeter',
    },
  },
  [UdilCommand.UpdateIpPort]: {
    command: UdilCommand.UpdateIpPort,
    names: both('update_ip_port'),
    plan: { by: 'device', operation: 'setCommunicationAddress' },
  },
  [UdilCommand.MeterDataSampling]: {
    command: UdilCommand.MeterDataSampling,
    names: both('meter_data_sampling'),
    plan: { by: 'device', operation: 'configureSampling' },
  },
  [UdilCommand.ActivateMeterOpticalPort]: {
    command: UdilCommand.ActivateMeterOpticalPort,
    names: both('activate_meter_optical_port'),
    plan: { by: 'device', operation: 'activateOpticalPort' },
  },
  [UdilCommand.WakeUpSimNumberUpdate]: {
    command: UdilCommand.WakeUpSimNumberUpdate,
    names: { '2019': 'wake_up_sim_number_update', '3': 'update_wake_up_sim_number' },
    plan: { by: 'device', operation: 'setWakeUpNumbers' },
  },
  [UdilCommand.MeterStatusUpdate]: {
    command: UdilCommand.MeterStatusUpdate,
    names: { '2019': 'meter_status_update', '3': 'update_meter_status' },
    plan: {
      by: 'head-end',
      does: 'reads and commands only active meters (its registry holds the status)',
    },
  },
  [UdilCommand.UpdateDeviceMetadata]: {
    command: UdilCommand.UpdateDeviceMetadata,
    names: { '3': 'update_device_metadata' },
    plan: {
      by: 'head-end',
      does: 'records communication mode, type, interval, phase and meter type in its registry',
    },
  },
  [UdilCommand.UpdateMdiResetDate]: {
    command: UdilCommand.UpdateMdiResetDate,
    names: { '3': 'update_mdi_reset_date' },
    plan: {
      by: 'device',
      operation: 'setBillingReset',
      variant: (p) =>
        Number(p.mdi_reset_date) === 1 && p.mdi_reset_time === '00:00:00' ? 'calendarMonth' : 'dayOfMonth',
    },
  },
  [UdilCommand.ApmsTrippingEvents]: {
    command: UdilCommand.ApmsTrippingEvents,
    names: { '3': 'apms_tripping_events' },
    plan: { by: 'device', operation: 'setThresholdAlarm', variant: apmsFunction },
  },
  [UdilCommand.ParameterizationCancellation]: {
    command: UdilCommand.ParameterizationCancellation,
    names: { '3': 'parameterization_cancellation' },
    plan: { by: 'type', plans: CANCELLATION_PLANS },
  },
  [UdilCommand.UpdateMajorAlarms]: {
    command: UdilCommand.UpdateMajorAlarms,
    names: { '3': 'update_major_alarms' },
    plan: {
      by: 'head-end',
      does: 'keeps the event codes it reports as major alarms (the PMAL parameter read)',
    },
  },
};

/** The plan of one request: a `type`-dependent plan resolved with the request's parameters. */
export function planOf(
  command: UdilCommand,
  parameters: Readonly<Record<string, unknown>>,
): Exclude<CommandPlan, { by: 'type' }> {
  let plan = UDIL_COMMANDS[command].plan;
  while (plan.by === 'type') {
    const chosen: CommandPlan | undefined = plan.plans[String(parameters.type)];
    if (!chosen) throw new Error(`${command}: no plan for type ${String(parameters.type)}`);
    plan = chosen;
  }
  return plan;
}

export interface UdilWriteService {
  /** The route name, e.g. update_time_of_use. */
  name: string;
  command: UdilCommand;
  generation: UdilGeneration;
}

/** Every write service name of both generations (a name both generations share is listed once, as 2019's). */
export const UDIL_WRITE_SERVICES: readonly UdilWriteService[] = Object.values(UDIL_COMMANDS).flatMap(
  (definition) => {
    const services: UdilWriteService[] = [];
    for (const generation of ['2019', '3'] as const) {
      const name = definition.names[generation];
      if (name && !services.some((s) => s.name === name))
        services.push({ name, command: definition.command, generation });
    }
    return services;
  },
);

const SERVICE_BY_NAME = new Map(UDIL_WRITE_SERVICES.map((s) => [s.name, s]));

/** The write service of a route name or a TRANSACTION_STATUS type (any case); undefined when none. */
export function writeServiceNamed(name: string): UdilWriteService | undefined {
  return SERVICE_BY_NAME.get(name.toLowerCase());
}

/**
 * The device operation an on-demand read needs. VISL (the meter's visuals) is composed by the head-end
 * from a fresh instantaneous read and its METER_VISUALS row.
 */
export const ON_DEMAND_OPERATIONS: Readonly<Record<OnDemandType, MeterOperation>> = {
  [OnDemandType.Instantaneous]: 'readInstantaneous',
  [OnDemandType.Billing]: 'readBilling',
  [OnDemandType.MonthlyBilling]: 'readMonthlyBilling',
  [OnDemandType.LoadProfile]: 'readLoadProfile',
  [OnDemandType.Events]: 'readEvents',
  [OnDemandType.Visuals]: 'readInstantaneous',
};
