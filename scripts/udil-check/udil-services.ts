import { ConformanceRun, Submission, describeAnswer } from './conformance-run';
import { DATA_TABLES, DataType, PARAMETER_KEYS, itemProblems } from './expectations';
import { FormValue } from './mdc-client';

/**
 * The services of each UDIL generation, called with requests shaped like the specs' examples and like
 * real MDM tools send them. Commands that change a meter are chosen to leave it as found: the relay is
 * opened then closed, the meter status set to active, the load-shedding schedule lies tomorrow and only
 * closes the relay, and (3.x) programmed functions are cancelled again with parameterization_cancellation.
 */

type CommandSpec = { service: string; check: string; fields: Record<string, FormValue> };

function commonWrites(run: ConformanceRun): CommandSpec[] {
  const c = run.client;
  const now = c.datetime();
  const tomorrow = c.datetime(86_400).slice(0, 10);
  return [
    {
      service: 'aux_relay_operations',
      check: 'disconnect (relay_operate 0)',
      fields: { global_device_id: run.devices, request_datetime: now, relay_operate: '0' },
    },
    {
      service: 'time_synchronization',
      check: 'meter clock from MDC time',
      fields: { global_device_id: run.devices, request_datetime: now },
    },
    {
      service: 'sanctioned_load_control',
      check: 'load limit 20 kW (§4.5 values)',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        load_limit: '20',
        maximum_retries: '10',
        retry_interval: '60',
        threshold_duration: '30',
        retry_clear_interval: '3600',
      },
    },
    {
      service: 'load_shedding_scheduling',
      check: 'schedule tomorrow that only connects',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        start_datetime: `${tomorrow} 00:00:00`,
        end_datetime: `${tomorrow} 00:30:00`,
        load_shedding_slabs: [{ action_time: '00:10:00', relay_operate: '1' }],
      },
    },
    {
      service: 'update_ip_port',
      check: 'primary and secondary address',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        primary_ip_address: '10.10.10.1',
        secondary_ip_address: '10.10.10.2',
        primary_port: '5001',
        secondary_port: '5002',
      },
    },
    {
      service: 'meter_data_sampling',
      check: 'LPRO every 15 min from minute 0',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        activation_datetime: now,
        data_type: 'LPRO',
        sampling_interval: '15',
        sampling_initial_time: '0',
      },
    },
    {
      service: 'activate_meter_optical_port',
      check: 'window of 10 minutes',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        optical_port_on_datetime: now,
        optical_port_off_datetime: c.datetime(600),
      },
    },
  ];
}

/** The wake-up numbers and the meter status (active), under either generation's service names. */
function simAndStatusWrites(
  run: ConformanceRun,
  wakeUpService: string,
  statusService: string,
): CommandSpec[] {
  const now = run.client.datetime();
  return [
    {
      service: wakeUpService,
      check: 'three wake-up numbers',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        wakeup_number_1: '03001234567',
        wakeup_number_2: '03011234567',
        wakeup_number_3: '03021234567',
      },
    },
    {
      service: statusService,
      check: 'active (1)',
      fields: { global_device_id: run.devices, request_datetime: now, meter_activation_status: '1' },
    },
  ];
}

function writes2019(run: ConformanceRun): CommandSpec[] {
  const now = run.client.datetime();
  return [
    ...commonWrites(run),
    {
      service: 'time_of_use_change',
      check: 'time slabs (§4.6 values)',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        activation_datetime: now,
        season: '1',
        days: '1',
        time_slab: ['08:00', '17:00'],
        tariff_identification: '1',
      },
    },
    ...simAndStatusWrites(run, 'wake_up_sim_number_update', 'meter_status_update'),
  ];
}

