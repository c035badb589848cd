/**
 * The overnight behaviour of notificationWorkflow on the time-skipping test server.
 *
 * What is real: the Temporal test server (its clock, start delays, timers, updates, history and
 * replay), the bundled workflow code, the worker, the client SDK (given the server's clock, so that
 * it computes start delays on the same clock as the workflow). What is stubbed: the
 * deliverNotification activity, which records the server's clock at the moment it ran and answers
 * as SQS would (or fails, where a test says so); the real activity against ElasticMQ is covered by
 * test/notification.e2e.test.ts and the misnamed-queue test below.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { InvalidNotificationError, NotificationClient, NotificationNotHeldError, type NotificationClientSettings, type NotificationResult } from '../src/client';
import type { DeliveryRequest, DeliveryResult } from '../src/activities';
import type { NotificationInput } from '../src/notification';
import { parseEvidence } from '../src/evidence';
import { NotificationEvidenceKey } from '../src/searchAttributes';
import { DEFAULT_POLICY } from '../src/policy';
// The production bundle options: the policy, luxon and zod shared between workflows, as in a worker.
import { workflowCodeOptions } from '../src/workers/workflowCode';
import { startTimeSkippingEnv, testDataConverter, testRecipientHashKey } from './helpers/stack';

const KST = 'Asia/Seoul';

interface Delivery {
  notificationId: string;
  /** The test server's clock when the send ran: when the workflow released it. */
  sentAtServer: DateTime;
  request: DeliveryRequest;
}

/** While this returns an error for a send (by the server's clock), the send fails with it, as an SQS outage would. */
let failSend: (notificationId: string, serverNow: DateTime) => Error | undefined = () => undefined;
/** How long (real milliseconds) a send takes before it answers, as a slow SQS would. */
let sendTakesMs: (notificationId: string) => number = () => 0;
/** Each send attempt, with the server's clock when it began: sent or not. */
const attempts: { notificationId: string; at: DateTime }[] = [];

/**
 * Records each delivery with the test server's clock, asked at the moment of the send (not what
 * the workflow says), and answers as SQS would: staged with the delay that remains until the
 * release. The one stub here.
 */
function recordingActivities(deliveries: Delivery[]) {
  return {
    async deliverNotification(request: DeliveryRequest): Promise<DeliveryResult> {
      const serverNow = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
      attempts.push({ notificationId: request.notification.notificationId, at: serverNow });
      const takesMs = sendTakesMs(request.notification.notificationId);
      if (takesMs > 0) await new Promise((resolve) => setTimeout(resolve, takesMs));
      const failure = failSend(request.notification.notificationId, serverNow);
      if (failure) {
        throw failure;
      }
      deliveries.push({ notificationId: request.notification.notificationId, sentAtServer: serverNow, request });
      const releasedAt = request.releaseAt ? DateTime.max(serverNow, DateTime.fromISO(request.releaseAt)) : serverNow;
      return { messageId: `fake-${request.notification.notificationId}`, stagedAt: serverNow.toUTC().toISO()!, releasedAt: releasedAt.toUTC().toISO()!, zoneData: STUB_ZONE_DATA };
    },
    async sendSmokeMessage() {
      return { messageId: 'unused' };
    },
    async narrowerQuietHoursAllowed() {
      return narrowerAllowed;
    },
  };
}

/** The zone data version the stubbed send reports, as a worker's does (src/zoneData.ts). */
const STUB_ZONE_DATA = '2099z';

/** What this suite's worker says when a workflow asks whether it allows a window narrower than the law's. */
let narrowerAllowed = false;

let env: TestWorkflowEnvironment;
let client: NotificationClient;
let worker: Worker;
let workerRun: Promise<void>;
const deliveries: Delivery[] = [];
const TASK_QUEUE = 'notifications-overnight-test';
let sequence = 0;

before(async () => {
  env = await startTimeSkippingEnv();
  client = new NotificationClient({ client: env.client, ...clientSettings(TASK_QUEUE) });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    ...workflowCodeOptions(),
    activities: recordingActivities(deliveries),
    dataConverter: testDataConverter(),
  });
  workerRun = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

/** The client's settings for a task queue: the default policy, the suite's hash key, the test server's clock. */
function clientSettings(taskQueue: string): NotificationClientSettings {
  return { taskQueue, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey(), clock: () => env.currentTimeMs() };
}

