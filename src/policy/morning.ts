/**
 * The morning plan: which of one recipient's notifications, held for the same release, go out.
 *
 * - Collapse key: among notifications with the same key, only the newest is released; the others
 *   are `collapsed`, replaced by it. Any category may carry a key.
 * - Morning cap: at most `cap` advertisements go out (0: no cap). The highest priority go first,
 *   then the newest. The others overflow: `drop` ends them `capped`; `digest` merges them into one
 *   digest message, which counts as one of the cap, in rank order while it fits the queue's size
 *   limit; what does not fit is `capped`. Other categories are never capped.
 *
 * Pure and deterministic (ties are broken by id), so the morning gate, a replay of it and
 * `preview` all reach the same plan. The gate computes it once, over everything registered when it
 * freezes (shortly before the staging lead): until then a newer notification can push an earlier
 * one out, and a cancel can let one back in. After the freeze nothing that may be on its way is
 * taken back: a late registration gets only a place that was never taken (`admitLate`).
 */
import type { Category } from '../notification';
import { ALWAYS_HELD_CATEGORY } from './policy';
import type { SendDecision } from './quietHours';

export interface MorningEntry {
  notificationId: string;
  category: Category;
  collapseKey?: string;
  /** Higher goes first; default 0. */
  priority?: number;
  /** When it was scheduled (epoch ms): the newest wins a tie of priority, and a collapse. */
  scheduledAtMs: number;
  /** Bytes its entry adds to a digest message (see digestEntryBytes); needed in digest mode. */
  digestBytes?: number;
}

export type MorningOverflow = 'drop' | 'digest';

export interface MorningRules {
  /** The most advertisements one recipient gets at one release; 0 means no cap. */
  cap: number;
  overflow: MorningOverflow;
  /** Bytes a digest may hold for its entries (the queue's limit less the digest's own envelope). */
  digestCapacityBytes?: number;
}

export type MorningVerdict =
  | { outcome: 'admitted' }
  | { outcome: 'collapsed'; replacedBy: string }
  | { outcome: 'capped' }
  | { outcome: 'digested' };

export type MorningOutcome = MorningVerdict['outcome'];

export interface MorningPlan {
  verdicts: Map<string, MorningVerdict>;
  /** The digested notifications, in the order the digest lists them (highest rank first). */
  digest: string[];
}

/** Newest first; equal instants by id, so every replica orders them alike. */
function newerFirst(a: MorningEntry, b: MorningEntry): number {
  return b.scheduledAtMs - a.scheduledAtMs || (a.notificationId < b.notificationId ? 1 : a.notificationId > b.notificationId ? -1 : 0);
}

/** Higher priority first, then newest. */
function rankFirst(a: MorningEntry, b: MorningEntry): number {
  return (b.priority ?? 0) - (a.priority ?? 0) || newerFirst(a, b);
}

export function assertValidRules(rules: MorningRules): MorningRules {
  if (!Number.isInteger(rules.cap) || rules.cap < 0) throw new RangeError(`the morning cap must be a whole number ≥ 0, got ${String(rules.cap)}`);
  if (rules.overflow !== 'drop' && rules.overflow !== 'digest') throw new RangeError(`the morning overflow is drop or digest, got ${String(rules.overflow)}`);
  return rules;
}

export function planMorning(entries: readonly MorningEntry[], rules: MorningRules): MorningPlan {
  assertValidRules(rules);
  const verdicts = new Map<string, MorningVerdict>();
  // 1. Collapse: the newest of each key survives.
  const byKey = new Map<string, MorningEntry[]>();
  const survivors: MorningEntry[] = [];
  for (const entry of entries) {
    if (entry.collapseKey === undefined) survivors.push(entry);
    else byKey.set(entry.collapseKey, [...(byKey.get(entry.collapseKey) ?? []), entry]);
  }
  for (const group of byKey.values()) {
    const [newest, ...older] = [...group].sort(newerFirst);
    survivors.push(newest!);
    for (const entry of older) verdicts.set(entry.notificationId, { outcome: 'collapsed', replacedBy: newest!.notificationId });
  }
  // 2. Cap the advertisements; every other category goes.
  const advertisements = survivors.filter((entry) => entry.category === ALWAYS_HELD_CATEGORY).sort(rankFirst);
  for (const entry of survivors) if (entry.category !== ALWAYS_HELD_CATEGORY) verdicts.set(entry.notificationId, { outcome: 'admitted' });
  const digest: string[] = [];
  if (rules.cap === 0 || advertisements.length <= rules.cap) {
    for (const entry of advertisements) verdicts.set(entry.notificationId, { outcome: 'admitted' });
    return { verdicts, digest };
  }
  // The digest takes one of the cap's places, in rank order while it fits. A digest of fewer than
  // two would be one message in another envelope: then the place goes to the next individually.
  if (rules.overflow === 'digest') {
    let room = rules.digestCapacityBytes ?? Number.POSITIVE_INFINITY;
    for (const entry of advertisements.slice(rules.cap - 1)) {
      const bytes = entry.digestBytes ?? 0;
      if (bytes > room) continue;
      room -= bytes;
      digest.push(entry.notificationId);
    }
    if (digest.length < 2) digest.length = 0;
  }
  const individually = digest.length > 0 ? rules.cap - 1 : rules.cap;
  const digested = new Set(digest);
  advertisements.forEach((entry, rank) => {
    const outcome = rank < individually ? 'admitted' : digested.has(entry.notificationId) ? 'digested' : 'capped';
    verdicts.set(entry.notificationId, { outcome });
  });
  return { verdicts, digest };
}

