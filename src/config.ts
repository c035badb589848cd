/**
 * Every setting of the project, read from the environment and validated once.
 *
 * Temporal settings follow Temporal's own variable names (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*), SQS settings follow the AWS SDK's (AWS_REGION,
 * AWS_ENDPOINT_URL_SQS; credentials come from the SDK's default provider chain).
 * Everything else is prefixed NOTIFY_.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { MAX_PRESTAGE_SECONDS } from './policy/staging';
import { narrowerThanLawReason } from './policy/policy';
import { isSupportedTimeZone } from './policy/zone';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** "HH:mm" in 24-hour form, e.g. "21:00". */
const localTimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:mm (24-hour), e.g. 21:00');

const positiveInt = z.coerce.number().int().positive();

/** An IANA region name ("Asia/Seoul"); abbreviations and offsets ("KST", "+09:00") do not follow daylight saving time. */
const ianaZone = z.string().refine(isSupportedTimeZone, (zone) => ({
  message: `${JSON.stringify(zone)} is not an IANA zone name: expected one such as Asia/Seoul (abbreviations like KST and offsets like +09:00 are refused)`,
}));

/**
 * The staging lead by default: it must cover the release of the night's backlog with a 2× margin.
 * SQS's maximum: the 2-core development machine staged the benchmark's 10,000 in 426–508 s, so no
 * allowed value gives a larger margin (bench/README.md, "The staging lead").
 */
export const DEFAULT_PRESTAGE_SECONDS = 900;
/**
 * How long a worker's send waits for others to share its SendMessageBatch. Staged sends are timed
 * to whole seconds and share batches at any window; without staging, sends arrive at the release
 * rate (about 20/s on the 2-core machine), so 100 ms gathers a few. A staged message turns
 * receivable up to this much after its release instant (bench/README.md, "Batched sends").
 */
export const DEFAULT_SEND_BATCH_WINDOW_MS = 100;
/** Standard base64 (what `openssl rand -base64 32` prints). */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CODEC_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** AES-256: exactly 32 bytes. */
export const CODEC_KEY_BYTES = 32;
/** HMAC-SHA256 keys shorter than the hash's 32 bytes weaken it; longer ones add nothing. */
export const RECIPIENT_HASH_KEY_MIN_BYTES = 32;

function base64Bytes(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64');
}

/** `id:base64key,id:base64key`: every key the payload codec may decrypt with (the current one and older ones). */
const codecKeyList = z.string().transform((text, ctx) => {
  const keys = new Map<string, Buffer>();
  let entries = 0;
  for (const [index, entry] of text.split(',').map((part) => part.trim()).filter(Boolean).entries()) {
    entries += 1;
    const separator = entry.indexOf(':');
    const id = separator < 0 ? '' : entry.slice(0, separator);
    const key = base64Bytes(entry.slice(separator + 1));
    if (!CODEC_KEY_ID.test(id)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `entry ${index + 1}: expected id:base64key with an id of letters, digits, . _ - (at most 64)` });
    } else if (keys.has(id)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `entry ${index + 1}: key id ${id} appears twice` });
    } else if (!key || key.length !== CODEC_KEY_BYTES) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `key ${id}: expected ${CODEC_KEY_BYTES} bytes in standard base64 (e.g. openssl rand -base64 32)` });
    } else {
      keys.set(id, key);
    }
  }
  if (entries === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'no key given' });
  return keys;
});