/** Moves the test server's clock forward to the next occurrence of a KST wall-clock time. */
async function advanceToNextKst(time: string): Promise<DateTime> {
  const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
  const [hour, minute, second] = time.split(':').map(Number) as [number, number, number];
  let target = now.set({ hour, minute, second, millisecond: 0 });
  // At least a minute ahead, so that the previous test's leftovers are well in the past.
  if (target.toMillis() <= now.toMillis() + 60_000) target = target.plus({ days: 1 });
  await env.sleep(target.toMillis() - now.toMillis());
  return target;
}

function advertising(overrides: Partial<NotificationInput> = {}): NotificationInput {
  sequence += 1;
  return {
    notificationId: `overnight-${sequence}`,
    recipient: { id: `user-${sequence}`, nightConsent: false },
    channel: 'kakaotalk',
    category: 'advertising',
    payload: { template: 'winter-sale' },
    ...overrides,
  };
}

function deliveriesOf(notificationId: string): Delivery[] {
  return deliveries.filter((delivery) => delivery.notificationId === notificationId);
}

/** Asserts one delivery, released in [expected, expected + slack). */
function assertDeliveredOnceAt(notificationId: string, expected: DateTime, slackMs = 5_000): Delivery {
  const found = deliveriesOf(notificationId);
  assert.equal(found.length, 1, `expected exactly one delivery of ${notificationId}, got ${found.length}`);
  const delivery = found[0]!;
  const deltaMs = delivery.sentAtServer.toMillis() - expected.toMillis();
  assert.ok(
    deltaMs >= 0 && deltaMs < slackMs,
    `${notificationId} released at ${delivery.sentAtServer.toISO()}, expected ${expected.toISO()} (+${slackMs} ms)`,
  );
  return delivery;
}

/** Asserts the workflow closed at `expected` on the server's clock (within a few seconds after it). */
function assertClosedAt(description: WorkflowExecutionDescription, expected: DateTime, slackMs = 5_000): void {
  assert.ok(description.closeTime, 'the workflow has not closed');
  const deltaMs = description.closeTime.getTime() - expected.toMillis();
  assert.ok(deltaMs >= 0 && deltaMs < slackMs, `closed at ${description.closeTime.toISOString()}, expected ${expected.toUTC().toISO()}`);
}

