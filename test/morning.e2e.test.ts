/**
 * The morning cap end to end: the real dev server, ElasticMQ and production workers, nothing
 * stubbed. Notifications are held until an instant T a minute or two ahead (a quiet window that
 * ends at T, in a zone where that is the late afternoon: src/policy/releaseWindow.ts), with no
 * staging lead, so the gate's plan freezes a minute before T.
 *
 * - 200 advertisements for one recipient, scheduled at once by four clients (each its own
 *   connection), cap 2: two arrive, none before T, and every one of the 200 ends with a status;
 *   beside it, 60 for another recipient in digest mode: one advertisement and one digest, sent once.
 * - The worker and then the dev server are killed (SIGKILL) while registrations go on; producers
 *   retry what failed, as they would: the cap still holds and nothing is left held.
 *
 * The two run at once, each on servers of its own: each spends most of its time waiting for its T.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NotificationClient, type NotificationClientSettings } from '../src/client';
import { loadConfig, type Config } from '../src/config';
import type { NotificationInput, NotificationStatus } from '../src/notification';
import { inRehearsalZone, nextWholeMinute, rehearsalEndingAt } from '../src/policy';
import { createSqsClient, ensureQueue } from '../src/sqs';
import { startDevServerProcess } from '../src/stack/devServerProcess';
import { startElasticMq } from '../src/stack/elasticMq';
import { configuredQueueNames } from '../src/stack/elasticMqConfig';
import { attribute, collectMessages } from './helpers/queues';
import { startE2EStack, testDataConverter, testRecipientHashKey } from './helpers/stack';
import { spawnWorker, workerEnvironment, type WorkerProcess } from './helpers/workerProcess';

const run = Date.now().toString(36);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const FINAL: NotificationStatus[] = ['delivered', 'capped', 'collapsed', 'digested'];

function advertisements(label: string, recipient: string, n: number): NotificationInput[] {
  return Array.from({ length: n }, (_, index) => ({
    notificationId: `morning-${label}-${run}-${index}`,
    recipient: { id: recipient },
    channel: 'kakaotalk',
    category: 'advertising',
    payload: { label, index },
  }));
}

/** Schedules each input through one of the clients, all at once; a failed one is retried, as a producer would, until `giveUpAt`. */
async function scheduleConcurrently(clients: NotificationClient[], inputs: NotificationInput[], giveUpAt: number): Promise<void> {
  await Promise.all(
    inputs.map(async (input, index) => {
      for (;;) {
        try {
          await clients[index % clients.length]!.schedule(input);
          return;
        } catch (error) {
          if (Date.now() > giveUpAt) throw error;
          await sleep(500);
        }
      }
    }),
  );
}

/** Waits until every notification has ended; returns how many ended with each status. */
async function finalStatuses(client: NotificationClient, inputs: NotificationInput[], timeoutMs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  const counts = new Map<string, number>();
  for (const input of inputs) {
    for (;;) {
      const { status } = await client.status(input.notificationId);
      if (FINAL.includes(status)) {
        counts.set(status, (counts.get(status) ?? 0) + 1);
        break;
      }
      assert.ok(Date.now() < deadline, `${input.notificationId} is still ${status}`);
      await sleep(1_000);
    }
  }
  return counts;
}

function settings(taskQueue: string, config: Config, releaseAtMs: number, overflow: 'drop' | 'digest'): NotificationClientSettings {
  return {
    taskQueue,
    policy: rehearsalEndingAt(releaseAtMs, config.policy).policy,
    recipientHashKey: testRecipientHashKey(),
    prestageSeconds: 0,
    morningCap: { cap: 2, overflow },
  };
}

