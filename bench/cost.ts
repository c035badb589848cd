/**
 * The price of one notification: the billable actions it causes over its whole life, read from the
 * Temporal server's own `action` counter (what Temporal Cloud bills by), for each path a
 * notification takes. A fresh dev server, ElasticMQ, the production worker in-process; each path
 * runs `n` notifications to the end, and the counter's growth divided by n is its cost.
 *
 * - at once: scheduled by day, sent at once;
 * - held: held by the quiet window (its start delay) and sent at the release;
 * - staged: held, and sent before the release with an SQS delay;
 * - morning cap: four advertisements per recipient held for one morning, cap 2 (its gates included);
 * - legacy: a legacy wait-queue message reconciled (the reconciler's own actions shared out), sent at once.
 */
import { NotificationClient } from '../src/client';
import type { Config } from '../src/config';
import { demoLegacyBodies, sendRawMessages } from '../src/legacy/legacySender';
import type { NotificationInput } from '../src/notification';
import { inRehearsalZone, nextWholeMinute, rehearsalEndingAt, type Rehearsal } from '../src/policy';
import { recipientHashKeyFromConfig } from '../src/security/recipientHash';
import type { reconcileLegacyQueueWorkflow } from '../src/workflows/reconcileLegacyQueue';
import { benchNotifications, deleteQueue, freshQueue, log, sleep, waitForCount } from './common';
import type { BenchSqs } from './downstream';
import { countsDelta, totalOf, type OperationCounts } from './metrics';
import { createBenchWorker } from './temporal';
import type { TemporalTargetFactory } from './temporalTarget';

/** Temporal Cloud's published pay-as-you-go rate: $50 per million actions (docs/capacity.md cites it). */
export const USD_PER_MILLION_ACTIONS = 50;

export interface PathCost {
  path: string;
  n: number;
  /** Actions per notification, by type, and in all. */
  actionsByType: OperationCounts;
  actionsPerNotification: number;
  /** At the published rate, per million notifications. */
  usdPerMillion: number;
}

/** One notification's path: schedules n and resolves once all are closed. */
type PathRun = (context: { client: (rehearsal: Rehearsal, extra?: object) => NotificationClient; taskQueue: string; runId: string; n: number }) => Promise<void>;

export async function runActionCost(options: { config: Config; bench: BenchSqs; target: TemporalTargetFactory; n: number }): Promise<PathCost[]> {
  const { config, bench, n } = options;
  const target = await options.target(config);
  const hashKey = recipientHashKeyFromConfig(config);
  const runId = `c${Date.now().toString(36)}`;
  const taskQueue = `bench-cost-${runId}`;
  const [deliveryQueueUrl, waitQueueUrl, deadLetterQueueUrl] = [
    await freshQueue(bench.sqs, 'bench-cost-delivery'),
    await freshQueue(bench.sqs, 'bench-cost-wait'),
    await freshQueue(bench.sqs, 'bench-cost-dead'),
  ];
  const clientFor = (rehearsal: Rehearsal, extra: object = {}) =>
    new NotificationClient({ client: target.env.client, taskQueue, policy: rehearsal.policy, recipientHashKey: hashKey, prestageSeconds: 0, ...extra });
  // By day: the window ended a minute ago (for recipients in the rehearsal's zone).
  const byDay = rehearsalEndingAt(Math.floor(Date.now() / 60_000) * 60_000 - 60_000, config.policy);
  const worker = await createBenchWorker({
    config,
    target,
    sqs: bench.sqs,
    taskQueue,
    queues: { deliveryQueueUrl, legacyWaitQueueUrl: waitQueueUrl, deadLetterQueueUrl },
    schedulerFor: (temporal) => new NotificationClient({ client: temporal, taskQueue, policy: byDay.policy, recipientHashKey: hashKey }),
  });
  const running = worker.run();
  const closed = (label: string, count: number) =>
    waitForCount(target.env.client, `TaskQueue = '${taskQueue}' AND WorkflowType = 'notificationWorkflow' AND ExecutionStatus != 'Running' AND WorkflowId STARTS_WITH 'notification-${label}'`, count, { pollMs: 500, stallMs: 120_000, what: `${label} closed` });
  const inputs = (label: string, count: number): NotificationInput[] =>
    benchNotifications(`${runId}`, count).map((input, index) => ({ ...input, notificationId: `${label}-${runId}-${index}` }));
  /** Held until a whole minute about 40 s ahead. */
  const heldUntilSoon = () => rehearsalEndingAt(nextWholeMinute(40_000, Date.now()), config.policy);

  const paths: [string, PathRun][] = [
    ['at once', async ({ n: count }) => {
      await clientFor(byDay).scheduleMany(inRehearsalZone(inputs('once', count), byDay));
      await closed('once', count);
    }],
    ['held, sent at the release', async ({ n: count }) => {
      const held = heldUntilSoon();
      await clientFor(held).scheduleMany(inRehearsalZone(inputs('held', count), held));
      await closed('held', count);
    }],
    ['held, staged', async ({ n: count }) => {
      const staged = heldUntilSoon();
      await clientFor(staged, { prestageSeconds: 900 }).scheduleMany(inRehearsalZone(inputs('staged', count), staged));
      await closed('staged', count);
    }],
    ['morning cap 2, four per recipient', async ({ n: count }) => {
      const ads = inputs('capped', count).map((input, index) => ({ ...input, category: 'advertising' as const, recipient: { id: `cap-${runId}-${Math.floor(index / 4)}` } }));
      const capped = heldUntilSoon();
      await clientFor(capped, { morningCap: { cap: 2, overflow: 'drop' } }).scheduleMany(inRehearsalZone(ads, capped));
      await closed('capped', count);
    }],
    ['legacy message, reconciled', async ({ n: count }) => {
      await sendRawMessages(bench.sqs, waitQueueUrl, demoLegacyBodies({ count, encoding: 'mixed', runId, timeZone: byDay.timeZone }));
      await target.env.client.workflow.execute<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', { taskQueue, workflowId: `bench-cost-reconcile-${runId}`, args: [{ maxRunSeconds: 600 }] });
      await waitForCount(target.env.client, `TaskQueue = '${taskQueue}' AND WorkflowType = 'notificationWorkflow' AND ExecutionStatus != 'Running' AND WorkflowId STARTS_WITH 'notification-legacy-'`, count, { pollMs: 500, stallMs: 120_000, what: 'legacy closed' });
    }],
  ];
  const results: PathCost[] = [];
  try {
    for (const [path, run] of paths) {
      const before = await target.actions();
      await run({ client: clientFor, taskQueue, runId, n });
      // Actions are counted when the frontend answers: a moment for the last ones.
      await sleep(2_000);
      const delta = countsDelta(before, await target.actions());
      const perType = Object.fromEntries(Object.entries(delta).map(([type, count]) => [type, count / n]));
      const perNotification = totalOf(delta) / n;
      results.push({ path, n, actionsByType: perType, actionsPerNotification: perNotification, usdPerMillion: perNotification * USD_PER_MILLION_ACTIONS });
      log(`  ${path}: ${perNotification.toFixed(2)} actions per notification (${Object.entries(perType).map(([type, count]) => `${type} ${count.toFixed(2)}`).join(', ')})`);
    }
    return results;
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    for (const url of [deliveryQueueUrl, waitQueueUrl, deadLetterQueueUrl]) await deleteQueue(bench.sqs, url);
    await target.stop();
  }
}
