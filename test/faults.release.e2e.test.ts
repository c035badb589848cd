/**
 * Faults at the release, end to end: the real dev server, ElasticMQ and the production worker as a
 * child process, nothing stubbed. Each test holds notifications until a release instant T a
 * minute or so ahead (a quiet window that ends at T), breaks something at the release, and counts
 * what arrives on a FIFO delivery queue (which also drops a resend after a crash): every
 * notification exactly once, none before T.
 *
 * - the worker is SIGKILLed while 2,000 are being released, and another takes over;
 * - the dev server (on its SQLite file) is SIGKILLed with 1,000 held, and restarted;
 * - SQS is unreachable for 30 s from T (a loopback proxy that refuses connections).
 *
 * The three run at once, each on servers of its own: each spends most of its time waiting for its T.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NotificationClient } from '../src/client';
import { loadConfig, type Config } from '../src/config';
import type { NotificationInput } from '../src/notification';
import { inRehearsalZone, nextWholeMinute, rehearsalEndingAt } from '../src/policy';
import { createSqsClient, ensureQueue } from '../src/sqs';
import { startDevServerProcess } from '../src/stack/devServerProcess';
import { startElasticMq } from '../src/stack/elasticMq';
import { configuredQueueNames } from '../src/stack/elasticMqConfig';
import { startLoopbackProxy } from '../src/stack/loopbackProxy';
import { assertExactlyOnceNotBefore, collectMessages } from './helpers/queues';
import { startE2EStack, testDataConverter, testRecipientHashKey } from './helpers/stack';
import { spawnWorker, workerEnvironment, type WorkerProcess } from './helpers/workerProcess';

const run = Date.now().toString(36);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Advertisements without night consent: all held until T. */
function heldInputs(label: string, n: number): NotificationInput[] {
  return Array.from({ length: n }, (_, index) => ({
    notificationId: `fault-${label}-${run}-${index}`,
    recipient: { id: `user-${index % 97}` },
    channel: 'kakaotalk',
    category: 'advertising',
    payload: { template: 'fault', index },
  }));
}

/**
 * Schedules the inputs held until a whole minute far enough ahead for their starts (30 s, plus
 * 50 ms a notification: 20 per second, what a loaded 2-core CI machine still manages); returns T.
 * Fails if scheduling ran past T, which would test nothing.
 */
async function scheduleHeldUntilT(temporal: Client, config: Config, taskQueue: string, inputs: NotificationInput[]): Promise<number> {
  const releaseAtMs = nextWholeMinute(30_000 + inputs.length * 50, Date.now());
  const rehearsal = rehearsalEndingAt(releaseAtMs, config.policy);
  const client = new NotificationClient({ client: temporal, taskQueue, policy: rehearsal.policy, recipientHashKey: testRecipientHashKey() });
  const results = await client.scheduleMany(inRehearsalZone(inputs, rehearsal));
  const notStarted = results.filter((result) => !result.ok || !result.started);
  assert.deepEqual(notStarted.slice(0, 3), [], `${notStarted.length} notifications were not started`);
  assert.ok(Date.now() < releaseAtMs - 2_000, 'scheduling ran into the release instant: nothing would be tested');
  return releaseAtMs;
}

