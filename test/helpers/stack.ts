/**
 * Servers for tests. Every helper stops what it started, also when a test fails:
 * the `with…` forms register before()/after() hooks in the enclosing describe (or file).
 *
 * - withTimeSkippingEnv() / startTimeSkippingEnv(): the time-skipping test server with this
 *   project's search attributes, for workflow tests whose timers should fire at once. It always
 *   starts its own server (TEMPORAL_ADDRESS cannot skip time).
 * - startE2EStack() / withE2EStack(): a Temporal dev server and ElasticMQ with the configured
 *   queues; with TEMPORAL_ADDRESS or AWS_ENDPOINT_URL_SQS set, those are used instead.
 * - startWorker(config, connection): the production worker (same activities and deps).
 * - testDataConverter(): the project's data converter with the suite's keys (test/setup.mjs), for
 *   clients and workers a test builds itself. Every helper here uses it.
 */
import { after, before } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DataConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type Config } from '../../src/config';
import type { ActivityDeps } from '../../src/activities';
import type { LegacyIdContext } from '../../src/legacy/legacyMessage';
import { NotificationClient, type NotificationClientSettings } from '../../src/client';
import { MorningGates } from '../../src/client/morningGates';
import { SQS_DEFAULT_MAX_MESSAGE_BYTES } from '../../src/deliveryMessage';
import { createSqsClient, ensureQueue, queueMaxMessageBytes, resolveQueueUrls, type QueueUrls } from '../../src/sqs';
import { dataConverterFromConfig } from '../../src/security/dataConverter';
import { recipientHashKeyFromConfig } from '../../src/security/recipientHash';
import { configuredQueueNames } from '../../src/stack/elasticMqConfig';
import { startLocalServers } from '../../src/stack/localServers';
import { startTimeSkippingServer } from '../../src/stack/temporalServers';
import { createConfiguredWorker } from '../../src/workers/createWorker';

export { createConfiguredWorker as startWorker };

/** The project's data converter with the suite's keys (set in test/setup.mjs for every test process). */
export function testDataConverter(): DataConverter {
  return dataConverterFromConfig(loadConfig());
}

/** The recipient-hash key of the suite (test/setup.mjs), for clients a test builds itself. */
export function testRecipientHashKey(): Buffer {
  return recipientHashKeyFromConfig(loadConfig());
}

/** The time-skipping server with the project's search attributes and data converter; the caller tears it down. */
export function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return startTimeSkippingServer({ dataConverter: testDataConverter() });
}

/** First start of a server may provision it (a download); later ones take seconds. */
const START_TIMEOUT_MS = 300_000;

export interface E2EStack {
  /** Temporal (dev server or TEMPORAL_ADDRESS): env.client for clients, env.nativeConnection for workers. */
  env: TestWorkflowEnvironment;
  /** SQS client on ElasticMQ (or AWS_ENDPOINT_URL_SQS). */
  sqs: SQSClient;
  queueUrls: QueueUrls;
  /** The configuration with the servers filled in: pass it to startWorker or activityDepsFromConfig. */
  config: Config;
  /** Stops what was started (never a server given by the environment); safe to call twice. */
  stop(): Promise<void>;
}

/** Starts (or connects to) Temporal and SQS; `env` adds variables over process.env, e.g. other queue names. */
export async function startE2EStack(options: { env?: NodeJS.ProcessEnv; dynamicConfig?: string[] } = {}): Promise<E2EStack> {
  const config = loadConfig({ ...process.env, ...options.env });
  const servers = await startLocalServers({ config, dynamicConfig: options.dynamicConfig });
  const sqs = createSqsClient(servers.config.sqs);
  try {
    // A server given by the environment may not have this project's queues yet.
    if (!servers.started.sqs) for (const name of configuredQueueNames(config.sqs)) await ensureQueue(sqs, name);
    const queueUrls = await resolveQueueUrls(sqs, servers.config.sqs);
    return {
      env: servers.env,
      sqs,
      queueUrls,
      config: servers.config,
      stop: async () => {
        sqs.destroy();
        await servers.stop();
      },
    };
  } catch (error) {
    sqs.destroy();
    await servers.stop();
    throw error;
  }
}

/**
 * The production activities' dependencies on the stack's queues (real SQS client, the delivery
 * queue's own size limit), for a worker on a test's own task queue; `overrides` swaps a queue.
 */
export async function stackDeps(stack: E2EStack, settings: NotificationClientSettings, overrides: Partial<ActivityDeps> = {}): Promise<ActivityDeps> {
  const deliveryQueueUrl = overrides.deliveryQueueUrl ?? stack.queueUrls.delivery;
  return {
    sqs: stack.sqs,
    deliveryQueueUrl,
    maxMessageBytes: await queueMaxMessageBytes(stack.sqs, deliveryQueueUrl).catch(() => SQS_DEFAULT_MAX_MESSAGE_BYTES),
    legacyWaitQueueUrl: stack.queueUrls.legacyWait,
    deadLetterQueueUrl: stack.queueUrls.deadLetter,
    schedulerFor: (client) => new NotificationClient({ client, ...settings }),
    morningGatesFor: (client) => new MorningGates(client, settings.taskQueue),
    contentIdKey: settings.recipientHashKey,
    dedupWindowMs: stack.config.reconcile.dedupWindowSeconds * 1000,
    ...overrides,
  };
}

/** How the suite names a legacy body without an id, as the reconciler would had SQS received it at `sentAtMs`. */
export function testLegacyIds(sentAtMs = Date.now()): LegacyIdContext {
  return { idKey: testRecipientHashKey(), sentAtMs, dedupWindowMs: loadConfig().reconcile.dedupWindowSeconds * 1000 };
}

export interface Fixture<T> {
  /** The running value; throws if read outside the tests of its describe. */
  readonly value: T;
}

function fixture<T>(start: () => Promise<T>, stop: (value: T) => Promise<void>): Fixture<T> {
  let current: T | undefined;
  before(async () => {
    current = await start();
  }, { timeout: START_TIMEOUT_MS });
  after(async () => {
    if (current) await stop(current);
    current = undefined;
  });
  return {
    get value() {
      if (!current) throw new Error('the server is not running: read it inside a test of the describe that created it');
      return current;
    },
  };
}

/** before(): start the E2E stack; after(): stop it. Read it as `.value` inside tests. */
export function withE2EStack(options: { env?: NodeJS.ProcessEnv } = {}): Fixture<E2EStack> {
  return fixture(() => startE2EStack(options), (stack) => stack.stop());
}

/** before(): start a time-skipping test server; after(): tear it down. Read it as `.value` inside tests. */
export function withTimeSkippingEnv(): Fixture<TestWorkflowEnvironment> {
  return fixture(() => startTimeSkippingEnv(), (env) => env.teardown());
}