describe('notificationWorkflow through the KST quiet window (time-skipping)', { timeout: 120_000 }, () => {
  test('created at 22:30 waits until 08:00 the next morning', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    const result = await handle.result();
    const eight = createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 });
    assert.equal(result.status, 'delivered');
    assert.equal(result.releaseAt, eight.toUTC().toISO());
    assertDeliveredOnceAt(input.notificationId, eight);
  });

  test('created at 20:59:59 goes out at once', async () => {
    const createdAt = await advanceToNextKst('20:59:59');
    const input = advertising();
    const result = await (await client.schedule(input)).handle.result();
    assert.equal(result.status, 'delivered');
    const delivery = assertDeliveredOnceAt(input.notificationId, createdAt, 1_000);
    assert.equal(delivery.request.releaseReason, 'immediate');
  });

  test('created at 21:00:00 waits until 08:00', async () => {
    const createdAt = await advanceToNextKst('21:00:00');
    const input = advertising();
    await (await client.schedule(input)).handle.result();
    const delivery = assertDeliveredOnceAt(input.notificationId, createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 }));
    assert.equal(delivery.request.releaseReason, 'held-quiet-hours');
  });

  test('created at 07:59:59 waits until 08:00 the same morning', async () => {
    const createdAt = await advanceToNextKst('07:59:59');
    const input = advertising();
    await (await client.schedule(input)).handle.result();
    assertDeliveredOnceAt(input.notificationId, createdAt.set({ hour: 8, minute: 0, second: 0 }));
  });

  test('with night-time consent, created at 23:00 goes out at once', async () => {
    const createdAt = await advanceToNextKst('23:00:00');
    const input = advertising({ recipient: { id: 'night-owl', nightConsent: true } });
    await (await client.schedule(input)).handle.result();
    assertDeliveredOnceAt(input.notificationId, createdAt, 2_000);
  });

  test('cancelled at 03:00 is never sent and ends cancelled', async () => {
    await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    assert.equal((await client.status(input.notificationId)).status, 'held');
    await advanceToNextKst('03:00:00');
    const outcome = await client.cancel(input.notificationId);
    assert.equal(outcome.cancelled, true);
    assert.equal((await handle.result()).status, 'cancelled');
    await advanceToNextKst('09:00:00');
    assert.equal(deliveriesOf(input.notificationId).length, 0);
  });

  test('a Temporal cancellation (the Web UI\'s "Request Cancellation") also ends it cancelled, unsent', async () => {
    await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    await handle.cancel();
    assert.equal((await handle.result()).status, 'cancelled');
    await advanceToNextKst('09:00:00');
    assert.equal(deliveriesOf(input.notificationId).length, 0);
  });

  test('consent given at 02:00 releases it at 02:00', async () => {
    await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    const consentAt = await advanceToNextKst('02:00:00');
    const redecided = await client.updateConsent(input.notificationId, true);
    assert.equal(redecided.status, 'held');
    await handle.result();
    assertDeliveredOnceAt(input.notificationId, consentAt, 2_000);
  });

  test('expiring at 07:00 is never sent and ends expired', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const expiresAt = createdAt.plus({ days: 1 }).set({ hour: 7, minute: 0, second: 0 });
    const input = advertising({ expiresAt: expiresAt.toISO()! });
    const { handle } = await client.schedule(input);
    const result = await handle.result();
    assert.equal(result.status, 'expired');
    assert.equal(deliveriesOf(input.notificationId).length, 0);
    assertClosedAt(await handle.describe(), expiresAt);
  });

  test('the status query reports held with the release time while it sleeps', async () => {
    const createdAt = await advanceToNextKst('23:59:00');
    const input = advertising();
    await client.schedule(input);
    const status = await client.status(input.notificationId);
    assert.equal(status.status, 'held');
    assert.equal(status.releaseAt, createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 }).toUTC().toISO());
    await client.cancel(input.notificationId);
  });

  test('a reschedule to 09:30 moves the release to 09:30, and the Web UI\'s current details say so', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    const nineThirty = createdAt.plus({ days: 1 }).set({ hour: 9, minute: 30, second: 0 });
    const redecided = await client.reschedule(input.notificationId, nineThirty.toJSDate());
    assert.equal(redecided.releaseAt, nineThirty.toUTC().toISO());
    // What the UI's "User Metadata" tab asks a running workflow (the static summary cannot change).
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    assert.match(metadata.currentDetails ?? '', new RegExp(`held until ${nineThirty.toFormat('yyyy-MM-dd')} 09:30:00 Asia/Seoul`));
    await handle.result();
    assertDeliveredOnceAt(input.notificationId, nineThirty);
  });

  test('a cancel after delivery reports that it was delivered', async () => {
    await advanceToNextKst('12:00:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    await handle.result();
    const outcome = await client.cancel(input.notificationId);
    assert.equal(outcome.cancelled, false);
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.cancelled === false && outcome.messageId, `fake-${input.notificationId}`);
  });

  test('scheduling the same id twice starts one workflow and sends once', async () => {
    await advanceToNextKst('22:00:00');
    const input = advertising();
    const first = await client.schedule(input);
    const second = await client.schedule(input);
    assert.equal(first.started, true);
    assert.equal(second.started, false);
    assert.equal(second.workflowId, first.workflowId);
    await second.handle.result();
    // Once more after it has been delivered: still nothing new.
    assert.equal((await client.schedule(input)).started, false);
    assert.equal(deliveriesOf(input.notificationId).length, 1);
  });

  test('invalid input started directly fails the workflow with a typed, non-retryable error naming the field', async () => {
    const handle = await env.client.workflow.start('notificationWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `notification-invalid-${Date.now()}`,
      args: [{ notification: { ...advertising(), recipient: { id: 'x', timeZone: 'Mars/Olympus' } } }],
    });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidNotification');
      assert.equal(error.cause.nonRetryable, true);
      assert.match(error.cause.message, /recipient\.timeZone/);
      return true;
    });
  });

  test('a workflow started with a broken policy fails with a typed, non-retryable error', async () => {
    const handle = await env.client.workflow.start('notificationWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `notification-bad-policy-${Date.now()}`,
      args: [{ notification: advertising(), policy: { ...DEFAULT_POLICY, quietEnd: '25:00' } }],
    });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidPolicy');
      assert.match(error.cause.message, /quietEnd/);
      return true;
    });
  });

  test('scheduleMany reports one result per input, in order, a bad item in its place', async () => {
    await advanceToNextKst('12:00:00');
    const good = [advertising(), advertising(), advertising()];
    const bad = advertising({ category: 'lottery' as never });
    const results = await client.scheduleMany([good[0]!, bad, good[1]!, good[2]!], { concurrency: 2 });
    assert.deepEqual(
      results.map((result) => (result.ok ? `started=${result.started}` : result.error.name)),
      ['started=true', 'InvalidNotificationError', 'started=true', 'started=true'],
    );
    assert.equal(results[1]!.ok === false && results[1]!.notificationId, bad.notificationId);
    for (const input of good) assert.equal((await client.result(input.notificationId)).status, 'delivered');
  });

  test('invalid input through the client is rejected before anything starts', async () => {
    const input = advertising({ channel: 'carrier-pigeon' as never });
    await assert.rejects(client.schedule(input), /channel/);
    await assert.rejects(client.handle(input.notificationId).describe(), /not found/i);
  });
});

