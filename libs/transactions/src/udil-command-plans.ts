import { DeviceDriver, OnDemandType, UdilCommand } from '@hes/drivers';

/**
 * How the head-end carries out each UDIL write command for one device:
 * - `device`: only the device can do it; a driver without the capability gets the device rejected;
 * - `registry`: the head-end records it in its registry (devices, meter_visuals) and also sends it to
 *   the device when the driver supports it;
 * - load_shedding_scheduling runs natively when the driver supports it, otherwise the head-end keeps
 *   the schedule and operates the relay at each slab's action time (needs aux_relay_operations).
 */
export type CommandPlan = 'device' | 'registry' | 'relay-schedule';

export const COMMAND_PLANS: Record<UdilCommand, CommandPlan> = {
  [UdilCommand.AuxRelayOperations]: 'device',
  [UdilCommand.TimeSynchronization]: 'device',
  [UdilCommand.SanctionedLoadControl]: 'device',
  [UdilCommand.LoadSheddingScheduling]: 'relay-schedule',
  [UdilCommand.TimeOfUseChange]: 'device',
  [UdilCommand.DeviceCreation]: 'registry',
  [UdilCommand.UpdateIpPort]: 'registry',
  [UdilCommand.MeterDataSampling]: 'device',
  [UdilCommand.ActivateMeterOpticalPort]: 'registry',
  [UdilCommand.WakeUpSimNumberUpdate]: 'registry',
  [UdilCommand.MeterStatusUpdate]: 'registry',
};

/** The TRANSACTION_STATUS `type` of a command: its service name, as UDIL 3.2's examples write it. */
export function transactionType(command: UdilCommand): string {
  return command.toUpperCase();
}

/** Why `driver` cannot carry out `command`, or undefined when it can (possibly with the head-end's help). */
export function refusalOf(command: UdilCommand, driver: DeviceDriver): string | undefined {
  const supports = (c: UdilCommand) => driver.capabilities.udilCommands.includes(c);
  switch (COMMAND_PLANS[command]) {
    case 'registry':
      return undefined;
    case 'relay-schedule':
      return supports(command) || supports(UdilCommand.AuxRelayOperations)
        ? undefined
        : `${driver.name} driver supports neither ${command} nor the relay operations the head-end would schedule`;
    case 'device':
      return supports(command) ? undefined : `${driver.name} driver does not support ${command}`;
  }
}

/**
 * Why `driver` cannot serve an on-demand read of `type`. VISL (the meter's visuals) is composed by the
 * head-end from a fresh instantaneous read and its METER_VISUALS row, so it needs INST.
 */
export function readRefusalOf(type: OnDemandType, driver: DeviceDriver): string | undefined {
  const supports = (t: OnDemandType) => driver.capabilities.onDemandTypes.includes(t);
  if (type === OnDemandType.Visuals) {
    return supports(OnDemandType.Visuals) || supports(OnDemandType.Instantaneous)
      ? undefined
      : `${driver.name} driver can read neither VISL nor the INST data the head-end composes it from`;
  }
  return supports(type) ? undefined : `${driver.name} driver does not support on-demand ${type}`;
}
