import { Route, meterRoute, pair } from './router';

/** Active, reactive and apparent energy registers. */
export function energyRoutes(): Route[] {
  return [
    meterRoute('GET', '/energy/(active|reactive|apparent)', (meter, [type]) => {
      const [imp, exp, impT, expT, unit] =
        type === 'active'
          ? [
              meter.activeImport,
              meter.activeExport,
              meter.activeImportTariff,
              meter.activeExportTariff,
              'kWh',
            ]
          : type === 'reactive'
            ? [
                meter.reactiveImport,
                meter.reactiveExport,
                meter.reactiveImportTariff,
                meter.reactiveExportTariff,
                'kvarh',
              ]
            : [meter.apparentImport, meter.apparentExport, undefined, undefined, 'kVAh'];
      const lines = (values: number[]) =>
        Object.fromEntries(values.slice(0, meter.phases).map((v, i) => [`l${i + 1}`, pair(v / 1000, unit)]));
      const tariffs = (values: number[] | undefined) =>
        values ? Object.fromEntries(values.map((v, i) => [`t${i + 1}`, pair(v / 1000, unit)])) : {};
      const total = (values: number[]) => values.reduce((a, b) => a + b, 0) / 1000;
      return {
        importenergy: { ...lines(imp), ...tariffs(impT), total: pair(total(imp), unit) },
        exportenergy: { ...lines(exp), ...tariffs(expT), total: pair(total(exp), unit) },
        netenergy: {
          ...lines(imp.map((v, i) => v - exp[i])),
          total: pair(total(imp) - total(exp), unit),
        },
      };
    }),
  ];
}
