import { DeviceDriver, operationRefusal } from '@hes/drivers';
import { ON_DEMAND_OPERATIONS, OnDemandType, UdilCommand, planOf } from '@hes/udil';

/** The TRANSACTION_STATUS `type` of a write: the service name it was requested by, as UDIL 3.2's examples write it. */
export function transactionType(service: string): string {
  return service.toUpperCase();
}

/**
 * Why `driver` cannot carry out `command` with these (validated) parameters, following its plan in
 * UDIL_COMMANDS; undefined when it can (possibly with the head-end's help). The remark names the
 * driver, the service as requested, and the driver's own reason.
 */
export function refusalOf(
  command: UdilCommand,
  driver: DeviceDriver,
  parameters: Readonly<Record<string, unknown>> = {},
  service: string = command,
): string | undefined {
  const plan = planOf(command, parameters);
  const needed = plan.by === 'device' ? plan.operation : plan.requires;
  if (!needed) return undefined;
  const variant = plan.by === 'device' ? plan.variant?.(parameters) : undefined;
  if (!operationRefusal(driver, needed, variant)) return undefined;
  const what = typeof parameters.type === 'string' ? `${service} type ${parameters.type}` : service;
  const reason =
    (variant === undefined ? undefined : driver.capabilities.refusals[`${needed}:${variant}`]) ??
    driver.capabilities.refusals[needed];
  return plan.by === 'device'
    ? `${driver.name} driver does not support ${what}${reason ? `: ${reason}` : ` (it has no ${needed} operation)`}`
    : `${driver.name} driver supports neither ${what} nor the ${needed} the head-end would use for it${reason ? `: ${reason}` : ''}`;
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
