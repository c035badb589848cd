/**
 * End-to-end: what Temporal stores about a notification holds no personal data in plain text.
 * A client WITHOUT the codec reads the raw history (every event, as the protobuf bytes the server
 * keeps and exports) of a notification that was delivered, after an update, and of one whose
 * delivery failed, and finds neither the recipient id nor the message text in it; every failure in
 * it carries only its type and "Encoded failure". The project's client (with the codec) still reads
 * the real outcome and error.
 *
 * Real: the Temporal dev server, ElasticMQ, the production worker and activities, the project's
 * client. Nothing is stubbed (the failing delivery is a worker whose delivery queue does not exist;
 * it runs the prebuilt workflow bundle of a compiled worker, the other worker bundles at start).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure, Client, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, type Worker, type WorkerOptions } from '@temporalio/worker';
import { NotificationClient } from '../src/client';
import type { NotificationInput } from '../src/notification';
import { DEFAULT_POLICY } from '../src/policy';
import { recipientHashKeyFromConfig, recipientIdHash } from '../src/security';
import { RecipientIdKey } from '../src/searchAttributes';
import { createNotificationWorker } from '../src/workers/createWorker';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/workers/workflowCode';
import { stackDeps, startE2EStack, testDataConverter, testRecipientHashKey, type E2EStack } from './helpers/stack';

const run = Date.now().toString(36);
const TASK_QUEUE = `notifications-history-${process.pid}`;
const BROKEN_TASK_QUEUE = `${TASK_QUEUE}-no-queue`;
/** Distinctive, so that a match cannot be a coincidence; Korean too, as the shop's messages are. */
const RECIPIENT_ID = `member-7731-${run}`;
const MESSAGE_TEXT = `Persimmon-Sale-${run} 단감 20% 할인`;

let stack: E2EStack;
let workers: Worker[] = [];
let runs: Promise<void>[] = [];
/** A client with no codec: what an operator with database or API access, or a history export, sees. */
let plain: Client;
let delivered: { workflowId: string; input: NotificationInput };
let failed: { workflowId: string; input: NotificationInput };

function input(id: string, overrides: Partial<NotificationInput> = {}): NotificationInput {
  return {
    notificationId: `history-${run}-${id}`,
    recipient: { id: RECIPIENT_ID, nightConsent: true },
    channel: 'kakaotalk',
    category: 'advertising',
    payload: { template: 'autumn-sale', body: MESSAGE_TEXT },
    ...overrides,
  };
}

before(async () => {
  stack = await startE2EStack();
  const worker = async (taskQueue: string, deliveryQueueUrl: string, overrides?: Partial<WorkerOptions>) =>
    createNotificationWorker({
      connection: stack.env.nativeConnection,
      namespace: stack.env.namespace ?? 'default',
      taskQueue,
      dataConverter: testDataConverter(),
      deps: await stackDeps(stack, { taskQueue, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey() }, { deliveryQueueUrl, maxMessageBytes: 256 * 1024 }),
      overrides,
    });
  // The failing delivery runs the bundle a compiled worker loads (`npm run build` writes it with
  // these options): a worker adds no failure converter to a prebuilt bundle, so the bundle must carry it.
  const prebuilt = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
  workers = [
    await worker(TASK_QUEUE, stack.queueUrls.delivery),
    await worker(BROKEN_TASK_QUEUE, `${stack.queueUrls.delivery}-does-not-exist`, { workflowBundle: prebuilt }),
  ];
  runs = workers.map((each) => each.run());
  plain = new Client({ connection: stack.env.connection, namespace: stack.env.namespace });

  const notifications = new NotificationClient({ client: stack.env.client, taskQueue: TASK_QUEUE, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey() });
  // Held for a moment, moved by an update (its arguments and result are payloads too), then sent.
  const deliveredInput = input('delivered', { notBefore: new Date(Date.now() + 60_000).toISOString() });
  const { handle } = await notifications.schedule(deliveredInput);
  await notifications.reschedule(deliveredInput.notificationId, new Date(Date.now() + 1_000));
  const result = await handle.result();
  assert.equal(result.status, 'delivered');
  delivered = { workflowId: handle.workflowId, input: deliveredInput };

  // A missing queue is retried for a grace period before the notification fails: 2 s here.
  const broken = new NotificationClient({
    client: stack.env.client,
    taskQueue: BROKEN_TASK_QUEUE,
    policy: DEFAULT_POLICY,
    recipientHashKey: testRecipientHashKey(),
    retryLimits: { maxFailedWindows: 3, misconfiguredGraceSeconds: 2 },
  });
  const failedInput = input('failed');
  const failedStart = await broken.schedule(failedInput);
  // The project's client decrypts the failure: the real type and message are there for it.
  await assert.rejects(failedStart.handle.result(), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'DeliveryFailed');
    assert.ok(error.cause.cause instanceof ApplicationFailure);
    assert.equal(error.cause.cause.type, 'QueueDoesNotExist');
    assert.notEqual(error.cause.cause.message, 'Encoded failure');
    return true;
  });
  failed = { workflowId: failedStart.handle.workflowId, input: failedInput };
}, { timeout: 300_000 });

