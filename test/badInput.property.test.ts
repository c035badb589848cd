/**
 * Bad input, generated (fast-check): random JSON, unicode, huge strings, bad zones and instants.
 * Each gives a typed error, a dead letter or a forward; nothing crashes the worker, and no
 * workflow is left failing its task.
 *
 * - the legacy parser (unit, nothing else involved);
 * - the CLI's `schedule -` (in-process, against the dev server);
 * - the client's `schedule` (dev server, ElasticMQ and the production worker, nothing stubbed):
 *   every notification that was accepted is then run (a Temporal cancel ends its start delay) and
 *   its history is read for failed workflow tasks.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Worker } from '@temporalio/worker';
import { main as cliMain } from '../src/cli/main';
import { InvalidNotificationError, NotificationClient } from '../src/client';
import { classifyLegacyMessage, PoisonLegacyMessageError } from '../src/legacy/legacyMessage';
import { parseNotification } from '../src/notification';
import { DEFAULT_POLICY } from '../src/policy';
import { createNotificationWorker } from '../src/workers/createWorker';
import { stackDeps, startE2EStack, testDataConverter, testLegacyIds, testRecipientHashKey, type E2EStack } from './helpers/stack';

/** temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND */
const UNHANDLED_COMMAND = 1;

const RUNS = Number(process.env.BAD_INPUT_RUNS ?? 60);

const VALID = {
  notificationId: 'bad-input-base',
  recipient: { id: 'user-1', timeZone: 'Asia/Seoul', nightConsent: true },
  channel: 'sms',
  category: 'order',
  payload: { text: 'hello' },
};