function writes3(run: ConformanceRun): CommandSpec[] {
  const now = run.client.datetime();
  return [
    ...commonWrites(run),
    {
      service: 'update_time_of_use',
      check: 'day/week/season/holiday profiles (§4.7 values)',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        activation_datetime: now,
        day_profile: [
          { name: 'd1', tariff_slabs: ['08:00', '17:00', '20:00'] },
          { name: 'd2', tariff_slabs: ['08:00', '17:00'] },
        ],
        week_profile: [{ name: 'w1', weekly_day_profile: ['d1', 'd1', 'd1', 'd1', 'd1', 'd2', 'd2'] }],
        season_profile: [{ name: 's1', week_profile_name: 'w1', start_date: '01-01' }],
        holiday_profile: [{ name: 'h1', date: '14-08', day_profile_name: 'd2' }],
      },
    },
    ...simAndStatusWrites(run, 'update_wake_up_sim_number', 'update_meter_status'),
    {
      service: 'update_device_metadata',
      check: 'Ethernet, keep-alive, three-phase',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        communication_mode: '4',
        bidirectional_device: '0',
        communication_type: '2',
        initial_communication_time: '00:00:00',
        communication_interval: '0',
        phase: '3',
        meter_type: '1',
      },
    },
    {
      service: 'update_mdi_reset_date',
      check: 'first of the month at midnight',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        mdi_reset_date: '1',
        mdi_reset_time: '00:00:00',
      },
    },
    {
      service: 'apms_tripping_events',
      check: 'OVFC (§4.18 values)',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        type: 'OVFC',
        critical_event_threshold_limit: '270',
        critical_event_log_time: '180',
        tripping_event_threshold_limit: '300',
        tripping_event_log_time: '240',
        enable_tripping: '1',
      },
    },
    {
      service: 'update_major_alarms',
      check: 'codes as a list of numbers (3.3)',
      fields: { global_device_id: run.devices, request_datetime: now, major_alarms_list: [101, 102] },
    },
    {
      service: 'update_major_alarms',
      check: 'codes as objects (3.3)',
      fields: {
        global_device_id: run.devices,
        request_datetime: now,
        major_alarms_list: [
          { event_code: '101', event_description: 'Phase Failure' },
          { event_code: '111', event_description: 'Power Fail Start' },
        ],
      },
    },
  ];
}

/** The second round: what restores the meters after the first (and needs the first to have run). */
function restoringWrites(run: ConformanceRun): CommandSpec[] {
  const now = run.client.datetime();
  const specs: CommandSpec[] = [
    {
      service: 'aux_relay_operations',
      check: 'connect again (relay_operate 1)',
      fields: { global_device_id: run.devices, request_datetime: now, relay_operate: '1' },
    },
  ];
  if (run.generation === '3') {
    for (const type of ['SANC', 'LSCH', 'ovfc']) {
      for (const device of run.devices) {
        specs.push({
          service: 'parameterization_cancellation',
          check: `${type.toUpperCase()} back to default on ${device}`,
          fields: { global_device_id: device, request_datetime: now, type },
        });
      }
    }
  }
  return specs;
}

async function submitAll(run: ConformanceRun, specs: CommandSpec[]): Promise<Array<Submission | undefined>> {
  const submissions: Array<Submission | undefined> = [];
  for (const spec of specs) {
    const devices =
      typeof spec.fields.global_device_id === 'string' ? [spec.fields.global_device_id] : run.devices;
    submissions.push(await run.submit(spec.service, spec.check, spec.fields, devices));
  }
  return submissions;
}

