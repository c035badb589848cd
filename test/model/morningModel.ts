/**
 * A small model of what the scheduler promises for one recipient's nights, written from the rules
 * in docs/guarantees.md and nothing else (no code of src/ but the contract's types): the quiet
 * window on Seoul's clock (no daylight saving time there), the morning plan, its freeze, the
 * staging lead, late registrations (each told its verdict at once, capped and collapsed ones ending
 * then), outages and their release windows.
 *
 * The model is told each command and how far time moved; it predicts what each change answers
 * (accepted, or refused because the message is already on the queue or ended) and, in the end, the
 * status of every notification and what is on the queue. test/model/morningCommands.ts runs the
 * same commands against the real workflows and compares.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const KST_OFFSET = 9 * HOUR;

/** Milliseconds since the last KST midnight. */
export function kstTimeOfDay(ms: number): number {
  return (((ms + KST_OFFSET) % DAY) + DAY) % DAY;
}

/** The first instant strictly after `ms` that reads `hh:mm:ss` in Seoul. */
export function nextKst(ms: number, hh: number, mm: number, ss = 0): number {
  const target = (hh * 3600 + mm * 60 + ss) * 1000;
  const now = kstTimeOfDay(ms);
  const ahead = (((target - now) % DAY) + DAY) % DAY;
  return ms + (ahead === 0 ? DAY : ahead);
}

/** Inside the law's window [21:00, 08:00) in Seoul. */
export function inQuietWindow(ms: number): boolean {
  const t = kstTimeOfDay(ms);
  return t >= 21 * HOUR || t < 8 * HOUR;
}

/** The end of the window holding `ms` (the next 08:00). */
function windowEnd(ms: number): number {
  return kstTimeOfDay(ms) === 8 * HOUR ? ms : nextKst(ms, 8, 0);
}

/** The start of the next window at or after `ms` (the next 21:00). */
function windowStart(ms: number): number {
  return inQuietWindow(ms) ? ms : nextKst(ms, 21, 0);
}

export interface NotificationSpec {
  name: string;
  category: 'advertising' | 'order';
  priority: number;
  collapseKey?: string;
}

export interface Rules {
  cap: number;
  overflow: 'drop' | 'digest';
  /** The staging lead (ms). */
  leadMs: number;
}

/** The plan freezes this long before the staging lead (docs/guarantees.md). */
export const FREEZE_BEFORE_STAGING_MS = MINUTE;
/** Release windows in which every attempt failed before a notification ends failed. */
export const MAX_FAILED_WINDOWS = 3;
/** Without a window to end a retry period, a day of failing counts as one. */
const RETRY_PERIOD_WITHOUT_WINDOW_MS = DAY;

type Verdict = { outcome: 'admitted' | 'digested' | 'capped' } | { outcome: 'collapsed'; replacedBy: string };

export type FinalStatus = 'delivered' | 'digested' | 'cancelled' | 'capped' | 'collapsed' | 'failed';

interface Decision {
  releaseMs: number;
  /** The morning it is held for: the window's end, when the quiet window pushed it. */
  morningMs?: number;
  /** It must be receivable before this (the next window), when the window applies. */
  deadlineMs?: number;
}

interface Modelled {
  spec: NotificationSpec;
  id: string;
  started: boolean;
  startMs: number;
  consent: boolean;
  notBeforeMs?: number;
  decision: Decision;
  /** The morning it is registered with, when the cap or its key concerns that release. */
  morningMs?: number;
  verdict?: Verdict;
  status: 'held' | 'retrying' | FinalStatus;
  /** A send that is due but failing (an outage): since when. */
  failingSinceMs?: number;
  failedWindows: number;
  /** Where its content went: alone at an instant, or in a morning's digest. */
  sent?: { alone: true; atMs: number } | { alone: false; morningMs: number };
  /** Night-time consent at the instant it went out alone (the law's test of a night send). */
  consentWhenSent?: boolean;
}

interface Morning {
  ms: number;
  /** Registered notifications (a registration that ended unsent, or moved, is withdrawn). */
  registered: Set<string>;
  frozen?: { verdicts: Map<string, Verdict>; digest: string[]; placesTaken: number };
  digestSent: boolean;
  /** Digest members whose digest failed while they were in it (their attempts count). */
  digestFailing: boolean;
}

export type ChangeAnswer = 'accepted' | 'refused';

export class MorningModel {
  readonly notifications = new Map<string, Modelled>();
  readonly mornings = new Map<number, Morning>();
  outage = false;
  nowMs: number;

  constructor(
    readonly rules: Rules,
    startMs: number,
    /** How long before the rest of its freeze instant the gate of a morning freezes (its spread offset). */
    private readonly freezeOffsetMs: (morningMs: number) => number = () => 0,
  ) {
    this.nowMs = startMs;
  }