describe('staging: sent before the release with the SQS delay that remains (time-skipping)', { timeout: 120_000 }, () => {
  const stagingClient = () =>
    new NotificationClient({ client: env.client, ...clientSettings(TASK_QUEUE), prestageSeconds: 300 });

  test('held until 08:00 with a 5-minute lead, it is sent at 07:55 and receivable at 08:00', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await stagingClient().schedule(input);
    const result = await handle.result();
    const eight = createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 });
    const delivery = assertDeliveredOnceAt(input.notificationId, eight.minus({ minutes: 5 }));
    assert.equal(delivery.request.releaseAt, eight.toUTC().toISO());
    assert.equal(delivery.request.releaseReason, 'held-quiet-hours');
    assert.equal(result.status, 'delivered');
    // The releasedAt and stagedAt a real send reports are checked against real receipt times by
    // notification.e2e and clocks.e2e; here the activity is a stub, whose answer proves nothing.
  });

  test('one that expires before its release (07:58 against 08:00) is never staged, though 07:55 comes first', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const expiresAt = createdAt.plus({ days: 1 }).set({ hour: 7, minute: 58, second: 0 });
    const input = advertising({ expiresAt: expiresAt.toISO()! });
    const { handle } = await stagingClient().schedule(input);
    assert.equal((await handle.result()).status, 'expired');
    assert.equal(deliveriesOf(input.notificationId).length, 0);
    assertClosedAt(await handle.describe(), expiresAt);
  });
});

describe('a send that keeps failing stops at its deadline and decides again (time-skipping)', { timeout: 300_000 }, () => {
  test('an advertisement whose queue is down from 08:00 to 21:30 is not sent at night: it goes out at 08:00 the next morning', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    const outageEnds = createdAt.plus({ days: 1 }).set({ hour: 21, minute: 30, second: 0 });
    failSend = (id, now) => (id === input.notificationId && now < outageEnds ? new Error('SQS unreachable') : undefined);
    try {
      const { handle } = await client.schedule(input);
      const result = await handle.result();
      assert.equal(result.status, 'delivered');
      const delivery = assertDeliveredOnceAt(input.notificationId, createdAt.plus({ days: 2 }).set({ hour: 8, minute: 0, second: 0 }));
      assert.equal(delivery.request.releaseReason, 'held-quiet-hours');
    } finally {
      failSend = () => undefined;
    }
  });

  test('one that expires at 09:00 while the queue is down until 10:00 is never sent and ends expired at 09:00', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const morning = createdAt.plus({ days: 1 });
    const expiresAt = morning.set({ hour: 9, minute: 0, second: 0 });
    const input = advertising({ expiresAt: expiresAt.toISO()! });
    failSend = (id, now) => (id === input.notificationId && now < morning.set({ hour: 10, minute: 0, second: 0 }) ? new Error('SQS unreachable') : undefined);
    try {
      const { handle } = await client.schedule(input);
      assert.equal((await handle.result()).status, 'expired');
      assert.equal(deliveriesOf(input.notificationId).length, 0);
      assertClosedAt(await handle.describe(), expiresAt);
    } finally {
      failSend = () => undefined;
    }
  });
});

