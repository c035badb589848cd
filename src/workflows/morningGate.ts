/**
 * The morning gate: one small workflow per recipient and release instant (the end of a quiet
 * window), that decides at intake which of that recipient's held notifications go out then
 * (src/policy/morning.ts: the collapse key and the morning cap).
 *
 * Each held notification that the cap or a collapse key concerns registers here when it is
 * scheduled (the client's update-with-start) and gets its verdict at once. When a later
 * registration, or a withdrawal (a cancel, a consent change, a reschedule), changes an earlier
 * verdict, the gate tells that notification (an update, which also ends its start delay, so its
 * status shows it at once). Admitted notifications then stage and send exactly as without a gate:
 * nothing coordinates at 08:00. The others end at their release as collapsed, capped or digested.
 *
 * A minute before the staging lead begins, the plan freezes: what may already be on the queue is
 * never taken back, and a late registration gets only a place that is still free. In digest mode
 * the gate itself sends the digest, staged like the others. It stays until a few minutes after the
 * release, so that a registration racing with the release still finds it.
 *
 * Deterministic: its clock is the workflow's, its side effects are local activities.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliveryResult } from '../activities';
import { digestEntryBytes, type Digest } from '../digest';
import { FAILURE_TYPES } from '../failureTypes';
import type { Channel } from '../notification';
import { assertValidRules, planMorning, type MorningEntry, type MorningRules, type MorningVerdict } from '../policy';
import { gateDigestQuery, registerUpdate, withdrawUpdate, type GateRegistration } from './morningGateMessages';

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
  /** What a continued run carries over. */
  state?: GateState;
}

interface GateState {
  entries: GateRegistration[];
  /** The verdict each notification was last told. */
  told: Record<string, MorningVerdict>;
  /** Notifications that can no longer be told anything (sent, or ended): their verdict stands. */
  settled: string[];
  /** How many changes were told so far: each gets its own update id. */
  tellSeq: number;
}

export interface MorningGateResult {
  releaseAt: string;
  counts: Record<MorningVerdict['outcome'], number>;
  /** The digest this gate sent, if any: its message id and what it merged. */
  digest?: { notificationId: string; messageId: string; entries: string[]; releasedAt: string };
  digestFailure?: string;
}

/** The plan freezes this long before staging begins, so that every change reaches its notification in time. */
const FREEZE_BEFORE_STAGING_MS = 60_000;
/** A gate stays this long after its release for registrations that raced with it. */
const OPEN_AFTER_RELEASE_MS = 5 * 60_000;
/**
 * A notification its client has not started yet (it starts it right after its registration) is
 * told again after 1 s, doubling; one still missing after this many tries was never started (its
 * client died): it leaves the plan, and its place frees.
 */
const MAX_RETELLS = 8;

const { tellNotifications } = proxyLocalActivities<Pick<Activities, 'tellNotifications'>>({ startToCloseTimeout: '1 minute' });
const { deliverNotification } = proxyLocalActivities<Pick<Activities, 'deliverNotification'>>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 1 } });

