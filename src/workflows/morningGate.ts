/**
 * The morning gate: one small workflow per recipient and release instant (the end of a quiet
 * window) that decides which of that recipient's held notifications go out then, and sends the
 * digest (src/policy/morning.ts: the collapse key and the morning cap).
 *
 * 1. Until the freeze (shortly before the staging lead), notifications register and withdraw
 *    themselves (signals, from their own workflows: only a notification that exists is ever
 *    counted, in the gate of the release it will really go at). Nothing is decided yet.
 * 2. At the freeze (a minute before the staging lead, and up to ten more, by gate: the morning's
 *    gates freeze one after another), the plan of everything registered is computed once, and each
 *    notification is told its verdict (capped and collapsed ones end then). A late registration
 *    gets only a place that was never taken, and its verdict at once.
 * 3. In digest mode, when the staging lead begins, the gate locks the digest's notifications that are still
 *    held for this morning (each answers its entry), sends one message of those, and tells each how
 *    the attempt ended: `digested` once the digest is on the queue, or the failure, which it counts
 *    as its own. A failed attempt is tried again until the send's deadline, exactly as a lone
 *    advertisement is; a notification cancelled between attempts is not locked into the next.
 * 4. It stays a few minutes past the release for registrations that raced with it.
 *
 * Deterministic: its clock is the workflow's, and every side effect is an activity.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Digest, DigestEntry } from '../digest';
import { formatEvidence } from '../evidence';
import { FAILURE_TYPES } from '../failureTypes';
import type { Channel } from '../notification';
import { admitLate, assertValidRules, freezeMorning, morningSpreadOffsetMs, type FrozenMorning, type MorningEntry, type MorningRules, type MorningVerdict } from '../policy';
import { NotificationCategoryKey, NotificationChannelKey, NotificationEvidenceKey, NotificationReleaseAtKey, NotificationStatusKey } from '../searchAttributes';
import { digestIdOf, registerSignal, withdrawSignal, type GateRegistration } from './morningGateMessages';
import { retryBackoffMs, type AttemptOutcome, type Delivery } from './notificationState';
import { attemptDelivery } from './sendAttempt';

export interface MorningGateInput {
  /** The recipient's id, for the digest's body (encrypted in history like every payload). */
  recipientId: string;
  /** The release this gate decides: the end of the recipient's quiet window, ISO-8601. */
  releaseAt: string;
  rules: MorningRules;
  /** The staging lead (ms): admitted notifications begin to send this long before the release. */
  leadMs: number;
  /** The digest must be receivable before this instant (the next quiet window), ISO-8601. */
  deadline?: string;
  /** The longest and the first wait between failed attempts at the digest, as its notifications' own sends (default 60 s and 1 s). */
  maxBackoffSeconds?: number;
  minBackoffSeconds?: number;
  /** The grounds the digest is released on, for its evidence: the zone and window the morning was decided in. */
  grounds: { zone: string; window: string; narrowerThanLaw?: boolean };
  /** What a continued run carries over. */
  state?: GateState;
}

interface GateState {
  registered: GateRegistration[];
  /** The newest registration number seen of each notification (registered or withdrawn). */
  seen: Record<string, number>;
  frozen?: { verdicts: Record<string, MorningVerdict>; digest: string[]; placesTaken: number };
  /** Registrations whose verdict is decided but not yet told. */
  untold: string[];
  digestAttempts: number;
  digestDone: boolean;
}

export interface MorningGateResult {
  releaseAt: string;
  counts: Record<MorningVerdict['outcome'], number>;
  /** The digest this gate sent, if any: its message id and what it merged. */
  digest?: { notificationId: string; messageId: string; entries: string[]; releasedAt: string };
  digestFailure?: string;
}

/** The plan freezes at least this long before staging begins, so that every notification has its verdict when it wakes. */
export const FREEZE_BEFORE_STAGING_MS = 60_000;
/**
 * The gates of one morning spread their freezes over up to this long before that (by gate id, and
 * never more than the staging lead), so that a morning's verdicts are told over minutes rather
 * than all in one instant.
 */
export const FREEZE_SPREAD_MS = 10 * 60_000;

/** When a gate freezes its plan: a minute before the staging lead, less its spread offset. */
export function freezeAtMsOf(gateId: string, releaseAtMs: number, leadMs: number): number {
  return releaseAtMs - leadMs - FREEZE_BEFORE_STAGING_MS - morningSpreadOffsetMs(gateId, Math.min(FREEZE_SPREAD_MS, leadMs) / 1000);
}

/** The earliest any gate of a release freezes (tests place their changes before it). */
export function earliestFreezeAtMs(releaseAtMs: number, leadMs: number): number {
  return releaseAtMs - leadMs - FREEZE_BEFORE_STAGING_MS - Math.min(FREEZE_SPREAD_MS, leadMs);
}
/** A gate stays this long after its release for registrations that raced with it. */
const OPEN_AFTER_RELEASE_MS = 5 * 60_000;

