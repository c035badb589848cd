/**
 * A deploy with notifications in flight, end to end on the dev server, as docs/operations.md
 * ("Deploying") walks an operator through it with `temporal worker deployment …`:
 *
 * 1. Build v1 (the production worker process, src/workers/main.ts, versioned by
 *    NOTIFY_WORKER_DEPLOYMENT_NAME and NOTIFY_BUILD_ID) is current. It holds 200 notifications for a
 *    release T (a rehearsal policy: "08:00" a few minutes from now) under a morning cap, ten
 *    recipients, so ten morning gates; some are changed during the hold (rescheduled, cancelled,
 *    and those a cancel lets back in past the cap), and ten more retry failed sends (v1 reaches SQS
 *    only through a proxy that refuses).
 * 2. Build v2 (test/fixtures/workflowsNextBuild.ts: a real change to notificationWorkflow behind
 *    `patched()`) starts, is ramped to 50 %, then made current.
 * 3. v1 stops once the server reports it drained.
 * 4. The release: every notification ends where its status says, exactly once on the queue if
 *    delivered and never before its release; no workflow task failed for nondeterminism or an
 *    error of the code; the held ones ran all of their tasks on v2 (they carry its memo), the ones
 *    begun on v1 replayed their history on v2 (no memo, later tasks completed by v2).
 *
 * Real: the dev server, ElasticMQ, the worker process, the temporal CLI. Nothing stubbed. The v2
 * worker runs in this process, since its workflow code is a test fixture.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '@aws-sdk/client-sqs';
import { temporal as temporalProto } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { NotificationClient } from '../src/client';
import type { Config } from '../src/config';
import type { NotificationInput, NotificationResult } from '../src/notification';
import { nextWholeMinute, rehearsalEndingAt } from '../src/policy';
import { reconcileScheduleHandle } from '../src/schedules/reconcileSchedule';
import { ensureQueue } from '../src/sqs';
import { runCommand } from '../src/stack/commands';
import { startLoopbackProxy } from '../src/stack/loopbackProxy';
import { provisionTemporalCli } from '../src/stack/provision';
import { FAST_VERSION_DRAINAGE } from '../src/stack/temporalServers';
import { createConfiguredWorker } from '../src/workers/createWorker';
import { SHARED_WORKFLOW_MODULES } from '../src/workers/workflowCode';
import { earliestFreezeAtMs } from '../src/workflows/morningGate';
import { morningGateId } from '../src/workflows/morningGateMessages';
import { NEXT_BUILD_PATCH } from './fixtures/workflowsNextBuild';
import { attribute, collectMessages } from './helpers/queues';
import { startE2EStack, testRecipientHashKey } from './helpers/stack';
import { spawnWorker, workerEnvironment, type WorkerProcess } from './helpers/workerProcess';

const run = Date.now().toString(36);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const RECIPIENTS = 10;
/** Per recipient: advertisements (capped) and orders (never capped). */
const ADS = 16;
const ORDERS = 4;
const CAP = 12;
/** The staging lead of this rehearsal: staged 15 s before T. */
const LEAD_SECONDS = 15;
/** A morning gate's plan freezes at least this long before the staging lead, and up to a lead more (src/workflows/morningGate.ts). */
const GATE_FREEZE_SECONDS = 60;
/** Rescheduled ones go this long after T. */
const RESCHEDULED_AFTER_T_MS = 10_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(500);
  }
}