describe('a worker restart while notifications sleep (time-skipping)', { timeout: 120_000 }, () => {
  test('a new worker delivers at 08:00, once', async () => {
    const taskQueue = 'notifications-restart-test';
    const restartClient = new NotificationClient({ client: env.client, ...clientSettings(taskQueue) });
    // No workflow cache: with one, the test server would keep routing the workflow to the first
    // worker's sticky queue, which it does not time out while skipping time.
    const createWorker = () =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        ...workflowCodeOptions(),
        activities: recordingActivities(deliveries),
        dataConverter: testDataConverter(),
        maxCachedWorkflows: 0,
      });

    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    const first = await createWorker();
    await first.runUntil(async () => {
      await restartClient.schedule(input);
      // An update ends the start delay: the first worker runs the workflow, which decides again
      // and waits for 08:00 on a timer that must survive the worker.
      const redecided = await restartClient.reschedule(input.notificationId, null);
      assert.equal(redecided.status, 'held');
    });
    // No worker now: time passes, nothing can run.
    await advanceToNextKst('03:00:00');
    assert.equal(deliveriesOf(input.notificationId).length, 0);

    const second = await createWorker();
    const result = await second.runUntil(restartClient.result(input.notificationId));
    assert.equal(result.status, 'delivered');
    assertDeliveredOnceAt(input.notificationId, createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 }));
  });
});

describe('updates are validated as strictly as the input (time-skipping)', { timeout: 120_000 }, () => {
  test('a consent update whose value is the string "false" is rejected, and the advertisement still waits for 08:00', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    await advanceToNextKst('02:00:00');
    // What the Web UI or the temporal CLI sends when an operator types "false" in quotes.
    await assert.rejects(
      handle.executeUpdate('updateConsent', { args: [{ nightConsent: 'false' }] }),
      (error: unknown) => error instanceof Error && /nightConsent/.test(String((error as { cause?: Error }).cause?.message ?? error.message)),
    );
    await handle.result();
    assertDeliveredOnceAt(input.notificationId, createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 }));
  });

  test('a reschedule to an instant without an offset is rejected, and the notification is not stuck', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    const { handle } = await client.schedule(input);
    await assert.rejects(
      handle.executeUpdate('reschedule', { args: [{ notBefore: '2026-11-24T09:00:00' }] }),
      (error: unknown) => error instanceof Error && /notBefore/.test(String((error as { cause?: Error }).cause?.message ?? error.message)),
    );
    const result = await handle.result();
    assert.equal(result.status, 'delivered');
    assertDeliveredOnceAt(input.notificationId, createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 }));
  });

  test("the client's reschedule refuses an instant without an offset before sending anything", async () => {
    await advanceToNextKst('22:30:00');
    const input = advertising();
    await client.schedule(input);
    await assert.rejects(client.reschedule(input.notificationId, '2026-11-24T09:00:00'), (error: unknown) => {
      assert.ok(error instanceof InvalidNotificationError);
      assert.equal(error.issues[0]?.field, 'notBefore');
      return true;
    });
    assert.equal((await client.status(input.notificationId)).releaseAt.endsWith('T23:00:00.000Z'), true);
    await client.cancel(input.notificationId);
  });
});

