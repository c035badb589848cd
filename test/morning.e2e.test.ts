/**
 * The morning cap under concurrency, end to end: the real dev server, ElasticMQ and production
 * worker processes, nothing stubbed. For one recipient, two producer processes schedule 500
 * advertisements each at the same moment (every fifth sharing one of 25 collapse keys, priorities
 * mixed, every tenth scheduled twice, every fiftieth cancelled during intake), under a cap of 2:
 * once with drop, once with digest, and once with the worker SIGKILLed during intake.
 *
 * Notifications are held until an instant T a few minutes ahead (a rehearsal of the morning:
 * src/policy/releaseWindow.ts), with no staging lead, so the gate's plan freezes a minute before T.
 * At a receiver: exactly the cap arrives, none early; every notification ends in a true status, and
 * exactly the one the plan of everything registered gives it; no schedule call failed; no workflow
 * task failed. The three run at once, on one dev server, each with its own worker and queue.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Message } from '@aws-sdk/client-sqs';
import { NotificationClient } from '../src/client';
import { digestEntryBytes, DIGEST_ENVELOPE_BYTES } from '../src/digest';
import type { NotificationInput, NotificationStatus } from '../src/notification';
import { nextWholeMinute, planMorning, rehearsalEndingAt, type MorningEntry } from '../src/policy';
import { ensureQueue } from '../src/sqs';
import { morningGateId } from '../src/workflows/morningGateMessages';
import { attribute, collectMessages } from './helpers/queues';
import { inLanes } from '../src/inLanes';
import { cancelledAtIntake, producerInput, type ProducerReport } from './helpers/morningProducer';
import { startE2EStack, testRecipientHashKey, type E2EStack } from './helpers/stack';
import { spawnWorker, workerEnvironment, type WorkerProcess } from './helpers/workerProcess';

const run = Date.now().toString(36);
const PER_PRODUCER = 500;
const CAP = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const OPEN: NotificationStatus[] = ['held', 'sending', 'retrying'];
/** Workflow tasks the server closes itself to hand over signals (as the history's enum names them, or their numbers). */
const SERVER_CLOSED_TASK_CAUSES = ['WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND', '1', 'WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND', '17'];

/**
 * The server suggests continue-as-new at 300 history events instead of thousands, so that each gate
 * carries its registrations, withdrawals and verdicts over several runs while they arrive.
 */
const SUGGEST_CONTINUE_AS_NEW_AT = 300;

let stack: E2EStack;
before(async () => {
  stack = await startE2EStack({ dynamicConfig: [`limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AT}`] });
});
after(async () => {
  await stack?.stop();
});

/** Runs the producer script as a process of its own; resolves to its report. */
function produce(task: object): Promise<ProducerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/setup.mjs', 'test/helpers/morningProducer.ts', JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ProducerReport) : reject(new Error(`producer exited with ${code}: ${out}`))));
  });
}

/** Asks until the notification has ended; its status and start time (the server's clock). */
async function finalState(client: NotificationClient, notificationId: string, deadlineMs: number): Promise<{ status: NotificationStatus; startMs: number; digestId?: string; messageId?: string }> {
  for (;;) {
    const description = await client.handle(notificationId).describe();
    const result = await client.status(notificationId);
    if (!OPEN.includes(result.status)) return { status: result.status, startMs: description.startTime.getTime(), digestId: result.digest?.notificationId, messageId: result.messageId };
    assert.ok(Date.now() < deadlineMs, `${notificationId} is still ${result.status}`);
    await sleep(1_000);
  }
}

/** The histories of every run of a gate, first to last (it continues as new). */
async function gateHistories(gateId: string): Promise<Awaited<ReturnType<ReturnType<typeof stack.env.client.workflow.getHandle>['fetchHistory']>>[]> {
  const runs = [];
  for await (const execution of stack.env.client.workflow.list({ query: `WorkflowId = '${gateId}'` })) runs.push(execution);
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return Promise.all(runs.map((execution) => stack.env.client.workflow.getHandle(gateId, execution.runId).fetchHistory()));
}

/** What the gate did (for a failure's report): its events by type, and its last few. */
async function gateSummary(client: NotificationClient, recipient: string, releaseAtMs: number): Promise<string> {
  const gateId = morningGateId(client.recipientSearchKey(recipient), new Date(releaseAtMs));
  const history = await stack.env.client.workflow.getHandle(gateId).fetchHistory();
  const types = new Map<string, number>();
  for (const event of history.events ?? []) types.set(String(event.eventType), (types.get(String(event.eventType)) ?? 0) + 1);
  const description = await stack.env.client.workflow.getHandle(gateId).describe();
  const last = (history.events ?? []).slice(-12).map((event) => {
    const { eventId, eventType, eventTime } = event;
    const attributes = Object.entries(event).find(([key, value]) => key.endsWith('Attributes') && value);
    return `  ${eventId} ${eventType} ${new Date(Number(eventTime!.seconds) * 1000).toISOString()} ${JSON.stringify(attributes?.[1] ?? {}).slice(0, 200)}`;
  });
  return `gate ${gateId}: ${description.status.name}, pending task ${JSON.stringify(description.raw.pendingWorkflowTask ?? null)}\n${last.join('\n')}\nevents ${JSON.stringify(Object.fromEntries(types))}, pending activities ${JSON.stringify(description.raw.pendingActivities?.map((activity) => ({ type: activity.activityType?.name, attempt: activity.attempt, lastFailure: activity.lastFailure?.message })))}`;
}

