import { RedisTarget, parseRedisUrl } from './redis-url';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/** Accepts a TCP port given as text (environment variables are strings). */
const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const urlWithProtocol = (protocols: string[]) =>
  z
    .string({ error: 'is required' })
    .trim()
    .min(1, 'is required')
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    );

/** Months of a partitioned table kept (docs/partitions.md); 0 keeps every month. */
const retentionMonths = z.coerce
  .number()
  .int('must be an integer')
  .min(0, 'must be 0 (keep) or more')
  .max(1200)
  .default(0);

const timeZone = z
  .string()
  .trim()
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en-GB', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be an IANA time zone such as Asia/Karachi' },
  );

/** A 256-bit key written as 64 hex characters or as base64 of 32 bytes. */
const encryptionKey = z
  .string({ error: 'is required (32 bytes as 64 hex characters or base64)' })
  .trim()
  .refine((value) => decodeKey(value) !== undefined, {
    message: 'must be 32 bytes written as 64 hex characters or as base64',
  });

export function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

/** An MPCB central-server route: a path relative to MPCB_BASE_URL, or a full http(s) URL. */
const mpcbRoute = z
  .string()
  .trim()
  .refine((value) => /^https?:\/\/\S+$/i.test(value) || /^\/?[A-Za-z0-9_.~\-/]+$/.test(value), {
    message: 'must be a path such as realtimeUpload or /MPCBServer/getConfig, or a full http(s) URL',
  });

