import { sleep } from '@temporalio/workflow';

/**
 * The least a held notification can be on Temporal: one workflow that sleeps on a timer until the
 * release instant and completes. No activity, no search attributes, no SQS. Its release rate on a
 * dev server is the ceiling for any workflow-per-notification design on that server.
 */
export async function releaseFloorWorkflow(releaseAtMs: number): Promise<void> {
  // Date.now() in workflow code is the workflow's own (replay-safe) clock.
  await sleep(Math.max(0, releaseAtMs - Date.now()));
}
