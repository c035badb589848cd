/**
 * Every path a notification can take: one record of its state, and the transitions between its
 * phases. Pure (no Temporal import, no clock: `nowMs` is always given), so that the workflow that
 * drives it (src/workflows/notification.ts) reads as the process, and so that a unit test can walk
 * any path without a server.
 *
 * ```
 *                 ┌──────────── consent, reschedule: decided again (it may move to another morning) ──┐
 *                 ▼                                                                                    │
 *   ──start──▶  held ───────────────────────────────────────────────────────────────────────────────────┘
 *               │  │ (retrying: held again after a failed attempt, with its last error)
 *               │  ├─ cancel ──────────────────────────────────────────────▶ cancelled
 *               │  ├─ wake, released at or after its expiry ───────────────▶ expired
 *               │  ├─ its morning's verdict (at the freeze): capped, collapsed ▶ capped / collapsed
 *               │  ├─ its send deadline passed (the next quiet window) ─────▶ held for the next window,
 *               │  │                                                          or failed after too many
 *               │  ├─ wake, no morning or admitted ──▶ sending ──delivered──▶ delivered
 *               │  │                                      └──failed────────▶ held (retrying) or failed
 *               │  └─ its morning's gate locks it ───▶ in-digest ─sent────▶ digested
 *               │                                          └──failed────────▶ held (retrying) or failed
 *   A change that arrives while an attempt is under way (sending, in-digest) waits for its outcome:
 *   it applies if the attempt did not deliver, and is refused, saying since when, if it did.
 * ```
 *
 * A morning: when the morning cap or a collapse key concerns the release (src/policy/morning.ts),
 * the notification registers with that morning's gate (the gate of the release it will really go
 * at, decided on the server's clock), and leaves it when its decision moves or it ends unsent. The
 * gate freezes the morning's plan shortly before the staging lead and tells it its verdict.
 */
import { MESSAGE_FAILURES, MISCONFIGURATION_FAILURES } from '../failureTypes';
import type { NotificationStatus } from '../notification';
import type { MorningVerdict, SendDecision } from '../policy';

export type Phase = 'held' | 'sending' | 'in-digest' | 'ended';

/** How long a failing send is tried before the notification ends `failed`. */
export interface SendRetryLimits {
  /** Release windows in which every attempt failed (for a notification without a window: days). */
  maxFailedWindows: number;
  /** How long a queue that is missing or refuses access is retried, from its first such failure. */
  misconfiguredGraceSeconds: number;
  /** The longest wait between two failed attempts (default 60 s): the backoff doubles up to it. */
  maxBackoffSeconds?: number;
  /** The first wait after a failed attempt (default 1 s), where the doubling starts. */
  minBackoffSeconds?: number;
}

export const DEFAULT_SEND_RETRY_LIMITS: SendRetryLimits = Object.freeze({ maxFailedWindows: 3, misconfiguredGraceSeconds: 900 });

/** Without a quiet window to end a retry period, a day of failing counts as one failed window. */
export const RETRY_PERIOD_WITHOUT_WINDOW_MS = 24 * 3_600_000;

/** Backoff between failed attempts (throttling, network, SQS 5xx): 1 s, doubling, at most a minute (or the limits' min and max). */
export function retryBackoffMs(failedAttempts: number, { maxBackoffSeconds = 60, minBackoffSeconds = 1 }: Pick<SendRetryLimits, 'maxBackoffSeconds' | 'minBackoffSeconds'> = {}): number {
  return Math.min(maxBackoffSeconds * 1000, minBackoffSeconds * 1000 * 2 ** Math.min(30, Math.max(0, failedAttempts - 1)));
}

export interface SendFailure {
  message: string;
  type?: string;
}

/** What the delivery queue answered: the message id, and when it was handed over and became receivable. */
export interface Delivery {
  messageId: string;
  stagedAt: string;
  /** The earliest instant it can have become receivable ("never early" is judged on this). */
  releasedAt: string;
  /** The latest instant it can have become receivable (the deadline is judged on this). */
  receivableBy?: string;
  /** Set when it went out inside its morning's digest: the digest's notification id. */
  digestId?: string;
  /** The IANA time zone data the worker that sent it decided with (its Node's ICU), e.g. 2026e. */
  zoneData?: string;
}

/** How one attempt ended, its own or its morning's digest's. */
export type AttemptOutcome =
  | { outcome: 'delivered'; delivery: Delivery }
  | { outcome: 'failed'; failure: SendFailure }
  /** The deadline came before it could be receivable: decide again. */
  | { outcome: 'window-closed' }
  /** A FIFO queue cannot delay one message: send at the release instead. */
  | { outcome: 'staging-unsupported' };

export interface MorningMembership {
  gateId: string;
  /** Its registration's number (the gate ignores anything older of this notification). */
  seq: number;
  /** Where the gate sends it at the release, once it asked (the gate decides shortly before the lead). */
  verdict?: MorningVerdict;
}

export interface NotificationState {
  phase: Phase;
  /** What it reports: held (or retrying) while held, sending during an attempt, its outcome once ended. */
  status: NotificationStatus;
  decision: SendDecision;
  /** The consent the decision was made with (the evidence records it). */
  decidedWithConsent: boolean;
  /** Sends this long before a release that may be staged; 0 after a queue refused to stage. */
  leadMs: number;
  morning?: MorningMembership;
  /** Registrations with a morning so far. */
  registrations: number;
  /** The digest attempt it is locked into (phase in-digest), and that attempt's outcome once told. */
  digestAttempt?: { gateId: string; attempt: number; outcome?: AttemptOutcome };
  failedAttempts: number;
  failedWindows: number;
  /** When the next attempt of its own may run, after a failure. */
  retryAtMs?: number;
  retryPeriodStartMs?: number;
  misconfiguredSinceMs?: number;
  lastError?: SendFailure;
  delivery?: Delivery;
  cancelRequested: boolean;
  /** Counts decisions and changes, so that a wait wakes when one arrives. */
  changes: number;
}

