/**
 * The floor of the release on a dev server: N workflows that only sleep until T and complete
 * (bench/floor/workflows.ts), scheduled, held and released exactly as the Temporal runs are. It
 * answers "would a leaner workflow beat the alternatives on this server?" without SQS in the way:
 * "arrival" is each workflow's close time.
 */
import { Worker } from '@temporalio/worker';
import type { Config } from '../../src/config';
import { dataConverterFromConfig } from '../../src/security/dataConverter';
import { startLocalServers } from '../../src/stack/localServers';
import { cpuByComponent, cpuDelta, inLanes, log, releaseFigures, sleep, waitForCount, type ReleaseFigures } from '../common';
import { nextWholeMinute, workflowBundle } from '../temporal';
import { releaseFloorWorkflow } from './workflows';

export interface FloorResult extends ReleaseFigures {
  system: string;
  intakePerSecond: number;
  cpuMs: Record<string, number>;
}

/** One floor release on a fresh in-memory dev server, with the production worker tuning. */
export async function runReleaseFloor(options: { config: Config; n: number; expectedIntakePerSecond: number; label?: string }): Promise<FloorResult> {
  const { config, n } = options;
  const runId = `f${Date.now().toString(36)}`;
  const taskQueue = `bench-floor-${runId}`;
  // config.sqs.endpoint is the benchmark's ElasticMQ, so only a dev server starts.
  const servers = await startLocalServers({ config, log: () => undefined });
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    worker = await Worker.create({
      connection: servers.env.nativeConnection,
      namespace: servers.config.temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(require.resolve('./workflows')),
      maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
      maxCachedWorkflows: config.worker.maxCachedWorkflows,
      dataConverter: dataConverterFromConfig(config),
    });
    running = worker.run();
    running.catch(() => undefined);
    const client = servers.env.client;
    const releaseAtMs = nextWholeMinute((n / options.expectedIntakePerSecond) * 1000 + 8_000);
    log(`${options.label ?? 'floor'}: starting ${n} timer-only workflows held until ${new Date(releaseAtMs).toISOString()}`);
    const scheduleStart = performance.now();
    // The same 32 starts in flight as NotificationClient.scheduleMany uses.
    await inLanes(Array.from({ length: n }, (_, index) => index), 32, async (index) => {
      await client.workflow.start(releaseFloorWorkflow, { args: [releaseAtMs], taskQueue, workflowId: `floor-${runId}-${index}` });
    });
    const scheduleMs = performance.now() - scheduleStart;
    if (Date.now() > releaseAtMs - 1_000) throw new Error(`starting ${n} took ${Math.round(scheduleMs)} ms and ran past T`);
    await sleep(releaseAtMs - Date.now() - 500);
    const cpuBefore = cpuByComponent();
    const completedQuery = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`;
    await waitForCount(client, completedQuery, n, { pollMs: 1_000, stallMs: 60_000, what: 'floor workflows completed' });
    const cpuMs = cpuDelta(cpuBefore, cpuByComponent());
    const closed = new Map<string, number>();
    for await (const execution of client.workflow.list({ query: completedQuery })) {
      closed.set(execution.workflowId, execution.closeTime!.getTime());
    }
    if (closed.size !== n) throw new Error(`${closed.size} of ${n} floor workflows completed`);
    const early = [...closed.values()].filter((closeMs) => closeMs < releaseAtMs).length;
    if (early > 0) throw new Error(`${early} floor workflows completed before T`);
    const figures = releaseFigures(closed, releaseAtMs);
    log(`  released ${n} in ${(figures.totalMs / 1000).toFixed(2)} s (${Math.round(figures.throughput)}/s); cpu ${JSON.stringify(cpuMs)}`);
    return { system: 'temporal floor (timer-only workflow)', ...figures, intakePerSecond: (n * 1000) / scheduleMs, cpuMs };
  } finally {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await servers.stop();
  }
}