/**
 * Activities, not local ones: while they wait for a thousand notifications' answers, the gate
 * holds no workflow task (and no slot of its worker's), and its history records one result.
 */
const { tellVerdicts, lockDigestMembers, tellDigestOutcome } = proxyActivities<Pick<Activities, 'tellVerdicts' | 'lockDigestMembers' | 'tellDigestOutcome'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export async function morningGateWorkflow(input: MorningGateInput): Promise<MorningGateResult> {
  const rules = validRules(input.rules);
  const releaseAtMs = Date.parse(input.releaseAt);
  // 0 once the queue refused to stage (a FIFO queue): the digest is then sent at the release.
  let leadMs = input.leadMs;
  const freezeAtMs = freezeAtMsOf(workflowInfo().workflowId, releaseAtMs, leadMs);
  const deadlineMs = input.deadline === undefined ? Number.POSITIVE_INFINITY : Date.parse(input.deadline);
  const gateId = workflowInfo().workflowId;
  const registered = new Map((input.state?.registered ?? []).map((registration) => [registration.notificationId, registration]));
  const seen = new Map(Object.entries(input.state?.seen ?? {}));
  let frozen: FrozenMorning | undefined = input.state?.frozen && {
    verdicts: new Map(Object.entries(input.state.frozen.verdicts)),
    digest: input.state.frozen.digest,
    placesTaken: input.state.frozen.placesTaken,
  };
  const untold = new Set(input.state?.untold ?? []);
  let digestAttempts = input.state?.digestAttempts ?? 0;
  let digestDone = input.state?.digestDone ?? false;
  let digest: MorningGateResult['digest'];
  let digestFailure: string | undefined;

  const entries = () => [...registered.values()].map(asEntry);
  setHandler(registerSignal, (registration) => {
    if (!validRegistration(registration) || (seen.get(registration.notificationId) ?? -1) >= registration.seq) return;
    seen.set(registration.notificationId, registration.seq);
    registered.set(registration.notificationId, registration);
    if (!frozen) return;
    frozen = admitLate(frozen, entries(), asEntry(registration), rules);
    untold.add(registration.notificationId);
  });
  setHandler(withdrawSignal, ({ notificationId, seq }) => {
    if ((seen.get(notificationId) ?? -1) > seq) return;
    seen.set(notificationId, seq);
    // After the freeze its place stays taken: it may have been on its way.
    registered.delete(notificationId);
    untold.delete(notificationId);
  });

  const carryOn = async () => {
    await condition(allHandlersFinished);
    const state: GateState = {
      registered: [...registered.values()],
      seen: Object.fromEntries(seen),
      ...(frozen ? { frozen: { verdicts: Object.fromEntries(frozen.verdicts), digest: frozen.digest, placesTaken: frozen.placesTaken } } : {}),
      untold: [...untold],
      digestAttempts,
      digestDone,
    };
    return continueAsNew<typeof morningGateWorkflow>({ ...input, state });
  };

  // 1. Registrations until the freeze; continue as new before the history grows too long.
  while (!frozen) {
    if (Date.now() >= freezeAtMs) {
      frozen = freezeMorning(entries(), rules);
      for (const notificationId of registered.keys()) untold.add(notificationId);
    } else if (workflowInfo().continueAsNewSuggested) {
      return carryOn();
    } else {
      await condition(() => workflowInfo().continueAsNewSuggested, freezeAtMs - Date.now());
    }
  }

  // 2, 3, 4. Tell verdicts as they are decided; the digest just after the staging lead begins, and
  // again after a failure until its deadline; open until a few minutes past the release.
  const digestMembers = () => frozen!.digest.filter((notificationId) => registered.has(notificationId));
  const endAtMs = releaseAtMs + OPEN_AFTER_RELEASE_MS;
  let digestDueAtMs = releaseAtMs - leadMs;
  for (;;) {
    if (untold.size > 0) {
      const verdicts = [...untold].map((notificationId) => ({ notificationId, seq: registered.get(notificationId)!.seq, verdict: frozen!.verdicts.get(notificationId)! }));
      untold.clear();
      await tellVerdicts({ gateId, verdicts });
      continue;
    }
    const digestPending = !digestDone && digestMembers().length > 0;
    if (digestPending && Date.now() >= digestDueAtMs) {
      const retryAtMs = await attemptDigest();
      if (retryAtMs !== undefined) digestDueAtMs = retryAtMs;
      continue;
    }
    if (!digestPending && Date.now() >= endAtMs) break;
    if (workflowInfo().continueAsNewSuggested) return carryOn();
    const wakeAtMs = digestPending ? digestDueAtMs : endAtMs;
    await condition(() => untold.size > 0 || workflowInfo().continueAsNewSuggested, Math.max(1, wakeAtMs - Date.now()));
  }

  /** One attempt at the digest; the instant of the next, if it failed and may be tried again. */
  async function attemptDigest(): Promise<number | undefined> {
    digestAttempts += 1;
    const locked = await lockDigestMembers({ gateId, attempt: digestAttempts, notificationIds: digestMembers() });
    const merged = digestMembers().filter((notificationId) => locked[notificationId]);
    if (merged.length === 0) {
      digestDone = true;
      return undefined;
    }
    const result = await sendDigest(input, leadMs, gateId, merged.map((notificationId) => locked[notificationId]!), registered);
    await tellDigestOutcome({ gateId, attempt: digestAttempts, notificationIds: merged, result });
    switch (result.outcome) {
      case 'delivered':
        digest = { notificationId: digestIdOf(gateId), messageId: result.delivery.messageId, entries: merged, releasedAt: result.delivery.releasedAt };
        recordDigest(input, result.delivery, registered.get(merged[0]!)?.channel, merged.length);
        digestDone = true;
        return undefined;
      case 'failed': {
        digestFailure = result.failure.message;
        const retryAtMs = Date.now() + retryBackoffMs(digestAttempts, input);
        // At its deadline its notifications decide again, as a lone advertisement would: the next morning's gate.
        if (retryAtMs >= deadlineMs) digestDone = true;
        return retryAtMs;
      }
      case 'window-closed':
        digestDone = true;
        return undefined;
      case 'staging-unsupported':
        // The next attempt sends at the release, without a delay.
        leadMs = 0;
        return releaseAtMs;
    }
  }

  await condition(allHandlersFinished);
  const counts = { admitted: 0, collapsed: 0, capped: 0, digested: 0 };
  for (const verdict of frozen.verdicts.values()) counts[verdict.outcome] += 1;
  return { releaseAt: input.releaseAt, counts, ...(digest ? { digest } : {}), ...(digestFailure && !digest ? { digestFailure } : {}) };
}