async function authorization(run: ConformanceRun): Promise<void> {
  const service = 'authorization_service';
  await run.guarded(service, 'username, password and code in headers', async () => {
    const answer = await run.client.authorize();
    const key = answer.body?.privatekey;
    if (answer.httpStatus === 200 && answer.body?.status === '1' && typeof key === 'string' && key !== '') {
      run.record(service, 'username, password and code in headers', 'PASS', 'privatekey issued');
    } else {
      run.record(service, 'username, password and code in headers', 'FAIL', describeAnswer(answer));
    }
  });
  await run.guarded(service, 'a wrong password is refused', async () => {
    const answer = await run.client.authorize({ password: `wrong-${Date.now()}` });
    const ok = answer.httpStatus === 401 && answer.body?.status === '0';
    run.record(
      service,
      'a wrong password is refused',
      ok ? 'PASS' : 'FAIL',
      ok ? 'HTTP 401, status "0"' : `expected HTTP 401 and status "0", got ${describeAnswer(answer)}`,
    );
  });
  await run.guarded('aux_relay_operations', 'an unknown privatekey is refused', async () => {
    const answer = await run.client.callWithKey('aux_relay_operations', 'not-a-key', {
      global_device_id: run.devices,
      request_datetime: run.client.datetime(),
      relay_operate: '1',
    });
    const ok = answer.httpStatus === 401 && answer.body?.status === '0';
    run.record(
      'aux_relay_operations',
      'an unknown privatekey is refused',
      ok ? 'PASS' : 'FAIL',
      ok ? 'HTTP 401, status "0"' : `expected HTTP 401 and status "0", got ${describeAnswer(answer)}`,
    );
  });
  await run.guarded('aux_relay_operations', 'a bad relay_operate is refused naming it', async () => {
    const answer = await run.client.call(
      'aux_relay_operations',
      { global_device_id: run.devices, request_datetime: run.client.datetime(), relay_operate: '7' },
      { transactionid: run.client.nextTransactionId() },
    );
    const message = typeof answer.body?.message === 'string' ? answer.body.message : '';
    const ok = answer.httpStatus === 400 && answer.body?.status === '0' && message.includes('relay_operate');
    run.record(
      'aux_relay_operations',
      'a bad relay_operate is refused naming it',
      ok ? 'PASS' : 'FAIL',
      ok
        ? `HTTP 400: ${message}`
        : `expected HTTP 400, status "0" and a message naming relay_operate, got ${describeAnswer(answer)}`,
    );
  });
}

/** A command cancelled at once: either cancelled (row says so, level ≤ 2) or refused with a reason. */
async function cancellation(run: ConformanceRun): Promise<void> {
  const service = 'transaction_cancel';
  const submission = await run.submit('time_synchronization', 'a command to cancel', {
    global_device_id: run.devices,
    request_datetime: run.client.datetime(),
  });
  if (!submission) return;
  await run.guarded(service, 'cancel right after acceptance', async () => {
    const answer = await run.client.call(
      service,
      { global_device_id: run.devices, request_datetime: run.client.datetime() },
      { transactionid: submission.transactionid },
    );
    const items = Array.isArray(answer.body?.data)
      ? (answer.body.data as Array<Record<string, unknown>>)
      : [];
    const problems: string[] = [];
    if (answer.httpStatus !== 200) problems.push(`expected HTTP 200, got ${describeAnswer(answer)}`);
    items.forEach((item, i) =>
      problems.push(
        ...itemProblems(item, ['global_device_id', 'msn', 'indv_status', 'remarks'], `data[${i}]`),
      ),
    );
    const cancelled = items
      .filter((item) => item.indv_status === '1')
      .map((item) => String(item.global_device_id));
    const remaining = submission.accepted.filter((d) => !cancelled.includes(d));
    if (remaining.length > 0) {
      await run.settle([{ ...submission, accepted: remaining, check: 'the devices not cancelled finish' }]);
    }
    if (cancelled.length > 0) {
      const status = await run.client.call(
        'transaction_status',
        {},
        { transactionid: submission.transactionid },
      );
      for (const row of (status.body?.data ?? []) as Array<Record<string, unknown>>) {
        if (!cancelled.includes(String(row.global_device_id))) continue;
        if (row.request_cancelled !== '1')
          problems.push(
            `${String(row.global_device_id)}: cancel answered 1 but request_cancelled is ${String(row.request_cancelled)}`,
          );
        if (Number(row.status_level) > 2)
          problems.push(`${String(row.global_device_id)}: cancelled at level ${String(row.status_level)}`);
        if (!row.request_cancel_datetime)
          problems.push(`${String(row.global_device_id)}: no request_cancel_datetime`);
      }
    }
    run.record(
      service,
      'cancel right after acceptance',
      problems.length ? 'FAIL' : 'PASS',
      problems.length
        ? problems.join('; ')
        : `cancelled: ${cancelled.join(', ') || 'none (already past level 2, refused with remarks)'}`,
    );
  });
  await run.guarded('transaction_status', 'several transactionids in the body', async () => {
    const other = await run.submit('time_synchronization', 'a second transaction', {
      global_device_id: run.devices,
      request_datetime: run.client.datetime(),
    });
    if (!other) return;
    const answer = await run.client.call('transaction_status', {
      transactionid: [submission.transactionid, other.transactionid],
    });
    const rows = Array.isArray(answer.body?.data) ? (answer.body.data as Array<Record<string, unknown>>) : [];
    const ids = new Set(rows.map((row) => row.transactionid));
    const ok = answer.httpStatus === 200 && ids.has(submission.transactionid) && ids.has(other.transactionid);
    run.record(
      'transaction_status',
      'several transactionids in the body',
      ok ? 'PASS' : 'FAIL',
      ok
        ? `${rows.length} rows of both transactions`
        : `expected rows of both, got ${describeAnswer(answer)} with ${rows.length} rows`,
    );
    await run.settle([other]);
  });
}

