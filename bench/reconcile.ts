/**
 * Migration speed: how fast the legacy reconciler turns a backlog on the wait queue into held
 * notifications, beside how fast producers schedule the same number with `scheduleMany`, in the
 * same run, each on a fresh dev server of its own beside one ElasticMQ, with the production worker
 * in-process.
 *
 * Both hold what they start (a quiet window ending an hour ahead), so nothing is sent: the figure
 * is the intake alone. The reconciler runs as the schedule runs it (reconcileLegacyQueueWorkflow,
 * bounded runs that continue as new), first on bodies without ids (the costlier path: each is named
 * by its content and checked against its neighbours in time), then on as many bodies that carry
 * their own notificationId (no neighbour to look up): the difference is what the lookups cost.
 */
import { NotificationClient } from '../src/client';
import type { Config } from '../src/config';
import { demoLegacyBodies, sendRawMessages } from '../src/legacy/legacySender';
import { inRehearsalZone, nextWholeMinute, rehearsalEndingAt, zoneWhereAfternoon } from '../src/policy';
import { recipientHashKeyFromConfig } from '../src/security/recipientHash';
import type { reconcileLegacyQueueWorkflow, ReconcileResult } from '../src/workflows/reconcileLegacyQueue';
import { benchNotifications, cpuByComponent, cpuDelta, deleteQueue, freshQueue, log } from './common';
import type { BenchSqs } from './downstream';
import { createBenchWorker, readServer, phaseCost, type PhaseCost } from './temporal';
import type { TemporalTarget, TemporalTargetFactory } from './temporalTarget';

export interface ReconcileResultRow {
  n: number;
  /** scheduleMany: notifications per second whose start the server accepted. */
  intakePerSecond: number;
  intakeMs: number;
  /** The reconciler: legacy messages per second turned into held notifications (started, and deleted from the wait queue). */
  reconcilePerSecond: number;
  reconcileMs: number;
  reconciled: ReconcileResult;
  /** The server's work per path. */
  intakeCost: PhaseCost;
  reconcileCost: PhaseCost;
  /** CPU ms per notification by process (the bench process hosts the worker and the client), per path: what bounds each rate on a shared machine. */
  cpuMsPerNotification: { intake: Record<string, number>; reconcile: Record<string, number> };
  /**
   * The reconciler again, on bodies that carry their own notificationId (no neighbours to look up).
   * The fields above are the pass on bodies without ids, flat as results written before this pass existed.
   */
  withIds?: ReconcilePass;
  /**
   * Whether each pass ran on a fresh server of its own. Results written before this field ran all
   * passes on one server, one after the other: the later passes found it holding more workflows.
   */
  freshServerPerPass?: boolean;
}

/** One reconciler run over a full wait queue. */
export interface ReconcilePass {
  reconcilePerSecond: number;
  reconcileMs: number;
  reconciled: ReconcileResult;
  cost: PhaseCost;
  cpuMsPerNotification: Record<string, number>;
}

/** A fresh server with the production worker in-process, for one pass. */
interface PassServer {
  target: TemporalTarget;
  client: NotificationClient;
  taskQueue: string;
}