/** A registration as the plan reads it. */
function asEntry(registration: GateRegistration): MorningEntry {
  return {
    notificationId: registration.notificationId,
    category: registration.category,
    collapseKey: registration.collapseKey,
    priority: registration.priority,
    scheduledAtMs: registration.scheduledAtMs,
    digestBytes: registration.digestBytes,
  };
}

/** The channel most of the merged notifications use (ties: the highest ranked one's). */
function digestChannel(merged: readonly GateRegistration[]): Channel {
  const counts = new Map<Channel, number>();
  for (const registration of merged) counts.set(registration.channel, (counts.get(registration.channel) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

/** One attempt at the digest, staged like the notifications it merges. */
async function sendDigest(input: MorningGateInput, leadMs: number, gateId: string, entries: DigestEntry[], registered: Map<string, GateRegistration>): Promise<AttemptOutcome> {
  const digest: Digest = {
    kind: 'digest',
    notificationId: digestIdOf(gateId),
    recipient: { id: input.recipientId },
    channel: digestChannel(entries.map((entry) => registered.get(entry.notificationId)!).filter(Boolean)),
    entries,
  };
  const result = await attemptDelivery({
    notification: digest,
    scheduledAt: workflowInfo().startTime.toISOString(),
    decidedAt: new Date(Date.now()).toISOString(),
    ...(Date.parse(input.releaseAt) > Date.now() && leadMs > 0 ? { releaseAt: input.releaseAt } : {}),
    releaseReason: 'held-quiet-hours',
    dueAt: input.releaseAt,
    ...(input.deadline ? { deadline: input.deadline } : {}),
    ...(input.grounds.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
  });
  return result.outcome === 'delivered' ? { outcome: 'delivered', delivery: { ...result.delivery, digestId: digest.notificationId } } : result;
}

/**
 * The digest is a released advertisement of its own: the gate records it as a notification does
 * (status, release, evidence), so that the compliance report counts it.
 */
function recordDigest(input: MorningGateInput, delivery: Delivery, channel: Channel | undefined, merged: number): void {
  upsertSearchAttributes([
    { key: NotificationStatusKey, value: 'delivered' },
    { key: NotificationCategoryKey, value: 'advertising' },
    ...(channel ? [{ key: NotificationChannelKey, value: channel }] : []),
    { key: NotificationReleaseAtKey, value: new Date(input.releaseAt) },
    {
      key: NotificationEvidenceKey,
      value: formatEvidence({
        reason: 'held-quiet-hours',
        nightConsent: false,
        heldCategory: true,
        zone: input.grounds.zone,
        window: input.grounds.window,
        receivableAt: delivery.releasedAt,
        ...(delivery.receivableBy ? { receivableBy: delivery.receivableBy } : {}),
        ...(input.grounds.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
        ...(delivery.zoneData ? { zoneData: delivery.zoneData } : {}),
        merged,
      }),
    },
  ]);
}

function validRules(rules: MorningRules): MorningRules {
  try {
    return assertValidRules(rules);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`invalid morning rules: ${(error as Error).message}`, FAILURE_TYPES.invalidPolicy);
  }
}

/** A signal can come from anything that speaks Temporal: one without an id and a number is ignored. */
function validRegistration(registration: GateRegistration): boolean {
  return typeof registration?.notificationId === 'string' && Number.isInteger(registration.seq) && Number.isFinite(registration.scheduledAtMs);
}