/** 3.x on_demand_data_read: synchronous data, or "goes on" and the data in transaction_status. */
async function dataReads3(run: ConformanceRun): Promise<void> {
  const service = 'on_demand_data_read';
  const shapes: Record<DataType, { type: string; id: (d: string) => FormValue; days: number }> = {
    INST: { type: 'INST', id: (d) => d, days: 0 },
    BILL: { type: 'bill', id: (d) => [d], days: 0 },
    MBIL: { type: 'MBIL', id: (d) => d, days: 400 },
    LPRO: { type: 'LPRO', id: (d) => d, days: 1 },
    EVNT: { type: ' EVNT ', id: (d) => [d], days: 30 },
  };
  for (const [dataType, shape] of Object.entries(shapes) as Array<[DataType, (typeof shapes)[DataType]]>) {
    const device = run.devices[0];
    const check = `${dataType} of ${device}`;
    await run.guarded(service, check, async () => {
      const transactionid = run.client.nextTransactionId();
      const answer = await run.client.call(
        service,
        {
          global_device_id: shape.id(device),
          type: shape.type,
          start_datetime: run.client.datetime(-shape.days * 86_400 - 3600),
          end_datetime: run.client.datetime(),
        },
        { transactionid },
      );
      if (answer.httpStatus !== 200 || !answer.body) {
        run.record(service, check, 'FAIL', `expected HTTP 200, got ${describeAnswer(answer)}`);
        return;
      }
      const data = answer.body.data;
      // Items of the record, not the four-key acceptance items of a read that goes on.
      const rows = Array.isArray(data)
        ? (data as unknown[]).filter(
            (item): item is Record<string, unknown> =>
              !!item && typeof item === 'object' && !('indv_status' in item && Object.keys(item).length <= 4),
          )
        : [];
      if (Array.isArray(data) && data.length === 0 && answer.body.status === '1') {
        run.record(
          service,
          check,
          'N/A',
          `the meter holds no data in the range: keys not checked (${String(answer.body.message)})`,
        );
        return;
      }
      if (rows.length > 0) {
        const { problems, count } = run.dataProblems(dataType, rows, 'data');
        run.record(
          service,
          check,
          problems.length ? 'FAIL' : 'PASS',
          problems.length
            ? problems.join('; ')
            : `${count} ${DATA_TABLES[dataType]} item(s) in the answer, every key`,
        );
        return;
      }
      // Past the MDC's wait: the read goes on and transaction_status carries it.
      const submission: Submission = {
        service,
        check: `${check} (through transaction_status)`,
        transactionid,
        accepted: [device],
        refused: new Map(),
        submittedAt: Date.now(),
        carriesNoData: (row) => Array.isArray(row.response_data) && row.response_data.length === 0,
        rowCheck: (row) => {
          const response = row.response_data;
          if (!Array.isArray(response))
            return [`response_data is ${JSON.stringify(response)?.slice(0, 80)}, not the rows`];
          return run.dataProblems(dataType, response, 'response_data').problems;
        },
      };
      if (answer.body.status === '0') {
        run.record(
          service,
          check,
          'N/A',
          `refused: ${JSON.stringify(answer.body.data ?? answer.body.message)}`,
        );
        return;
      }
      await run.settle([submission]);
    });
  }
}