describe('the morning cap under concurrency and faults (dev server + ElasticMQ + worker processes, nothing stubbed)', { concurrency: true }, () => {
  test('200 for one recipient from four clients at once, cap 2: two arrive, none early, each ends with a status; a digest beside it goes once', { timeout: 600_000 }, async () => {
    const stack = await startE2EStack();
    const workers: WorkerProcess[] = [];
    const connections: Connection[] = [];
    try {
      const taskQueue = `morning-concurrent-${run}`;
      const delivery = `morning-concurrent-${run}`;
      const deliveryUrl = await ensureQueue(stack.sqs, delivery);
      const worker = spawnWorker(workerEnvironment(stack.config, { NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: delivery, NOTIFY_PRESTAGE_SECONDS: '0' }));
      workers.push(worker);
      await worker.ready;
      const releaseAtMs = nextWholeMinute(100_000, Date.now());
      const clientsFor = async (overflow: 'drop' | 'digest') =>
        Promise.all(
          Array.from({ length: 4 }, async () => {
            const connection = await Connection.connect({ address: stack.config.temporal.address! });
            connections.push(connection);
            return new NotificationClient({ client: new Client({ connection, dataConverter: testDataConverter() }), ...settings(taskQueue, stack.config, releaseAtMs, overflow) });
          }),
        );
      const [dropClients, digestClients] = [await clientsFor('drop'), await clientsFor('digest')];
      const rehearsal = rehearsalEndingAt(releaseAtMs, stack.config.policy);
      const dropped = inRehearsalZone(advertisements('drop', `drop-${run}`, 200), rehearsal);
      const digested = inRehearsalZone(advertisements('digest', `digest-${run}`, 60), rehearsal);
      const frozenAt = releaseAtMs - 60_000;
      await Promise.all([scheduleConcurrently(dropClients, dropped, frozenAt), scheduleConcurrently(digestClients, digested, frozenAt)]);
      assert.ok(Date.now() < frozenAt, 'registering ran past the freeze: the concurrent case was not tested');

      const receivedAt = new Map<string, number>();
      const messages = await collectMessages(stack.sqs, deliveryUrl, { expected: 4, timeoutMs: releaseAtMs - Date.now() + 120_000, quietMs: 15_000, receivedAt });
      const early = messages.filter((message) => receivedAt.get(message.MessageId!)! < releaseAtMs);
      assert.equal(early.length, 0, `${early.length} arrived before T`);
      const ids = messages.map((message) => attribute(message, 'notificationId')!);
      assert.equal(ids.filter((id) => id.includes('-drop-')).length, 2, `drop: ${ids.join(', ')}`);
      const digestMessages = messages.filter((message) => attribute(message, 'digestOf') !== undefined);
      assert.equal(digestMessages.length, 1, 'one digest, once');
      assert.equal(Number(attribute(digestMessages[0]!, 'digestOf')), 59);
      assert.equal(ids.filter((id) => id.includes('-digest-')).length, 1, `digest mode: ${ids.join(', ')}`);
      assert.equal(messages.length, 4);

      const reader = dropClients[0]!;
      assert.deepEqual(Object.fromEntries(await finalStatuses(reader, dropped, 120_000)), { delivered: 2, capped: 198 });
      assert.deepEqual(Object.fromEntries(await finalStatuses(reader, digested, 120_000)), { delivered: 1, digested: 59 });
    } finally {
      for (const connection of connections) await connection.close();
      for (const worker of workers) worker.kill('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
      await stack.stop();
    }
  });

  test('the worker, then the dev server, killed during registrations: the cap holds and nothing stays held', { timeout: 600_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kst-morning-kill-'));
    const config = loadConfig();
    const elasticMq = await startElasticMq({ queues: configuredQueueNames(config.sqs) });
    const server = await startDevServerProcess({ dbFilename: join(dataDir, 'temporal.sqlite') });
    const sqs = createSqsClient({ ...config.sqs, endpoint: elasticMq.endpoint });
    const connection = await Connection.connect({ address: server.address });
    const workers: WorkerProcess[] = [];
    try {
      const taskQueue = `morning-kill-${run}`;
      const delivery = `morning-kill-${run}`;
      const deliveryUrl = await ensureQueue(sqs, delivery);
      const stackConfig: Config = { ...config, temporal: { ...config.temporal, address: server.address }, sqs: { ...config.sqs, endpoint: elasticMq.endpoint } };
      const startWorker = async () => {
        const worker = spawnWorker(workerEnvironment(stackConfig, { NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: delivery, NOTIFY_PRESTAGE_SECONDS: '0' }));
        workers.push(worker);
        await worker.ready;
      };
      await startWorker();
      const releaseAtMs = nextWholeMinute(150_000, Date.now());
      const client = new NotificationClient({ client: new Client({ connection, dataConverter: testDataConverter() }), ...settings(taskQueue, stackConfig, releaseAtMs, 'drop') });
      const inputs = inRehearsalZone(advertisements('kill', `kill-${run}`, 120), rehearsalEndingAt(releaseAtMs, stackConfig.policy));
      const frozenAt = releaseAtMs - 60_000;
      const scheduling = scheduleConcurrently([client], inputs, frozenAt);
      // Kill the worker early in the registrations, start another; then the server, and restart it on its file.
      await sleep(1_500);
      workers[0]!.kill('SIGKILL');
      await workers[0]!.exited;
      await startWorker();
      await sleep(1_500);
      await server.kill('SIGKILL');
      await sleep(1_000);
      await server.restart();
      await scheduling;
      assert.ok(Date.now() < frozenAt, 'registering ran past the freeze');

      const receivedAt = new Map<string, number>();
      const messages = await collectMessages(sqs, deliveryUrl, { expected: 2, timeoutMs: releaseAtMs - Date.now() + 120_000, quietMs: 15_000, receivedAt });
      assert.equal(messages.length, 2, `${messages.length} arrived with a cap of 2`);
      for (const message of messages) assert.ok(receivedAt.get(message.MessageId!)! >= releaseAtMs, 'received before T');
      assert.deepEqual(Object.fromEntries(await finalStatuses(client, inputs, 180_000)), { delivered: 2, capped: 118 });
    } finally {
      for (const worker of workers) worker.kill('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
      await connection.close();
      sqs.destroy();
      await server.stop();
      await elasticMq.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