describe('faults at the release (dev server + ElasticMQ + worker processes, nothing stubbed)', { concurrency: true }, () => {
  test('the worker is SIGKILLed while 2,000 are being released on a FIFO queue: another finishes, 0 lost, 0 duplicated', { timeout: 900_000 }, async () => {
    const stack = await startE2EStack();
    const workers: WorkerProcess[] = [];
    try {
      const taskQueue = `fault-worker-kill-${run}`;
      const delivery = `fault-worker-kill-${run}.fifo`;
      const deliveryUrl = await ensureQueue(stack.sqs, delivery);
      const startWorker = async () => {
        const worker = spawnWorker(workerEnvironment(stack.config, { NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: delivery }));
        workers.push(worker);
        await worker.ready;
        return worker;
      };
      const first = await startWorker();
      const inputs = heldInputs('worker-kill', 2_000);
      const releaseAtMs = await scheduleHeldUntilT(stack.env.client, stack.config, taskQueue, inputs);
      const receivedAt = new Map<string, number>();
      let killedAt: number | undefined;
      let replacement: Promise<WorkerProcess> | undefined;
      const messages = await collectMessages(stack.sqs, deliveryUrl, {
        expected: inputs.length,
        timeoutMs: 600_000,
        quietMs: 10_000,
        receivedAt,
        onProgress: (count) => {
          if (killedAt !== undefined || count < 300) return;
          killedAt = count;
          first.kill('SIGKILL');
          replacement = startWorker();
        },
      });
      await replacement;
      assert.ok(killedAt !== undefined && killedAt < inputs.length, 'the worker was not killed in the middle of the release');
      assertExactlyOnceNotBefore(messages, inputs.map((input) => input.notificationId), receivedAt, releaseAtMs);
    } finally {
      for (const worker of workers) worker.kill('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
      await stack.stop();
    }
  });

  test('the dev server on its SQLite file is SIGKILLed with 1,000 held and restarted: all released at T, 0 lost', { timeout: 900_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kst-fault-db-'));
    const config = loadConfig();
    const elasticMq = await startElasticMq({ queues: configuredQueueNames(config.sqs) });
    const server = await startDevServerProcess({ dbFilename: join(dataDir, 'temporal.sqlite') });
    const sqs = createSqsClient({ ...config.sqs, endpoint: elasticMq.endpoint });
    const connection = await Connection.connect({ address: server.address });
    let worker: WorkerProcess | undefined;
    try {
      const taskQueue = `fault-server-kill-${run}`;
      const delivery = `fault-server-kill-${run}.fifo`;
      const deliveryUrl = await ensureQueue(sqs, delivery);
      const stackConfig: Config = { ...config, temporal: { ...config.temporal, address: server.address }, sqs: { ...config.sqs, endpoint: elasticMq.endpoint } };
      worker = spawnWorker(workerEnvironment(stackConfig, { NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: delivery }));
      await worker.ready;
      const inputs = heldInputs('server-kill', 1_000);
      const client = new Client({ connection, dataConverter: testDataConverter() });
      const releaseAtMs = await scheduleHeldUntilT(client, stackConfig, taskQueue, inputs);

      await server.kill('SIGKILL');
      await sleep(2_000);
      await server.restart();
      assert.ok(Date.now() < releaseAtMs, 'the restart took until T: the held notifications were not tested');

      const receivedAt = new Map<string, number>();
      const messages = await collectMessages(sqs, deliveryUrl, { expected: inputs.length, timeoutMs: 600_000, quietMs: 10_000, receivedAt });
      assertExactlyOnceNotBefore(messages, inputs.map((input) => input.notificationId), receivedAt, releaseAtMs);
    } finally {
      worker?.kill('SIGKILL');
      await worker?.exited;
      await connection.close();
      sqs.destroy();
      await server.stop();
      await elasticMq.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('SQS is unreachable for 30 s from T: all are delivered after it returns, 0 lost', { timeout: 900_000 }, async () => {
    const stack = await startE2EStack();
    const { port } = new URL(stack.config.sqs.endpoint!);
    const proxy = await startLoopbackProxy({ host: '127.0.0.1', port: Number(port) });
    let worker: WorkerProcess | undefined;
    try {
      const taskQueue = `fault-sqs-down-${run}`;
      const delivery = `fault-sqs-down-${run}.fifo`;
      const deliveryUrl = await ensureQueue(stack.sqs, delivery);
      // The worker reaches SQS only through the proxy; the test reads ElasticMQ directly.
      worker = spawnWorker(workerEnvironment(stack.config, { NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: delivery, AWS_ENDPOINT_URL_SQS: proxy.endpoint }));
      await worker.ready;
      const inputs = heldInputs('sqs-down', 500);
      const releaseAtMs = await scheduleHeldUntilT(stack.env.client, stack.config, taskQueue, inputs);

      await sleep(releaseAtMs - Date.now() - 500);
      await proxy.refuse();
      await sleep(releaseAtMs + 30_000 - Date.now());
      const backAt = Date.now();
      await proxy.accept();

      const receivedAt = new Map<string, number>();
      const messages = await collectMessages(stack.sqs, deliveryUrl, { expected: inputs.length, timeoutMs: 600_000, quietMs: 10_000, receivedAt });
      assertExactlyOnceNotBefore(messages, inputs.map((input) => input.notificationId), receivedAt, releaseAtMs);
      const duringOutage = messages.filter((message) => receivedAt.get(message.MessageId!)! < backAt);
      assert.equal(duringOutage.length, 0, `${duringOutage.length} arrived while SQS was unreachable`);
    } finally {
      worker?.kill('SIGKILL');
      await worker?.exited;
      await proxy.close();
      await stack.stop();
    }
  });
});