/**
 * A morning's plan once its gate froze it: every verdict it gave, and how many of the cap's places
 * are taken (each admitted advertisement, and the digest). A place stays taken when its notification
 * is later cancelled or moves away: it may already be on the queue.
 */
export interface FrozenMorning {
  verdicts: Map<string, MorningVerdict>;
  /** The notifications the digest is to merge, highest rank first. */
  digest: string[];
  placesTaken: number;
}

/** Freezes the plan of everything registered now. */
export function freezeMorning(entries: readonly MorningEntry[], rules: MorningRules): FrozenMorning {
  const plan = planMorning(entries, rules);
  const admittedAds = entries.filter((entry) => entry.category === ALWAYS_HELD_CATEGORY && plan.verdicts.get(entry.notificationId)?.outcome === 'admitted').length;
  return { verdicts: plan.verdicts, digest: plan.digest, placesTaken: admittedAds + (plan.digest.length > 0 ? 1 : 0) };
}

/**
 * The verdict of a notification registered after the freeze, and the plan with it. It collapses
 * into a notification still registered with its key that goes (the earlier one wins now: it may be
 * on its way); an advertisement under a cap takes a place only if one was never taken; it never
 * joins the digest. Anything else goes.
 */
export function admitLate(frozen: FrozenMorning, registered: readonly MorningEntry[], late: MorningEntry, rules: MorningRules): FrozenMorning {
  const verdicts = new Map(frozen.verdicts);
  const goes = (entry: MorningEntry) => ['admitted', 'digested'].includes(verdicts.get(entry.notificationId)?.outcome ?? '');
  const survivor =
    late.collapseKey === undefined
      ? undefined
      : registered.find((entry) => entry.notificationId !== late.notificationId && entry.collapseKey === late.collapseKey && goes(entry));
  if (survivor) {
    verdicts.set(late.notificationId, { outcome: 'collapsed', replacedBy: survivor.notificationId });
    return { ...frozen, verdicts };
  }
  const capped = rules.cap > 0 && late.category === ALWAYS_HELD_CATEGORY;
  if (capped && frozen.placesTaken >= rules.cap) {
    verdicts.set(late.notificationId, { outcome: 'capped' });
    return { ...frozen, verdicts };
  }
  verdicts.set(late.notificationId, { outcome: 'admitted' });
  return { ...frozen, verdicts, placesTaken: frozen.placesTaken + (capped ? 1 : 0) };
}

/** The rules when nothing is capped: collapse keys still collapse. */
export const NO_MORNING_CAP: MorningRules = Object.freeze({ cap: 0, overflow: 'drop' });

/**
 * The morning a notification's release is decided with: the end of the quiet window that holds it,
 * if it is held there and the morning concerns it (an advertisement under a cap, or anything with a
 * collapse key). Undefined otherwise: a release at once, or at notBefore, has no morning to share.
 */
export function morningOf(decision: SendDecision, subject: { category: Category; collapseKey?: string }, rules: MorningRules): Date | undefined {
  if (decision.reason !== 'held-quiet-hours' || decision.expired || decision.windowEndsAt === undefined) return undefined;
  if (subject.collapseKey === undefined && !(rules.cap > 0 && subject.category === ALWAYS_HELD_CATEGORY)) return undefined;
  return decision.windowEndsAt;
}
