import { DeviceDriver, operationRefusal } from '@hes/drivers';
import { ON_DEMAND_OPERATIONS, OnDemandType, UDIL_COMMANDS, UdilCommand } from '@hes/udil';

/** The TRANSACTION_STATUS `type` of a write: the service name it was requested by, as UDIL 3.2's examples write it. */
export function transactionType(service: string): string {
  return service.toUpperCase();
}

/**
 * Why `driver` cannot carry out `command` (UDIL_COMMANDS' plan), or undefined when it can (possibly
 * with the head-end's help). The remark names the driver, the service and the driver's own reason.
 */
export function refusalOf(command: UdilCommand, driver: DeviceDriver): string | undefined {
  const plan = UDIL_COMMANDS[command].plan;
  const needed = plan.by === 'device' ? plan.operation : plan.requires;
  if (!needed) return undefined;
  const refusal = operationRefusal(driver, needed);
  if (!refusal) return undefined;
  const reason = driver.capabilities.refusals[needed];
  return plan.by === 'device'
    ? `${driver.name} driver does not support ${command}${reason ? `: ${reason}` : ` (it has no ${needed} operation)`}`
    : `${driver.name} driver supports neither ${command} nor the ${needed} the head-end would use for it${reason ? `: ${reason}` : ''}`;
}

/** Why `driver` cannot serve an on-demand read of `type` (VISL needs the INST read it is composed from). */
export function readRefusalOf(type: OnDemandType, driver: DeviceDriver): string | undefined {
  const operation = ON_DEMAND_OPERATIONS[type];
  if (!operationRefusal(driver, operation)) return undefined;
  const reason = driver.capabilities.refusals[operation];
  return type === OnDemandType.Visuals
    ? `${driver.name} driver can read neither VISL nor the INST data the head-end composes it from${reason ? `: ${reason}` : ''}`
    : `${driver.name} driver does not support on-demand ${type}${reason ? `: ${reason}` : ''}`;
}