async function scenario(name: string, overflow: 'drop' | 'digest', killWorker: boolean): Promise<void> {
  const label = `${name.replace(/\W+/g, '-')}-${run}`;
  const taskQueue = `morning-${label}`;
  const deliveryUrl = await ensureQueue(stack.sqs, `morning-${label}`);
  const workerEnv = workerEnvironment(stack.config, { NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: `morning-${label}`, NOTIFY_PRESTAGE_SECONDS: '0' });
  const workers: WorkerProcess[] = [spawnWorker(workerEnv, { name: `worker ${name}` })];
  try {
    await workers[0]!.ready;
    const recipient = `recipient-${label}`;
    const releaseAtMs = nextWholeMinute(180_000, Date.now());
    const freezeAtMs = releaseAtMs - 60_000;
    const startAtMs = Date.now() + 8_000;
    const task = { address: stack.config.temporal.address!, taskQueue, releaseAtMs, startAtMs, cap: CAP, overflow, count: PER_PRODUCER, recipient, run: label };
    const producing = Promise.all([produce({ ...task, producer: 1 }), produce({ ...task, producer: 2 })]);
    if (killWorker) {
      await sleep(startAtMs + 1_500 - Date.now());
      workers[0]!.kill('SIGKILL');
      await workers[0]!.exited;
      workers.push(spawnWorker(workerEnv, { name: `worker ${name} (2)` }));
      await workers[1]!.ready;
    }
    const reports = await producing;
    // Every call answered: a start, a retry that started nothing, a cancel. None failed.
    for (const report of reports) assert.deepEqual(report.failures, [], `producer ${report.producer}`);
    const intakeSeconds = (Math.max(...reports.map((report) => report.lastCallAtMs)) - Math.min(...reports.map((report) => report.firstCallAtMs))) / 1000;
    assert.ok(Date.now() < freezeAtMs, 'intake ran past the freeze: the concurrent case was not tested');

    const client = new NotificationClient({
      client: stack.env.client,
      taskQueue,
      policy: rehearsalEndingAt(releaseAtMs, stack.config.policy).policy,
      recipientHashKey: testRecipientHashKey(),
    });
    const inputs: NotificationInput[] = [1, 2].flatMap((producer) => Array.from({ length: PER_PRODUCER }, (_, index) => producerInput({ producer, recipient, run: label }, index)));

    const receivedAt = new Map<string, number>();
    const expected = CAP; // the cap counts messages, a digest as one
    const messages = await collectMessages(stack.sqs, deliveryUrl, { expected, timeoutMs: releaseAtMs - Date.now() + 180_000, quietMs: 20_000, receivedAt });
    if (messages.length !== expected) console.log(await gateSummary(client, recipient, releaseAtMs));
    assert.equal(messages.length, expected, `${messages.length} messages reached the recipient under a cap of ${CAP}`);
    for (const message of messages) assert.ok(receivedAt.get(message.MessageId!)! >= releaseAtMs, `${attribute(message, 'notificationId')} was received before T`);
    const digestMessages = messages.filter((message) => attribute(message, 'digestOf') !== undefined);
    assert.equal(digestMessages.length, overflow === 'digest' ? 1 : 0);
    const receivedAlone = new Set(messages.filter((message) => !digestMessages.includes(message)).map((message) => attribute(message, 'notificationId')!));
    const inDigest = new Set(digestMessages.flatMap((message: Message) => (JSON.parse(message.Body!) as { digest: { notificationId: string }[] }).digest.map((entry) => entry.notificationId)));

    // Every status is true, and each is what the plan of everything registered gives it.
    const states = new Map<string, Awaited<ReturnType<typeof finalState>>>();
    await inLanes(inputs, 16, async (input) => {
      states.set(input.notificationId, await finalState(client, input.notificationId, releaseAtMs + 240_000));
    });
    const live = inputs.filter((input) => states.get(input.notificationId)!.status !== 'cancelled');
    const plan = planMorning(
      live.map((input): MorningEntry => ({
        notificationId: input.notificationId,
        category: 'advertising',
        priority: input.priority,
        collapseKey: input.collapseKey,
        scheduledAtMs: states.get(input.notificationId)!.startMs,
        digestBytes: digestEntryBytes({ notificationId: input.notificationId, payloadJson: JSON.stringify(input.payload) }),
      })),
      { cap: CAP, overflow, digestCapacityBytes: stack.config.sqs.maxMessageBytes - DIGEST_ENVELOPE_BYTES },
    );
    const expectedStatus = { admitted: 'delivered', digested: 'digested', capped: 'capped', collapsed: 'collapsed' } as const;
    const counts: Record<string, number> = {};
    for (const input of inputs) {
      const id = input.notificationId;
      const { status, digestId, messageId } = states.get(id)!;
      counts[status] = (counts[status] ?? 0) + 1;
      if (status === 'cancelled') assert.ok(cancelledAtIntake(Number(id.split('-').at(-1))), `${id} cancelled, but nobody cancelled it`);
      else assert.equal(status, expectedStatus[plan.verdicts.get(id)!.outcome], `${id}: the plan says ${plan.verdicts.get(id)!.outcome}`);
      assert.equal(receivedAlone.has(id), status === 'delivered', `${id} is ${status}; received alone: ${receivedAlone.has(id)}`);
      assert.equal(inDigest.has(id), status === 'digested', `${id} is ${status}; in the digest: ${inDigest.has(id)}`);
      if (status === 'digested') {
        assert.equal(digestId, attribute(digestMessages[0]!, 'notificationId'));
        assert.equal(messageId, digestMessages[0]!.MessageId);
      }
    }
    assert.equal(counts.cancelled, reports.reduce((sum, report) => sum + report.cancelled, 0), 'every cancel that answered cancelled: true, and only those');

    // No workflow task failed, anywhere; and how fast the gate took its registrations.
    const gateId = morningGateId(client.recipientSearchKey(recipient), new Date(releaseAtMs));
    // Every run of the gate (it continued as new), and every notification.
    const gateRuns = await gateHistories(gateId);
    const failedTasks: string[] = [];
    let signalsDuringCompletion = 0;
    const histories = [...gateRuns.map((history) => ({ workflowId: gateId, history }))];
    await inLanes(inputs, 16, async (input) => {
      histories.push({ workflowId: `notification-${input.notificationId}`, history: await stack.env.client.workflow.getHandle(`notification-${input.notificationId}`).fetchHistory() });
    });
    for (const { workflowId, history } of histories) {
      for (const event of history.events ?? []) {
        const failed = event.workflowTaskFailedEventAttributes;
        if (!failed) continue;
        // The server's answers to signals arriving around a task: one that completes (or continues
        // as new) while new signals arrived (UnhandledCommand), or one still in flight, on the worker
        // just killed, when more signals were buffered than the server keeps (ForceCloseCommand).
        // Either way it hands the signals over in another task. Nothing failed in the code.
        if (SERVER_CLOSED_TASK_CAUSES.includes(String(failed.cause))) signalsDuringCompletion += 1;
        else failedTasks.push(`${workflowId} (event ${event.eventId}): ${failed.cause}: ${failed.failure?.message}`);
      }
    }
    assert.deepEqual(failedTasks, [], `${failedTasks.length} workflow tasks failed`);
    assert.ok(gateRuns.length > 1, `the gate never continued as new (${gateRuns.length} run)`);
    const signalTimes = gateRuns
      .flatMap((history) => history.events ?? [])
      .filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'register')
      .map((event) => Number(event.eventTime!.seconds) * 1000 + Math.floor((event.eventTime!.nanos ?? 0) / 1e6));
    const spanSeconds = (Math.max(...signalTimes) - Math.min(...signalTimes)) / 1000;
    assert.ok(Math.max(...signalTimes) < freezeAtMs, 'every registration reached the gate before its freeze');
    console.log(
      `${name}: 1,000 scheduled by two producers in ${intakeSeconds.toFixed(1)} s; the gate took ${signalTimes.length} registrations in ${spanSeconds.toFixed(1)} s ` +
        `(${(signalTimes.length / Math.max(spanSeconds, 0.001)).toFixed(0)}/s) over ${gateRuns.length} runs; ${signalsDuringCompletion} tasks handed new signals over; ${JSON.stringify(counts)}`,
    );
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
  }
}

describe('the morning cap under concurrency (dev server + ElasticMQ + worker and producer processes, nothing stubbed)', { concurrency: true, timeout: 900_000 }, () => {
  test('two producers, 500 ads each for one recipient at once, cap 2, drop: exactly two arrive; every status true and as planned; no task failed', () => scenario('drop', 'drop', false));
  test('the same in digest mode: one ad and one digest arrive; the digest holds exactly the digested', () => scenario('digest', 'digest', false));
  test('the same with the worker SIGKILLed during intake: nothing lost, nothing twice, the cap holds', () => scenario('worker killed', 'drop', true));
});
