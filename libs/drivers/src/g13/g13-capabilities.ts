import { DriverCapabilities, DriverDescription } from '../driver.contract';

export const G13_DESCRIPTION: DriverDescription = {
  label: 'ABB G13 energy-meter gateway (HTTPS JSON)',
  settings: {
    endpointSchemes: ['https', 'http'],
    endpointExample: 'https://10.20.0.12:443',
    // Basic authentication when a username is given; a gateway may run without.
    credentials: 'optional',
  },
};

const NOT_AN_ANALYSER = 'the G13 gateway reads energy meters, not analyser sensors';

const NO_UNBALANCE =
  'the G13 measures no unbalance quantity (each of its alarms watches one /parametermapping quantity)';
const NO_ALARM_LEFT =
  "phase failure needs 6 more alarms (critical and tripping per phase); of the G13's 25, 1–22 hold the other APMS functions and 25 the sanctioned load";

/**
 * What the ABB G13 driver cannot do, in its own words. Everything else it can do is the set of
 * operations G13Driver implements (docs/udil.md maps them to the UDIL services).
 */
export const G13_CAPABILITIES: DriverCapabilities = {
  refusals: {
    readSensors: NOT_AN_ANALYSER,
    readCalibration: NOT_AN_ANALYSER,
    writeCalibration: NOT_AN_ANALYSER,
    readHistory: NOT_AN_ANALYSER,
    readDiagnostics: NOT_AN_ANALYSER,
    setCommunicationAddress:
      'meters behind a G13 have no IP address or port of their own; the gateway address is head-end configuration',
    activateOpticalPort: 'the G13 JSON API has no optical-port control',
    setWakeUpNumbers: 'G13 meters have no SIM; the gateway is always reachable over Ethernet',
    'setBillingReset:dayOfMonth':
      'the G13 closes its monthly billing period (previous values) at the start of the calendar month: only day 1 at 00:00:00 can be set',
    ...Object.fromEntries(
      (['voltageUnbalance', 'currentUnbalance'] as const).flatMap((fn) => [
        [`setThresholdAlarm:${fn}`, NO_UNBALANCE],
        [`clearThresholdAlarm:${fn}`, NO_UNBALANCE],
      ]),
    ),
    'setThresholdAlarm:phaseFailure': NO_ALARM_LEFT,
    'clearThresholdAlarm:phaseFailure': NO_ALARM_LEFT,
  },
};