describe('a change during a send attempt takes effect if the attempt does not deliver (time-skipping)', { timeout: 180_000 }, () => {
  /**
   * A send that takes 9 s (longer than the 8 s after which the SDK heartbeats the workflow task, so
   * an update is delivered while the attempt is still running) and then fails once.
   */
  function slowThenFailingOnce(notificationId: string): void {
    let failed = false;
    sendTakesMs = (id) => (id === notificationId && !failed ? 9_000 : 0);
    failSend = (id) => {
      if (id !== notificationId || failed) return undefined;
      failed = true;
      return new Error('SQS unreachable');
    };
  }
  const reset = () => {
    sendTakesMs = () => 0;
    failSend = () => undefined;
  };
  /** Resolves once the first send attempt of a notification has begun. */
  async function attemptBegun(notificationId: string): Promise<void> {
    while (!attempts.some((attempt) => attempt.notificationId === notificationId)) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  test('a cancel during an attempt that fails: cancelled, and the retry never sends', async () => {
    await advanceToNextKst('12:00:00');
    const input = advertising();
    slowThenFailingOnce(input.notificationId);
    try {
      const { handle } = await client.schedule(input);
      await attemptBegun(input.notificationId);
      const outcome = await client.cancel(input.notificationId);
      assert.equal(outcome.cancelled, true, JSON.stringify(outcome));
      assert.equal((await handle.result()).status, 'cancelled');
      await advanceToNextKst('18:00:00');
      assert.equal(deliveriesOf(input.notificationId).length, 0);
    } finally {
      reset();
    }
  });

  test('a consent withdrawal during an attempt at night that fails: held until 08:00, not sent at night', async () => {
    const createdAt = await advanceToNextKst('23:00:00');
    const input = advertising({ recipient: { id: 'night-owl-2', nightConsent: true } });
    slowThenFailingOnce(input.notificationId);
    try {
      const { handle } = await client.schedule(input);
      await attemptBegun(input.notificationId);
      const redecided = await client.updateConsent(input.notificationId, false);
      assert.equal(redecided.releaseAt, createdAt.plus({ days: 1 }).set({ hour: 8 }).toUTC().toISO());
      await handle.result();
      assertDeliveredOnceAt(input.notificationId, createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0 }));
    } finally {
      reset();
    }
  });

  test('a change during an attempt that delivers is refused, saying since when the message is on the queue', async () => {
    await advanceToNextKst('23:00:00');
    const input = advertising({ recipient: { id: 'night-owl-3', nightConsent: true } });
    sendTakesMs = (id) => (id === input.notificationId ? 9_000 : 0);
    try {
      const { handle } = await client.schedule(input);
      await attemptBegun(input.notificationId);
      await assert.rejects(client.updateConsent(input.notificationId, false), (error: unknown) => {
        assert.ok(error instanceof NotificationNotHeldError, String(error));
        assert.match(error.message, /already on the delivery queue since .*, receivable at /);
        assert.equal(error.result.status, 'delivered');
        return true;
      });
      assert.equal((await handle.result()).status, 'delivered');
    } finally {
      reset();
    }
  });
});

describe('staging and consent (time-skipping)', { timeout: 120_000 }, () => {
  const stagingClient = () => new NotificationClient({ client: env.client, ...clientSettings(TASK_QUEUE), prestageSeconds: 900 });

  test('a night release that rests on consent is not staged: a withdrawal at 22:50 holds it until 08:00', async () => {
    const createdAt = await advanceToNextKst('20:00:00');
    const eleven = createdAt.set({ hour: 23 });
    const input = advertising({ recipient: { id: 'night-owl-4', nightConsent: true }, notBefore: eleven.toISO()! });
    const { handle } = await stagingClient().schedule(input);
    await advanceToNextKst('22:50:00');
    assert.equal(attempts.filter((attempt) => attempt.notificationId === input.notificationId).length, 0, 'it must not be on the queue at 22:50');
    const redecided = await stagingClient().updateConsent(input.notificationId, false);
    const eight = createdAt.plus({ days: 1 }).set({ hour: 8 });
    assert.equal(redecided.releaseAt, eight.toUTC().toISO());
    await handle.result();
    // Staged 15 minutes before 08:00, receivable at 08:00: a release outside the window may be.
    const delivery = assertDeliveredOnceAt(input.notificationId, eight.minus({ minutes: 15 }));
    assert.equal(delivery.request.releaseAt, eight.toUTC().toISO());
  });

  test('a change after a message was staged gets a typed answer: on the queue since X, receivable at Y', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    await stagingClient().schedule(input);
    await advanceToNextKst('07:50:00');
    const eight = createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0 });
    await assert.rejects(stagingClient().reschedule(input.notificationId, eight.plus({ hours: 2 }).toISO()), (error: unknown) => {
      assert.ok(error instanceof NotificationNotHeldError, String(error));
      assert.match(error.message, new RegExp(`already on the delivery queue since .*, receivable at ${eight.toUTC().toISO()!.replace(/[.]/g, '\\.')}`));
      return true;
    });
    assertDeliveredOnceAt(input.notificationId, eight.minus({ minutes: 15 }));
  });

  test('an expiry equal to the release instant: expired and never sent, staged or not', async () => {
    for (const notifications of [client, stagingClient()]) {
      const createdAt = await advanceToNextKst('22:30:00');
      const eight = createdAt.plus({ days: 1 }).set({ hour: 8, minute: 0 });
      const input = advertising({ expiresAt: eight.toISO()! });
      const { handle } = await notifications.schedule(input);
      assert.equal((await handle.result()).status, 'expired');
      assert.equal(attempts.filter((attempt) => attempt.notificationId === input.notificationId).length, 0);
    }
  });
});

