/**
 * The morning cap and collapse keys through the night, on the time-skipping test server.
 *
 * Real: the test server (its clock, start delays, timers, update-with-start, updates between
 * workflows), the bundled workflow code (notifications and their morning gate), the worker, the
 * client, and the morning activities by which a gate tells a notification that its verdict
 * changed. Stubbed: the delivery activity only, which records what would be sent and when, by the
 * server's clock (the real one is covered end to end by morning.e2e).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import type { DeliveryRequest, DeliveryResult } from '../src/activities';
import { createMorningActivities } from '../src/activities/morning';
import { NotificationClient, NotificationNotHeldError } from '../src/client';
import { MorningGates } from '../src/client/morningGates';
import { isDigest } from '../src/digest';
import type { NotificationInput } from '../src/notification';
import { DEFAULT_POLICY } from '../src/policy';
import { workflowCodeOptions } from '../src/workers/workflowCode';
import { startTimeSkippingEnv, testDataConverter, testRecipientHashKey } from './helpers/stack';

const KST = 'Asia/Seoul';
const TASK_QUEUE = 'morning-overnight-test';
let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
const sent: { request: DeliveryRequest; at: DateTime }[] = [];

before(async () => {
  env = await startTimeSkippingEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    ...workflowCodeOptions(),
    dataConverter: testDataConverter(),
    activities: {
      ...createMorningActivities({ morningGatesFor: (client) => new MorningGates(client, TASK_QUEUE) }),
      async deliverNotification(request: DeliveryRequest): Promise<DeliveryResult> {
        const at = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
        sent.push({ request, at });
        return { messageId: `message-${request.notification.notificationId}`, stagedAt: at.toUTC().toISO()!, releasedAt: request.releaseAt ?? at.toUTC().toISO()! };
      },
      async narrowerQuietHoursAllowed() {
        return false;
      },
    },
  });
  workerRun = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

async function advanceToNextKst(time: string): Promise<DateTime> {
  const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  let target = now.set({ hour, minute, second: 0, millisecond: 0 });
  if (target.toMillis() <= now.toMillis() + 60_000) target = target.plus({ days: 1 });
  await env.sleep(target.toMillis() - now.toMillis());
  return target;
}

/** The night for one recipient: five ads, two sharing a collapse key, and two order updates, one hour apart from 21:30. */
function night(run: string, recipient: string): [string, NotificationInput][] {
  const base = { recipient: { id: recipient }, channel: 'kakaotalk' as const, payload: { run } };
  const item = (name: string, category: 'advertising' | 'order', extra: Partial<NotificationInput> = {}): [string, NotificationInput] => [
    name,
    { ...base, notificationId: `${run}-${name}`, category, payload: { run, name }, ...extra },
  ];
  return [
    item('ad-1', 'advertising'),
    item('ad-2', 'advertising', { collapseKey: 'sale' }),
    item('order-1', 'order'),
    item('ad-3', 'advertising'),
    item('ad-4', 'advertising', { collapseKey: 'sale' }),
    item('order-2', 'order'),
    item('ad-5', 'advertising'),
  ];
}

async function runNight(overflow: 'drop' | 'digest'): Promise<{ run: string; eight: DateTime; statuses: Record<string, string>; results: Record<string, Awaited<ReturnType<NotificationClient['result']>>> }> {
  const client = new NotificationClient({
    client: env.client,
    taskQueue: TASK_QUEUE,
    policy: DEFAULT_POLICY,
    recipientHashKey: testRecipientHashKey(),
    clock: () => env.currentTimeMs(),
    prestageSeconds: 900,
    morningCap: { cap: 2, overflow },
  });
  const run = `night-${overflow}-${Date.now().toString(36)}`;
  const start = await advanceToNextKst('21:30');
  const items = night(run, `recipient-${run}`);
  for (const [index, [, input]] of items.entries()) {
    if (index > 0) await env.sleep(3_600_000);
    await client.schedule(input);
  }
  const eight = start.plus({ days: 1 }).set({ hour: 8, minute: 0 });
  const results: Record<string, Awaited<ReturnType<NotificationClient['result']>>> = {};
  const statuses: Record<string, string> = {};
  for (const [name, input] of items) {
    results[name] = await client.result(input.notificationId);
    statuses[name] = (await client.status(input.notificationId)).status;
  }
  return { run, eight, statuses, results };
}

