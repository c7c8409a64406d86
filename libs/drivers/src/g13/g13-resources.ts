import { DeviceAddress, DriverError, MeterResources } from '../driver.contract';

/**
 * The optional resources of a meter behind a G13 (manual 6.3.51–6.3.90): "Not all meter types support
 * reactive and apparent measurements" (6.3.54), and alarms, demand, previous values and load profiles
 * depend on the meter model. `/datetime` is not optional: every meter has a clock, and a 404 there
 * means the gateway does not know the serial.
 */
export const G13_RESOURCES = {
  instrument: { probe: '/instrument', label: 'voltages, currents, frequency, power factor (/instrument)' },
  power: { probe: '/power', label: 'powers (/power)' },
  tariff: { probe: '/tariff', label: 'current tariff (/tariff)' },
  activeEnergy: { probe: '/energy/active', label: 'active energy registers (/energy/active)' },
  reactiveEnergy: { probe: '/energy/reactive', label: 'reactive energy registers (/energy/reactive)' },
  previousValues: {
    probe: '/previousvalues/configuration',
    label: 'billing snapshots (/previousvalues)',
  },
  demand: { probe: '/demand/configuration', label: 'maximum demand (/demand)' },
  loadProfiles: { probe: '/loadprofiles/configuration', label: 'load profiles (/loadprofiles)' },
  alarms: { probe: '/alarms/configuration', label: 'alarm configuration (/alarms/configuration)' },
  events: { probe: '/events', label: 'event logs (/events)' },
} as const;

export type G13Resource = keyof typeof G13_RESOURCES;

export const G13_RESOURCE_NAMES = Object.keys(G13_RESOURCES) as G13Resource[];

/** True for the 404 the G13 answers for a resource (or serial) it does not have. */
export function isNotFound(error: unknown): boolean {
  return error instanceof DriverError && error.kind === 'refused' && /\(404[:)]/.test(error.message);
}

/** A profile as stored: resources this code no longer knows are dropped, new ones count as unknown. */
export function knownResources(stored: MeterResources | undefined): Partial<Record<G13Resource, boolean>> {
  const profile: Partial<Record<G13Resource, boolean>> = {};
  for (const name of G13_RESOURCE_NAMES)
    if (typeof stored?.[name] === 'boolean') profile[name] = stored[name];
  return profile;
}

/** "meter X does not provide: a, b; their fields are empty" */
export function missingRemark(device: DeviceAddress, missing: Iterable<G13Resource>): string | undefined {
  const labels = [...new Set(missing)].map((name) => G13_RESOURCES[name].label);
  if (labels.length === 0) return undefined;
  return `meter ${device.serial} does not provide ${labels.join(', ')}: those fields are empty`;
}