export async function morningGateWorkflow(input: MorningGateInput): Promise<MorningGateResult> {
  const rules = validRules(input.rules);
  const releaseAtMs = Date.parse(input.releaseAt);
  const stagingAtMs = releaseAtMs - input.leadMs;
  const gateId = workflowInfo().workflowId;
  const entries = new Map((input.state?.entries ?? []).map((entry) => [entry.notificationId, entry]));
  const told = new Map(Object.entries(input.state?.told ?? {}));
  const settled = new Set(input.state?.settled ?? []);
  const pending = new Set<string>();
  /** Tries at telling a notification that was not there yet, by id. */
  const misses = new Map<string, number>();
  let tellSeq = input.state?.tellSeq ?? 0;
  let frozen = Date.now() >= stagingAtMs - FREEZE_BEFORE_STAGING_MS;

  /** A settled notification keeps its place: ranked above everything else. */
  const asEntry = (registration: GateRegistration): MorningEntry => ({
    notificationId: registration.notificationId,
    category: registration.category,
    collapseKey: registration.collapseKey,
    priority: settled.has(registration.notificationId) && told.get(registration.notificationId)?.outcome === 'admitted' ? Number.MAX_SAFE_INTEGER : registration.priority,
    scheduledAtMs: registration.scheduledAtMs,
    digestBytes: registration.digestEntry ? digestEntryBytes(registration.digestEntry) : undefined,
  });
  const plan = () => planMorning([...entries.values()].map(asEntry), rules);
  /** Decides again; every notification whose verdict changed is to be told. */
  const replan = (): void => {
    for (const [id, verdict] of plan().verdicts) {
      if (!sameVerdict(told.get(id), verdict) && !settled.has(id)) pending.add(id);
    }
  };

  setHandler(
    registerUpdate,
    (registration): MorningVerdict => {
      const known = told.get(registration.notificationId);
      if (known && entries.has(registration.notificationId)) return known;
      if (frozen) {
        // What may be on the queue already stays; a late one gets a place only if one is free.
        const verdict = lateVerdict([...entries.values()].map(asEntry), asEntry(registration), told, rules);
        entries.set(registration.notificationId, registration);
        told.set(registration.notificationId, verdict);
        return verdict;
      }
      entries.set(registration.notificationId, registration);
      const verdict = plan().verdicts.get(registration.notificationId)!;
      told.set(registration.notificationId, verdict);
      replan();
      return verdict;
    },
    { validator: validRegistration },
  );
  setHandler(withdrawUpdate, ({ notificationId }) => {
    entries.delete(notificationId);
    told.delete(notificationId);
    pending.delete(notificationId);
    // After the freeze a freed place stays free: the others may be on their way already.
    if (!frozen) replan();
  });

  /** Tells the notifications whose verdict changed; one that is not there yet is told again shortly. */
  const tellPending = async (): Promise<void> => {
    const current = plan();
    const changes = [...pending].map((id) => ({ notificationId: id, verdict: current.verdicts.get(id) ?? told.get(id)!, seq: ++tellSeq }));
    pending.clear();
    const answers = await tellNotifications({ gateId, changes });
    let retellInMs: number | undefined;
    let planChanged = false;
    for (const { notificationId, verdict } of changes) {
      const answer = answers[notificationId];
      if (answer === 'told') {
        told.set(notificationId, verdict);
        misses.delete(notificationId);
      } else if (answer === 'settled') {
        settled.add(notificationId);
        planChanged = true;
      } else {
        const tries = (misses.get(notificationId) ?? 0) + 1;
        misses.set(notificationId, tries);
        if (tries >= MAX_RETELLS) {
          // Never started: it goes nowhere, and its place is someone else's.
          [entries, told, misses].forEach((map) => map.delete(notificationId));
          planChanged = true;
        } else {
          pending.add(notificationId);
          retellInMs = Math.min(retellInMs ?? Number.POSITIVE_INFINITY, 1_000 * 2 ** (tries - 1));
        }
      }
    }
    if (planChanged && !frozen) replan();
    if (retellInMs !== undefined) await sleep(retellInMs);
  };

  // Until the freeze: register, withdraw, tell. Continue as new before the history grows too long.
  while (!frozen) {
    const freezeAtMs = stagingAtMs - FREEZE_BEFORE_STAGING_MS;
    await condition(() => pending.size > 0 || workflowInfo().continueAsNewSuggested, Math.max(0, freezeAtMs - Date.now()));
    if (pending.size > 0) await tellPending();
    if (workflowInfo().continueAsNewSuggested && pending.size === 0) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof morningGateWorkflow>({
        ...input,
        state: { entries: [...entries.values()], told: Object.fromEntries(told), settled: [...settled], tellSeq },
      });
    }
    if (Date.now() >= freezeAtMs) frozen = true;
  }
  // Changes decided before the freeze still reach their notifications before they wake.
  while (pending.size > 0 && Date.now() < stagingAtMs) await tellPending();

  if (Date.now() < stagingAtMs) await sleep(stagingAtMs - Date.now());
  const final = plan();
  let digest: MorningGateResult['digest'];
  let digestFailure: string | undefined;
  setHandler(gateDigestQuery, () => (digest ? { notificationId: digest.notificationId, messageId: digest.messageId, releasedAt: digest.releasedAt } : null));
  if (final.digest.length > 0) {
    const sent = await sendDigest(input, gateId, final.digest.map((id) => entries.get(id)!));
    if ('failure' in sent) digestFailure = sent.failure;
    else digest = { notificationId: digestIdOf(gateId), messageId: sent.delivery.messageId, entries: final.digest, releasedAt: sent.delivery.releasedAt };
  }
  // Open a while longer for registrations that raced with the release (frozen: places only).
  await sleep(Math.max(0, releaseAtMs + OPEN_AFTER_RELEASE_MS - Date.now()));
  await condition(allHandlersFinished);
  const counts = { admitted: 0, collapsed: 0, capped: 0, digested: 0 };
  for (const verdict of told.values()) counts[verdict.outcome] += 1;
  return { releaseAt: input.releaseAt, counts, ...(digest ? { digest } : {}), ...(digestFailure ? { digestFailure } : {}) };
}

