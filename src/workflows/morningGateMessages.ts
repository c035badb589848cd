/**
 * The messages of the morning gate (src/workflows/morningGate.ts) and of the notifications it
 * decides for. Shared by the workflows, the client and the activities, so all sides agree.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DigestEntry } from '../digest';
import type { Category, Channel } from '../notification';
import type { MorningVerdict } from '../policy';

/** What a notification tells its gate when it is scheduled (or moves to this release). */
export interface GateRegistration {
  notificationId: string;
  category: Category;
  channel: Channel;
  collapseKey?: string;
  priority?: number;
  /** When the notification was scheduled (epoch ms): the newer of two wins. */
  scheduledAtMs: number;
  /** Its payload for a digest (only in digest mode). */
  digestEntry?: DigestEntry;
}

/** The verdict a registration gets at once. */
export type GateVerdict = MorningVerdict;

/** Register a held notification; answers its verdict for this morning. Idempotent per notification. */
export const registerUpdate = defineUpdate<GateVerdict, [GateRegistration]>('register');

/** A notification leaves this morning (cancelled, or moved to another release): its place frees. */
export const withdrawUpdate = defineUpdate<void, [{ notificationId: string }]>('withdraw');

/**
 * The gate's decision for a notification changed (a newer one pushed it out, or a cancel let it
 * back in). Ends its start delay, so that its status shows the verdict at once.
 */
export const morningVerdictUpdate = defineUpdate<void, [{ verdict: MorningVerdict; gateId: string }]>('morningVerdict');

/** The gate of one recipient's morning: from the keyed recipient hash and the release instant. */
export function morningGateId(recipientHash: string, releaseAt: Date): string {
  return `morning-${recipientHash}-${releaseAt.getTime()}`;
}

/** The digest a gate sent (once it has), for `status` of a digested notification. */
export const gateDigestQuery = defineQuery<{ notificationId: string; messageId: string; releasedAt: string } | null>('digest');

/** Where a notification goes at the release, as its gate told it (digested: into the gate's digest). */
export interface MorningAssignment {
  gateId: string;
  verdict: MorningVerdict;
}