  /** A minute before the staging lead, less the gate's own offset (docs/guarantees.md). */
  freezeAtMs(morningMs: number): number {
    return morningMs - this.rules.leadMs - FREEZE_BEFORE_STAGING_MS - this.freezeOffsetMs(morningMs);
  }

  // ---- what the rules say -------------------------------------------------------------------

  private decide(atMs: number, n: Modelled): Decision {
    const fromMs = n.notBeforeMs !== undefined && n.notBeforeMs > atMs ? n.notBeforeMs : atMs;
    // The default policy holds every category without consent (docs/configuration.md).
    if (!n.consent && inQuietWindow(fromMs)) {
      const end = windowEnd(fromMs);
      return { releaseMs: end, morningMs: end, deadlineMs: windowStart(end) };
    }
    return { releaseMs: fromMs, ...(n.consent ? {} : { deadlineMs: windowStart(fromMs) }) };
  }

  /** The cap or a collapse key concerns a release held by the window. */
  private concernsMorning(n: Modelled): boolean {
    return n.decision.morningMs !== undefined && (n.spec.collapseKey !== undefined || (this.rules.cap > 0 && n.spec.category === 'advertising'));
  }

  /** When it next has something to do: the staging lead before a release outside the window, else the release. */
  private wakeMs(n: Modelled): number {
    const stageable = !inQuietWindow(n.decision.releaseMs);
    return n.decision.releaseMs - (stageable ? this.rules.leadMs : 0);
  }

  /** Newest first, ties by id (larger first); higher priority first for the cap. */
  private plan(names: string[]): NonNullable<Morning['frozen']> {
    const byNewest = (a: Modelled, b: Modelled) => b.startMs - a.startMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    const members = names.map((name) => this.notifications.get(name)!);
    const verdicts = new Map<string, Verdict>();
    const survivors: Modelled[] = [];
    const keys = new Map<string, Modelled[]>();
    for (const n of members) {
      if (n.spec.collapseKey === undefined) survivors.push(n);
      else keys.set(n.spec.collapseKey, [...(keys.get(n.spec.collapseKey) ?? []), n]);
    }
    for (const group of keys.values()) {
      const [newest, ...older] = group.sort(byNewest);
      survivors.push(newest!);
      for (const n of older) verdicts.set(n.spec.name, { outcome: 'collapsed', replacedBy: newest!.id });
    }
    const ads = survivors.filter((n) => n.spec.category === 'advertising').sort((a, b) => b.spec.priority - a.spec.priority || byNewest(a, b));
    for (const n of survivors) if (n.spec.category !== 'advertising') verdicts.set(n.spec.name, { outcome: 'admitted' });
    const { cap, overflow } = this.rules;
    if (cap === 0 || ads.length <= cap) {
      for (const n of ads) verdicts.set(n.spec.name, { outcome: 'admitted' });
      return { verdicts, digest: [], placesTaken: ads.length };
    }
    // With more than the cap: cap − 1 alone and one digest of the rest (a digest of one would be a
    // message in another envelope: then the cap goes alone and the rest are capped).
    const digest = overflow === 'digest' && ads.length - (cap - 1) >= 2 ? ads.slice(cap - 1).map((n) => n.spec.name) : [];
    const alone = digest.length > 0 ? cap - 1 : cap;
    ads.forEach((n, rank) => verdicts.set(n.spec.name, { outcome: rank < alone ? 'admitted' : digest.includes(n.spec.name) ? 'digested' : 'capped' }));
    return { verdicts, digest, placesTaken: alone + (digest.length > 0 ? 1 : 0) };
  }

  private morning(ms: number): Morning {
    let morning = this.mornings.get(ms);
    if (!morning) {
      morning = { ms, registered: new Set(), digestSent: false, digestFailing: false };
      this.mornings.set(ms, morning);
    }
    return morning;
  }

  /** Registers with the morning its decision holds it for (leaving the old one), as the real one does. */
  private syncMorning(n: Modelled): void {
    const target = this.concernsMorning(n) ? n.decision.morningMs : undefined;
    if (target === n.morningMs) return;
    if (n.morningMs !== undefined) this.mornings.get(n.morningMs)!.registered.delete(n.spec.name);
    n.morningMs = target;
    n.verdict = undefined;
    if (target === undefined) return;
    const morning = this.morning(target);
    morning.registered.add(n.spec.name);
    if (!morning.frozen) return;
    this.admitLate(morning, n);
    this.told(n, morning);
  }

