/**
 * The floor of the release on a Temporal server: N workflows that only sleep on a timer until T and
 * complete (bench/floor/workflows.ts), started, held and released as the Temporal runs are. It
 * answers "how fast could any workflow-per-notification design release on this server?" without
 * SQS in the way: "arrival" is each workflow's close time.
 */
import { Worker } from '@temporalio/worker';
import type { Config } from '../../src/config';
import { dataConverterFromConfig } from '../../src/security/dataConverter';
import { inLanes } from '../../src/inLanes';
import { cpuByComponent, cpuDelta, log, releaseFigures, sleep, waitForCount, type ReleaseFigures } from '../common';
import { totalOf } from '../metrics';
import { nextWholeMinute } from '../../src/policy';
import { phaseCost, readServer, TooLateError, workflowBundle, type PhaseCost } from '../temporal';
import { waitUntilIdle, type TemporalTargetFactory } from '../temporalTarget';
import { releaseFloorWorkflow } from './workflows';

export interface FloorResult extends ReleaseFigures {
  system: string;
  server: string;
  intakePerSecond: number;
  releaseAtMs: number;
  heldAfterLastStartMs: number;
  /** CPU ms per component from T until every workflow had completed. */
  cpuMs: Record<string, number>;
  phases: { intake: PhaseCost; window: PhaseCost; wholeLife: PhaseCost };
}

/** One floor release on a fresh Temporal server, with the production worker tuning. */
export async function runReleaseFloor(options: { config: Config; target: TemporalTargetFactory; n: number; expectedIntakePerSecond: number; label: string }): Promise<FloorResult> {
  const { config, n } = options;
  const runId = `f${Date.now().toString(36)}`;
  const taskQueue = `bench-floor-${runId}`;
  const target = await options.target(config);
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    worker = await Worker.create({
      connection: target.env.nativeConnection,
      namespace: target.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(require.resolve('./workflows')),
      maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
      maxCachedWorkflows: config.worker.maxCachedWorkflows,
      dataConverter: dataConverterFromConfig(config),
    });
    running = worker.run();
    running.catch(() => undefined);
    const client = target.env.client;
    const releaseAtMs = nextWholeMinute((n / options.expectedIntakePerSecond) * 1000 + 15_000, Date.now());
    log(`${options.label}: starting ${n} timer-only workflows held until ${new Date(releaseAtMs).toISOString()} (${target.description})`);
    const beforeIntake = await readServer(target);
    const completedBefore = (await target.serviceRequests()).RespondWorkflowTaskCompleted ?? 0;
    const scheduleStart = performance.now();
    // The same 32 starts in flight as NotificationClient.scheduleMany uses.
    await inLanes(Array.from({ length: n }, (_, index) => index), 32, async (index) => {
      await client.workflow.start(releaseFloorWorkflow, { args: [releaseAtMs], taskQueue, workflowId: `floor-${runId}-${index}` });
    });
    const scheduleMs = performance.now() - scheduleStart;
    const lastStartAt = Date.now();
    /** How many per second became held so far, from the first start: a late run's next T is placed by it. */
    const heldPace = (held: number) => (held * 1000) / (performance.now() - scheduleStart);
    // Held: every workflow has run its first task (started its timer; the server counts the
    // completed workflow tasks), and the server is idle.
    for (;;) {
      const completed = ((await target.serviceRequests()).RespondWorkflowTaskCompleted ?? 0) - completedBefore;
      if (completed >= n) break;
      if (Date.now() > releaseAtMs - 2_000) throw new TooLateError(scheduleMs, n, `had not all run their first task 2 s before T (${completed})`, heldPace(completed));
      await sleep(500);
    }
    const idleFrom = await waitUntilIdle(target, { deadlineMs: releaseAtMs - 2_000 });
    // All first tasks ran, but the server was still busy: held later than now, so slower than this pace.
    if (idleFrom === undefined || idleFrom > releaseAtMs - 2_000) throw new TooLateError(scheduleMs, n, 'were not all held 2 s before T', heldPace(n));
    const atHeld = await readServer(target);
    log(`  all ${n} held ${((idleFrom - lastStartAt) / 1000).toFixed(1)} s after the last start; ${((releaseAtMs - idleFrom) / 1000).toFixed(1)} s before T`);
    await sleep(releaseAtMs - Date.now() - 300);
    const atWindow = await readServer(target);
    const cpuBefore = cpuByComponent({ 'temporal server': target.pids() });
    const completedQuery = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`;
    await waitForCount(client, completedQuery, n, { pollMs: 1_000, stallMs: 60_000, what: 'floor workflows completed' });
    const cpuMs = cpuDelta(cpuBefore, cpuByComponent({ 'temporal server': target.pids() }));
    const atDone = await readServer(target);
    const closed = new Map<string, number>();
    for await (const execution of client.workflow.list({ query: completedQuery })) {
      closed.set(execution.workflowId, execution.closeTime!.getTime());
    }
    if (closed.size !== n) throw new Error(`${closed.size} of ${n} floor workflows completed`);
    const figures = releaseFigures(closed, releaseAtMs);
    if (figures.early > 0) log(`  !!! ${options.label}: ${figures.early} floor workflows completed before T`);
    const phases = { intake: phaseCost(beforeIntake, atHeld), window: phaseCost(atWindow, atDone), wholeLife: phaseCost(beforeIntake, atDone) };
    log(
      `  released ${n} in ${(figures.totalMs / 1000).toFixed(2)} s (${Math.round(figures.throughput)}/s); persistence requests per notification: ` +
        `release ${(totalOf(phases.window.persistence) / n).toFixed(1)}, whole life ${(totalOf(phases.wholeLife.persistence) / n).toFixed(1)}; ` +
        `server task errors in the release ${totalOf(phases.window.taskErrors ?? {})}; cpu ${JSON.stringify(cpuMs)}`,
    );
    return {
      system: 'temporal floor (timer-only workflow)',
      server: target.description,
      ...figures,
      intakePerSecond: (n * 1000) / scheduleMs,
      releaseAtMs,
      heldAfterLastStartMs: idleFrom - lastStartAt,
      cpuMs,
      phases,
    };
  } finally {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await target.stop();
  }
}
