/**
 * The messages a running notification workflow answers. Shared by the workflow and the client,
 * so both sides agree on names and types.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { NotificationResult } from '../notification';

export type CancelOutcome =
  | { cancelled: true; status: 'cancelled'; releaseAt: string }
  /** Too late: delivery had started (or finished, or the notification expired) when the cancel arrived. */
  | { cancelled: false; status: NotificationResult['status']; releaseAt: string; releasedAt?: string; messageId?: string };

export const statusQuery = defineQuery<NotificationResult>('status');

/** Cancel a held notification; answers whether it worked and, if not, what happened instead. */
export const cancelUpdate = defineUpdate<CancelOutcome, []>('cancel');

/** Move the earliest send time (the quiet window still applies); re-decides the release at once. */
export const rescheduleUpdate = defineUpdate<NotificationResult, [{ notBefore: string | null }]>('reschedule');

/** The recipient gave or withdrew night-time consent; re-decides the release at once. */
export const updateConsentUpdate = defineUpdate<NotificationResult, [{ nightConsent: boolean }]>('updateConsent');