  /** The gate tells a registration its verdict: capped and collapsed end then, unsent. */
  private told(n: Modelled, morning: Morning): void {
    const verdict = morning.frozen!.verdicts.get(n.spec.name)!;
    n.verdict = verdict;
    if (this.isOpen(n) && (verdict.outcome === 'capped' || verdict.outcome === 'collapsed')) this.end(n, verdict.outcome);
  }

  /** After the freeze: collapse into a registered survivor with its key; an ad takes a place only if one was never taken. */
  private admitLate(morning: Morning, n: Modelled): void {
    const frozen = morning.frozen!;
    const goes = (name: string) => ['admitted', 'digested'].includes(frozen.verdicts.get(name)?.outcome ?? '');
    const survivor = [...morning.registered].find((name) => name !== n.spec.name && goes(name) && this.notifications.get(name)!.spec.collapseKey === n.spec.collapseKey && n.spec.collapseKey !== undefined);
    if (survivor) {
      frozen.verdicts.set(n.spec.name, { outcome: 'collapsed', replacedBy: this.notifications.get(survivor)!.id });
    } else if (this.rules.cap > 0 && n.spec.category === 'advertising') {
      const free = frozen.placesTaken < this.rules.cap;
      frozen.verdicts.set(n.spec.name, { outcome: free ? 'admitted' : 'capped' });
      if (free) frozen.placesTaken += 1;
    } else {
      frozen.verdicts.set(n.spec.name, { outcome: 'admitted' });
    }
  }

  private end(n: Modelled, status: FinalStatus): void {
    n.status = status;
    n.failingSinceMs = undefined;
    // Ended unsent: it withdraws (its place frees only before the freeze).
    if (n.morningMs !== undefined && ['cancelled', 'failed'].includes(status)) this.mornings.get(n.morningMs)!.registered.delete(n.spec.name);
  }

  private redecide(n: Modelled, atMs: number): void {
    n.decision = this.decide(atMs, n);
    this.syncMorning(n);
  }

  private isOpen(n: Modelled): boolean {
    return n.started && (n.status === 'held' || n.status === 'retrying');
  }

  // ---- commands -------------------------------------------------------------------------------

  add(spec: NotificationSpec, id: string): void {
    this.notifications.set(spec.name, { spec, id, started: false, startMs: 0, consent: false, decision: { releaseMs: 0 }, status: 'held', failedWindows: 0 });
  }

  /** A schedule call; true when it starts a workflow (the first time, or after it failed), false for a producer's retry. */
  schedule(name: string, startMs: number): boolean {
    const n = this.notifications.get(name)!;
    if (!this.wouldStart(name)) return false;
    Object.assign(n, { started: true, consent: false, notBeforeMs: undefined, morningMs: undefined, verdict: undefined, status: 'held', failedWindows: 0 });
    n.startMs = startMs;
    this.nowMs = Math.max(this.nowMs, startMs);
    this.redecide(n, startMs);
    this.settle();
    return true;
  }

  cancel(name: string): ChangeAnswer {
    const n = this.notifications.get(name)!;
    if (!this.isOpen(n)) return 'refused';
    this.end(n, 'cancelled');
    return 'accepted';
  }

  consent(name: string, nightConsent: boolean): ChangeAnswer {
    return this.change(name, (n) => (n.consent = nightConsent));
  }

  reschedule(name: string, notBeforeMs: number | undefined): ChangeAnswer {
    return this.change(name, (n) => (n.notBeforeMs = notBeforeMs));
  }

  /** A change to an open notification is accepted, and it is decided again now; an ended one refuses it. */
  private change(name: string, apply: (n: Modelled) => void): ChangeAnswer {
    const n = this.notifications.get(name)!;
    if (!this.isOpen(n)) return 'refused';
    apply(n);
    this.redecide(n, this.nowMs);
    this.settle();
    return 'accepted';
  }

  setOutage(on: boolean): void {
    this.outage = on;
    this.settle();
  }

  /** Time passes to `toMs`: freezes, wakes, the digests and deadlines in their order. */
  advance(toMs: number): void {
    for (;;) {
      const next = this.nextEventMs();
      if (next === undefined || next > toMs) break;
      this.nowMs = next;
      this.settle();
    }
    this.nowMs = Math.max(this.nowMs, toMs);
    this.settle();
  }

  private nextEventMs(): number | undefined {
    const times: number[] = [];
    for (const morning of this.mornings.values()) {
      if (!morning.frozen) times.push(this.freezeAtMs(morning.ms));
    }
    for (const n of this.notifications.values()) {
      if (!this.isOpen(n)) continue;
      times.push(this.wakeMs(n));
      if (n.decision.deadlineMs !== undefined) times.push(n.decision.deadlineMs);
      if (n.failingSinceMs !== undefined && n.decision.deadlineMs === undefined) times.push(n.failingSinceMs + RETRY_PERIOD_WITHOUT_WINDOW_MS);
    }
    const future = times.filter((ms) => ms > this.nowMs);
    return future.length === 0 ? undefined : Math.min(...future);
  }