export async function runReconcileVsIntake(options: { config: Config; bench: BenchSqs; target: TemporalTargetFactory; n: number; label: string }): Promise<ReconcileResultRow> {
  const { config, bench, n } = options;
  const runId = `r${Date.now().toString(36)}`;
  const [deliveryQueueUrl, waitQueueUrl, deadLetterQueueUrl] = [
    await freshQueue(bench.sqs, 'bench-reconcile-delivery'),
    await freshQueue(bench.sqs, 'bench-reconcile-wait'),
    await freshQueue(bench.sqs, 'bench-reconcile-dead'),
  ];
  const hashKey = recipientHashKeyFromConfig(config);
  /**
   * Every recipient's zone: where an hour from now is about 18:00. Each pass's rehearsal ends an hour
   * after it starts, about 17:00 to 19:00 there, so the recipients are held through the pass.
   */
  const recipientZone = zoneWhereAfternoon(nextWholeMinute(3_600_000, Date.now()));
  const perNotification = (from: Record<string, number>, to: Record<string, number>) =>
    Object.fromEntries(Object.entries(cpuDelta(from, to)).map(([name, ms]) => [name, Math.round((ms / n) * 100) / 100]));

  /**
   * Runs one pass on a fresh server: a server costs more per start the more workflows it already
   * holds (about a third more at 15,000 in memory), so passes that followed one another on one
   * server would be compared at different loads. Also times the pass and measures what it cost.
   */
  const onFreshServer = async <T extends object>(name: string, pass: (server: PassServer) => Promise<T>): Promise<T & { ms: number; cost: PhaseCost; cpuMsPerNotification: Record<string, number> }> => {
    const target = await options.target(config);
    const taskQueue = `bench-reconcile-${runId}-${name}`;
    // Held an hour: nothing is sent while a pass runs.
    const { policy } = rehearsalEndingAt(nextWholeMinute(3_600_000, Date.now()), config.policy);
    const settings = { taskQueue, policy, recipientHashKey: hashKey, prestageSeconds: 0 };
    const worker = await createBenchWorker({
      config,
      target,
      sqs: bench.sqs,
      taskQueue,
      queues: { deliveryQueueUrl, legacyWaitQueueUrl: waitQueueUrl, deadLetterQueueUrl },
      schedulerFor: (temporal) => new NotificationClient({ client: temporal, ...settings }),
    });
    const running = worker.run();
    try {
      const named = { 'temporal server': target.pids() };
      const cpuBefore = cpuByComponent(named);
      const before = await readServer(target);
      const start = performance.now();
      const result = await pass({ target, client: new NotificationClient({ client: target.env.client, ...settings }), taskQueue });
      const ms = performance.now() - start;
      const after = await readServer(target);
      return { ...result, ms, cost: phaseCost(before, after), cpuMsPerNotification: perNotification(cpuBefore, cpuByComponent(named)) };
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await target.stop();
    }
  };

  /** Times scheduleMany of n notifications (held, so nothing is sent). */
  const intakePass = () =>
    onFreshServer('intake', async ({ client }) => {
      const scheduled = await client.scheduleMany(inRehearsalZone(benchNotifications(runId, n), { timeZone: recipientZone }));
      const failed = scheduled.filter((result) => !result.ok || !result.started);
      if (failed.length > 0) throw new Error(`${failed.length} of ${n} were not started by scheduleMany`);
      return {};
    });

  /** Fills the wait queue with n bodies, then times reconcileLegacyQueueWorkflow until it has them all. */
  const reconcilePass = async (bodies: string[], name: string): Promise<ReconcilePass> => {
    await sendRawMessages(bench.sqs, waitQueueUrl, bodies, { concurrency: 16 });
    const { ms, cost, cpuMsPerNotification, reconciled } = await onFreshServer(name, async ({ target, taskQueue }) => ({
      reconciled: await target.env.client.workflow.execute<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', {
        taskQueue,
        workflowId: `bench-reconcile-${runId}-${name}`,
        args: [{ maxRunSeconds: 3_600 }],
      }),
    }));
    if (reconciled.started !== n) throw new Error(`the reconciler started ${reconciled.started} of ${n} (${name}): ${JSON.stringify(reconciled)}`);
    return { reconcilePerSecond: (n * 1000) / ms, reconcileMs: ms, reconciled, cost, cpuMsPerNotification };
  };

  try {
    log(`${options.label}: scheduleMany of ${n}, then the reconciler on ${n} legacy messages without ids and ${n} with, each on a fresh server`);
    const intake = await intakePass();
    const withoutIds = await reconcilePass(demoLegacyBodies({ count: n, encoding: 'mixed', runId, timeZone: recipientZone }), 'content-ids');
    const withIds = await reconcilePass(demoLegacyBodies({ count: n, encoding: 'mixed', runId: `${runId}-ids`, withIds: true, timeZone: recipientZone }), 'own-ids');
    const row: ReconcileResultRow = {
      n,
      freshServerPerPass: true,
      intakePerSecond: (n * 1000) / intake.ms,
      intakeMs: intake.ms,
      reconcilePerSecond: withoutIds.reconcilePerSecond,
      reconcileMs: withoutIds.reconcileMs,
      reconciled: withoutIds.reconciled,
      intakeCost: intake.cost,
      reconcileCost: withoutIds.cost,
      cpuMsPerNotification: { intake: intake.cpuMsPerNotification, reconcile: withoutIds.cpuMsPerNotification },
      withIds,
    };
    const perN = (cost: PhaseCost, cpu: Record<string, number>) =>
      `${(Object.values(cost.persistence).reduce((a, b) => a + b, 0) / n).toFixed(1)} persistence requests, CPU ms ${JSON.stringify(cpu)} per notification`;
    log(`  scheduleMany ${Math.round(row.intakePerSecond)}/s (${(row.intakeMs / 1000).toFixed(1)} s; ${perN(row.intakeCost, row.cpuMsPerNotification.intake)})`);
    log(`  reconciler ${Math.round(row.reconcilePerSecond)}/s (${(row.reconcileMs / 1000).toFixed(1)} s; ${perN(row.reconcileCost, row.cpuMsPerNotification.reconcile)})`);
    log(`  reconciler, bodies with their own ids ${Math.round(withIds.reconcilePerSecond)}/s (${(withIds.reconcileMs / 1000).toFixed(1)} s; ${perN(withIds.cost, withIds.cpuMsPerNotification)})`);
    return row;
  } finally {
    for (const url of [deliveryQueueUrl, waitQueueUrl, deadLetterQueueUrl]) await deleteQueue(bench.sqs, url);
  }
}
