/**
 * Every setting of the project, read from the environment and validated once.
 *
 * Temporal settings follow Temporal's own variable names (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*), SQS settings follow the AWS SDK's (AWS_REGION,
 * AWS_ENDPOINT_URL_SQS; credentials come from the SDK's default provider chain).
 * Everything else is prefixed NOTIFY_.
 */
import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** "HH:mm" in 24-hour form, e.g. "21:00". */
const localTimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:mm (24-hour), e.g. 21:00');

const positiveInt = z.coerce.number().int().positive();

/**
 * The staging lead by default: it must cover the release of the night's backlog (bench/README.md
 * measures how long staging 10,000 takes on a 2-core dev server and explains this choice).
 */
export const DEFAULT_PRESTAGE_SECONDS = 300;
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
  NOTIFY_PRESTAGE_SECONDS: z.coerce.number().int().min(0).max(900).default(DEFAULT_PRESTAGE_SECONDS),

  // The quiet-hours policy
  NOTIFY_QUIET_START: localTimeOfDay.default('21:00'),
  NOTIFY_QUIET_END: localTimeOfDay.default('08:00'),
  NOTIFY_DEFAULT_TIME_ZONE: z.string().min(1).default('Asia/Seoul'),
  /** Comma-separated categories held during the quiet window without night consent. */
  NOTIFY_HELD_CATEGORIES: z.string().default('advertising,order,delivery,refund'),
  /** Spread the morning release of held messages over this many seconds (0 = all at the window's end). */
  NOTIFY_MORNING_SPREAD_SECONDS: nonNegativeInt.default(0),

  // Legacy wait-queue reconciliation
  NOTIFY_RECONCILE_CRON: z.string().min(1).default('* * * * *'),
  NOTIFY_RECONCILE_MAX_SECONDS: positiveInt.default(50),

  // Worker tuning
  NOTIFY_WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(200),
  NOTIFY_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(100),
  NOTIFY_WORKER_MAX_CACHED_WORKFLOWS: nonNegativeInt.default(2000),

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
  };
  policy: {
    quietStart: string;
    quietEnd: string;
    defaultTimeZone: string;
    heldCategories: string[];
    morningSpreadSeconds: number;
  };
  reconcile: { cron: string; maxSecondsPerRun: number };
  worker: { maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number; maxCachedWorkflows: number };
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
  // Empty strings count as unset, as shells and compose files often export VAR= .
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration in the environment:\n${problems.join('\n')}`);
  }
  const raw = parsed.data;
  const tlsWanted =
    raw.TEMPORAL_TLS ?? Boolean(raw.TEMPORAL_TLS_CLIENT_CERT_PATH || raw.TEMPORAL_API_KEY || raw.TEMPORAL_TLS_SERVER_NAME);
  if (Boolean(raw.TEMPORAL_TLS_CLIENT_CERT_PATH) !== Boolean(raw.TEMPORAL_TLS_CLIENT_KEY_PATH)) {
    throw new ConfigError(
      'Invalid configuration in the environment:\n  TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together',
    );
  }
  return {
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
    delivery: { prestageSeconds: raw.NOTIFY_PRESTAGE_SECONDS },
    policy: {
      quietStart: raw.NOTIFY_QUIET_START,
      quietEnd: raw.NOTIFY_QUIET_END,
      defaultTimeZone: raw.NOTIFY_DEFAULT_TIME_ZONE,
      heldCategories: raw.NOTIFY_HELD_CATEGORIES.split(',')
        .map((category) => category.trim())
        .filter(Boolean),
      morningSpreadSeconds: raw.NOTIFY_MORNING_SPREAD_SECONDS,
    },
    reconcile: { cron: raw.NOTIFY_RECONCILE_CRON, maxSecondsPerRun: raw.NOTIFY_RECONCILE_MAX_SECONDS },
    worker: {
      maxConcurrentActivities: raw.NOTIFY_WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: raw.NOTIFY_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: raw.NOTIFY_WORKER_MAX_CACHED_WORKFLOWS,
    },
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
