/**
 * One attempt at putting a message on the delivery queue, from workflow code: a notification's
 * own send, or a morning gate's digest. A local activity (no activity task to match, start and
 * complete on the server); its retries are the workflow's own, on the workflow's clock, so that
 * they stop at the send's deadline (a local activity's own timeouts run on the worker's wall clock).
 */
import { ActivityFailure, ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities, DeliveryRequest } from '../activities';
import { FAILURE_TYPES } from '../failureTypes';
import type { AttemptOutcome } from './notificationState';

const { deliverNotification } = proxyLocalActivities<Pick<Activities, 'deliverNotification'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function attemptDelivery(request: DeliveryRequest): Promise<AttemptOutcome> {
  try {
    const { messageId, stagedAt, releasedAt, receivableBy, zoneData } = await deliverNotification(request);
    return { outcome: 'delivered', delivery: { messageId, stagedAt, releasedAt, ...(receivableBy ? { receivableBy } : {}), ...(zoneData ? { zoneData } : {}) } };
  } catch (error) {
    // A local activity's failure arrives as the activity's own ApplicationFailure (a regular
    // activity's is wrapped in an ActivityFailure); a timeout as a TimeoutFailure.
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (!(cause instanceof ApplicationFailure)) {
      return { outcome: 'failed', failure: { message: cause instanceof Error ? cause.message : String(cause), type: cause instanceof Error ? cause.name : 'Error' } };
    }
    if (cause.type === FAILURE_TYPES.sendWindowClosed) return { outcome: 'window-closed' };
    if (cause.type === FAILURE_TYPES.stagingUnsupported) return { outcome: 'staging-unsupported' };
    return { outcome: 'failed', failure: { message: cause.message, ...(cause.type ? { type: cause.type } : {}) } };
  }
}