/** 2019 on_demand_request: accepted, then the rows in transaction_status's response_data. */
async function dataReads2019(run: ConformanceRun): Promise<void> {
  const types: Array<[string, DataType | undefined, number]> = [
    ['INST', 'INST', 0],
    ['BILL', 'BILL', 0],
    ['MBIL', 'MBIL', 400],
    ['LPRO', 'LPRO', 1],
    ['EVNT', 'EVNT', 30],
    ['VISL', undefined, 0],
  ];
  const submissions: Array<Submission | undefined> = [];
  for (const [type, dataType, days] of types) {
    const submission = await run.submit(
      'on_demand_request',
      type,
      {
        global_device_id: run.devices,
        type,
        start_datetime: run.client.datetime(-days * 86_400 - 3600),
        end_datetime: run.client.datetime(),
      },
      run.devices,
    );
    if (submission && dataType) {
      submission.carriesNoData = (row) => Array.isArray(row.response_data) && row.response_data.length === 0;
      submission.rowCheck = (row, device) =>
        Array.isArray(row.response_data)
          ? run.dataProblems(dataType, row.response_data, `response_data of ${device}`).problems
          : [`response_data is not the rows: ${JSON.stringify(row.response_data)?.slice(0, 80)}`];
    }
    submissions.push(submission);
  }
  await run.settle(submissions);
}

/** 3.x on_demand_parameter_read: every type, its METER_VISUALS columns. */
async function parameterReads(run: ConformanceRun): Promise<void> {
  const service = 'on_demand_parameter_read';
  const device = run.devices[0];
  for (const [type, keys] of Object.entries(PARAMETER_KEYS)) {
    const check = `${type} of ${device}`;
    await run.guarded(service, check, async () => {
      const answer = await run.client.call(
        service,
        { global_device_id: type.length % 2 ? device : [device], type: type === 'AUXR' ? 'auxr' : type },
        { transactionid: run.client.nextTransactionId() },
      );
      const data = answer.body?.data;
      if (answer.httpStatus !== 200 || !Array.isArray(data) || data.length === 0) {
        run.record(service, check, 'FAIL', `expected HTTP 200 with data, got ${describeAnswer(answer)}`);
        return;
      }
      const item = data[0] as Record<string, unknown>;
      if (item.indv_status === '0' && Object.keys(item).length <= 4) {
        run.record(service, check, 'N/A', `refused: ${String(item.remarks)}`);
        return;
      }
      const problems = itemProblems(item, ['global_device_id', 'msn', ...keys], 'data[0]', [
        'major_alarms_list',
      ]);
      if (type === 'PMAL' && !Array.isArray(item.major_alarms_list))
        problems.push('major_alarms_list is not a list');
      run.record(
        service,
        check,
        problems.length ? 'FAIL' : 'PASS',
        problems.length ? problems.join('; ') : `${keys.length} column(s) answered`,
      );
    });
  }
}

/** Every service of the generation, in an order that leaves the meters as they were (as far as it can). */
export async function runGeneration(run: ConformanceRun): Promise<void> {
  await authorization(run);
  // Data first: reprogramming a meter (sampling, MDI reset date) may clear the profiles it holds.
  await (run.generation === '3' ? dataReads3(run) : dataReads2019(run));
  const first = run.generation === '3' ? writes3(run) : writes2019(run);
  await run.settle(await submitAll(run, first));
  await run.settle(await submitAll(run, restoringWrites(run)));
  await cancellation(run);
  // Parameters last: they read back what the writes programmed.
  if (run.generation === '3') await parameterReads(run);
}