const recipientHashKey = z.string().transform((text, ctx) => {
  const key = base64Bytes(text);
  if (!key || key.length < RECIPIENT_HASH_KEY_MIN_BYTES) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected at least ${RECIPIENT_HASH_KEY_MIN_BYTES} bytes in standard base64 (e.g. openssl rand -base64 32)` });
  }
  return key ?? Buffer.alloc(0);
});
const nonNegativeInt = z.coerce.number().int().nonnegative();

const ConfigSchema = z.object({
  // Temporal
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: booleanFromEnv.optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  NOTIFY_TASK_QUEUE: z.string().min(1).default('notifications'),

  // SQS
  AWS_REGION: z.string().min(1).default('ap-northeast-2'),
  AWS_ENDPOINT_URL_SQS: z.string().url().optional(),
  NOTIFY_DELIVERY_QUEUE: z.string().min(1).default('notification-delivery'),
  NOTIFY_LEGACY_WAIT_QUEUE: z.string().min(1).default('notification-legacy-wait'),
  NOTIFY_DEAD_LETTER_QUEUE: z.string().min(1).default('notification-dead-letter'),
  /**
   * Largest delivery message (body and attributes) the client accepts when scheduling; SQS's default
   * MaximumMessageSize. Workers enforce the queue's own setting, read from the queue.
   */
  NOTIFY_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024).default(256 * 1024),

  // Delivery
  /** Send held notifications this many seconds before their release, with an SQS delay (0 = at the release; off on FIFO queues). */
  NOTIFY_PRESTAGE_SECONDS: z.coerce.number().int().min(0).max(MAX_PRESTAGE_SECONDS).default(DEFAULT_PRESTAGE_SECONDS),
  /** A send waits at most this many milliseconds for others to share its SendMessageBatch (0 = only sends made together). */
  NOTIFY_SEND_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(1000).default(DEFAULT_SEND_BATCH_WINDOW_MS),
  /** A notification whose sends fail in this many release windows (days, without a window) ends `failed`. */
  NOTIFY_SEND_MAX_FAILED_WINDOWS: positiveInt.default(3),
  /** A delivery queue that is missing or refuses access is retried this long before the notification ends `failed`. */
  NOTIFY_SEND_MISCONFIGURED_GRACE_SECONDS: nonNegativeInt.default(900),

  // The quiet-hours policy
  NOTIFY_QUIET_START: localTimeOfDay.default('21:00'),
  NOTIFY_QUIET_END: localTimeOfDay.default('08:00'),
  NOTIFY_DEFAULT_TIME_ZONE: ianaZone.default('Asia/Seoul'),
  /** Comma-separated categories held during the quiet window without night consent. */
  NOTIFY_HELD_CATEGORIES: z.string().default('advertising,order,delivery,refund'),
  /** Spread the morning release of held messages over this many seconds (0 = all at the window's end). */
  NOTIFY_MORNING_SPREAD_SECONDS: nonNegativeInt.default(0),
  /** The most advertisements one recipient gets at one morning release; 0: no cap. */
  NOTIFY_MORNING_CAP: nonNegativeInt.max(1000).default(0),
  /** What becomes of advertisements beyond the cap: drop them (capped), or merge them into one digest message. */
  NOTIFY_MORNING_CAP_OVERFLOW: z.enum(['drop', 'digest']).default('drop'),
  /** Tests and benchmarks only: allow a quiet window narrower than the law's 21:00–08:00 (every decision under it says so). */
  NOTIFY_ALLOW_NARROWER_QUIET_HOURS: booleanFromEnv.default('false'),

  // Legacy wait-queue reconciliation
  NOTIFY_RECONCILE_CRON: z.string().min(1).default('* * * * *'),
  NOTIFY_RECONCILE_MAX_SECONDS: positiveInt.default(50),
  /** A legacy body outside the documented vocabulary: forward it as the old drain did, or dead-letter it. */
  NOTIFY_LEGACY_FOREIGN: z.enum(['forward', 'dead-letter']).default('forward'),
  /** Copies of one legacy body (without a notificationId) sent within this long are one notification. */
  NOTIFY_LEGACY_DEDUP_WINDOW_SECONDS: positiveInt.max(86_400).default(300),

  // The compliance report (src/report)
  /** When the Schedule writes the report for the day before (cron, Asia/Seoul). */
  NOTIFY_REPORT_CRON: z.string().min(1).default('0 6 * * *'),
  /** Where reports are written: a directory (mount durable storage, or sync it to a bucket); default <NOTIFY_DATA_DIR>/reports. */
  NOTIFY_REPORT_DIR: z.string().min(1).optional(),
  /** HMAC key that signs each report's manifest (≥ 32 bytes, base64); `npm start` generates one. */
  NOTIFY_REPORT_SIGNING_KEY: recipientHashKey.optional(),

  // Worker tuning
  NOTIFY_WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(200),
  NOTIFY_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(100),
  NOTIFY_WORKER_MAX_CACHED_WORKFLOWS: nonNegativeInt.default(2000),

  // Worker Versioning (docs/operations.md, "Deploying")
  /** The Worker Deployment the worker belongs to; unset: an unversioned worker (the time-skipping test server has no deployments). */
  NOTIFY_WORKER_DEPLOYMENT_NAME: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'expected letters, digits, . _ - (at most 200)').optional(),
  /** The build id of this worker's code; default: the one `npm run build` recorded, or the git commit of the sources. */
  NOTIFY_BUILD_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'expected letters, digits, . _ - (at most 255)').optional(),

  // Metrics (docs/operations.md, "Metrics")
  /** Serve the worker's Prometheus metrics on this port (/metrics); unset or 0: none (npm start: 9464 unless 0). */
  NOTIFY_METRICS_PORT: nonNegativeInt.max(65535).optional(),
  /** The address the metrics endpoint listens on: loopback by default; 0.0.0.0 in a container. */
  NOTIFY_METRICS_HOST: z.string().min(1).default('127.0.0.1'),

  // Payload encryption and the codec server (src/security)
  NOTIFY_CODEC_KEYS: codecKeyList.optional(),
  NOTIFY_CODEC_KEY_ID: z.string().regex(CODEC_KEY_ID, 'expected a key id of letters, digits, . _ -').optional(),
  NOTIFY_CODEC_SERVER_TOKEN: z.string().min(32, 'expected at least 32 characters (e.g. openssl rand -base64 32)').optional(),
  NOTIFY_CODEC_SERVER_PORT: positiveInt.default(8081),
  /** The address the codec server listens on: loopback by default; 0.0.0.0 in a container (docker-compose.yml). */
  NOTIFY_CODEC_SERVER_HOST: z.string().min(1).default('127.0.0.1'),
  /** Comma-separated origins whose pages (the Web UI) may call the codec server; default the local Web UI. */
  NOTIFY_CODEC_SERVER_ORIGINS: z.string().optional(),
  NOTIFY_RECIPIENT_HASH_KEY: recipientHashKey.optional(),

  // Local stack
  NOTIFY_DATA_DIR: z.string().min(1).default('.data'),
  NOTIFY_CACHE_DIR: z.string().min(1).optional(),
  NOTIFY_TEMPORAL_PORT: positiveInt.default(7233),
  NOTIFY_TEMPORAL_UI_PORT: positiveInt.default(8233),
  NOTIFY_SQS_PORT: positiveInt.default(9324),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().min(1).optional(),
});

export type RawConfig = z.infer<typeof ConfigSchema>;

export interface CodecKeyring {
  /** The key new payloads are encrypted with. */
  currentKeyId: string;
  /** Every key that may decrypt, by id (the current one and older ones kept after a rotation). */
  keys: ReadonlyMap<string, Buffer>;
}

/** The secrets `npm start` generates for the local stack (src/security/localSecrets.ts writes them). */
export const LOCAL_SECRET_VARIABLES = ['NOTIFY_CODEC_KEYS', 'NOTIFY_CODEC_KEY_ID', 'NOTIFY_CODEC_SERVER_TOKEN', 'NOTIFY_RECIPIENT_HASH_KEY', 'NOTIFY_REPORT_SIGNING_KEY'] as const;

/** Where `npm start` keeps the local stack's generated secrets (mode 0600). */
export function localSecretsFile(dataDir: string): string {
  return join(dataDir, 'local-secrets.env');
}

/**
 * Without TEMPORAL_ADDRESS every tool talks to the local stack (`npm start`), so it also takes the
 * local stack's generated secrets, for whichever of them the environment does not set. With
 * TEMPORAL_ADDRESS (a real deployment) nothing is read from disk: the keys must be in the environment.
 */
function withLocalStackSecrets(env: Record<string, string>): Record<string, string> {
  if (env.TEMPORAL_ADDRESS || LOCAL_SECRET_VARIABLES.every((name) => env[name])) return env;
  const file = localSecretsFile(env.NOTIFY_DATA_DIR || '.data');
  if (!existsSync(file)) return env;
  const secrets = parseEnv(readFileSync(file, 'utf8'));
  const merged = { ...env };
  // The keys and the id of the current one come together, or not at all.
  const groups = [['NOTIFY_CODEC_KEYS', 'NOTIFY_CODEC_KEY_ID'], ['NOTIFY_CODEC_SERVER_TOKEN'], ['NOTIFY_RECIPIENT_HASH_KEY'], ['NOTIFY_REPORT_SIGNING_KEY']];
  for (const group of groups) {
    if (group.some((name) => merged[name])) continue;
    for (const name of group) if (secrets[name]) merged[name] = secrets[name]!;
  }
  return merged;
}

/** Empty strings count as unset, as shells and compose files often export VAR= . */
function presentVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== '')) as Record<string, string>;
}

/**
 * The secrets this process runs with (its environment, or the local stack's file as loadConfig
 * reads it), as variables: for the worker processes a local stack spawns with a TEMPORAL_ADDRESS,
 * which would not read the file themselves.
 */
export function secretVariables(env: NodeJS.ProcessEnv = process.env): Partial<Record<(typeof LOCAL_SECRET_VARIABLES)[number], string>> {
  const merged = withLocalStackSecrets(presentVariables(env));
  return Object.fromEntries(LOCAL_SECRET_VARIABLES.filter((name) => merged[name]).map((name) => [name, merged[name]!]));
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface Config {
  temporal: {
    /** Undefined means: no server is given, the local stack starts one. */
    address?: string;
    namespace: string;
    apiKey?: string;
    tls?: { clientCertPath?: string; clientKeyPath?: string; serverName?: string };
    taskQueue: string;
  };
  sqs: {
    region: string;
    /** Undefined means: real AWS, or the local stack starts ElasticMQ and sets it. */
    endpoint?: string;
    deliveryQueue: string;
    legacyWaitQueue: string;
    deadLetterQueue: string;
    maxMessageBytes: number;
  };
  delivery: {
    /** The staging lead as configured; NotificationClient.connect turns it off for a FIFO delivery queue. */
    prestageSeconds: number;
    /** How long a worker's send waits for others to share its SendMessageBatch, ms. */
    sendBatchWindowMs: number;
    /** How long a failing send is tried before the notification ends `failed`. */
    retryLimits: { maxFailedWindows: number; misconfiguredGraceSeconds: number };
  };
  policy: {
    quietStart: string;
    quietEnd: string;
    defaultTimeZone: string;
    heldCategories: string[];
    morningSpreadSeconds: number;
    /** NOTIFY_ALLOW_NARROWER_QUIET_HOURS: the window may be narrower than the law's (tests and benchmarks). */
    allowNarrowerQuietHours: boolean;
  };
  /** The morning cap: at most `cap` advertisements per recipient at one morning release (0: none). */
  morning: { cap: number; overflow: 'drop' | 'digest' };
  reconcile: { cron: string; maxSecondsPerRun: number; foreignBodies: 'forward' | 'dead-letter'; dedupWindowSeconds: number };
  /** The compliance report: its Schedule, where it is written, and the key that signs it (undefined: unsigned reports are refused). */
  report: { cron: string; dir: string; signingKey?: Buffer };
  worker: { maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number; maxCachedWorkflows: number };
  /**
   * Worker Versioning: the Worker Deployment this worker belongs to and its build id (undefined:
   * from the build, src/workers/buildId.ts). Undefined as a whole: an unversioned worker.
   */
  versioning?: { deploymentName: string; buildId?: string };
  /** The Prometheus endpoint (the SDK's exporter): `port` 0 means none; undefined means none for a worker process, 9464 for `npm start`. */
  metrics: { port?: number; host: string };
  codec: {
    /**
     * The payload codec's keys. Undefined when none are configured: then no client or worker can
     * be built (dataConverterFromConfig throws), so nothing runs unencrypted by accident.
     */
    keyring?: CodecKeyring;
    server: {
      /** Bearer token of the codec server; undefined: the codec server does not start. */
      token?: string;
      port: number;
      host: string;
      /** Origins allowed by CORS (the Web UI's). */
      allowedOrigins: string[];
    };
  };
  /** Key of the keyed hash that stands for a recipient id where operators search (search attributes). */
  recipientHashKey?: Buffer;
  localStack: {
    dataDir: string;
    cacheDir?: string;
    temporalPort: number;
    temporalUiPort: number;
    sqsPort: number;
    temporalCliPath?: string;
    testServerPath?: string;
  };
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(withLocalStackSecrets(presentVariables(env)));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration in the environment:\n${problems.join('\n')}`);
  }
  const raw = parsed.data;
  const tlsWanted =
    raw.TEMPORAL_TLS ?? Boolean(raw.TEMPORAL_TLS_CLIENT_CERT_PATH || raw.TEMPORAL_API_KEY || raw.TEMPORAL_TLS_SERVER_NAME);
  // The law's window is a floor, for recipients with a zone and (in Asia/Seoul) for those without.
  const narrower = narrowerThanLawReason({ quietStart: raw.NOTIFY_QUIET_START, quietEnd: raw.NOTIFY_QUIET_END, defaultTimeZone: raw.NOTIFY_DEFAULT_TIME_ZONE });
  if (narrower && !raw.NOTIFY_ALLOW_NARROWER_QUIET_HOURS) {
    throw new ConfigError(`Invalid configuration in the environment:\n  ${narrower} (NOTIFY_ALLOW_NARROWER_QUIET_HOURS=true allows it for tests and benchmarks only)`);
  }
  if (Boolean(raw.TEMPORAL_TLS_CLIENT_CERT_PATH) !== Boolean(raw.TEMPORAL_TLS_CLIENT_KEY_PATH)) {
    throw new ConfigError(
      'Invalid configuration in the environment:\n  TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together',
    );
  }
  return {
    codec: {
      keyring: codecKeyring(raw),
      server: {
        token: raw.NOTIFY_CODEC_SERVER_TOKEN,
        port: raw.NOTIFY_CODEC_SERVER_PORT,
        host: raw.NOTIFY_CODEC_SERVER_HOST,
        allowedOrigins: (
          raw.NOTIFY_CODEC_SERVER_ORIGINS ?? `http://localhost:${raw.NOTIFY_TEMPORAL_UI_PORT},http://127.0.0.1:${raw.NOTIFY_TEMPORAL_UI_PORT}`
        )
          .split(',')
          .map((origin) => origin.trim().replace(/\/+$/, ''))
          .filter(Boolean),
      },
    },
    recipientHashKey: raw.NOTIFY_RECIPIENT_HASH_KEY,
    temporal: {
      address: raw.TEMPORAL_ADDRESS,
      namespace: raw.TEMPORAL_NAMESPACE,
      apiKey: raw.TEMPORAL_API_KEY,
      tls: tlsWanted
        ? {
            clientCertPath: raw.TEMPORAL_TLS_CLIENT_CERT_PATH,
            clientKeyPath: raw.TEMPORAL_TLS_CLIENT_KEY_PATH,
            serverName: raw.TEMPORAL_TLS_SERVER_NAME,
          }
        : undefined,
      taskQueue: raw.NOTIFY_TASK_QUEUE,
    },
    sqs: {
      region: raw.AWS_REGION,
      endpoint: raw.AWS_ENDPOINT_URL_SQS,
      deliveryQueue: raw.NOTIFY_DELIVERY_QUEUE,
      legacyWaitQueue: raw.NOTIFY_LEGACY_WAIT_QUEUE,
      deadLetterQueue: raw.NOTIFY_DEAD_LETTER_QUEUE,
      maxMessageBytes: raw.NOTIFY_MAX_MESSAGE_BYTES,
    },
    delivery: {
      prestageSeconds: raw.NOTIFY_PRESTAGE_SECONDS,
      sendBatchWindowMs: raw.NOTIFY_SEND_BATCH_WINDOW_MS,
      retryLimits: { maxFailedWindows: raw.NOTIFY_SEND_MAX_FAILED_WINDOWS, misconfiguredGraceSeconds: raw.NOTIFY_SEND_MISCONFIGURED_GRACE_SECONDS },
    },
    policy: {
      quietStart: raw.NOTIFY_QUIET_START,
      quietEnd: raw.NOTIFY_QUIET_END,
      defaultTimeZone: raw.NOTIFY_DEFAULT_TIME_ZONE,
      heldCategories: raw.NOTIFY_HELD_CATEGORIES.split(',')
        .map((category) => category.trim())
        .filter(Boolean),
      morningSpreadSeconds: raw.NOTIFY_MORNING_SPREAD_SECONDS,
      allowNarrowerQuietHours: raw.NOTIFY_ALLOW_NARROWER_QUIET_HOURS,
    },
    morning: { cap: raw.NOTIFY_MORNING_CAP, overflow: raw.NOTIFY_MORNING_CAP_OVERFLOW },
    reconcile: {
      cron: raw.NOTIFY_RECONCILE_CRON,
      maxSecondsPerRun: raw.NOTIFY_RECONCILE_MAX_SECONDS,
      foreignBodies: raw.NOTIFY_LEGACY_FOREIGN,
      dedupWindowSeconds: raw.NOTIFY_LEGACY_DEDUP_WINDOW_SECONDS,
    },
    report: { cron: raw.NOTIFY_REPORT_CRON, dir: raw.NOTIFY_REPORT_DIR ?? join(raw.NOTIFY_DATA_DIR, 'reports'), signingKey: raw.NOTIFY_REPORT_SIGNING_KEY },
    worker: {
      maxConcurrentActivities: raw.NOTIFY_WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: raw.NOTIFY_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: raw.NOTIFY_WORKER_MAX_CACHED_WORKFLOWS,
    },
    ...(raw.NOTIFY_WORKER_DEPLOYMENT_NAME ? { versioning: { deploymentName: raw.NOTIFY_WORKER_DEPLOYMENT_NAME, buildId: raw.NOTIFY_BUILD_ID } } : {}),
    metrics: { port: raw.NOTIFY_METRICS_PORT, host: raw.NOTIFY_METRICS_HOST },
    localStack: {
      dataDir: raw.NOTIFY_DATA_DIR,
      cacheDir: raw.NOTIFY_CACHE_DIR,
      temporalPort: raw.NOTIFY_TEMPORAL_PORT,
      temporalUiPort: raw.NOTIFY_TEMPORAL_UI_PORT,
      sqsPort: raw.NOTIFY_SQS_PORT,
      temporalCliPath: raw.TEMPORAL_CLI_PATH,
      testServerPath: raw.TEMPORAL_TEST_SERVER_PATH,
    },
  };
}

/** The configured keys and which one is current: NOTIFY_CODEC_KEY_ID, or the only key there is. */
function codecKeyring(raw: RawConfig): CodecKeyring | undefined {
  const keys = raw.NOTIFY_CODEC_KEYS;
  if (!keys) {
    if (raw.NOTIFY_CODEC_KEY_ID) throw new ConfigError('Invalid configuration in the environment:\n  NOTIFY_CODEC_KEY_ID is set but NOTIFY_CODEC_KEYS is not');
    return undefined;
  }
  const currentKeyId = raw.NOTIFY_CODEC_KEY_ID ?? (keys.size === 1 ? [...keys.keys()][0]! : undefined);
  if (currentKeyId === undefined) {
    throw new ConfigError('Invalid configuration in the environment:\n  NOTIFY_CODEC_KEY_ID: required when NOTIFY_CODEC_KEYS holds several keys (it names the current one)');
  }
  if (!keys.has(currentKeyId)) {
    throw new ConfigError(`Invalid configuration in the environment:\n  NOTIFY_CODEC_KEY_ID: ${currentKeyId} is not one of the ids in NOTIFY_CODEC_KEYS (${[...keys.keys()].join(', ')})`);
  }
  return { currentKeyId, keys };
}
