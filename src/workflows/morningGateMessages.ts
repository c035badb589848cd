/**
 * The messages between a morning gate (src/workflows/morningGate.ts) and the notifications it
 * decides for. Shared by the workflows, the client and the activities, so all sides agree.
 *
 * Notification → gate: signals (a burst of registrations for one recipient is buffered by the
 * server and handled in batches, with no limit of updates in flight). Gate → notification, from the
 * gate's activities: its verdict (a signal), and the digest's lock and outcome (updates, each to one
 * notification: the gate needs their answers). Nothing ever waits on the other side's worker while
 * holding a workflow task.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DigestEntry } from '../digest';
import type { Category, Channel } from '../notification';
import type { MorningVerdict } from '../policy';
import type { AttemptOutcome } from './notificationState';

/**
 * A notification joins this morning (it was scheduled for it, or moved to it). `seq` counts the
 * notification's own registrations: the gate ignores anything older than what it has seen of it,
 * so a registration that arrives after the same notification withdrew cannot bring it back.
 */
export interface GateRegistration {
  notificationId: string;
  seq: number;
  category: Category;
  channel: Channel;
  collapseKey?: string;
  priority?: number;
  /** When the notification was scheduled (epoch ms, the server's clock): the newer of two wins. */
  scheduledAtMs: number;
  /** Bytes its entry adds to a digest (only in digest mode); the payload itself comes with the lock. */
  digestBytes?: number;
}

export const registerSignal = defineSignal<[GateRegistration]>('register');

/** A notification leaves this morning (it ended, or moved to another release). */
export const withdrawSignal = defineSignal<[{ notificationId: string; seq: number }]>('withdraw');

/**
 * The gate's verdict for one registration of a notification (`seq`), told once the plan is frozen
 * (or at once, to a late registration): where it goes at the release. A signal: the gate tells a
 * morning's worth at its freeze without waiting for each notification's worker, and a verdict told
 * twice is the same verdict. A notification that moved or ended since ignores it.
 */
export const morningVerdictSignal = defineSignal<[{ gateId: string; seq: number; verdict: MorningVerdict }]>('morningVerdict');

/**
 * The gate is about to send its digest (attempt `attempt`): a notification still held for this
 * morning is locked into it (status `sending`, changes wait for the outcome) and answers its entry;
 * one that ended or moved answers `locked: false` and is left out.
 */
export const lockForDigestUpdate = defineUpdate<{ locked: true; entry: DigestEntry } | { locked: false }, [{ gateId: string; attempt: number }]>('lockForDigest');

/**
 * How one attempt at a digest ended, told to each notification it locked: exactly what its own
 * send would have answered (delivered carries the digest's id, message id and instants).
 */
export type DigestAttemptOutcome = AttemptOutcome;

export const digestOutcomeUpdate = defineUpdate<void, [{ gateId: string; attempt: number; result: DigestAttemptOutcome }]>('digestOutcome');

/** The gate of one recipient's morning: from the keyed recipient hash and the release instant. */
export function morningGateId(recipientHash: string, releaseAt: Date): string {
  return `morning-${recipientHash}-${releaseAt.getTime()}`;
}

export { digestIdOf } from '../digest';
