/**
 * The local stack's smoke tests: the worker, its timers and SQS working together.
 * (a) on the time-skipping server a 12-hour sleep passes at once: the server's clock moves 12 h;
 * (b) on the dev server with ElasticMQ the worker's message really lands in the delivery queue;
 * (c) `npm start`'s dev server on a SQLite file (with the stack's pragmas) keeps a sleeping
 *     workflow across a restart.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Worker } from '@temporalio/worker';
import { NotificationReleaseAtKey, NotificationStatusKey } from '../src/searchAttributes';
import { startDevServer } from '../src/stack/temporalServers';
import { smokeWorkflow } from '../src/workflows/smoke';
import { startWorker, testDataConverter, withE2EStack, withTimeSkippingEnv } from './helpers/stack';

const TWELVE_HOURS_MS = 12 * 60 * 60 * 1000;

/** Receives until a message with this body turns up (other tests may share the queue). */
async function receiveBody(sqs: SQSClient, queueUrl: string, body: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0 }),
    );
    const found = Messages.find((message) => message.Body === body);
    if (found) return found;
  }
  return undefined;
}

/** Runs `fn` while the worker polls, and always shuts the worker down. */
async function whileRunning<T>(worker: Worker, fn: () => Promise<T>): Promise<T> {
  return worker.runUntil(fn);
}

describe('local stack smoke', () => {
  // One ElasticMQ for both: the time-skipping worker needs a real queue too.
  const stack = withE2EStack();

  describe('time-skipping server', () => {
    const timeSkipping = withTimeSkippingEnv();

    test('a 12-hour sleep passes at once and the message is sent', { timeout: 120_000 }, async () => {
      const env = timeSkipping.value;
      const { config, sqs, queueUrls } = stack.value;
      const worker = await startWorker(config, env.nativeConnection);
      const body = `smoke-time-skipping-${randomUUID()}`;
      const releaseAt = new Date('2026-11-24T08:00:00+09:00');
      const before = await env.currentTimeMs();
      const { result, described } = await whileRunning(worker, async () => {
        // The test server refuses search attributes it does not know: these work only because
        // startTimeSkippingServer registers the project's ones.
        const handle = await env.client.workflow.start(smokeWorkflow, {
          args: [{ body }],
          taskQueue: config.temporal.taskQueue,
          workflowId: `smoke-${randomUUID()}`,
          typedSearchAttributes: [
            { key: NotificationStatusKey, value: 'held' },
            { key: NotificationReleaseAtKey, value: releaseAt },
          ],
        });
        return { result: await handle.result(), described: await handle.describe() };
      });
      const after = await env.currentTimeMs();
      assert.equal(described.typedSearchAttributes.get(NotificationStatusKey), 'held');
      assert.equal(described.typedSearchAttributes.get(NotificationReleaseAtKey)?.toISOString(), releaseAt.toISOString());
      assert.ok(after - before >= TWELVE_HOURS_MS, `the server's clock moved ${after - before} ms, expected at least 12 h`);
      assert.ok(result.messageId, 'the activity returned a message id');
      const message = await receiveBody(sqs, queueUrls.delivery, body);
      assert.equal(message?.MessageId, result.messageId);
    });
  });

  describe('dev server + ElasticMQ', () => {
    test('the workflow puts a message on the delivery queue', { timeout: 120_000 }, async () => {
      const { env, config, sqs, queueUrls } = stack.value;
      const worker = await startWorker(config, env.nativeConnection);
      const body = `smoke-e2e-${randomUUID()}`;
      const result = await whileRunning(worker, () =>
        env.client.workflow.execute(smokeWorkflow, {
          args: [{ sleepMs: 0, body }],
          taskQueue: config.temporal.taskQueue,
          workflowId: `smoke-${randomUUID()}`,
        }),
      );
      const message = await receiveBody(sqs, queueUrls.delivery, body);
      assert.ok(message, `no message with body ${body} in ${queueUrls.delivery}`);
      assert.equal(message.MessageId, result.messageId);
    });
  });

  describe('dev server on a SQLite file', () => {
    test('a sleeping workflow is still there after the server restarts', { timeout: 120_000 }, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'kst-smoke-sqlite-'));
      const dbFilename = join(dataDir, 'temporal.sqlite');
      const workflowId = `smoke-sqlite-${randomUUID()}`;
      try {
        const first = await startDevServer({ dbFilename, dataConverter: testDataConverter() });
        let runId: string;
        try {
          // No worker: the workflow stays scheduled, as a held notification does overnight.
          const handle = await first.client.workflow.start(smokeWorkflow, { args: [{}], taskQueue: `smoke-sqlite-${randomUUID()}`, workflowId });
          runId = handle.firstExecutionRunId;
        } finally {
          await first.teardown();
        }
        const second = await startDevServer({ dbFilename, dataConverter: testDataConverter() });
        try {
          const described = await second.client.workflow.getHandle(workflowId).describe();
          assert.equal(described.runId, runId);
          assert.equal(described.status.name, 'RUNNING');
        } finally {
          await second.teardown();
        }
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
});