after(async () => {
  for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  await Promise.allSettled(runs);
  await stack?.stop();
});

async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistory> {
  const history = await plain.workflow.getHandle(workflowId).fetchHistory();
  assert.ok((history.events?.length ?? 0) > 3, `history of ${workflowId} is too short`);
  return history;
}

/** Visits every object in a decoded protobuf message, with the field name it sits under. */
function walk(value: unknown, visit: (key: string, value: unknown, parent: Record<string, unknown>) => void): void {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    visit(key, child, value as Record<string, unknown>);
    walk(child, visit);
  }
}

/** The history's bytes with every search-attribute field cut out (those are checked on their own below). */
function historyBytesWithoutSearchAttributes(history: temporal.api.history.v1.IHistory): Buffer {
  const copy = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history));
  walk(copy, (key, _value, parent) => {
    if (key === 'searchAttributes') delete parent[key];
  });
  return Buffer.from(temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(copy)).finish());
}

function searchAttributeBytes(history: temporal.api.history.v1.IHistory): Buffer[] {
  const found: Buffer[] = [];
  walk(history, (key, value) => {
    if (key === 'searchAttributes' && value) found.push(Buffer.from(temporal.api.common.v1.SearchAttributes.encode(value as temporal.api.common.v1.ISearchAttributes).finish()));
  });
  return found;
}

function failures(history: temporal.api.history.v1.IHistory): temporal.api.failure.v1.IFailure[] {
  const found: temporal.api.failure.v1.IFailure[] = [];
  walk(history, (key, value) => {
    if ((key === 'failure' || key === 'cause') && value && typeof value === 'object' && 'message' in value) found.push(value as temporal.api.failure.v1.IFailure);
  });
  return found;
}

const contains = (bytes: Buffer, text: string) => bytes.includes(Buffer.from(text, 'utf8'));
const eventTypes = (history: temporal.api.history.v1.IHistory) => new Set(history.events?.map((event) => temporal.api.enums.v1.EventType[event.eventType ?? 0]));

describe('raw history without the codec (dev server + ElasticMQ + production worker)', { timeout: 120_000 }, () => {
  test('a delivered notification: no recipient id and no message text in any event', async () => {
    const history = await rawHistory(delivered.workflowId);
    const types = eventTypes(history);
    for (const type of ['EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED', 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED']) {
      assert.ok(types.has(type), `no ${type} in ${[...types].join(', ')}`);
    }
    const bytes = historyBytesWithoutSearchAttributes(history);
    assert.equal(contains(bytes, RECIPIENT_ID), false, 'the recipient id is in the raw history');
    assert.equal(contains(bytes, MESSAGE_TEXT), false, 'the message text is in the raw history');
    assert.equal(contains(bytes, 'autumn-sale'), false, 'the payload is in the raw history');
    // The guard against a vacuous pass: the payloads are there, encrypted.
    assert.ok(contains(bytes, 'binary/encrypted'));
  });

  test('a failed notification: no recipient id, no message text, and every failure message encoded', async () => {
    const history = await rawHistory(failed.workflowId);
    assert.ok(eventTypes(history).has('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED'));
    const bytes = historyBytesWithoutSearchAttributes(history);
    assert.equal(contains(bytes, RECIPIENT_ID), false, 'the recipient id is in the raw history');
    assert.equal(contains(bytes, MESSAGE_TEXT), false, 'the message text is in the raw history');
    const all = failures(history);
    assert.ok(all.length >= 2, `expected the activity's and the workflow's failures, found ${all.length}`);
    for (const failure of all) {
      assert.equal(failure.message, 'Encoded failure');
      assert.equal(failure.stackTrace ?? '', '');
      assert.equal(Buffer.from(failure.encodedAttributes?.metadata?.encoding ?? []).toString(), 'binary/encrypted');
    }
    // The failure's type stays readable: operators can still filter and alert on it.
    assert.ok(all.some((failure) => failure.applicationFailureInfo?.type === 'QueueDoesNotExist'));
  });

  test('the search attributes hold a keyed hash of the recipient id, never the id itself', async () => {
    const hash = recipientIdHash(recipientHashKeyFromConfig(stack.config), RECIPIENT_ID);
    for (const { workflowId } of [delivered, failed]) {
      const history = await rawHistory(workflowId);
      for (const bytes of searchAttributeBytes(history)) assert.equal(contains(bytes, RECIPIENT_ID), false, `${workflowId}: the recipient id is in a search attribute of its history`);
      const description = await plain.workflow.getHandle(workflowId).describe();
      const visibility = Buffer.from(temporal.api.common.v1.SearchAttributes.encode(description.raw.workflowExecutionInfo?.searchAttributes ?? {}).finish());
      assert.equal(contains(visibility, RECIPIENT_ID), false, `${workflowId}: the recipient id is in its visibility record`);
      assert.deepEqual(description.typedSearchAttributes.get(RecipientIdKey), hash);
    }
  });
});