/** The digest's notification id: one per gate. */
export function digestIdOf(gateId: string): string {
  return `digest-${gateId.replace(/^morning-/, '')}`;
}

/** The channel most of the merged notifications use (ties: the highest ranked one's). */
function digestChannel(registrations: GateRegistration[]): Channel {
  const counts = new Map<Channel, number>();
  for (const registration of registrations) counts.set(registration.channel, (counts.get(registration.channel) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

/** Sends the digest, staged like the notifications it merges; retries what a retry can fix, until its deadline. */
async function sendDigest(input: MorningGateInput, gateId: string, merged: GateRegistration[]): Promise<{ delivery: DeliveryResult } | { failure: string }> {
  const digest: Digest = {
    kind: 'digest',
    notificationId: digestIdOf(gateId),
    recipient: { id: input.recipientId },
    channel: digestChannel(merged),
    entries: merged.map((registration) => registration.digestEntry!),
  };
  const deadlineMs = input.deadline === undefined ? Number.POSITIVE_INFINITY : Date.parse(input.deadline);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const delivery = await deliverNotification({
        notification: digest,
        scheduledAt: workflowInfo().startTime.toISOString(),
        decidedAt: new Date(Date.now()).toISOString(),
        ...(Date.parse(input.releaseAt) > Date.now() ? { releaseAt: input.releaseAt } : {}),
        releaseReason: 'held-quiet-hours',
        ...(input.deadline ? { deadline: input.deadline } : {}),
      });
      return { delivery };
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error;
      const message = cause instanceof Error ? cause.message : String(cause);
      const permanent = cause instanceof ApplicationFailure && cause.nonRetryable;
      const retryAtMs = Date.now() + Math.min(60_000, 1_000 * 2 ** (attempt - 1));
      if (permanent || retryAtMs >= deadlineMs) return { failure: message };
      await sleep(retryAtMs - Date.now());
    }
  }
}

/**
 * The verdict of a registration after the freeze: admitted only if a place is free without
 * changing anyone else's (what may be on the queue stays), collapsed into an earlier one with its
 * key, capped otherwise. A late one never joins the digest: it may be on its way already.
 */
function lateVerdict(current: MorningEntry[], late: MorningEntry, told: Map<string, MorningVerdict>, rules: MorningRules): MorningVerdict {
  const sameKey = late.collapseKey === undefined ? undefined : current.find((entry) => entry.collapseKey === late.collapseKey && told.get(entry.notificationId)?.outcome !== 'collapsed');
  if (sameKey) return { outcome: 'collapsed', replacedBy: sameKey.notificationId };
  const withLate = planMorning([...current, late], rules);
  const unchanged = current.every((entry) => sameVerdict(withLate.verdicts.get(entry.notificationId), told.get(entry.notificationId)));
  return unchanged && withLate.verdicts.get(late.notificationId)?.outcome === 'admitted' ? { outcome: 'admitted' } : { outcome: 'capped' };
}

function sameVerdict(a: MorningVerdict | undefined, b: MorningVerdict | undefined): boolean {
  return a?.outcome === b?.outcome && (a?.outcome !== 'collapsed' || a.replacedBy === (b as { replacedBy?: string }).replacedBy);
}

function validRules(rules: MorningRules): MorningRules {
  try {
    return assertValidRules(rules);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`invalid morning rules: ${(error as Error).message}`, FAILURE_TYPES.invalidPolicy);
  }
}

function validRegistration(registration: GateRegistration): void {
  if (typeof registration?.notificationId !== 'string' || !Number.isFinite(registration.scheduledAtMs)) {
    throw ApplicationFailure.nonRetryable('a registration needs a notificationId and scheduledAtMs', FAILURE_TYPES.invalidNotification);
  }
}