describe('the morning cap and collapse keys (time-skipping)', { timeout: 300_000 }, () => {
  test('cap 2, drop: at 08:00 the newest two ads and both order updates go; the rest end capped or collapsed', async () => {
    const { run, eight, statuses, results } = await runNight('drop');
    assert.deepEqual(statuses, { 'ad-1': 'capped', 'ad-2': 'collapsed', 'order-1': 'delivered', 'ad-3': 'capped', 'ad-4': 'delivered', 'order-2': 'delivered', 'ad-5': 'delivered' });
    assert.equal(results['ad-2']!.replacedBy, `${run}-ad-4`);
    const mine = sent.filter(({ request }) => request.notification.notificationId.startsWith(run));
    assert.deepEqual(mine.map(({ request }) => request.notification.notificationId).sort(), [`${run}-ad-4`, `${run}-ad-5`, `${run}-order-1`, `${run}-order-2`]);
    // Staged 15 minutes before 08:00 and receivable at 08:00, as without a cap: nothing waits for the gate at 08:00.
    for (const { request, at } of mine) {
      assert.equal(request.releaseAt, eight.toUTC().toISO());
      assert.ok(at < eight, `${request.notification.notificationId} was sent at ${at.toISO()}`);
    }
  });

  test('cap 2, digest: the newest ad goes, the three others it pushed out go in one digest, sent once; each says so', async () => {
    const { run, eight, statuses, results } = await runNight('digest');
    assert.deepEqual(statuses, { 'ad-1': 'digested', 'ad-2': 'collapsed', 'order-1': 'delivered', 'ad-3': 'digested', 'ad-4': 'digested', 'order-2': 'delivered', 'ad-5': 'delivered' });
    const mine = sent.filter(({ request }) => request.notification.notificationId.includes(run) || (isDigest(request.notification) && request.notification.entries.some((entry) => entry.notificationId.startsWith(run))));
    const digests = mine.filter(({ request }) => isDigest(request.notification));
    assert.equal(digests.length, 1, 'one digest, sent once');
    const digest = digests[0]!.request;
    assert.ok(isDigest(digest.notification));
    assert.deepEqual(digest.notification.entries.map((entry) => entry.notificationId), [`${run}-ad-4`, `${run}-ad-3`, `${run}-ad-1`]);
    assert.deepEqual(JSON.parse(digest.notification.entries[0]!.payloadJson), { run, name: 'ad-4' });
    assert.equal(digest.releaseAt, eight.toUTC().toISO());
    assert.deepEqual(mine.filter(({ request }) => !isDigest(request.notification)).map(({ request }) => request.notification.notificationId).sort(), [`${run}-ad-5`, `${run}-order-1`, `${run}-order-2`]);
    for (const name of ['ad-1', 'ad-3', 'ad-4']) assert.equal(results[name]!.digest?.notificationId, digest.notification.notificationId, name);
  });
});

