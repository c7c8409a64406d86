import { UdilRequestError } from './udil-error';
import {
  PARAMETER_COLUMNS,
  ParameterType,
  isParameterType,
  parseParameterReadParameters,
} from './udil-parameter-reads';

function problem(fields: Record<string, unknown>): string {
  try {
    parseParameterReadParameters(fields, 'tx-1');
  } catch (error) {
    expect(error).toBeInstanceOf(UdilRequestError);
    expect((error as UdilRequestError).httpStatus).toBe(400);
    expect((error as UdilRequestError).transactionid).toBe('tx-1');
    return (error as Error).message;
  }
  throw new Error('expected the parameters to be refused');
}

describe('on_demand_parameter_read parameters', () => {
  it('reads the type in any case, with stray spaces and quotes, and one device plain or in an array', () => {
    expect(parseParameterReadParameters({ global_device_id: '"m98562412"', type: '"MTST"' })).toEqual({
      global_device_id: ['m98562412'],
      type: ParameterType.MeterStatus,
    });
    expect(parseParameterReadParameters({ global_device_id: '["m1"]', type: ' auxr ' })).toEqual({
      global_device_id: ['m1'],
      type: ParameterType.AuxRelay,
    });
    expect(parseParameterReadParameters({ global_device_id: ['m1', 'm2'], type: 'Pmal' }).type).toBe(
      ParameterType.MajorAlarms,
    );
  });

  it('names the field of every problem', () => {
    expect(problem({ global_device_id: 'm1', type: 'INST' })).toMatch(/^type: must be one of AUXR, DVTM/);
    expect(problem({ global_device_id: 'm1' })).toBe('type: is required');
    expect(problem({ type: 'AUXR' })).toMatch(/^global_device_id: /);
    expect(problem({ global_device_id: '[', type: 'x' })).toMatch(/^global_device_id: .*; type: /);
    const many = JSON.stringify(Array.from({ length: 11 }, (_, i) => `m${i}`));
    expect(problem({ global_device_id: many, type: 'DVTM' })).toBe(
      'global_device_id: must name at most 10 devices',
    );
  });

  it('answers each type with its METER_VISUALS columns, the APMS types with their five thresholds', () => {
    expect(PARAMETER_COLUMNS[ParameterType.MeterStatus]).toEqual([
      'mtst_datetime',
      'mtst_meter_activation_status',
    ]);
    expect(PARAMETER_COLUMNS[ParameterType.OverVoltage]).toEqual([
      'ovfc_datetime',
      'ovfc_critical_event_threshold_limit',
      'ovfc_critical_event_log_time',
      'ovfc_tripping_event_threshold_limit',
      'ovfc_tripping_event_log_time',
      'ovfc_enable_tripping',
    ]);
    expect(PARAMETER_COLUMNS[ParameterType.MajorAlarms]).toEqual(['major_alarms_list']);
    expect(Object.keys(PARAMETER_COLUMNS)).toHaveLength(22);
    expect(isParameterType('MDI')).toBe(true);
    expect(isParameterType('INST')).toBe(false);
  });
});
