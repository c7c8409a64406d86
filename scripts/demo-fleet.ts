import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { G13Fleet, startG13Fleet } from '../apps/simulator/src/g13';
import { IServer2SimulatorHandle, startIServer2Simulator } from '../apps/simulator/src/iserver2';
import { MpcbCentralSimulatorHandle, startMpcbCentralSimulator } from '../apps/simulator/src/mpcb';
import { createDataSourceOptions } from '../libs/database/src/data-source-options';
import { MpcbSiteRepository } from '../libs/mpcb/src/mpcb-site.repository';
import { decodeKey } from '../libs/config/src';
import { CredentialCipher } from '../libs/database/src/credential-cipher';
import { hashSecret } from '../libs/udil/src/auth/secret-hash';

/** The MDM account the demo creates, so the printed curl sequence works as printed. */
export const DEMO_MDM = { username: 'mdm', password: 'mdm-demo-password', code: '1234' };

/** The MPCB site the demo reports as: the iServer 2's first probe, to the simulated central server. */
export const DEMO_MPCB_SITE = {
  siteId: 'demo_site',
  softwareVersionId: 'hes-demo-1',
  siteKey: 'demo-site-key-0123456789abcdefghij',
};

export interface DemoFleet {
  g13: G13Fleet;
  iserver2: IServer2SimulatorHandle;
  mpcb: MpcbCentralSimulatorHandle;
  /** global_device_id of each simulated meter, in order. */
  meters: { globalDeviceId: string; msn: string; gateway: string }[];
  stop(): Promise<void>;
}

/** Two G13 gateways with three meters each and one iServer 2 unit, on free ports of this machine. */
export async function startDemoFleet(): Promise<Omit<DemoFleet, 'meters'>> {
  const g13 = await startG13Fleet({
    gateways: 2,
    metersPerGateway: 3,
    tls: true,
    latencyMs: 20,
    historyDays: 7,
  });
  const iserver2 = await startIServer2Simulator({ port: 0, httpPort: 0 });
  const mpcb = await startMpcbCentralSimulator({ port: 0, sites: [DEMO_MPCB_SITE] });
  return {
    g13,
    iserver2,
    mpcb,
    stop: async () => {
      await g13.stop();
      await iserver2.stop();
      await mpcb.stop();
    },
  };
}

/**
 * Records the simulated devices in the registry (gateways with their current address and certificate
 * fingerprint, meters, the MDM account). Idempotent: every start updates the same rows.
 */
export async function provisionDemoFleet(
  databaseUrl: string,
  credentialsKey: string,
  fleet: Omit<DemoFleet, 'meters'>,
): Promise<DemoFleet['meters']> {
  const cipher = new CredentialCipher(decodeKey(credentialsKey)!);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const meters: DemoFleet['meters'] = [];
  try {
    const upsertGateway = async (
      name: string,
      driver: string,
      endpoint: string,
      tls: { mode: string; fingerprint?: string },
      username: string,
      password: string,
    ) => {
      const { rows } = await db.query<{ id: string }>(
        // The simulators' clocks run on UTC (docs/g13.md): their gateways say so.
        `INSERT INTO public.gateways (name, driver, endpoint, tls_mode, tls_fingerprint_sha256, username, password_encrypted, max_in_flight, request_timeout_ms, clock_time_zone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 2, 10000, 'UTC')
         ON CONFLICT (name) DO UPDATE SET driver = EXCLUDED.driver, endpoint = EXCLUDED.endpoint, tls_mode = EXCLUDED.tls_mode, clock_time_zone = EXCLUDED.clock_time_zone,
           tls_fingerprint_sha256 = EXCLUDED.tls_fingerprint_sha256, username = EXCLUDED.username,
           password_encrypted = EXCLUDED.password_encrypted, enabled = true, updated_at = now()
         RETURNING id`,
        [name, driver, endpoint, tls.mode, tls.fingerprint ?? null, username, cipher.encrypt(password)],
      );
      return rows[0].id;
    };
    let index = 0;
    for (const [g, gateway] of fleet.g13.gateways.entries()) {
      const name = `demo-g13-${g + 1}`;
      const id = await upsertGateway(
        name,
        'ABB_G13',
        gateway.url,
        { mode: 'pinned', fingerprint: gateway.certificateFingerprintSha256 },
        gateway.username,
        gateway.password,
      );
      for (const meter of gateway.meters) {
        index += 1;
        const globalDeviceId = `demo-m${index}`;
        await db.query(
          `INSERT INTO public.devices (global_device_id, msn, driver, gateway_id, serial_on_gateway, device_type, phase, meter_type, communication_mode)
           VALUES ($1, $2::bigint, 'ABB_G13', $3, $2::text, 1, $4, 1, 4)
           ON CONFLICT (global_device_id) DO UPDATE SET gateway_id = EXCLUDED.gateway_id, serial_on_gateway = EXCLUDED.serial_on_gateway, updated_at = now()`,
          [globalDeviceId, meter.serial, id, meter.phases],
        );
        meters.push({ globalDeviceId, msn: meter.serial, gateway: name });
      }
    }
    const admin =
      fleet.iserver2.credentials.find((c) => c.username === 'admin') ?? fleet.iserver2.credentials[0];
    const iserver2Id = await upsertGateway(
      'demo-iserver2',
      'OMEGA_ISERVER2',
      fleet.iserver2.endpoint,
      { mode: 'verify' },
      admin.username,
      admin.password,
    );
    await provisionDemoSite(databaseUrl, cipher, iserver2Id);
    await db.query(
      `INSERT INTO public.udil_clients (username, password_hash, code_hash) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, code_hash = EXCLUDED.code_hash, enabled = true`,
      [DEMO_MDM.username, await hashSecret(DEMO_MDM.password), await hashSecret(DEMO_MDM.code)],
    );
  } finally {
    await db.end();
  }
  return meters;
}