/** A path to a file this process can read. */
const readableFile = z
  .string()
  .trim()
  .min(1, 'must be a file path')
  .refine(
    (path) => {
      try {
        accessSync(path, constants.R_OK);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be a readable file' },
  );

/** Comma-separated entries of a list variable, trimmed, empty ones dropped. */
function listEntries(list: string): string[] {
  return list
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/** An IP address, or a CIDR range such as 10.0.0.0/8. */
function isAddressOrRange(entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/** Why the TLS certificate and key files do not make a usable pair, naming the variable; undefined when they do. */
function tlsPairProblem(
  certFile: string,
  keyFile: string,
): { variable: string; message: string } | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(certFile));
  } catch {
    return { variable: 'API_TLS_CERT_FILE', message: 'must hold a PEM certificate' };
  }
  try {
    const key = createPrivateKey(readFileSync(keyFile));
    if (!certificate.checkPrivateKey(key))
      return { variable: 'API_TLS_KEY_FILE', message: 'is not the private key of API_TLS_CERT_FILE' };
  } catch {
    return { variable: 'API_TLS_KEY_FILE', message: 'must hold a PEM private key (without a passphrase)' };
  }
  return undefined;
}

/** REDIS_URL and REDIS_CLUSTER that contradict each other, or a database number a cluster does not have. */
function redisClusterProblem(
  redisUrl: string,
  cluster: boolean | undefined,
): { variable: string; message: string } | undefined {
  let target: RedisTarget;
  try {
    target = parseRedisUrl(redisUrl);
  } catch {
    return undefined; // reported on REDIS_URL itself
  }
  if (target.nodes.length > 1 && cluster === false) {
    return {
      variable: 'REDIS_CLUSTER',
      message:
        "is false but REDIS_URL lists several nodes (a Redis Cluster's seed nodes); set it true or list one node",
    };
  }
  if ((cluster ?? target.nodes.length > 1) && target.db !== 0) {
    return {
      variable: 'REDIS_URL',
      message: `names database ${target.db}, but a Redis Cluster has only database 0`,
    };
  }
  return undefined;
}

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

export const environmentSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DATABASE_URL: urlWithProtocol(['postgres:', 'postgresql:']),
    /**
     * A new PostgreSQL connection (or a free one of the pool) must come within this long, and a query must
     * be answered within DATABASE_QUERY_TIMEOUT_MS (the connection is then closed): a database that
     * silently drops packets makes requests answer 503 with Retry-After instead of hanging.
     */
    DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
    DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    /** Where BullMQ keeps jobs: Redis in production, PostgreSQL for the zero-service embedded mode. */
    QUEUE_BACKEND: z.enum(['redis', 'postgres'], { error: 'must be redis or postgres' }).default('redis'),
    /** One server, or a Redis Cluster's seed nodes as a comma list of host:port (see parseRedisUrl). */
    REDIS_URL: z
      .string()
      .trim()
      .min(1, 'is required')
      .superRefine((value, ctx) => {
        try {
          parseRedisUrl(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      })
      .optional(),
    /** Redis Cluster mode: unset, it is on when REDIS_URL lists several nodes. */
    REDIS_CLUSTER: booleanFlag.optional(),
    /** Namespace of the queues: the Redis key prefix, or the PostgreSQL schema of the queue tables. */
    QUEUE_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,40}$/, 'must be lower-case letters, digits and _ (a PostgreSQL schema name)')
      .default('hes'),
    /**
     * Longest wait for the queue backend to answer one call of the queue repository (add a job, remove one,
     * look one up): past it the call fails as the queue being unavailable, and what is committed waits for
     * the reconciler. Without it a call waits as long as Redis is unreachable, and so does the request.
     */
    QUEUE_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
    API_HOST: z.string().trim().min(1).default('0.0.0.0'),
    API_PORT: port.default(3000),
    /**
     * HTTPS (UDIL mandates it): with a PEM certificate (chain) and its private key the api serves
     * HTTPS itself; without, it serves plain HTTP for a TLS-terminating proxy in front of it.
     */
    API_TLS_CERT_FILE: readableFile.optional(),
    API_TLS_KEY_FILE: readableFile.optional(),
    /**
     * Longest time a client may take to send a whole request, headers and body (Node's requestTimeout;
     * the headers alone get at most 60 s of it): a client that dribbles its bytes is answered 408 and
     * its connection closed, instead of holding a socket for Node's default of 5 minutes.
     */
    API_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
    /**
     * Megabytes (characters counted as bytes) of rendered UDIL read answers each api keeps: a
     * transaction_status or table page asked for again is answered from what was rendered before when its
     * rows have not changed since (a version read with an index scan; README, API). 0: every read renders.
     */
    UDIL_READ_CACHE_MB: z.coerce.number().int().min(0).max(4096).default(32),
    /**
     * Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (Express "trust proxy"):
     * comma-separated addresses, CIDR ranges, or loopback / linklocal / uniquelocal. Empty: none, the
     * client address is the connection's. Behind a proxy, list it, or every client has its address
     * (credential throttling, MCS allow-lists).
     */
    API_TRUST_PROXY: z
      .string()
      .default('')
      .refine(
        (list) =>
          listEntries(list).every(
            (entry) => ['loopback', 'linklocal', 'uniquelocal'].includes(entry) || isAddressOrRange(entry),
          ),
        { message: 'must be comma-separated IP addresses, CIDR ranges, loopback, linklocal or uniquelocal' },
      ),
    /** Optional port on which the worker serves its own /metrics and /health. 0 disables it. */
    WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1, 'must be at least 1').max(1000).default(20),
    HEARTBEAT_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
    /** On SIGTERM/SIGINT the worker stops taking jobs and waits this long for running ones before handing them back. */
    WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(15),
    /** Time zone of the datetimes exchanged with MDM systems (UDIL "yyyy-MM-dd HH:mm:ss"). */
    TIME_ZONE: timeZone.default('Asia/Karachi'),
    /** Age after which a meter's catalogued resources are discovered again on its next read (new resources). */
    METER_RESOURCES_MAX_AGE_HOURS: z.coerce
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(8784)
      .default(168),
    /** Key that encrypts gateway credentials at rest (AES-256-GCM). */
    CREDENTIALS_ENCRYPTION_KEY: encryptionKey,
    /** Lifetime of a UDIL privatekey; the spec requires at least 30 minutes. */
    UDIL_PRIVATEKEY_TTL_MINUTES: z.coerce
      .number()
      .int()
      .min(30, 'must be at least 30 (UDIL §3.2)')
      .max(1440)
      .default(30),
    /**
     * Credential throttling of UDIL authorization_service, MCS and admin credentials (README, "Password
     * guessing"): failed credentials from one address over every username, and for one username over
     * every address, before the API answers 429 until the window (AUTH_LOCKOUT_SECONDS) ends. The
     * counters are shared by the api processes (Redis, or PostgreSQL with QUEUE_BACKEND=postgres).
     */
    AUTH_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(20),
    AUTH_MAX_FAILURES_PER_USERNAME: z.coerce.number().int().min(1).max(100_000).optional(),
    AUTH_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86400).optional(),
    /** Older names of AUTH_MAX_FAILURES_PER_USERNAME and AUTH_LOCKOUT_SECONDS, used when those are unset. */
    UDIL_AUTH_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).optional(),
    UDIL_AUTH_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86400).optional(),
    /** Password verifications (scrypt) an api process runs at once, and how long one may wait for a slot (then 503). */
    AUTH_MAX_CONCURRENT_HASHES: z.coerce.number().int().min(1).max(64).default(2),
    AUTH_HASH_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
    /** Attempts per device of a UDIL command, and the first retry delay (doubling each time). */
    TRANSACTION_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    TRANSACTION_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(2000),
    /**
     * Devices of one gateway carried by one job of a transaction (a slice; docs/scaling.md): a gateway's
     * devices in a transaction are queued as slices of at most this many. 1: one job per device.
     */
    TRANSACTION_SLICE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    /**
     * Levels 2 (communication request sent) and 4 (command sent) of a device's row are written with the
     * statement of the next level (3, 5) when it comes within this many milliseconds, else on their own then
     * (docs/udil.md, "Levels written with the next one"). 0: each as soon as it is reached.
     */
    TRANSACTION_LEVEL_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
    /** How often the reconciler looks for accepted rows the queue lost, and how old they must be. */
    RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /**
     * How often the worker re-asserts its repeating jobs (reconciler, heartbeat, poll tick, MPCB, MCS
     * reconcile) and rebuilds load-shedding schedules from PostgreSQL, so that they come back by
     * themselves when Redis lost its data.
     */
    SCHEDULE_SUPERVISOR_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
    /**
     * Gateway leases: a job holds one of its gateway's max_in_flight leases (shared by every worker
     * process through the queue backend) while it runs, renewed every third of this; a lease not renewed
     * expires after this long, so a dead worker's leases come back, and so does a lease whose release a Redis
     * failover lost (the replica never saw it: docs/reliability.md). 30 s until 2026-12-01.
     */
    GATEWAY_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(10),
    /**
     * A job whose gateway has no free lease waits up to this long for one a job of the same process hands
     * over (the gateway answered it), else it is put back (delayed) for this long instead of waiting.
     */
    GATEWAY_BUSY_DELAY_MS: z.coerce.number().int().min(10).max(60_000).default(500),
    /** Consecutive timeouts or connection failures after which a gateway is marked down… */
    GATEWAY_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(3),
    /** …for this long: its meters' jobs are deferred until then, not sent. */
    GATEWAY_DOWN_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    /** A command deferred (gateway down) longer than this after it was accepted fails with the reason. */
    GATEWAY_DEFER_LIMIT_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(900),
    /** device_creation asks the enabled gateways concurrently; each gets this long to answer. */
    DEVICE_CREATION_GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
    /**
     * How long on_demand_data_read (and on_demand_parameter_read) wait for the meter before answering that
     * the read goes on and transaction_status will carry its result (UDIL 3.3: at most 3 minutes).
     */
    UDIL_ON_DEMAND_WAIT_SECONDS: z.coerce.number().int().min(0).max(180).default(30),
    /** Largest page of the UDIL API reads (§3.3); a larger range is read page by page. */
    UDIL_READ_MAX_PAGE_SIZE: z.coerce.number().int().min(10).max(100_000).default(5000),
    /** Largest request body accepted (a fan-out over 100 000 meters is a few MB). */
    REQUEST_BODY_LIMIT: z
      .string()
      .regex(/^\d+(kb|mb)$/, 'must look like 20mb or 512kb')
      .default('20mb'),
    /** MPCB OCEMS site client (docs/mpcb.md). Nothing is acquired or sent unless MPCB_ENABLED is true. */
    MPCB_ENABLED: booleanFlag.default(false),
    /** Base URL of the central server for sites without their own (`centralServerUrl`); routes are relative to it unless full URLs. */
    MPCB_BASE_URL: urlWithProtocol(['http:', 'https:']).default('https://onlinecems.ecmpcb.in/mpcb'),
    MPCB_ROUTE_REALTIME_UPLOAD: mpcbRoute.default('realtimeUpload'),
    MPCB_ROUTE_DELAYED_UPLOAD: mpcbRoute.default('delayedUpload'),
    MPCB_ROUTE_GET_CONFIG: mpcbRoute.default('getConfig'),
    MPCB_ROUTE_UPLOAD_CONFIG: mpcbRoute.default('uploadConfig'),
    MPCB_ROUTE_COMPLETED_CONFIG: mpcbRoute.default('completedConfig'),
    MPCB_ROUTE_GET_CALIBRATION_CONFIG: mpcbRoute.default('getCalibrationConfig'),
    MPCB_ROUTE_UPDATE_CALIBRATION_CONFIG: mpcbRoute.default('updateCalibrationConfig'),
    MPCB_ROUTE_UPLOAD_DIAGNOSTIC_INFO: mpcbRoute.default('uploadDiagnosticInfo'),
    /** Sampling (document: 10 s) and transmission (document: 1 min) periods. */
    MPCB_ACQUISITION_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
    MPCB_TRANSMISSION_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /** Readings older than this at transmission go to delayedUpload (the server takes at most 2 min real-time). */
    MPCB_REALTIME_WINDOW_SECONDS: z.coerce.number().int().min(10).max(900).default(100),
    /** Zone of file names and Timestamp headers (wall-clock time written with a literal Z). */
    MPCB_TIME_ZONE: timeZone.default('Asia/Kolkata'),
    /** The Timestamp header is set this far in the past. */
    MPCB_TIMESTAMP_LAG_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
    MPCB_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    /**
     * A reading whose device timestamp is further than this from its capture time (a unit whose clock
     * stopped or was never set) is uploaded with the suspect quality code (docs/mpcb.md).
     */
    MPCB_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(604_800).default(900),
    /** Readings per upload file, and delayed files sent per transmission cycle while catching up. */
    /**
     * Days a reading the central server accepted is kept (with its upload record) before the worker's hourly
     * maintenance removes it; 0 keeps every reading. Readings not sent yet are never removed.
     */
    MPCB_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
    MPCB_DELAYED_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1000),
    MPCB_DELAYED_BATCHES_PER_CYCLE: z.coerce.number().int().min(1).max(1000).default(200),
    /** Multipart field that carries the zip. */
    MPCB_UPLOAD_FIELD_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,50}$/, 'must be 1-50 letters, digits, _ . -')
      .default('file'),
    /**
     * Admin API and Bull Board (/admin, docs/admin.md): a bearer token, Basic credentials, or both.
     * With neither set every admin request is refused. An empty value counts as unset.
     */
    ADMIN_TOKEN: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.string().trim().min(24, 'must be at least 24 characters (e.g. openssl rand -hex 32)').optional(),
    ),
    ADMIN_USERNAME: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .trim()
        .regex(/^[^:\s]{1,100}$/, 'must be 1-100 characters without ":" or spaces')
        .optional(),
    ),
    ADMIN_PASSWORD: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.string().min(12, 'must be at least 12 characters').max(200).optional(),
    ),
    /** MCS collection-request API (docs/mcs.md): base path of its routes. */
    MCS_BASE_PATH: z
      .string()
      .trim()
      .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must be a path such as /mcs')
      .default('/mcs'),
    /** A meter's time is adjusted only when it is off by more than the minimum and at most the maximum. */
    MCS_TIME_ADJUST_MIN_SECONDS: z.coerce.number().int().min(0).max(86400).default(10),
    MCS_TIME_ADJUST_MAX_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(3600),
    /** Requests queued or in progress, in all and per client address, beyond which the API answers 429. */
    MCS_MAX_QUEUED: z.coerce.number().int().min(1).default(100_000),
    MCS_MAX_QUEUED_PER_CLIENT: z.coerce.number().int().min(1).default(10_000),
    /** Comma-separated client addresses or CIDR ranges allowed to call MCS; empty allows every address. */
    MCS_ALLOWED_CLIENTS: z
      .string()
      .default('')
      .refine((list) => listEntries(list).every(isAddressOrRange), {
        message: 'must be comma-separated IP addresses or CIDR ranges such as 10.0.0.0/8',
      }),
    /** Optional HTTP Basic credentials every MCS request must carry (both or neither). */
    MCS_USERNAME: z.string().trim().min(1).optional(),
    MCS_PASSWORD: z.string().min(1).optional(),
    /** Collections a worker runs at once, attempts per collection and the first retry delay (doubling). */
    MCS_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
    /** MCS result deliveries a worker runs at once (their own queue: they never take a collection's slot). */
    /**
     * Days a finished MCS request (cancelled, or its result delivered or expired) is kept, with its result, for
     * collection-status; then the hourly maintenance removes it. 0: kept for ever.
     */
    MCS_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
    MCS_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
    MCS_COLLECTION_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(3),
    MCS_COLLECTION_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(5000),
    /** How far back a collection reads the meter's events for statusEvents. */
    MCS_STATUS_EVENTS_HOURS: z.coerce.number().int().min(1).max(8760).default(24),
    /** Result delivery: request timeout, first retry delay (doubling up to the maximum), and expiry. */
    MCS_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
    MCS_DELIVERY_BACKOFF_MS: z.coerce.number().int().min(10).max(86_400_000).default(5000),
    MCS_DELIVERY_MAX_BACKOFF_MS: z.coerce.number().int().min(10).max(86_400_000).default(600_000),
    MCS_DELIVERY_EXPIRY_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(259_200),
    /** Scheduled reads of meters (poll_schedules): on by default; defaults per data type in minutes. */
    POLLING_ENABLED: booleanFlag.default(true),
    POLL_TICK_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    POLL_DEFAULT_MINUTES_INST: z.coerce.number().int().min(1).max(44640).default(15),
    POLL_DEFAULT_MINUTES_BILL: z.coerce.number().int().min(1).max(44640).default(1440),
    POLL_DEFAULT_MINUTES_MBIL: z.coerce.number().int().min(1).max(44640).default(1440),
    POLL_DEFAULT_MINUTES_LPRO: z.coerce.number().int().min(1).max(44640).default(30),
    POLL_DEFAULT_MINUTES_EVNT: z.coerce.number().int().min(1).max(44640).default(30),
    /**
     * Longest a claimed poll read holds its schedule before its outcome is recorded: a read whose job was lost
     * (Redis emptied, its worker killed) is claimed again after this, not after its whole interval.
     */
    POLL_CLAIM_LEASE_MINUTES: z.coerce.number().int().min(1).max(44640).default(60),
    /** How far back the first load-profile or event poll of a meter reads. */
    POLL_FIRST_LOOKBACK_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 400)
      .default(48),
    /**
     * Monthly partitions of the UDIL tables that grow for years (docs/partitions.md): the worker creates
     * the current month and this many months after it, at start and every PARTITION_MAINTENANCE_SECONDS.
     */
    PARTITION_MONTHS_AHEAD: z.coerce.number().int().min(1, 'must be at least 1').max(24).default(2),
    PARTITION_MAINTENANCE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600),
    /** Whole months kept before the current one, per table; older months are dropped. 0 keeps every month. */
    PARTITION_RETENTION_MONTHS_LOAD_PROFILE_DATA: retentionMonths,
    PARTITION_RETENTION_MONTHS_INSTANTANEOUS_DATA: retentionMonths,
    PARTITION_RETENTION_MONTHS_EVENTS: retentionMonths,
    PARTITION_RETENTION_MONTHS_DEVICE_COMMUNICATION_HISTORY: retentionMonths,
    PARTITION_RETENTION_MONTHS_TRANSACTION_STATUS: retentionMonths,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_PRETTY: booleanFlag.default(false),
    SWAGGER_ENABLED: booleanFlag.default(true),
  })
  .superRefine((env, ctx) => {
    if (env.MCS_TIME_ADJUST_MAX_SECONDS < env.MCS_TIME_ADJUST_MIN_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['MCS_TIME_ADJUST_MAX_SECONDS'],
        message: 'must be at least MCS_TIME_ADJUST_MIN_SECONDS',
      });
    }
    if (Boolean(env.MCS_USERNAME) !== Boolean(env.MCS_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.MCS_USERNAME ? 'MCS_PASSWORD' : 'MCS_USERNAME'],
        message: 'is required with ' + (env.MCS_USERNAME ? 'MCS_USERNAME' : 'MCS_PASSWORD'),
      });
    }
    if (Boolean(env.ADMIN_USERNAME) !== Boolean(env.ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.ADMIN_USERNAME ? 'ADMIN_PASSWORD' : 'ADMIN_USERNAME'],
        message: 'is required with ' + (env.ADMIN_USERNAME ? 'ADMIN_USERNAME' : 'ADMIN_PASSWORD'),
      });
    }
    if (Boolean(env.API_TLS_CERT_FILE) !== Boolean(env.API_TLS_KEY_FILE)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.API_TLS_CERT_FILE ? 'API_TLS_KEY_FILE' : 'API_TLS_CERT_FILE'],
        message: 'is required with ' + (env.API_TLS_CERT_FILE ? 'API_TLS_CERT_FILE' : 'API_TLS_KEY_FILE'),
      });
    } else if (env.API_TLS_CERT_FILE && env.API_TLS_KEY_FILE) {
      const problem = tlsPairProblem(env.API_TLS_CERT_FILE, env.API_TLS_KEY_FILE);
      if (problem) ctx.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
    }
    if (env.GATEWAY_DEFER_LIMIT_SECONDS < env.GATEWAY_DOWN_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_DEFER_LIMIT_SECONDS'],
        message: 'must be at least GATEWAY_DOWN_SECONDS (a deferred command waits out one down period)',
      });
    }
    if (env.REDIS_URL) {
      const problem = redisClusterProblem(env.REDIS_URL, env.REDIS_CLUSTER);
      if (problem) ctx.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
    }
    if (env.QUEUE_BACKEND === 'redis' && !env.REDIS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message:
          'is required when QUEUE_BACKEND is redis (set QUEUE_BACKEND=postgres to queue in PostgreSQL)',
      });
    }
  })
  .transform(({ UDIL_AUTH_MAX_FAILURES, UDIL_AUTH_LOCKOUT_SECONDS, ...env }) => ({
    ...env,
    AUTH_MAX_FAILURES_PER_USERNAME: env.AUTH_MAX_FAILURES_PER_USERNAME ?? UDIL_AUTH_MAX_FAILURES ?? 10,
    AUTH_LOCKOUT_SECONDS: env.AUTH_LOCKOUT_SECONDS ?? UDIL_AUTH_LOCKOUT_SECONDS ?? 300,
  }));

export type Environment = z.infer<typeof environmentSchema>;

export class InvalidConfigurationError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}. ` +
        'See the Configuration section of README.md.',
    );
    this.name = 'InvalidConfigurationError';
  }
}

/** Validates the raw environment once; every problem is reported with the variable's name. */
export function parseEnvironment(raw: Record<string, unknown>): Environment {
  const result = environmentSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = new Map<string, string>();
  for (const issue of result.error.issues) {
    const variable = issue.path.map(String).join('.') || '(environment)';
    // One message per variable: the first is the most basic (an empty value is "required", not "malformed").
    if (problems.has(variable)) continue;
    const missing = issue.code === 'invalid_type' && raw[String(issue.path[0])] === undefined;
    problems.set(variable, missing ? 'is required' : issue.message);
  }
  throw new InvalidConfigurationError([...problems].map(([variable, message]) => ({ variable, message })));
}