export function initialState(decision: SendDecision, nightConsent: boolean, leadMs: number): NotificationState {
  return { phase: 'held', status: 'held', decision, decidedWithConsent: nightConsent, leadMs, registrations: 0, failedAttempts: 0, failedWindows: 0, cancelRequested: false, changes: 0 };
}

/** Whether it still accepts a cancel, a consent change or a reschedule (one under way waits for its attempt). */
export function isOpen(state: NotificationState): boolean {
  return state.phase !== 'ended';
}

export function attemptUnderWay(state: NotificationState): boolean {
  return state.phase === 'sending' || state.phase === 'in-digest';
}

/** A new decision (consent, reschedule, the next window): failures start over. */
export function decided(state: NotificationState, decision: SendDecision, nightConsent: boolean): void {
  state.decision = decision;
  state.decidedWithConsent = nightConsent;
  state.failedAttempts = 0;
  state.retryAtMs = undefined;
  state.misconfiguredSinceMs = undefined;
  state.changes += 1;
}

export function ended(state: NotificationState, status: NotificationStatus): void {
  state.phase = 'ended';
  state.status = status;
  state.changes += 1;
}

export function joinedMorning(state: NotificationState, gateId: string | undefined): void {
  if (gateId === undefined) {
    state.morning = undefined;
    return;
  }
  state.registrations += 1;
  state.morning = { gateId, seq: state.registrations };
}

/** The gate locks it into an attempt at the digest: allowed only while it is held for that very morning. */
export function lockedIntoDigest(state: NotificationState, gateId: string, attempt: number, gateOfDecision: string | undefined): boolean {
  if (state.phase !== 'held' || state.cancelRequested || state.morning?.gateId !== gateId || gateOfDecision !== gateId) return false;
  state.phase = 'in-digest';
  state.status = 'sending';
  state.digestAttempt = { gateId, attempt };
  return true;
}

export type AfterAttempt =
  | { next: 'ended' }
  /** Held again; `deadlineReached` when the window closed and the loop must decide again. */
  | { next: 'held'; windowClosed: boolean }
  /** No retry can fix it, or it failed for longer than the limits allow. */
  | { next: 'failed'; failure: SendFailure; why?: string };

/**
 * An attempt (its own, or its digest's) ended. `deadlineMs` is its send deadline: a retry is
 * never later than that.
 */
export function attemptEnded(state: NotificationState, outcome: AttemptOutcome, nowMs: number, deadlineMs: number | undefined, limits: SendRetryLimits): AfterAttempt {
  const inDigest = state.phase === 'in-digest';
  state.digestAttempt = undefined;
  state.phase = 'held';
  state.status = state.failedAttempts > 0 ? 'retrying' : 'held';
  switch (outcome.outcome) {
    case 'delivered':
      state.delivery = outcome.delivery;
      ended(state, inDigest ? 'digested' : 'delivered');
      return { next: 'ended' };
    case 'staging-unsupported':
      state.leadMs = 0;
      return { next: 'held', windowClosed: false };
    case 'window-closed':
      return { next: 'held', windowClosed: true };
    case 'failed': {
      const { failure } = outcome;
      if (MESSAGE_FAILURES.includes(failure.type ?? '')) return { next: 'failed', failure };
      state.lastError = failure;
      state.failedAttempts += 1;
      state.retryPeriodStartMs ??= nowMs;
      if (MISCONFIGURATION_FAILURES.includes(failure.type ?? '')) {
        state.misconfiguredSinceMs ??= nowMs;
        if (nowMs - state.misconfiguredSinceMs >= limits.misconfiguredGraceSeconds * 1000) {
          return { next: 'failed', failure, why: `still failing after ${limits.misconfiguredGraceSeconds} s` };
        }
      } else {
        state.misconfiguredSinceMs = undefined;
      }
      if (deadlineMs === undefined && nowMs - state.retryPeriodStartMs >= RETRY_PERIOD_WITHOUT_WINDOW_MS) {
        const failedForGood = windowFailed(state, limits);
        if (failedForGood) return failedForGood;
      }
      state.status = 'retrying';
      // Never past the deadline: there the loop decides again (the next morning, or expired).
      state.retryAtMs = Math.min(nowMs + retryBackoffMs(state.failedAttempts, limits), deadlineMs ?? Number.POSITIVE_INFINITY);
      return { next: 'held', windowClosed: false };
    }
  }
}

/**
 * Its send window closed (the next quiet window began, or the expiry came). If attempts failed in
 * it, one more failed window, and the end once there were too many. The caller decides again from
 * the deadline: the next morning, or expired.
 */
export function sendWindowClosed(state: NotificationState, deadlineMs: number, expiryMs: number, limits: SendRetryLimits): Extract<AfterAttempt, { next: 'failed' }> | undefined {
  if (state.failedAttempts > 0 && deadlineMs < expiryMs) return windowFailed(state, limits);
  return undefined;
}

function windowFailed(state: NotificationState, limits: SendRetryLimits): Extract<AfterAttempt, { next: 'failed' }> | undefined {
  state.failedWindows += 1;
  state.retryPeriodStartMs = undefined;
  if (state.failedWindows >= limits.maxFailedWindows) {
    return { next: 'failed', failure: state.lastError ?? { message: 'every attempt failed' }, why: `every attempt failed in ${state.failedWindows} release windows` };
  }
  return undefined;
}