describe('a place freed in the night goes to the next in line (time-skipping)', { timeout: 300_000 }, () => {
  const cappedClient = () =>
    new NotificationClient({
      client: env.client,
      taskQueue: TASK_QUEUE,
      policy: DEFAULT_POLICY,
      recipientHashKey: testRecipientHashKey(),
      clock: () => env.currentTimeMs(),
      prestageSeconds: 900,
      morningCap: { cap: 1, overflow: 'drop' },
    });
  const ad = (run: string, name: string): NotificationInput => ({ notificationId: `${run}-${name}`, recipient: { id: `recipient-${run}` }, channel: 'push', category: 'advertising', payload: { name } });

  test('cap 1: a newer ad would push the earlier one out; cancelling the newer before the freeze lets the earlier go', async () => {
    const client = cappedClient();
    const run = `cancel-${Date.now().toString(36)}`;
    await advanceToNextKst('22:00');
    await client.schedule(ad(run, 'first'));
    await env.sleep(600_000);
    await client.schedule(ad(run, 'second'));
    assert.equal((await client.status(`${run}-first`)).status, 'held', 'nothing is decided before the freeze');
    await env.sleep(600_000);
    assert.equal((await client.cancel(`${run}-second`)).cancelled, true);
    assert.equal((await client.result(`${run}-first`)).status, 'delivered');
    assert.deepEqual(sent.filter(({ request }) => request.notification.notificationId.startsWith(run)).map(({ request }) => request.notification.notificationId), [`${run}-first`]);
  });

  test('cap 1: consent given at 02:00 sends the admitted ad at once and lets the capped one take the morning', async () => {
    const client = cappedClient();
    const run = `consent-${Date.now().toString(36)}`;
    await advanceToNextKst('22:00');
    await client.schedule(ad(run, 'first'));
    await env.sleep(600_000);
    await client.schedule(ad(run, 'second'));
    const consentAt = await advanceToNextKst('02:00');
    await client.updateConsent(`${run}-second`, true);
    const [first, second] = [await client.result(`${run}-first`), await client.result(`${run}-second`)];
    assert.equal(second.status, 'delivered');
    assert.equal(second.releaseReason, 'immediate');
    assert.equal(first.status, 'delivered');
    const times = Object.fromEntries(sent.filter(({ request }) => request.notification.notificationId.startsWith(run)).map(({ request, at }) => [request.notification.notificationId, at]));
    assert.ok(times[`${run}-second`]! >= consentAt && times[`${run}-second`]! < consentAt.plus({ minutes: 1 }));
    assert.equal(times[`${run}-first`]!.hour, 7, 'staged before 08:00');
  });
});

describe('a digest under the morning spread (time-skipping)', { timeout: 300_000 }, () => {
  test("its notifications say digested as soon as the digest is on the queue, not at their own spread release; after that a change is refused", async () => {
    const client = new NotificationClient({
      client: env.client,
      taskQueue: TASK_QUEUE,
      policy: { ...DEFAULT_POLICY, morningSpreadSeconds: 3_600 },
      recipientHashKey: testRecipientHashKey(),
      clock: () => env.currentTimeMs(),
      prestageSeconds: 900,
      morningCap: { cap: 1, overflow: 'digest' },
    });
    const run = `spread-${Date.now().toString(36)}`;
    const ads = ['a', 'b', 'c'].map((name): NotificationInput => ({ notificationId: `${run}-${name}`, recipient: { id: `recipient-${run}` }, channel: 'push', category: 'advertising', payload: { name } }));
    await advanceToNextKst('22:00');
    for (const input of ads) {
      await client.schedule(input);
      await env.sleep(60_000);
    }
    const releases = await Promise.all(ads.map(async (input) => (await client.status(input.notificationId)).releaseAt));
    await advanceToNextKst('07:50');
    // Their own releases are spread over 08:00–09:00; the digest was staged at 07:45 for 08:00.
    for (const [index, input] of ads.entries()) {
      const status = await client.status(input.notificationId);
      assert.equal(status.status, 'digested', `${input.notificationId} (its own release ${releases[index]})`);
      assert.ok(status.digest?.messageId, 'names the digest on the queue');
    }
    const digests = sent.filter(({ request }) => isDigest(request.notification) && request.notification.entries.some((entry) => entry.notificationId.startsWith(run)));
    assert.equal(digests.length, 1);
    const cancel = await client.cancel(`${run}-a`);
    assert.equal(cancel.cancelled, false);
    assert.equal(cancel.status, 'digested');
    await assert.rejects(client.reschedule(`${run}-b`, null), (error: unknown) => error instanceof NotificationNotHeldError && /in the digest .* since/.test(error.message));
  });
});

