import { Route, meterRoute } from './router';

/** A meter's manufacturing data, ratios and power-failure counters. */
export function infoRoutes(): Route[] {
  return [
    meterRoute('GET', '/info', (meter) => ({
      manufacturing: { serial: meter.manufacturingSerial, label: meter.label, firmwareversion: 'A2.1.0.0' },
      ratio: { ctdenum: '1', ctnum: '1', vtdenum: '1', vtnum: '1' },
      conversionfactor: { co2: [0.5, 'kg/kWh'], currency: [0.25, 'curr/kWh'] },
      power: {
        powerfailcounter: String(meter.powerFailCounter),
        poweroutagetime: String(meter.powerOutageSeconds),
      },
    })),
  ];
}
