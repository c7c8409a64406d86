import { Device } from './device.entity';
import { Gateway } from './gateway.entity';
import { UdilClient } from './udil-client.entity';
import { UdilPrivateKey } from './udil-private-key.entity';
import { WorkerHeartbeat } from './worker-heartbeat.entity';

export { Device, Gateway, UdilClient, UdilPrivateKey, WorkerHeartbeat };
export type { TlsMode } from './gateway.entity';

export const ENTITIES = [Gateway, Device, UdilClient, UdilPrivateKey, WorkerHeartbeat];
