import { execFile } from 'node:child_process';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RunningDemo, startDemo } from './support/demo-process';

const root = join(__dirname, '..');
const checkScript = join(root, 'dist/scripts/udil-check.js');

interface CheckOutcome {
  code: number;
  output: string;
}

/** Runs the compiled `npm run udil:check` entry point and collects its exit status and output. */
function udilCheck(args: string[]): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [checkScript, ...args],
      { cwd: root, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** The failed rows of the table, for a readable assertion message. */
const failures = (output: string) => output.split('\n').filter((line) => line.startsWith('FAIL'));

describe('udil:check, the conformance self-test', () => {
  describe('against the demo', () => {
    let demo: RunningDemo;
    let base: string;

    beforeAll(async () => {
      demo = await startDemo('udil_check');
      base = demo.base;
    }, 120_000);

    afterAll(() => demo?.stop());

    it.each(['2019', '3'])(
      'passes every service of generation %s',
      async (generation) => {
        const result = await udilCheck([
          '--base',
          base,
          '--user',
          'mdm',
          '--pass',
          'mdm-demo-password',
          '--code',
          '1234',
          '--devices',
          // Each generation its own meters: the first run's writes reprogram (and clear) profiles.
          generation === '3' ? 'demo-m2,demo-m5' : 'demo-m1,demo-m4',
          '--generation',
          generation,
          '--timeout',
          '120',
          '--quiet',
        ]);
        expect(failures(result.output)).toEqual([]);
        expect(result.output).toMatch(/\d+ passed, 0 failed/);
        expect(result.code).toBe(0);
        // The data reads found rows, so every key of INST, BILL and LPRO was checked.
        const read = generation === '3' ? 'on_demand_data_read' : 'on_demand_request';
        for (const type of ['INST', 'BILL', 'LPRO']) {
          expect(result.output).toMatch(new RegExp(`^PASS +${read} +${type} `, 'm'));
        }
        // Every service of the generation was called.
        const services =
          generation === '3'
            ? [
                'update_time_of_use',
                'update_wake_up_sim_number',
                'update_meter_status',
                'update_device_metadata',
                'update_mdi_reset_date',
                'apms_tripping_events',
                'parameterization_cancellation',
                'update_major_alarms',
                'on_demand_data_read',
                'on_demand_parameter_read',
              ]
            : ['time_of_use_change', 'wake_up_sim_number_update', 'meter_status_update', 'on_demand_request'];
        for (const service of [
          'authorization_service',
          'aux_relay_operations',
          'time_synchronization',
          'sanctioned_load_control',
          'load_shedding_scheduling',
          'update_ip_port',
          'meter_data_sampling',
          'activate_meter_optical_port',
          'transaction_status',
          'transaction_cancel',
          ...services,
        ]) {
          expect(result.output).toMatch(new RegExp(`^(PASS|N/A) +${service} `, 'm'));
        }
      },
      420_000,
    );
  });

  describe('against an MDC that leaves keys out', () => {
    let server: Server;
    let base: string;

    /**
     * A careless MDC: it accepts every command but its data items lack `remarks`, and its status rows reach
     * level 5 without status_3_datetime. The self-test must fail and name both.
     */
    beforeAll(async () => {
      server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          const transactionid = String(request.headers.transactionid ?? '');
          const devices = (() => {
            const raw = new URLSearchParams(body).get('global_device_id') ?? '[]';
            try {
              const parsed: unknown = JSON.parse(raw);
              return Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
            } catch {
              return [raw];
            }
          })();
          const send = (status: number, payload: unknown) => {
            response.writeHead(status, { 'content-type': 'application/json' });
            response.end(JSON.stringify(payload));
          };
          if (request.url === '/authorization_service') {
            return request.headers.password === 'right'
              ? send(200, { status: '1', privatekey: 'k', message: 'ok' })
              : send(401, { status: '0', message: 'bad credentials' });
          }
          if (request.headers.privatekey !== 'k') return send(401, { status: '0', message: 'bad key' });
          if (request.url === '/transaction_status') {
            return send(200, {
              status: '1',
              transactionid,
              data: ['x1'].map((id) => ({
                transactionid,
                global_device_id: id,
                msn: '1',
                type: 'AUX_RELAY_OPERATIONS',
                command_receiving_datetime: '2026-11-30 10:00:00',
                status_level: '5',
                status_1_datetime: '2026-11-30 10:00:01',
                status_2_datetime: '2026-11-30 10:00:02',
                status_4_datetime: '2026-11-30 10:00:04',
                status_5_datetime: '2026-11-30 10:00:05',
                indv_status: '1',
                request_cancelled: '0',
                request_cancel_reason: '',
                request_cancel_datetime: '',
                response_data: 'done',
              })),
              message: '',
            });
          }
          return send(200, {
            status: '1',
            transactionid,
            // Only time_synchronization's answer is complete, so its status rows get checked.
            data: devices.map((id) => ({
              global_device_id: id,
              msn: '1',
              indv_status: '1',
              ...(request.url === '/time_synchronization' ? { remarks: 'saved' } : {}),
            })),
            message: 'accepted',
          });
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fails, names what is missing, and exits non-zero', async () => {
      const result = await udilCheck([
        '--base',
        base,
        '--user',
        'u',
        '--pass',
        'right',
        '--code',
        'c',
        '--devices',
        'x1',
        '--generation',
        '2019',
        '--timeout',
        '5',
        '--quiet',
      ]);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/^FAIL +aux_relay_operations +disconnect.*data\[0\] lacks remarks/m);
      expect(result.output).toMatch(
        /^FAIL +time_synchronization +meter clock.*status row of x1 lacks .*status_3_datetime/m,
      );
      expect(result.output).toMatch(/^PASS +authorization_service +a wrong password is refused/m);
      expect(result.output).toMatch(/[1-9]\d* failed/);
    });

    it('refuses bad arguments with exit status 2', async () => {
      const result = await udilCheck([
        '--base',
        'not a url',
        '--user',
        'u',
        '--pass',
        'p',
        '--code',
        'c',
        '--devices',
        'x',
      ]);
      expect(result.code).toBe(2);
      expect(result.output).toMatch(/--base not a url is not a URL/);
    });
  });
});
