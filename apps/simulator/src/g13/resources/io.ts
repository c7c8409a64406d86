import { IO_CHANNEL_CODES } from '../g13-meter-model';
import { Json, Route, SUCCESS, isObject, isInt, invalid, meterRoute, requireBody } from './router';

/** Input/output port states and their configuration. */
export function ioRoutes(): Route[] {
  return [
    meterRoute('GET', '/io', (meter) => ({
      iostatus: meter.ioConfig.map((channel, index) =>
        channel === 'input'
          ? {
              currentstate: meter.ioState[index],
              storedstate: meter.ioStored[index],
              counter: meter.ioCounter[index],
            }
          : { currentstate: meter.outputState(index + 1) },
      ),
    })),
    meterRoute('POST', '/io', (meter, _params, body) => {
      const list = requireBody(body).iostatus;
      if (!Array.isArray(list) || list.length === 0 || list.length > 4) throw invalid();
      // Validate every transaction before applying any (the device aborts at the first bad one).
      for (const entry of list) {
        if (!isObject(entry) || !isInt(entry.port, 1, 4)) throw invalid();
        const channel = meter.ioConfig[entry.port - 1];
        if ('currentstate' in entry) {
          if (!isInt(entry.currentstate, 0, 1) || channel !== 'communication_out')
            throw invalid(`Port ${entry.port} is not a communication output.`);
        } else if ('reset' in entry) {
          if (!Array.isArray(entry.reset) || channel !== 'input')
            throw invalid(`Port ${entry.port} is not an input.`);
        } else throw invalid();
      }
      for (const entry of list as Json[]) {
        const index = (entry.port as number) - 1;
        if (typeof entry.currentstate === 'number') meter.ioState[index] = entry.currentstate;
        if (Array.isArray(entry.reset)) {
          if (entry.reset.includes('storedstate')) meter.ioStored[index] = 0;
          if (entry.reset.includes('counter')) meter.ioCounter[index] = 0;
        }
      }
      meter.advance();
      return SUCCESS;
    }),
    meterRoute('GET', '/io/configuration', (meter) => ({ ioconfig: [...meter.ioConfig] })),
    meterRoute('POST', '/io/configuration', (meter, _params, body) => {
      const list = requireBody(body).ioconfig;
      if (!Array.isArray(list) || list.length === 0 || list.length > 4) throw invalid();
      if (!list.every((code) => code === 0xff || (isInt(code, 0, 6) && IO_CHANNEL_CODES[code] !== undefined)))
        throw invalid();
      (list as number[]).forEach((code, index) => {
        if (code !== 0xff) meter.ioConfig[index] = IO_CHANNEL_CODES[code];
      });
      return SUCCESS;
    }),
  ];
}
