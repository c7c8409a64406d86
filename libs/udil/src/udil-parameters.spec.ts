import { UdilCommand } from './udil-vocabulary';
import { formatUdilDatetime } from './udil-datetime';
import { UdilRequestError } from './udil-error';
import {
  parseCommandParameters,
  parseDeviceIds,
  parseOnDemandDataReadParameters,
  parseOnDemandParameters,
  parseTransactionId,
  parseTransactionIds,
} from './udil-parameters';

const ZONE = 'Asia/Karachi';

function problem(command: UdilCommand, fields: Record<string, unknown>): string {
  try {
    parseCommandParameters(command, fields, ZONE);
  } catch (error) {
    expect(error).toBeInstanceOf(UdilRequestError);
    expect((error as UdilRequestError).httpStatus).toBe(400);
    return (error as Error).message;
  }
  throw new Error('expected the parameters to be refused');
}

describe('UDIL parameters', () => {
  const relay = {
    global_device_id: '["m1","m2"]',
    request_datetime: '2018-10-15 13:00:00',
    relay_operate: '0',
  };

  it('reads the spec example of aux_relay_operations (a JSON-string set, quoted values)', () => {
    const parsed = parseCommandParameters(
      UdilCommand.AuxRelayOperations,
      {
        ...relay,
        global_device_id: '["m96541254","m97524158","m98562412"]',
        request_datetime: '"2018-10-15 13:00:00"',
        relay_operate: '"0"',
      },
      ZONE,
    );
    expect(parsed.global_device_id).toEqual(['m96541254', 'm97524158', 'm98562412']);
    expect(parsed.relay_operate).toBe(0);
    // Wall-clock time in the configured zone (Karachi is UTC+5).
    expect(parsed.request_datetime.toISOString()).toBe('2018-10-15T08:00:00.000Z');
    expect(formatUdilDatetime(parsed.request_datetime, ZONE)).toBe('2018-10-15 13:00:00');
  });

  it('accepts a real array, a bare id, numbers and unknown extra fields; de-duplicates ids', () => {
    expect(
      parseCommandParameters(
        UdilCommand.AuxRelayOperations,
        { ...relay, global_device_id: ['m1', 'm1', ' m2 '] },
        ZONE,
      ).global_device_id,
    ).toEqual(['m1', 'm2']);
    expect(
      parseCommandParameters(
        UdilCommand.AuxRelayOperations,
        { ...relay, global_device_id: 'm7', extra: 'x' },
        ZONE,
      ).global_device_id,
    ).toEqual(['m7']);
    expect(
      parseCommandParameters(UdilCommand.AuxRelayOperations, { ...relay, relay_operate: 1 }, ZONE)
        .relay_operate,
    ).toBe(1);
  });

  it.each([
    [{ relay_operate: '2' }, /^relay_operate: must be 0 \(disconnect\) or 1 \(connect\)$/],
    [{ relay_operate: undefined }, /^relay_operate: is required$/],
    [{ request_datetime: '15-10-2018 13:00' }, /^request_datetime: must be a datetime yyyy-MM-dd HH:mm:ss$/],
    [{ request_datetime: '2018-02-30 13:00:00' }, /^request_datetime: must be a datetime/],
    [{ global_device_id: '[]' }, /^global_device_id: must name at least one global_device_id$/],
    [{ global_device_id: '["m1",' }, /^global_device_id: must be a JSON array of global_device_id/],
    [{ global_device_id: ['x'.repeat(51)] }, /^global_device_id\[0\]: ids are at most 50 characters$/],
    [{ global_device_id: '["m1", "", "x"]' }, /^global_device_id\[1\]: must not contain empty ids$/],
    [
      { global_device_id: '["m1", "m2", {"id": "m3"}]' },
      /^global_device_id\[2\]: must be a list of device ids$/,
    ],
    [{ global_device_id: ['m1', '"  "', ''] }, /^global_device_id\[1\]: must not contain empty ids$/],
    [
      { global_device_id: Array.from({ length: 200_001 }, (_, i) => `m${i}`) },
      /^global_device_id: must name at most 200000 global_device_ids$/,
    ],
  ])('refuses %j naming the field', (change, message) => {
    expect(problem(UdilCommand.AuxRelayOperations, { ...relay, ...change })).toMatch(message);
  });

  it('names every bad field at once', () => {
    const message = problem(UdilCommand.AuxRelayOperations, { global_device_id: 'm1', relay_operate: 'x' });
    expect(message).toContain('request_datetime: is required');
    expect(message).toContain('relay_operate: must be');
  });

  it('reads load-shedding slabs from the spec example and checks the window', () => {
    const fields = {
      global_device_id: '["m98562412","m97524158"]',
      request_datetime: '2018-10-15 13:00:00',
      start_datetime: '2018-11-01 00:00:00',
      end_datetime: '2018-12-01 00:00:00',
      load_shedding_slabs:
        '[{"action_time":"03:00:00", "relay_operate":"0"}, {"action_time":"06:00:00", "relay_operate":"1"}, {“action_time”:”12:00:00”, “relay_operate”:”1”}]',
    };
    const parsed = parseCommandParameters(UdilCommand.LoadSheddingScheduling, fields, ZONE);
    expect(parsed.load_shedding_slabs).toEqual([
      { action_time: '03:00:00', relay_operate: 0 },
      { action_time: '06:00:00', relay_operate: 1 },
      { action_time: '12:00:00', relay_operate: 1 },
    ]);
    expect(
      problem(UdilCommand.LoadSheddingScheduling, { ...fields, end_datetime: '2018-10-01 00:00:00' }),
    ).toBe('end_datetime: must be after start_datetime');
    expect(
      problem(UdilCommand.LoadSheddingScheduling, {
        ...fields,
        load_shedding_slabs: '[{"action_time":"25:00:00","relay_operate":"0"}]',
      }),
    ).toMatch(/^load_shedding_slabs\[0\]\.action_time: must be a time HH:mm:ss$/);
  });

  it('reads codes case-insensitively', () => {
    const parsed = parseCommandParameters(
      UdilCommand.MeterDataSampling,
      {
        global_device_id: 'm1',
        request_datetime: '2018-10-15 13:00:00',
        activation_datetime: '2018-11-01 00:00:00',
        data_type: 'lpro',
        sampling_interval: '30',
        sampling_initial_time: '00',
      },
      ZONE,
    );
    expect(parsed.data_type).toBe('LPRO');
    expect(parsed.sampling_initial_time).toBe(0);
  });

  it.each([
    [
      UdilCommand.MeterDataSampling,
      { sampling_interval: '60' },
      /^sampling_interval: must be minutes from 1 to 59$/,
    ],
    [
      UdilCommand.DeviceCreation,
      { mdi_reset_date: '29' },
      /^mdi_reset_date: must be a day of the month from 1 to 28$/,
    ],
    [
      UdilCommand.DeviceCreation,
      { phase: '4' },
      /^phase: must be 1 \(single phase\), 2 \(other\) or 3 \(three phase\)$/,
    ],
    [UdilCommand.DeviceCreation, { bidirectional_device: '2' }, /^bidirectional_device: must be 0 \(false\)/],
    [UdilCommand.DeviceCreation, { communication_mode: '6' }, /^communication_mode: must be 1 \(GPRS/],
    [UdilCommand.DeviceCreation, { device_type: '6' }, /^device_type: must be 1 \(meter\)/],
    [UdilCommand.DeviceCreation, { meter_type: '0' }, /^meter_type: must be 1 \(normal\)/],
    [
      UdilCommand.UpdateIpPort,
      { primary_ip_address: '300.1.1.1' },
      /^primary_ip_address: must be an IPv4 or IPv6 address$/,
    ],
    [
      UdilCommand.UpdateIpPort,
      { secondary_port: '70000' },
      /^secondary_port: must be a port from 1 to 65535$/,
    ],
  ])('%s refuses %j', (command, change, message) => {
    const base: Partial<Record<UdilCommand, Record<string, unknown>>> = {
      [UdilCommand.MeterDataSampling]: {
        global_device_id: 'm1',
        request_datetime: '2018-10-15 13:00:00',
        activation_datetime: '2018-11-01 00:00:00',
        data_type: 'BILL',
        sampling_interval: '30',
        sampling_initial_time: '0',
      },
      [UdilCommand.DeviceCreation]: {
        device_identity: '[{"dsn":"4098562412","global_device_id":"m98562412"}]',
        request_datetime: '""2018-10-15 13:00:00""',
        communication_interval: '15',
        device_type: '1',
        mdi_reset_date: '1',
        mdi_reset_time: '00:00:00',
        sim_number: '03218090100',
        sim_id: '11199oijjh78',
        phase: '3',
        meter_type: '2',
        communication_mode: '1',
      },
      [UdilCommand.UpdateIpPort]: {
        global_device_id: 'm1',
        request_datetime: '2018-10-15 13:00:00',
        primary_ip_address: '192.168.100.120',
        secondary_ip_address: '192.168.100.121',
        primary_port: '8080',
        secondary_port: '8080',
      },
    };
    // The unchanged example is valid …
    expect(() => parseCommandParameters(command, base[command]!, ZONE)).not.toThrow();
    // … and the one bad field is named.
    expect(problem(command, { ...base[command]!, ...change })).toMatch(message);
  });

  it('reads transaction ids from headers and sets', () => {
    expect(parseTransactionId(' 9Xcvfg675d5hg85fhjffved47f65d3s3g ')).toBe(
      '9Xcvfg675d5hg85fhjffved47f65d3s3g',
    );
    expect(() => parseTransactionId('x'.repeat(65))).toThrow(/transactionid: must be 1 to 64/);
    expect(() => parseTransactionId(undefined)).toThrow(/transactionid: header is required/);
    expect(parseTransactionIds('["a","b","a"]')).toEqual(['a', 'b']);
    expect(parseDeviceIds('m1')).toEqual(['m1']);
    expect(() => parseDeviceIds('[]')).toThrow(/^global_device_id: must name at least one/);
  });

  it('reads on_demand_request: ranges required for MBIL, LPRO and EVNT, blank for INST', () => {
    const event = parseOnDemandParameters(
      {
        global_device_id: '["m98562412","m97524158"]',
        start_datetime: '2018-10-15 13:00:00',
        end_datetime: '2018-10-22 13:00:00',
        type: 'evnt',
      },
      ZONE,
    );
    expect(event.type).toBe('EVNT');
    expect(event.end_datetime!.getTime() - event.start_datetime!.getTime()).toBe(7 * 24 * 3600 * 1000);
    expect(
      parseOnDemandParameters(
        { global_device_id: 'm1', type: 'INST', start_datetime: '', end_datetime: '' },
        ZONE,
      ).start_datetime,
    ).toBeUndefined();
    expect(() => parseOnDemandParameters({ global_device_id: 'm1', type: 'LPRO' }, ZONE)).toThrow(
      'start_datetime: is required for type LPRO; end_datetime: is required for type LPRO',
    );
    expect(() => parseOnDemandParameters({ global_device_id: 'm1', type: 'XXXX' }, ZONE)).toThrow(
      'type: must be INST, BILL, MBIL, LPRO, EVNT or VISL',
    );
  });

  it('ignores start/end_datetime for INST and BILL, whatever they hold (§3.4.1), and checks them for the ranged types', () => {
    // §3.4.1's own example dates, as a tool sends them for every type: dates without a time.
    const dates = { start_datetime: '2018-10-15', end_datetime: '2018-10-22' };
    for (const type of ['INST', 'bill'])
      expect(parseOnDemandDataReadParameters({ global_device_id: '["m1"]', type, ...dates }, ZONE)).toEqual({
        global_device_id: ['m1'],
        type: type.toUpperCase(),
      });
    expect(parseOnDemandParameters({ global_device_id: 'm1', type: 'visl', ...dates }, ZONE)).toEqual({
      global_device_id: ['m1'],
      type: 'VISL',
    });
    expect(() =>
      parseOnDemandDataReadParameters({ global_device_id: 'm1', type: 'EVNT', ...dates }, ZONE),
    ).toThrow(/^start_datetime: must be a datetime/);
  });

  it('takes a blank wakeup_number_2 and _3 as numbers not given', () => {
    const parsed = parseCommandParameters(
      UdilCommand.WakeUpSimNumberUpdate,
      {
        global_device_id: 'm1',
        request_datetime: '2018-10-15 13:00:00',
        wakeup_number_1: '03346071928',
        wakeup_number_2: '',
        wakeup_number_3: ' ',
      },
      ZONE,
    );
    expect(parsed).toMatchObject({ wakeup_number_1: '03346071928' });
    expect(parsed.wakeup_number_2).toBeUndefined();
    expect(parsed.wakeup_number_3).toBeUndefined();
  });

  it('takes device_identity as a set: a repeated entry once; one id with two dsns or one dsn for two ids refused', () => {
    const creation = (identities: unknown) => ({
      device_identity: JSON.stringify(identities),
      request_datetime: '2018-10-15 13:00:00',
      device_type: '1',
      communication_mode: '1',
      communication_interval: '15',
      sim_number: '03218090100',
      sim_id: '11199oijjh78',
      mdi_reset_date: '1',
      mdi_reset_time: '00:00:00',
      phase: '1',
      meter_type: '2',
    });
    const entry = { dsn: '3100001001', global_device_id: 'a' };
    expect(parseCommandParameters(UdilCommand.DeviceCreation, creation([entry, entry]), ZONE)).toMatchObject({
      device_identity: [entry],
    });
    expect(problem(UdilCommand.DeviceCreation, creation([entry, { ...entry, dsn: '3100001002' }]))).toBe(
      'device_identity: global_device_id a is listed twice, with dsn 3100001001 and 3100001002',
    );
    expect(problem(UdilCommand.DeviceCreation, creation([entry, { ...entry, global_device_id: 'b' }]))).toBe(
      'device_identity: dsn 3100001001 is listed for two devices, a and b',
    );
    // device_type, "Param(set)" in the spec: a set of one type, or alike for every device, is that type.
    for (const device_type of ['["1"]', ['1', '1'], '[1]'])
      expect(
        parseCommandParameters(UdilCommand.DeviceCreation, { ...creation([entry]), device_type }, ZONE),
      ).toMatchObject({ device_type: 1 });
    expect(problem(UdilCommand.DeviceCreation, { ...creation([entry]), device_type: '["1","2"]' })).toBe(
      'device_type: must be one type for every device of the request',
    );
    expect(problem(UdilCommand.DeviceCreation, creation([{ ...entry, dsn: '9223372036854775808' }]))).toBe(
      'device_identity[0].dsn: dsn must be a meter serial number (digits, at most 9223372036854775807)',
    );
  });

  describe('UDIL 3.x writes', () => {
    const base = { global_device_id: 'm1', request_datetime: '2026-11-21 10:00:00' };

    it('reads major_alarms_list as codes, a comma list or objects, at most 10', () => {
      const parse = (list: unknown) =>
        parseCommandParameters(UdilCommand.UpdateMajorAlarms, { ...base, major_alarms_list: list }, ZONE)
          .major_alarms_list;
      expect(parse('[101, 102]')).toEqual([
        { event_code: '101', event_description: '' },
        { event_code: '102', event_description: '' },
      ]);
      expect(parse(' 101, 0102 ')).toEqual(parse([101, '102']));
      expect(parse('[{"event_code":"201","event_description":"Cover open"}]')).toEqual([
        { event_code: '201', event_description: 'Cover open' },
      ]);
      expect(problem(UdilCommand.UpdateMajorAlarms, { ...base, major_alarms_list: '101,101' })).toBe(
        'major_alarms_list: must not name an event code twice',
      );
      expect(problem(UdilCommand.UpdateMajorAlarms, { ...base, major_alarms_list: '' })).toMatch(
        /^major_alarms_list: /,
      );
      expect(problem(UdilCommand.UpdateMajorAlarms, { ...base, major_alarms_list: 'abc' })).toMatch(
        /^major_alarms_list\[0\]: each alarm must be an event code/,
      );
    });

    it('maps the older APMS codes of parameterization_cancellation, in any case, without a request_datetime', () => {
      const type = (value: string) =>
        parseCommandParameters(
          UdilCommand.ParameterizationCancellation,
          { global_device_id: 'm1', type: value },
          ZONE,
        ).type;
      expect(['OVVP', 'unvp', 'POCP', 'OLPD', 'VUNP', 'PFPD', 'CUNP', ' happ '].map(type)).toEqual([
        'OVFC',
        'UVFC',
        'OCFC',
        'OLFC',
        'VUFC',
        'PFFC',
        'CUFC',
        'HAPF',
      ]);
      expect(type('sanc')).toBe('SANC');
      expect(problem(UdilCommand.ParameterizationCancellation, { global_device_id: 'm1' })).toBe(
        'type: is required',
      );
    });

    it('takes the 3.2 calendar under update_time_of_use and the 2019 form under time_of_use_change', () => {
      const calendar = {
        ...base,
        activation_datetime: '2026-12-01 00:00:00',
        day_profile: '[{"name":"d1","tariff_slabs":["00:00","17:00"]}]',
        week_profile: '[{"name":"w1","weekly_day_profile":["d1","d1","d1","d1","d1","d1","d1"]}]',
        season_profile: '[{"name":"s1","week_profile_name":"w1","start_date":"01-01"}]',
      };
      const parsed = parseCommandParameters(
        UdilCommand.TimeOfUseChange,
        calendar,
        ZONE,
        undefined,
        'update_time_of_use',
      ) as unknown as { holiday_profile: unknown[] };
      expect(parsed.holiday_profile).toEqual([]);
      expect(problem(UdilCommand.TimeOfUseChange, calendar)).toMatch(/^season: is required/);
      expect(() =>
        parseCommandParameters(
          UdilCommand.TimeOfUseChange,
          { ...calendar, day_profile: '[{"name":"d1","tariff_slabs":["17:00","08:00"]}]' },
          ZONE,
          undefined,
          'update_time_of_use',
        ),
      ).toThrow('day_profile[0].tariff_slabs: must be in ascending order');
    });
  });
});