/** The curl sequence printed for the person running the demo (also run by the test suite). */
export function demoSteps(api: string, meters: DemoFleet['meters'], zone: string): string {
  const [first, second] = meters;
  return [
    `API=${api}`,
    `KEY=$(curl -s -X POST $API/authorization_service -H 'username: ${DEMO_MDM.username}' -H 'password: ${DEMO_MDM.password}' -H 'code: ${DEMO_MDM.code}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).privatekey')`,
    // Asks transaction_status once a second until no row is below level 5 (at most 30 s), then prints it.
    `status() { for _ in $(seq 30); do S=$(curl -s -X POST $API/transaction_status -H "privatekey: $KEY" -H "transactionid: $1"); echo "$S" | grep -Eq '"status_level" ?: ?"[0-4]"' && sleep 1 || break; done; echo "$S"; }`,
    `TX=relay-$(date +%s)`,
    `curl -s -X POST $API/aux_relay_operations -H "privatekey: $KEY" -H "transactionid: $TX" \\`,
    `  --data-urlencode 'global_device_id=["${first.globalDeviceId}","${second.globalDeviceId}"]' --data-urlencode "request_datetime=$(TZ=${zone} date '+%Y-%m-%d %H:%M:%S')" -d relay_operate=0; echo`,
    `status $TX`,
    `LP=lpro-$(date +%s)`,
    `curl -s -X POST $API/on_demand_request -H "privatekey: $KEY" -H "transactionid: $LP" -d global_device_id=${first.globalDeviceId} -d type=LPRO \\`,
    `  --data-urlencode "start_datetime=$(TZ=${zone} date -d '-6 hours' '+%Y-%m-%d %H:%M:%S')" --data-urlencode "end_datetime=$(TZ=${zone} date '+%Y-%m-%d %H:%M:%S')"; echo`,
    `status $LP`,
  ].join('\n');
}

/** The demo MPCB site: one stack with one analyser whose two parameters are the iServer 2's probe 1. */
async function provisionDemoSite(
  databaseUrl: string,
  cipher: CredentialCipher,
  iserver2GatewayId: string,
): Promise<void> {
  const dataSource = new DataSource(createDataSourceOptions(databaseUrl, 'hes-demo'));
  await dataSource.initialize();
  try {
    const [existing] = await dataSource.query<{ id: string }[]>(
      `SELECT id FROM mpcb.sites WHERE site_id = $1`,
      [DEMO_MPCB_SITE.siteId],
    );
    if (existing) return;
    const sites = new MpcbSiteRepository(dataSource, cipher);
    const site = await sites.createSite({ ...DEMO_MPCB_SITE, siteName: 'Demo site' });
    const unit = await sites.addMonitoringUnit(site.id, 'stack_1', 'Emission');
    const analyser = await sites.addAnalyser(unit.id, 'analyser_1', 'Probe 1');
    await sites.addParameter(analyser.id, {
      parameterId: 'temp',
      parameterName: 'Temperature',
      unit: 'degC',
      source: { kind: 'sensor', gatewayId: iserver2GatewayId, channel: 'p1ch0' },
    });
    await sites.addParameter(analyser.id, {
      parameterId: 'rh',
      parameterName: 'Humidity',
      unit: 'pct',
      source: { kind: 'sensor', gatewayId: iserver2GatewayId, channel: 'p1ch1' },
    });
  } finally {
    await dataSource.destroy();
  }
}

/** Admin credentials of the demo: from the environment, else generated once and kept in the data folder. */
export function demoAdminCredentials(
  stored: () => string | undefined,
  store: (value: string) => void,
): { token: string; username: string; password: string } {
  const saved = stored();
  if (saved) return JSON.parse(saved) as { token: string; username: string; password: string };
  const credentials = {
    token: process.env.ADMIN_TOKEN ?? randomBytes(24).toString('hex'),
    username: process.env.ADMIN_USERNAME ?? 'admin',
    password: process.env.ADMIN_PASSWORD ?? randomBytes(12).toString('hex'),
  };
  store(JSON.stringify(credentials));
  return credentials;
}
