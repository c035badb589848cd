/**
 * The reconciler's continue-as-new path, on the time-skipping test server.
 *
 * Real: the test server, the worker and the bundled reconcileLegacyQueueWorkflow. Stubbed: the
 * drainLegacyQueue activity, which reports a backlog that takes 150 calls to drain, so that one
 * run reaches its bound of 100 activity calls and continues as new (5,000 real messages would
 * take minutes; the drain itself is covered by legacy.workflow and legacy.e2e).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { DrainCounts } from '../src/legacy/drainCounts';
// The production bundle options: the policy, luxon and zod shared between workflows, as in a worker.
import { workflowCodeOptions } from '../src/workers/workflowCode';
import type { reconcileLegacyQueueWorkflow } from '../src/workflows/reconcileLegacyQueue';
import { testDataConverter, withTimeSkippingEnv } from './helpers/stack';

const TASK_QUEUE = 'reconcile-continue-as-new-test';
const CALLS_TO_EMPTY = 150;

type DrainResult = DrainCounts & { queueEmpty: boolean };

/** Call i (1-based) of the backlog: ten messages each, one of them a duplicate; the last is short. */
function backlogCall(call: number): DrainResult {
  if (call < CALLS_TO_EMPTY) return { received: 10, started: 8, forwarded: 1, alreadyPresent: 1, deadLettered: 0, queueEmpty: false };
  return { received: 3, started: 2, forwarded: 0, alreadyPresent: 0, deadLettered: 1, queueEmpty: true };
}

describe('reconciler over a long backlog (time-skipping, drain activity stubbed)', () => {
  const timeSkipping = withTimeSkippingEnv();

  test('continues as new after 100 calls and reports the counts of the whole chain', { timeout: 120_000 }, async () => {
    const env = timeSkipping.value;
    let calls = 0;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      ...workflowCodeOptions(),
      dataConverter: testDataConverter(),
      activities: {
        async drainLegacyQueue(): Promise<DrainResult> {
          calls += 1;
          return backlogCall(calls);
        },
      },
    });
    const workflowId = `reconcile-long-backlog-${Date.now()}`;
    const { result, firstRun } = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ maxRunSeconds: 600 }],
      });
      const result = await handle.result();
      const firstRun = await env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).describe();
      return { result, firstRun };
    });

    const expected = Array.from({ length: CALLS_TO_EMPTY }, (_, index) => backlogCall(index + 1)).reduce(
      (sum, call) => ({
        received: sum.received + call.received,
        started: sum.started + call.started,
        forwarded: sum.forwarded + call.forwarded,
        alreadyPresent: sum.alreadyPresent + call.alreadyPresent,
        deadLettered: sum.deadLettered + call.deadLettered,
      }),
      { received: 0, started: 0, forwarded: 0, alreadyPresent: 0, deadLettered: 0 },
    );
    assert.equal(calls, CALLS_TO_EMPTY, 'the chain called the drain until the queue answered empty, and no more');
    assert.equal(firstRun.status.name, 'CONTINUED_AS_NEW');
    assert.deepEqual(result, { ...expected, queueEmpty: true });
  });
});
