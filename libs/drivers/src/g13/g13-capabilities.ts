import { DriverCapabilities } from '../driver.contract';

const NOT_AN_ANALYSER = 'the G13 gateway reads energy meters, not analyser sensors';

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
  },
};