  /** Everything due at `nowMs`, until nothing more is. */
  private settle(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const morning of [...this.mornings.values()].sort((a, b) => a.ms - b.ms)) {
        if (!morning.frozen && this.nowMs >= this.freezeAtMs(morning.ms)) {
          morning.frozen = this.plan([...morning.registered]);
          for (const name of morning.registered) this.told(this.notifications.get(name)!, morning);
          changed = true;
        }
        if (morning.frozen && !morning.digestSent && this.nowMs >= morning.ms - this.rules.leadMs) changed = this.sendDigest(morning) || changed;
      }
      for (const n of this.notifications.values()) if (this.isOpen(n)) changed = this.step(n) || changed;
    }
  }

  /** The gate's digest, at the staging lead: the members still held for this morning, unless the queue fails. */
  private sendDigest(morning: Morning): boolean {
    const members = morning.frozen!.digest.filter((name) => morning.registered.has(name) && this.isOpen(this.notifications.get(name)!) && this.notifications.get(name)!.morningMs === morning.ms);
    if (members.length === 0) return false;
    const deadline = this.notifications.get(members[0]!)!.decision.deadlineMs!;
    if (this.nowMs >= deadline) return false;
    if (this.outage) {
      for (const name of members) this.failing(this.notifications.get(name)!);
      morning.digestFailing = true;
      return false;
    }
    morning.digestSent = true;
    for (const name of members) {
      const n = this.notifications.get(name)!;
      n.sent = { alone: false, morningMs: morning.ms };
      this.end(n, 'digested');
    }
    return true;
  }

  private failing(n: Modelled): void {
    n.failingSinceMs ??= this.nowMs;
    n.status = 'retrying';
  }

  /** One notification at `nowMs`: its deadline, its wake, its verdict, its send. */
  private step(n: Modelled): boolean {
    const { decision } = n;
    if (decision.deadlineMs !== undefined && this.nowMs >= decision.deadlineMs) {
      // The window closed: if its attempts failed, one more failed window; then decided again.
      if (n.failingSinceMs !== undefined) {
        n.failedWindows += 1;
        n.failingSinceMs = undefined;
        if (n.failedWindows >= MAX_FAILED_WINDOWS) {
          this.end(n, 'failed');
          return true;
        }
      }
      this.redecide(n, decision.deadlineMs);
      return true;
    }
    if (n.failingSinceMs !== undefined && decision.deadlineMs === undefined && this.nowMs >= n.failingSinceMs + RETRY_PERIOD_WITHOUT_WINDOW_MS) {
      n.failedWindows += 1;
      n.failingSinceMs = this.nowMs;
      if (n.failedWindows >= MAX_FAILED_WINDOWS) {
        this.end(n, 'failed');
        return true;
      }
    }
    if (this.nowMs < this.wakeMs(n)) return false;
    if (n.morningMs !== undefined) {
      const morning = this.mornings.get(n.morningMs)!;
      if (!morning.frozen) return false;
      if (n.verdict?.outcome === 'digested') return false; // the gate sends it (sendDigest)
    }
    if (this.outage) {
      if (n.status !== 'retrying' || n.failingSinceMs === undefined) {
        this.failing(n);
        return true;
      }
      return false;
    }
    n.sent = { alone: true, atMs: Math.max(this.nowMs, decision.releaseMs) };
    n.consentWhenSent = n.consent;
    this.end(n, 'delivered');
    return true;
  }

  // ---- what the real run must show ------------------------------------------------------------

  expectedStatus(name: string): Modelled['status'] {
    return this.notifications.get(name)!.status;
  }

  expectedSend(name: string): Modelled['sent'] {
    return this.notifications.get(name)!.sent;
  }

  expectedVerdict(name: string): Verdict | undefined {
    return this.notifications.get(name)!.verdict;
  }

  /** Whether a schedule starts it: the first time, or again after it failed (docs/guarantees.md). */
  wouldStart(name: string): boolean {
    const n = this.notifications.get(name)!;
    return !n.started || n.status === 'failed';
  }

  started(name: string): boolean {
    return this.notifications.get(name)!.started;
  }

  /** Whether every started notification has ended. */
  settled(): boolean {
    return [...this.notifications.values()].every((n) => !n.started || !this.isOpen(n));
  }

  /** The latest instant at which anything is still to happen. */
  lastEventMs(): number {
    let last = this.nowMs;
    for (const n of this.notifications.values()) if (this.isOpen(n)) last = Math.max(last, n.decision.deadlineMs ?? n.decision.releaseMs);
    return last;
  }
}
