import { UdilSchema1763700000000 } from './1763700000000-udil-schema';
import { UdilTransactions1763700000001 } from './1763700000001-udil-transactions';
import { Mpcb1763700000100 } from './1763700000100-mpcb';
import { Mcs1763700000200 } from './1763700000200-mcs';
import { Admin1763700000300 } from './1763700000300-admin';
import { Polling1763700000400 } from './1763700000400-polling';
import { McsClients1763700000500 } from './1763700000500-mcs-clients';
import { Udil33Columns1764400000000 } from './1764400000000-udil-3-3';
import { UdilDeferredRows1764400000100 } from './1764400000100-udil-deferred-rows';
import { Udil3DeviceTypes1764400000101 } from './1764400000101-udil-3-device-types';
import { LoadProfileChannel1764400000300 } from './1764400000300-load-profile-channel';
import { MeterResources1764400000400 } from './1764400000400-meter-resources';
import { GatewayClockZone1764400000401 } from './1764400000401-gateway-clock-zone';
import { MpcbSiteCentralServer1764400000600 } from './1764400000600-mpcb-site-central-server';
import { LoadSheddingSchedules1764400000700 } from './1764400000700-load-shedding-schedules';
import { CredentialFailures1764400000800 } from './1764400000800-credential-failures';
import { UdilPartitions1764500000000 } from './1764500000000-udil-partitions';
import { UdilTransactionsQueued1764500000100 } from './1764500000100-udil-transactions-queued';
import { MpcbRetention1764600000000 } from './1764600000000-mpcb-retention';
import { UdilPartitionCreationLock1764600000100 } from './1764600000100-udil-partition-creation-lock';
import { UdilTransactionSlices1764700000000 } from './1764700000000-udil-transaction-slices';
import { McsRetention1764800000000 } from './1764800000000-mcs-retention';

/** Every migration, in order. Listed explicitly so that compiled and test runs load the same set. */
export const MIGRATIONS = [
  UdilSchema1763700000000,
  UdilTransactions1763700000001,
  Mpcb1763700000100,
  Mcs1763700000200,
  Admin1763700000300,
  Polling1763700000400,
  McsClients1763700000500,
  Udil33Columns1764400000000,
  UdilDeferredRows1764400000100,
  Udil3DeviceTypes1764400000101,
  LoadProfileChannel1764400000300,
  MeterResources1764400000400,
  GatewayClockZone1764400000401,
  MpcbSiteCentralServer1764400000600,
  LoadSheddingSchedules1764400000700,
  CredentialFailures1764400000800,
  UdilPartitions1764500000000,
  UdilTransactionsQueued1764500000100,
  MpcbRetention1764600000000,
  UdilPartitionCreationLock1764600000100,
  UdilTransactionSlices1764700000000,
  McsRetention1764800000000,
];
