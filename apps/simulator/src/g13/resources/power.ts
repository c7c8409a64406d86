import { Json, Route, fixed, meterRoute, pair } from './router';

/** Instantaneous power and instrumentation values. */
export function powerRoutes(): Route[] {
  return [
    ...['/power', '/powers'].map((suffix) =>
      meterRoute('GET', suffix, (meter) => {
        const now = meter.meterNow();
        const { active, reactive } = meter.powerAt(now);
        const apparent = active.map((p, i) => Math.hypot(p, reactive[i]));
        const block = (values: number[], total: number) => ({
          ...Object.fromEntries(
            values.slice(0, meter.phases).map((v, i) => [`l${i + 1}`, [fixed(v, 0), 'W']]),
          ),
          total: [fixed(total, 0), 'W'],
        });
        const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
        return {
          active: block(active, sum(active)),
          reactive: block(reactive, sum(reactive)),
          apparent: block(apparent, Math.hypot(sum(active), sum(reactive))),
        };
      }),
    ),
    meterRoute('GET', '/instrument', (meter) => {
      const now = meter.meterNow();
      const { active } = meter.powerAt(now);
      const pf = meter.nominalPowerFactor;
      const angle = (Math.acos(pf) * 180) / Math.PI;
      const line = (phase: number) => {
        const loaded = active[phase] !== 0;
        return {
          current: pair(meter.currentAt(now, phase), 'A'),
          currentquadrant: [loaded ? (active[phase] > 0 ? '1' : '3') : '0', ''],
          phaseanglecurrent: [fixed(phase * 120 + (loaded ? angle : 0), 1), 'deg'],
          phaseanglepower: pair(loaded ? angle : 0, 'deg'),
          phaseanglevoltage: [fixed(phase * 120, 1), 'deg'],
          powerfactor: [fixed(loaded ? pf : 0, 3), ''],
          voltage: [fixed(meter.voltageAt(now, phase), 1), 'V'],
        };
      };
      const answer: Json = { l1: line(0) };
      if (meter.phases === 3) {
        answer.l2 = line(1);
        answer.l3 = line(2);
        const lineToLine = (a: number, b: number) => ({
          voltage: [fixed(Math.sqrt(3) * ((meter.voltageAt(now, a) + meter.voltageAt(now, b)) / 2), 1), 'V'],
        });
        answer['l1-l2'] = lineToLine(0, 1);
        answer['l2-l3'] = lineToLine(1, 2);
        answer['l1-l3'] = lineToLine(0, 2);
        answer.neutral = {
          current: pair(Math.abs(meter.currentAt(now, 0) - meter.currentAt(now, 1)) * 0.1, 'A'),
        };
      }
      const loaded = active.some((p) => p !== 0);
      answer.total = {
        currentquadrant: [loaded ? '1' : '0', ''],
        phaseanglepower: pair(loaded ? angle : 0, 'deg'),
        powerfactor: [fixed(loaded ? pf : 0, 3), ''],
      };
      answer.frequency = { frequency: pair(meter.frequencyAt(now), 'Hz') };
      return answer;
    }),
  ];
}
