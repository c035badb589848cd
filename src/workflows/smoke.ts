import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { sendSmokeMessage } = proxyActivities<Pick<Activities, 'sendSmokeMessage'>>({
  startToCloseTimeout: '30 seconds',
});

/**
 * The stack's smoke test: sleeps (12 hours by default, skipped in the time-skipping server) then
 * puts one message on the delivery queue, proving worker, timers and SQS work together.
 */
export async function smokeWorkflow(options: { sleepMs?: number; body?: string } = {}): Promise<{ messageId: string }> {
  await sleep(options.sleepMs ?? 12 * 60 * 60 * 1000);
  return sendSmokeMessage(options.body ?? 'smoke');
}
