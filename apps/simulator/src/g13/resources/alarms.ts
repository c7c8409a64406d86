import { G13AlarmConfig, G13MeterModel } from '../g13-meter-model';
import { Route, SUCCESS, isObject, isInt, invalid, meterRoute, requireBody } from './router';

/** Alarm configuration. */
export function alarmRoutes(): Route[] {
  return [
    meterRoute(
      'GET',
      '/alarms/configuration',
      (meter) => ({ alarmconfig: meter.alarms.map((a) => ({ ...a })) }),
      502,
    ),
    meterRoute(
      'POST',
      '/alarms/configuration',
      (meter, _params, body) => {
        const config = requireBody(body).alarmconfig;
        if (!isObject(config) || !isInt(config.id, 1, 25)) throw invalid();
        const keys = Object.keys(config);
        if (keys.length === 1) {
          meter.alarms[config.id - 1] = { id: config.id };
          return SUCCESS;
        }
        const { quantity, onthreshold, offthreshold, ondelay, offdelay, log, output } = config;
        if (
          !isInt(quantity, 1, 255) ||
          !G13MeterModel.storable('ac', quantity) ||
          typeof onthreshold !== 'number' ||
          typeof offthreshold !== 'number' ||
          !isInt(ondelay, 0, 86400) ||
          !isInt(offdelay, 0, 86400) ||
          typeof log !== 'boolean' ||
          !isInt(output, 0, 4)
        )
          throw invalid();
        // Prior IO configuration is required to drive an output (manual 6.3.53).
        if (output > 0 && meter.ioConfig[output - 1] !== 'alarm_out')
          throw invalid('Output is not configured as alarm output.');
        const alarm: G13AlarmConfig = {
          id: config.id,
          quantity,
          onthreshold,
          offthreshold,
          ondelay,
          offdelay,
          log,
          output,
        };
        meter.alarms[config.id - 1] = alarm;
        return SUCCESS;
      },
      502,
    ),
  ];
}