describe('a deploy while notifications are held (dev server, ElasticMQ, worker process, temporal CLI)', () => {
  test('v1 holds 200 under a cap with changes and retries; v2 ramps, becomes current, v1 drains and stops; the release: 0 lost, 0 stuck, 0 early, every status true', { timeout: 900_000 }, async (t) => {
    const began = Date.now();
    const phase = (what: string) => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
    const stack = await startE2EStack({ dynamicConfig: FAST_VERSION_DRAINAGE });
    const { port } = new URL(stack.config.sqs.endpoint!);
    // v1 reaches SQS only through this proxy; it refuses while the retrying ones fail.
    const proxy = await startLoopbackProxy({ host: '127.0.0.1', port: Number(port) });
    const cli = await provisionTemporalCli();
    assert.equal(cli.executable.type, 'existing-path');
    const temporalCli = (cli.executable as { path: string }).path;
    const deploymentName = `deploy-e2e-${run}`;
    const taskQueue = `deploy-${run}`;
    const deliveryQueue = `deploy-${run}`;
    const temporal = (...args: string[]) => runCommand(temporalCli, [...args, '--address', stack.env.address]);
    let v1: WorkerProcess | undefined;
    let v2: Worker | undefined;
    let v2Running: Promise<void> | undefined;
    try {
      const deliveryUrl = await ensureQueue(stack.sqs, deliveryQueue);
      const config: Config = { ...stack.config, temporal: { ...stack.config.temporal, taskQueue }, sqs: { ...stack.config.sqs, deliveryQueue } };

      // 1. v1, current.
      v1 = spawnWorker(
        workerEnvironment(config, {
          NOTIFY_TASK_QUEUE: taskQueue,
          NOTIFY_DELIVERY_QUEUE: deliveryQueue,
          AWS_ENDPOINT_URL_SQS: proxy.endpoint,
          NOTIFY_WORKER_DEPLOYMENT_NAME: deploymentName,
          NOTIFY_BUILD_ID: 'v1',
        }),
        { name: 'worker-v1' },
      );
      await v1.ready;
      assert.match(v1.output(), new RegExp(`as ${deploymentName} build v1`));
      // The version exists once its workers have polled; until then the server does not know it.
      await until('v1 to be known', () => temporal('worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName, '--build-id', 'v1', '--yes'));

      phase('v1 current');
      // The changes must reach the morning gates before their plans freeze (the earliest, eleven
      // minutes before the staging lead, or less with a shorter lead), and the deploy must be over before the lead: both take about 10 s here; the
      // rest is margin for a loaded machine (the test fails, saying so, if either runs late).
      const releaseAtMs = nextWholeMinute((2 * LEAD_SECONDS + GATE_FREEZE_SECONDS) * 1000 + 40_000, Date.now());
      const freezeAtMs = earliestFreezeAtMs(releaseAtMs, LEAD_SECONDS * 1000);
      phase(`T in ${((releaseAtMs - Date.now()) / 1000).toFixed(0)} s`);
      const rehearsal = rehearsalEndingAt(releaseAtMs, config.policy);
      const notifications = new NotificationClient({
        client: stack.env.client,
        taskQueue,
        policy: rehearsal.policy,
        recipientHashKey: testRecipientHashKey(),
        prestageSeconds: LEAD_SECONDS,
        morningCap: { cap: CAP, overflow: 'drop' },
      });
      const held: NotificationInput[] = [];
      for (let recipient = 0; recipient < RECIPIENTS; recipient += 1) {
        for (let index = 0; index < ADS + ORDERS; index += 1) {
          held.push({
            notificationId: `deploy-${run}-r${recipient}-${index}`,
            recipient: { id: `deploy-user-${run}-${recipient}`, timeZone: rehearsal.timeZone },
            channel: 'kakaotalk',
            category: index < ADS ? 'advertising' : 'order',
            payload: { recipient, index },
          });
        }
      }
      const scheduled = await notifications.scheduleMany(held);
      assert.deepEqual(scheduled.filter((result) => !result.ok || !result.started).slice(0, 3), [], 'not all were started');

      phase('200 held');
      // Changes during the hold, on v1, before the gates freeze: per recipient one advertisement
      // cancelled (its place goes to the next in line) and two rescheduled past T (they leave their gate).
      const cancelled = new Set<string>();
      const rescheduled = new Set<string>();
      for (let recipient = 0; recipient < RECIPIENTS; recipient += 1) {
        const id = (index: number) => `deploy-${run}-r${recipient}-${index}`;
        assert.equal((await notifications.cancel(id(0))).cancelled, true);
        cancelled.add(id(0));
        for (const index of [1, 2]) {
          await notifications.reschedule(id(index), new Date(releaseAtMs + RESCHEDULED_AFTER_T_MS));
          rescheduled.add(id(index));
        }
      }

      phase('changed');
      // The reconciler's runs are pinned to the build they begin on. One begun on v1 while v1 is cut
      // off from SQS would retry against it until its drain gives up, and v1 would not drain before
      // the release: the reconciler's Schedule pauses while v1 is cut off, and resumes on v2.
      const reconcileSchedule = reconcileScheduleHandle(stack.env.client);
      await reconcileSchedule.pause('v1 is cut off from SQS');
      const openReconcilerRuns = `WorkflowType = 'reconcileLegacyQueueWorkflow' AND ExecutionStatus = 'Running'`;
      await until('no reconciler run open', async () => ((await stack.env.client.workflow.count(openReconcilerRuns)).count === 0 ? true : undefined));
      // Retrying on v1: sends with consent go at once, and v1's SQS refuses.
      await proxy.refuse();
      const retrying: NotificationInput[] = Array.from({ length: 10 }, (_, index) => ({
        notificationId: `deploy-${run}-retry-${index}`,
        recipient: { id: `deploy-retry-${run}-${index}`, nightConsent: true, timeZone: rehearsal.timeZone },
        channel: 'sms',
        category: 'advertising',
        payload: { index },
      }));
      for (const input of retrying) await notifications.schedule(input);
      await until('the sends to fail on v1', async () => {
        const statuses = await Promise.all(retrying.map((input) => notifications.status(input.notificationId)));
        return statuses.every((status) => status.status === 'retrying') ? true : undefined;
      });
      assert.ok(Date.now() < freezeAtMs, "the changes ran into the morning gates' freeze: the cap would not count as expected");

      phase('retrying');
      // 2. v2: its workers poll, it is ramped, then made current.
      v2 = await createConfiguredWorker({ ...config, versioning: { deploymentName, buildId: 'v2' } }, stack.env.nativeConnection, {
        workflowsPath: require.resolve('./fixtures/workflowsNextBuild'),
        bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
      });
      v2Running = v2.run();
      await until('v2 to be known', () => temporal('worker', 'deployment', 'set-ramping-version', '--deployment-name', deploymentName, '--build-id', 'v2', '--percentage', '50', '--yes'));
      await sleep(5_000);
      await temporal('worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName, '--build-id', 'v2', '--yes');
      const deployment = JSON.parse((await temporal('worker', 'deployment', 'describe', '--name', deploymentName, '--output', 'json')).stdout) as {
        routingConfig?: { currentVersionBuildID?: string };
      };
      assert.equal(deployment.routingConfig?.currentVersionBuildID, 'v2', JSON.stringify(deployment));

      phase('v2 current');
      await reconcileSchedule.unpause('v2 is current');
      // 3. v1 stops once the server reports it drained (its pinned runs, the reconciler's, are over).
      const describeV1 = async () =>
        JSON.parse((await temporal('worker', 'deployment', 'describe-version', '--deployment-name', deploymentName, '--build-id', 'v1', '--output', 'json')).stdout) as {
          drainageInfo?: { drainageStatus?: string };
        };
      await until('v1 to drain', async () => ((await describeV1()).drainageInfo?.drainageStatus === 'drained' ? true : undefined), 180_000).catch(async (error: Error) => {
        // Say what keeps it: the open workflows pinned to it, as visibility lists them.
        const pinned: string[] = [];
        for await (const execution of stack.env.client.workflow.list({ query: `ExecutionStatus = 'Running' AND TemporalWorkflowVersioningBehavior = 'Pinned'` })) {
          pinned.push(`${execution.workflowId} (${execution.type}, ${JSON.stringify(execution.searchAttributes.TemporalWorkerDeploymentVersion ?? [])})`);
        }
        throw new Error(`${error.message}: ${JSON.stringify((await describeV1()).drainageInfo)}; open pinned workflows: ${pinned.join(', ') || 'none'}`);
      });
      await v1.stop();
      assert.ok(Date.now() < releaseAtMs - LEAD_SECONDS * 1000 - 5_000, 'the deploy ran into the staging lead: the held notifications did not all begin on v2');

      phase('v1 drained and stopped');
      // 4. The release. Every notification ends; the retrying ones (v2 reaches SQS) deliver too.
      const everyone = [...held, ...retrying];
      const results = new Map<string, NotificationResult>();
      const ended = Promise.all(everyone.map(async (input) => results.set(input.notificationId, await notifications.result(input.notificationId))));
      ended.catch(() => undefined); // raced below; once the test has failed, its calls end with the connection
      // A workflow stuck in a failing task never ends: say which, instead of waiting for the test's timeout.
      let deadline: NodeJS.Timeout | undefined;
      const endedInTime = await Promise.race([
        ended.then(() => true),
        new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(false), releaseAtMs + RESCHEDULED_AFTER_T_MS + 120_000 - Date.now()))),
      ]).finally(() => clearTimeout(deadline));
      if (!endedInTime) {
        const open = everyone.filter((input) => !results.has(input.notificationId));
        const stuck = await Promise.all(
          open.slice(0, 5).map(async (input) => {
            const description = await notifications.handle(input.notificationId).describe();
            const task = description.raw.pendingWorkflowTask;
            return `${input.notificationId}: ${description.status.name}, workflow task attempt ${task?.attempt ?? '-'}`;
          }),
        );
        assert.fail(`${open.length} notifications did not end, e.g.\n${stuck.join('\n')}`);
      }
      const delivered = everyone.filter((input) => results.get(input.notificationId)!.status === 'delivered').map((input) => input.notificationId);
      const receivedAt = new Map<string, number>();
      const messages = await collectMessages(stack.sqs, deliveryUrl, { expected: delivered.length, timeoutMs: 120_000, quietMs: 5_000, receivedAt });

      phase('released and collected');
      // 0 lost, every status true: delivered ⇔ on the queue exactly once; nothing else on it.
      const onQueue = new Map<string, Message[]>();
      for (const message of messages) onQueue.set(attribute(message, 'notificationId')!, [...(onQueue.get(attribute(message, 'notificationId')!) ?? []), message]);
      const statuses = new Map<string, number>();
      for (const result of results.values()) statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
      assert.deepEqual(
        { lost: delivered.filter((id) => !onQueue.has(id)), twice: [...onQueue].filter(([, copies]) => copies.length > 1).map(([id]) => id), unexpected: [...onQueue.keys()].filter((id) => !delivered.includes(id)) },
        { lost: [], twice: [], unexpected: [] },
      );
      // The cap: per recipient, the advertisements left in the gate (16 − 1 cancelled − 2 moved) beyond 12.
      assert.deepEqual(Object.fromEntries(statuses), { delivered: everyone.length - RECIPIENTS * 2, cancelled: RECIPIENTS, capped: RECIPIENTS * (ADS - 3 - CAP) });
      for (const id of cancelled) assert.equal(results.get(id)!.status, 'cancelled');
      // 0 early: none before its release (T; T + 10 s for the rescheduled).
      for (const message of messages) {
        const id = attribute(message, 'notificationId')!;
        const notBefore = rescheduled.has(id) ? releaseAtMs + RESCHEDULED_AFTER_T_MS : id.includes('-retry-') ? 0 : releaseAtMs;
        assert.ok(receivedAt.get(message.MessageId!)! >= notBefore, `${id} was received ${notBefore - receivedAt.get(message.MessageId!)!} ms before its release`);
      }

      // 0 stuck: no workflow task of any notification or gate failed for the code (nondeterminism,
      // an error); a task that lost a race with an update (UnhandledCommand) is the server's routine.
      const gates = [...new Set(held.map((input) => morningGateId(notifications.recipientSearchKey(input.recipient.id), new Date(releaseAtMs))))];
      assert.equal(gates.length, RECIPIENTS);
      const failedTasks: string[] = [];
      const beganOnV1: string[] = [];
      const unhandledCommand = temporalProto.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND;
      for (const workflowId of [...everyone.map((input) => `notification-${input.notificationId}`), ...gates]) {
        const events = (await stack.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        for (const event of events) {
          const cause = event.workflowTaskFailedEventAttributes?.cause;
          if (event.workflowTaskFailedEventAttributes && cause !== unhandledCommand) {
            failedTasks.push(`${workflowId}: ${temporalProto.api.enums.v1.WorkflowTaskFailedCause[cause ?? 0]}`);
          }
        }
        // The build that completed each workflow task, as the server recorded it.
        const builds = events.flatMap((event) => event.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? []);
        if (workflowId.startsWith('notification-') && builds[0] === 'v1') {
          beganOnV1.push(workflowId);
          // It moved to v2 and replayed there (AUTO_UPGRADE), unless it was done before the switch.
          const result = results.get(workflowId.replace(/^notification-/, ''))!;
          if (result.status !== 'cancelled') assert.equal(builds.at(-1), 'v2', `${workflowId} ended on ${builds.at(-1)}: ${builds.join(',')}`);
        }
      }
      assert.deepEqual(failedTasks, []);
      // The changed (cancelled, rescheduled, let back in) and retrying ones began on v1…
      for (const id of [...rescheduled, ...retrying.map((input) => input.notificationId)]) assert.ok(beganOnV1.includes(`notification-${id}`), `${id} did not begin on v1`);
      // …and carry no memo of v2 (patched() is false in their replay); those only held carry it.
      const memoOf = async (id: string) => (await notifications.handle(id).describe()).memo?.[NEXT_BUILD_PATCH];
      for (const id of [...rescheduled].slice(0, 5)) assert.equal(await memoOf(id), undefined, `${id} began on v1 yet carries v2's memo`);
      // The advertisements, which the cap concerns, began at once on v1 (to register); the orders
      // slept in their start delay, with no task before the deploy.
      const onlyHeld = held.filter((input) => !beganOnV1.includes(`notification-${input.notificationId}`));
      assert.deepEqual(
        onlyHeld.map((input) => input.notificationId),
        held.filter((input) => input.category === 'order').map((input) => input.notificationId),
        'the held notifications with no task before the deploy',
      );
      for (const input of onlyHeld.slice(0, 10)) assert.equal(await memoOf(input.notificationId), 'next', `${input.notificationId} did not run v2's code`);
      // The behaviours the server recorded: notifications and gates auto-upgrade.
      const behaviour = async (workflowId: string) =>
        (await stack.env.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo?.behavior;
      const autoUpgrade = temporalProto.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE;
      assert.equal(await behaviour(`notification-${onlyHeld[0]!.notificationId}`), autoUpgrade);
      assert.equal(await behaviour(gates[0]!), autoUpgrade);
    } finally {
      v1?.kill('SIGKILL');
      await v1?.exited;
      if (v2?.getState() === 'RUNNING') v2.shutdown();
      await v2Running?.catch(() => undefined);
      await proxy.close();
      await stack.stop();
    }
  });
});