describe('a send that keeps failing says so, and ends failed within its limits (time-skipping)', { timeout: 300_000 }, () => {
  test('a queue that refuses access is retried for the grace period, shown as retrying with its last error, then failed', async () => {
    await advanceToNextKst('12:00:00');
    const input = advertising();
    failSend = (id) => (id === input.notificationId ? ApplicationFailure.retryable('SQS refused the request: AccessDenied', 'QueueRequestRefused') : undefined);
    try {
      const notifications = new NotificationClient({ client: env.client, ...clientSettings(TASK_QUEUE), retryLimits: { maxFailedWindows: 3, misconfiguredGraceSeconds: 600 } });
      const { handle } = await notifications.schedule(input);
      await advanceToNextKst('12:03:00');
      const status = await notifications.status(input.notificationId);
      assert.equal(status.status, 'retrying');
      assert.match(status.lastError ?? '', /AccessDenied/);
      assert.ok((status.failedAttempts ?? 0) >= 2);
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as ApplicationFailure).type, 'DeliveryFailed');
        assert.equal(((error.cause as ApplicationFailure).cause as ApplicationFailure).type, 'QueueRequestRefused');
        return true;
      });
      const closed = (await handle.describe()).closeTime!.getTime() - DateTime.fromISO(status.releaseAt).toMillis();
      assert.ok(closed >= 600_000 && closed < 700_000, `failed ${closed} ms after its release, expected after the 600 s grace`);
      assert.equal((await notifications.status(input.notificationId)).status, 'failed');
    } finally {
      failSend = () => undefined;
    }
  });

  test('an advertisement whose sends fail every morning ends failed after the configured number of windows, not retried forever', async () => {
    const createdAt = await advanceToNextKst('22:30:00');
    const input = advertising();
    failSend = (id) => (id === input.notificationId ? new Error('SQS 503') : undefined);
    try {
      const notifications = new NotificationClient({ client: env.client, ...clientSettings(TASK_QUEUE), retryLimits: { maxFailedWindows: 2, misconfiguredGraceSeconds: 600 } });
      const { handle } = await notifications.schedule(input);
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError && (error.cause as ApplicationFailure).type === 'DeliveryFailed');
      // Two mornings of attempts (08:00–21:00 each), then the end at the second window's close.
      const mornings = new Set(attempts.filter((attempt) => attempt.notificationId === input.notificationId).map((attempt) => attempt.at.toISODate()));
      assert.equal(mornings.size, 2, [...mornings].join(', '));
      assertClosedAt(await handle.describe(), createdAt.plus({ days: 2 }).set({ hour: 21, minute: 0, second: 0 }));
    } finally {
      failSend = () => undefined;
    }
  });
});