/** Values that are wrong in every way a producer gets them wrong. */
const junk = fc.oneof(
  fc.anything(),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.constantFrom('KST', 'Mars/Olympus', '+09:00', '', 'UTC', 'Asia/Seoul', 'asia/seoul', 'America/New_York', 'Etc/GMT+9'),
  fc.constantFrom('2026-11-24T09:00:00', '2026-11-24T09:00:00+09:00', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', 'tomorrow', 'NaN'),
  fc.integer().map((n) => new Date(n * 1000).toISOString()),
  fc.nat({ max: 300 * 1024 }).map((n) => 'x'.repeat(n)),
);

/** Mostly left alone (six times in seven): so that some notifications stay valid and are started. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary, weight: 1 });

/** A valid notification with some fields replaced or added. */
const mutatedNotification = fc
  .record({
    notificationId: sometimes(fc.oneof(junk, fc.stringMatching(/^[A-Za-z0-9._:@-]{1,40}$/))),
    recipient: sometimes(fc.oneof(junk, fc.record({ id: fc.oneof(junk, fc.constant('user-2')), timeZone: junk, nightConsent: fc.oneof(fc.boolean(), junk) }, { requiredKeys: [] }))),
    channel: sometimes(fc.oneof(junk, fc.constantFrom('sms', 'push', 'kakaotalk'))),
    category: sometimes(fc.oneof(junk, fc.constantFrom('order', 'advertising', 'refund'))),
    payload: sometimes(fc.oneof(junk, fc.dictionary(fc.fullUnicodeString({ maxLength: 8 }), junk))),
    notBefore: sometimes(junk),
    expiresAt: sometimes(junk),
    extra: sometimes(junk),
  })
  .map((changes) => {
    const input: Record<string, unknown> = { ...VALID };
    for (const [field, value] of Object.entries(changes)) if (value !== undefined) input[field] = value;
    return input;
  });

/** Anything a producer could put on the legacy wait queue. */
const legacyBody = fc.oneof(
  fc.fullUnicodeString({ maxLength: 200 }),
  fc.json(),
  fc.unicodeJsonValue().map((value) => JSON.stringify(value)),
  fc.unicodeJsonValue().map((value) => JSON.stringify(JSON.stringify(value))),
  fc.record({ recipientId: junk, channel: junk, type: junk, timeZone: junk, nightConsent: junk, payload: junk, expiresAt: junk, notificationId: junk }, { requiredKeys: ['recipientId'] }).map((body) => JSON.stringify(body)),
  fc.nat({ max: 300 * 1024 }).map((n) => `{"recipientId": "${'x'.repeat(n)}"}`),
);

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('bad legacy bodies (unit)', () => {
  test('every body becomes a notification, a forward of itself, or a poison error with a reason; nothing else is thrown', () => {
    fc.assert(
      fc.property(legacyBody, (body) => {
        let message;
        try {
          message = classifyLegacyMessage(body, testLegacyIds());
        } catch (error) {
          assert.ok(error instanceof PoisonLegacyMessageError, `${JSON.stringify(body).slice(0, 200)} threw ${String(error)}`);
          assert.ok(error.message.length > 0);
          return;
        }
        if (message.kind === 'foreign') {
          assert.equal(message.forward.body, body);
          assert.match(message.forward.notificationId, /^legacy-[0-9a-f]{32}-\d+$/);
        } else {
          assert.deepEqual(parseNotification(message.notification), message.notification);
        }
      }),
      { numRuns: RUNS * 20 },
    );
  });
});

describe('bad notifications through the CLI and the client (dev server + ElasticMQ + worker)', () => {
  let stack: E2EStack;
  let worker: Worker;
  let workerRun: Promise<void>;
  let client: NotificationClient;
  const taskQueue = `bad-input-${process.pid}`;
  const started: string[] = [];

  before(async () => {
    stack = await startE2EStack();
    const settings = { taskQueue, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey() };
    worker = await createNotificationWorker({
      connection: stack.env.nativeConnection,
      namespace: stack.env.namespace ?? 'default',
      taskQueue,
      dataConverter: testDataConverter(),
      deps: await stackDeps(stack, settings),
    });
    workerRun = worker.run();
    client = new NotificationClient({ client: stack.env.client, ...settings });
  }, { timeout: 300_000 });

  after(async () => {
    worker?.shutdown();
    await workerRun;
    await stack?.stop();
  });

  test('the CLI\'s `schedule -` answers random stdin with exit 0, or exit 1 and a typed error', { timeout: 600_000 }, async () => {
    const stdinText = fc.oneof(fc.fullUnicodeString({ maxLength: 100 }), fc.json(), mutatedNotification.map((input) => JSON.stringify(input)));
    const env = { ...process.env, TEMPORAL_ADDRESS: stack.config.temporal.address, NOTIFY_TASK_QUEUE: taskQueue };
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(stdinText, async (text) => {
        serial += 1;
        const stdout = new Sink();
        const stderr = new Sink();
        // Distinct ids, so that one run's start does not answer another's as "already present".
        const input = text.replace('"bad-input-base"', `"bad-input-cli-${serial}"`);
        const code = await cliMain(['schedule', '-'], { stdin: Readable.from([input]), stdout, stderr, env });
        if (code === 0) {
          const answer = JSON.parse(stdout.text) as { workflowId: string; started: boolean };
          if (answer.started) started.push(answer.workflowId);
          return;
        }
        assert.equal(code, 1, `exit ${code}: ${stderr.text}`);
        assert.match(stderr.text, /^schedule failed: (NotificationFileError|InvalidNotificationError): /);
      }),
      { numRuns: RUNS },
    );
  });

  test('the client answers random notifications with a start or an InvalidNotificationError, and no accepted one fails a workflow task', { timeout: 900_000 }, async () => {
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(mutatedNotification, async (input) => {
        serial += 1;
        const unique = input.notificationId === VALID.notificationId ? { ...input, notificationId: `bad-input-client-${serial}` } : input;
        try {
          const scheduled = await client.schedule(unique as never);
          if (scheduled.started) started.push(scheduled.workflowId);
        } catch (error) {
          assert.ok(error instanceof InvalidNotificationError, `${JSON.stringify(unique).slice(0, 300)} threw ${String(error)}`);
          assert.ok(error.issues.length > 0);
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(started.length > 0, 'no generated notification was accepted: the generator tests only rejections');

    // Run every accepted one: a Temporal cancel ends a start delay, so each runs its first task now.
    for (const workflowId of started) {
      const handle = stack.env.client.workflow.getHandle(workflowId);
      if ((await handle.describe()).status.name === 'RUNNING') await handle.cancel();
    }
    for (const workflowId of started) {
      const handle = stack.env.client.workflow.getHandle(workflowId);
      const result = (await handle.result()) as { status: string };
      assert.ok(['delivered', 'cancelled', 'expired'].includes(result.status), `${workflowId} ended ${result.status}`);
      const history = await handle.fetchHistory();
      // UNHANDLED_COMMAND is the server refusing a completion that raced with our cancel (new events
      // arrived meanwhile); the task simply runs again. Any other cause is the workflow failing.
      const failedTasks = (history.events ?? []).filter(
        (event) => event.workflowTaskFailedEventAttributes && event.workflowTaskFailedEventAttributes.cause !== UNHANDLED_COMMAND,
      );
      if (failedTasks.length > 0) {
        const failure = failedTasks[0]!.workflowTaskFailedEventAttributes!.failure!;
        const codec = testDataConverter().payloadCodecs![0]!;
        const message = failure.encodedAttributes ? Buffer.from((await codec.decode([failure.encodedAttributes]))[0]!.data!).toString() : failure.message;
        const input = (await codec.decode([history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!]))[0]!;
        assert.fail(`${workflowId} failed ${failedTasks.length} workflow task(s): ${message} for input ${Buffer.from(input.data!).toString().slice(0, 500)}`);
      }
    }
    assert.equal(worker.getState(), 'RUNNING', 'the worker stopped');
  });
});