describe('inputs no client would send (time-skipping)', { timeout: 120_000 }, () => {
  const failure = async (args: unknown[]) => {
    const handle = await env.client.workflow.start('notificationWorkflow', { taskQueue: TASK_QUEUE, workflowId: `notification-odd-${Date.now()}-${Math.random()}`, args });
    return handle.result().then(
      () => assert.fail('the workflow should have failed'),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError, String(error));
        return error.cause as ApplicationFailure;
      },
    );
  };

  test('a null input fails the workflow with a typed, non-retryable error instead of failing its task forever', async () => {
    const cause = await failure([null]);
    assert.equal(cause.type, 'InvalidNotification');
    assert.equal(cause.nonRetryable, true);
  });

  test("a policy narrower than the law's is refused unless the worker allows it, and then every decision says so", async () => {
    await advanceToNextKst('22:30:00');
    const noWindow = { ...DEFAULT_POLICY, quietStart: '00:00', quietEnd: '00:00' };
    const cause = await failure([{ notification: advertising(), policy: noWindow }]);
    assert.equal(cause.type, 'InvalidPolicy');
    assert.match(cause.message, /narrower than the law/);
    narrowerAllowed = true;
    try {
      const input = advertising();
      const handle = await env.client.workflow.start('notificationWorkflow', { taskQueue: TASK_QUEUE, workflowId: `notification-${input.notificationId}`, args: [{ notification: input, policy: noWindow }] });
      const result = (await handle.result()) as NotificationResult;
      assert.equal(result.status, 'delivered');
      assert.equal(result.narrowerThanLaw, true);
      assert.equal(deliveriesOf(input.notificationId)[0]?.request.narrowerThanLaw, true);
    } finally {
      narrowerAllowed = false;
    }
  });

  test("a default zone that moves the law's window (America/Los_Angeles) cannot release an ad at 02:00 KST to a recipient without a zone, unless the worker allows it, and then the evidence says so", async () => {
    await advanceToNextKst('02:00:00');
    // What NOTIFY_DEFAULT_TIME_ZONE=America/Los_Angeles gave a client, or anyone who starts the workflow: 09:00 there.
    const losAngeles = { ...DEFAULT_POLICY, defaultTimeZone: 'America/Los_Angeles' };
    const zoneless = () => advertising({ recipient: { id: `user-zoneless-${sequence}`, nightConsent: false } });
    const cause = await failure([{ notification: zoneless(), policy: losAngeles }]);
    assert.equal(cause.type, 'InvalidPolicy');
    assert.match(cause.message, /default zone America\/Los_Angeles is narrower than the law's 21:00–08:00/);
    narrowerAllowed = true;
    try {
      const input = zoneless();
      const handle = await env.client.workflow.start('notificationWorkflow', { taskQueue: TASK_QUEUE, workflowId: `notification-${input.notificationId}`, args: [{ notification: input, policy: losAngeles }] });
      const result = (await handle.result()) as NotificationResult;
      assert.equal(result.status, 'delivered');
      assert.equal(result.narrowerThanLaw, true);
      assert.equal(deliveriesOf(input.notificationId)[0]?.request.narrowerThanLaw, true);
      const evidence = parseEvidence((await handle.describe()).typedSearchAttributes.get(NotificationEvidenceKey));
      assert.equal(evidence?.narrowerThanLaw, true);
      assert.equal(evidence?.zone, 'America/Los_Angeles');
      assert.equal(evidence?.zoneData, STUB_ZONE_DATA, 'the zone data the send answered with');
    } finally {
      narrowerAllowed = false;
    }
  });

  test("night-time consent cannot release a legacy body of unknown content", async () => {
    await advanceToNextKst('22:30:00');
    const forward = { kind: 'legacy-forward' as const, notificationId: `legacy-forward-consent-${Date.now()}`, body: 'plain text of unknown content' };
    await client.scheduleLegacyForward(forward, { sentAtMs: Date.now() });
    await assert.rejects(client.updateConsent(forward.notificationId, true), (error: unknown) => error instanceof Error && /unknown content/.test(`${error.message} ${(error as { cause?: Error }).cause?.message ?? ''}`));
    assert.equal((await client.status(forward.notificationId)).status, 'held');
    await client.cancel(forward.notificationId);
  });
});

describe('what a notification costs the server (time-skipping)', { timeout: 120_000 }, () => {
  /** The history's events by type, in order, without the workflow task's own bookkeeping. */
  async function eventTypes(workflowId: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? [])
      .map((event) => Object.keys(event).find((key) => key.endsWith('EventAttributes'))!.replace(/EventAttributes$/, ''))
      .filter((type) => !type.startsWith('workflowTask'));
  }

  test('held until 08:00 and delivered, with no morning cap: one start, one marker, one upsert (three billed actions), no gate', async () => {
    await advanceToNextKst('22:30:00');
    const held = advertising();
    await (await client.schedule(held)).handle.result();
    assert.deepEqual(await eventTypes(`notification-${held.notificationId}`), [
      'workflowExecutionStarted',
      'markerRecorded',
      'upsertWorkflowSearchAttributes',
      'workflowExecutionCompleted',
    ]);
    // Sent at once by day: the same, the release instant recorded with the final status.
    await advanceToNextKst('12:00:00');
    const now = advertising();
    await (await client.schedule(now)).handle.result();
    assert.deepEqual(await eventTypes(`notification-${now.notificationId}`), [
      'workflowExecutionStarted',
      'markerRecorded',
      'upsertWorkflowSearchAttributes',
      'workflowExecutionCompleted',
    ]);
  });
});
