/**
 * Properties of the quiet-hours policy over random instants, zones (many with DST, some with odd
 * offsets or transitions at midnight) and windows, checked against an oracle that reads the wall
 * clock with Intl.DateTimeFormat directly (not through luxon, not through the code under test).
 *
 * The oracle relies on one fact of the tz database for the years used (2000–2040): offsets are
 * whole minutes and transitions happen on whole UTC minutes. Window edges are whole minutes too,
 * so being inside the window cannot change within a UTC minute [k·60s, (k+1)·60s); checking one
 * instant per minute therefore checks every millisecond.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Category } from '../src/notification';
import {
  DEFAULT_POLICY,
  isInQuietWindow,
  morningSpreadOffsetMs,
  nextAllowedSendTime,
  quietWindowStart,
  sendDeadline,
  type PolicySubject,
  type QuietHoursPolicy,
} from '../src/policy';

const ZONES = [
  'Asia/Seoul',
  'UTC',
  'America/New_York',
  'Europe/London',
  'Australia/Sydney',
  'Australia/Lord_Howe', // 30-minute DST
  'Antarctica/Troll', // 2-hour DST
  'Pacific/Chatham', // +12:45 / +13:45
  'Asia/Kathmandu', // +05:45
  'Asia/Kolkata',
  'America/St_Johns', // -03:30 / -02:30
  'America/Santiago', // transitions at midnight: 00:00 does not exist some days
  'America/Havana', // transitions at midnight too
  'America/Sao_Paulo', // midnight transitions until 2019
  'Europe/Dublin', // "negative" DST in the tz database
  'Africa/Casablanca', // DST suspended for Ramadan: several transitions a year
  'Pacific/Apia', // skipped 2011-12-30 entirely
  'Asia/Tehran',
] as const;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const FROM = Date.UTC(2000, 0, 1);
const TO = Date.UTC(2040, 0, 1);

// ---------------------------------------------------------------------------------------------
// The oracle: the recipient's wall clock, from Intl.

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  return format;
}

/** Minutes since local midnight on the recipient's clock. */
function wallMinute(instant: number, zone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatter(zone).formatToParts(new Date(instant))) {
    if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

/** The UTC offset in minutes (for finding transitions when generating inputs). */
function offsetMinutes(instant: number, zone: string): number {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour) % 24,
    Number(parts.minute),
    Number(parts.second),
  );
  return Math.round((asUtc - (instant - (((instant % 1000) + 1000) % 1000))) / MINUTE);
}

interface Window {
  start: number; // minutes since midnight
  end: number;
}

function oracleQuiet(instant: number, zone: string, window: Window): boolean {
  if (window.start === window.end) return false;
  const wall = wallMinute(instant, zone);
  return window.start < window.end
    ? wall >= window.start && wall < window.end
    : wall >= window.start || wall < window.end;
}

/** True if every instant of [from, to) is quiet: one check per UTC minute (see the file comment). */
function quietThroughout(from: number, to: number, zone: string, window: Window): boolean {
  if (from >= to) return true;
  if (!oracleQuiet(from, zone, window)) return false;
  for (let minute = Math.ceil((from + 1) / MINUTE) * MINUTE; minute < to; minute += MINUTE) {
    if (!oracleQuiet(minute, zone, window)) return false;
  }
  return true;
}

/** Every offset transition of a zone in 2000–2040, found by sampling every 6 hours and bisecting. */
const transitionCache = new Map<string, number[]>();
function transitions(zone: string): number[] {
  let found = transitionCache.get(zone);
  if (found) return found;
  found = [];
  let previous = offsetMinutes(FROM, zone);
  for (let t = FROM + 6 * HOUR; t <= TO; t += 6 * HOUR) {
    const offset = offsetMinutes(t, zone);
    if (offset !== previous) {
      let low = t - 6 * HOUR;
      let high = t;
      while (high - low > MINUTE) {
        const middle = low + Math.floor((high - low) / 2 / MINUTE) * MINUTE;
        if (offsetMinutes(middle, zone) === previous) low = middle;
        else high = middle;
      }
      found.push(high);
      previous = offset;
    }
  }
  transitionCache.set(zone, found);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Generators.

const hhmm = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

const zoneArb = fc.constantFrom(...ZONES);

/** Uniform over 2000–2040, or within ±36 hours of one of the zone's transitions. */
const instantNear = (zone: string) =>
  fc.oneof(
    fc.integer({ min: FROM, max: TO - 1 }),
    fc
      .tuple(fc.nat(), fc.integer({ min: -36 * HOUR, max: 36 * HOUR }))
      .map(([pick, delta]) => {
        const list = transitions(zone);
        return list.length === 0 ? FROM + Math.abs(delta) * 1000 : list[pick % list.length]! + delta;
      }),
    // Exactly on a transition, or a millisecond either side.
    fc.tuple(fc.nat(), fc.constantFrom(-1, 0, 1)).map(([pick, delta]) => {
      const list = transitions(zone);
      return list.length === 0 ? FROM + pick : list[pick % list.length]! + delta;
    }),
  );

/**
 * A window: random edges; sometimes start == end; sometimes an edge near the wall time at which
 * the zone's clock jumps, so that it falls into a gap or an overlap.
 */
const windowNear = (zone: string) => {
  const minute = fc.integer({ min: 0, max: 1439 });
  const nearTransition = fc.tuple(fc.nat(), fc.integer({ min: -90, max: 90 })).map(([pick, delta]) => {
    const list = transitions(zone);
    if (list.length === 0) return (pick + delta + 1440) % 1440;
    const at = list[pick % list.length]!;
    return (wallMinute(at - 1, zone) + 1 + delta + 1440) % 1440;
  });
  const edge = fc.oneof({ weight: 2, arbitrary: minute }, { weight: 1, arbitrary: nearTransition });
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ start: edge, end: edge }) },
    { weight: 1, arbitrary: minute.map((m) => ({ start: m, end: m })) },
    { weight: 1, arbitrary: fc.constant({ start: 21 * 60, end: 8 * 60 }) },
  );
};

interface Case {
  zone: string;
  at: number;
  window: Window;
}

const caseArb: fc.Arbitrary<Case> = zoneArb.chain((zone) =>
  fc.record({ zone: fc.constant(zone), at: instantNear(zone), window: windowNear(zone) }),
);

function policyOf(window: Window, overrides: Partial<QuietHoursPolicy> = {}): QuietHoursPolicy {
  return { ...DEFAULT_POLICY, quietStart: hhmm(window.start), quietEnd: hhmm(window.end), ...overrides };
}

function heldSubject(zone: string, id = 'prop-1', extra: Partial<PolicySubject> = {}): PolicySubject {
  return { notificationId: id, category: 'advertising', recipient: { timeZone: zone, nightConsent: false }, ...extra };
}

const describeCase = (c: Case) => `${c.zone} at ${new Date(c.at).toISOString()} window ${hhmm(c.window.start)}–${hhmm(c.window.end)}`;

const RUNS = Number(process.env.POLICY_PROPERTY_RUNS ?? 300);

// ---------------------------------------------------------------------------------------------

describe('quiet-hours properties', () => {
  test('isInQuietWindow agrees with the wall clock', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        assert.equal(
          isInQuietWindow(new Date(c.at), c.zone, policyOf(c.window)),
          oracleQuiet(c.at, c.zone, c.window),
          describeCase(c),
        );
      }),
      { numRuns: RUNS * 5 },
    );
  });

  test('a held message: never before the input, never inside the window, no allowed instant skipped (no spread)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const decision = nextAllowedSendTime(new Date(c.at), heldSubject(c.zone), policyOf(c.window));
        const release = decision.releaseAt.getTime();
        const label = `${describeCase(c)} → ${decision.releaseAt.toISOString()}`;
        assert.ok(release >= c.at, `before the input: ${label}`);
        assert.equal(oracleQuiet(release, c.zone, c.window), false, `inside the window: ${label}`);
        // Minimal: every instant of [at, release) is inside the window.
        assert.ok(quietThroughout(c.at, release, c.zone, c.window), `an allowed instant was skipped: ${label}`);
        if (oracleQuiet(c.at, c.zone, c.window)) {
          assert.equal(decision.reason, 'held-quiet-hours', label);
          assert.equal(decision.windowEndsAt?.getTime(), release, label);
          // Under a day and a bit, normally; but when the allowed part of the day lies wholly in a
          // spring-forward gap (a 23h59m window whose free minute is skipped) it is the next day's.
          assert.ok(release - c.at <= 50 * HOUR, `held for over two days: ${label}`);
        } else {
          assert.equal(decision.reason, 'immediate', label);
          assert.equal(release, c.at, label);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a held message with a morning spread: in [windowEnd, windowEnd + spread), never inside the window', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.integer({ min: 1, max: 6 * 3600 }),
        fc.string({ minLength: 1, maxLength: 30 }),
        (c, spreadSeconds, id) => {
          const plain = nextAllowedSendTime(new Date(c.at), heldSubject(c.zone, id), policyOf(c.window));
          const spread = nextAllowedSendTime(
            new Date(c.at),
            heldSubject(c.zone, id),
            policyOf(c.window, { morningSpreadSeconds: spreadSeconds }),
          );
          const label = `${describeCase(c)} spread ${spreadSeconds}s id ${JSON.stringify(id)} → ${spread.releaseAt.toISOString()}`;
          assert.equal(spread.reason, plain.reason, label);
          if (plain.reason !== 'held-quiet-hours') {
            assert.equal(spread.releaseAt.getTime(), plain.releaseAt.getTime(), `not held, yet spread: ${label}`);
            return;
          }
          const windowEnd = plain.releaseAt.getTime();
          const release = spread.releaseAt.getTime();
          assert.equal(spread.windowEndsAt?.getTime(), windowEnd, label);
          assert.ok(release >= windowEnd && release < windowEnd + spreadSeconds * 1000, `outside the spread: ${label}`);
          assert.equal(oracleQuiet(release, c.zone, c.window), false, `inside the window: ${label}`);
          // Where the window does not start again within the spread, the offset is the id's own.
          if (spreadSeconds <= 2 * 3600 && !anyQuiet(windowEnd, windowEnd + spreadSeconds * 1000, c.zone, c.window)) {
            assert.equal(release - windowEnd, morningSpreadOffsetMs(id, spreadSeconds), label);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('deciding again at the release instant releases it there', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 3 * 3600 }), (c, spreadSeconds) => {
        const policy = policyOf(c.window, { morningSpreadSeconds: spreadSeconds });
        const first = nextAllowedSendTime(new Date(c.at), heldSubject(c.zone), policy);
        const again = nextAllowedSendTime(first.releaseAt, heldSubject(c.zone), policy);
        assert.equal(again.reason, 'immediate', describeCase(c));
        assert.equal(again.releaseAt.getTime(), first.releaseAt.getTime(), describeCase(c));
      }),
      { numRuns: RUNS },
    );
  });

  test('notBefore: the release is the first allowed instant at or after max(at, notBefore)', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: -2 * 24 * HOUR, max: 2 * 24 * HOUR }), (c, delta) => {
        const notBefore = c.at + delta;
        const decision = nextAllowedSendTime(
          new Date(c.at),
          heldSubject(c.zone, 'nb', { notBefore: new Date(notBefore).toISOString() }),
          policyOf(c.window),
        );
        const from = Math.max(c.at, notBefore);
        const release = decision.releaseAt.getTime();
        const label = `${describeCase(c)} notBefore ${new Date(notBefore).toISOString()} → ${decision.releaseAt.toISOString()}`;
        assert.ok(release >= from, label);
        assert.equal(oracleQuiet(release, c.zone, c.window), false, label);
        assert.ok(quietThroughout(from, release, c.zone, c.window), label);
        const expectedReason = oracleQuiet(from, c.zone, c.window)
          ? 'held-quiet-hours'
          : from > c.at
            ? 'not-before'
            : 'immediate';
        assert.equal(decision.reason, expectedReason, label);
      }),
      { numRuns: RUNS },
    );
  });

  test('a message that is not held goes at max(at, notBefore)', () => {
    const subjects = fc.oneof(
      // Night consent, any category.
      fc.constantFrom<Category>('advertising', 'order', 'delivery', 'refund').map((category) => ({ category, consent: true, held: [] as Category[] })),
      // No consent, category not in the held list.
      fc.constantFrom<Category>('order', 'delivery', 'refund').map((category) => ({ category, consent: false, held: ['advertising'] as Category[] })),
    );
    fc.assert(
      fc.property(caseArb, subjects, fc.option(fc.integer({ min: -HOUR, max: 24 * HOUR })), (c, who, delta) => {
        const notBefore = delta === null ? undefined : c.at + delta;
        const decision = nextAllowedSendTime(
          new Date(c.at),
          {
            notificationId: 'free',
            category: who.category,
            notBefore: notBefore === undefined ? undefined : new Date(notBefore).toISOString(),
            recipient: { timeZone: c.zone, nightConsent: who.consent },
          },
          policyOf(c.window, { heldCategories: who.held, morningSpreadSeconds: 600 }),
        );
        const from = Math.max(c.at, notBefore ?? c.at);
        assert.equal(decision.releaseAt.getTime(), from, describeCase(c));
        assert.equal(decision.reason, from > c.at ? 'not-before' : 'immediate');
        assert.equal(decision.windowEndsAt, undefined);
      }),
      { numRuns: RUNS },
    );
  });

  test('expired exactly when the release is at or after the expiry, or the expiry has passed', () => {
    // Expiries anywhere from an hour before to 30 h after, or within a millisecond of the release: the edge.
    const expiryArb = fc.option(
      fc.oneof(
        fc.record({ from: fc.constant('at' as const), delta: fc.integer({ min: -HOUR, max: 30 * HOUR }) }),
        fc.record({ from: fc.constant('release' as const), delta: fc.integer({ min: -1, max: 1 }) }),
      ),
    );
    fc.assert(
      fc.property(caseArb, expiryArb, (c, expiry) => {
        // The first allowed instant from the wall clock alone, not from the code under test.
        const firstAllowed = oracleFirstAllowed(c.at, c.zone, c.window);
        const expiresAt = expiry === null ? undefined : (expiry.from === 'at' ? c.at : firstAllowed) + expiry.delta;
        const decision = nextAllowedSendTime(
          new Date(c.at),
          heldSubject(c.zone, 'exp', { expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString() }),
          policyOf(c.window),
        );
        const expected = expiresAt !== undefined && (firstAllowed >= expiresAt || c.at >= expiresAt);
        assert.equal(decision.expired, expected, `${describeCase(c)}, expires ${expiresAt === undefined ? 'never' : new Date(expiresAt).toISOString()}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('the next window starts at the first quiet instant at or after a given one', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const start = quietWindowStart(new Date(c.at), c.zone, policyOf(c.window));
        if (c.window.start === c.window.end) return assert.equal(start, undefined);
        assert.ok(start, describeCase(c));
        assert.equal(start.getTime(), oracleFirstQuiet(c.at, c.zone, c.window), describeCase(c));
      }),
      { numRuns: RUNS },
    );
  });

  test("a send's deadline is the next window's start or the expiry, whichever is first; without the window, the expiry", () => {
    fc.assert(
      fc.property(caseArb, fc.option(fc.integer({ min: 0, max: 40 * HOUR })), fc.boolean(), (c, delta, consent) => {
        const releaseAt = oracleFirstAllowed(c.at, c.zone, c.window);
        const expiresAt = delta === null ? undefined : releaseAt + delta;
        const subject = heldSubject(c.zone, 'deadline', {
          expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString(),
          recipient: { timeZone: c.zone, nightConsent: consent },
        });
        const deadline = sendDeadline(new Date(releaseAt), subject, policyOf(c.window));
        const windowStart = consent || c.window.start === c.window.end ? Number.POSITIVE_INFINITY : oracleFirstQuiet(releaseAt, c.zone, c.window);
        const expected = Math.min(windowStart, expiresAt ?? Number.POSITIVE_INFINITY);
        assert.equal(deadline?.getTime() ?? Number.POSITIVE_INFINITY, expected, describeCase(c));
      }),
      { numRuns: RUNS },
    );
  });

  test('the spread is uniform enough for any id shape: 4,000 random ids into 8 buckets', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 12 }), fc.integer({ min: 60, max: 7200 }), (prefix, spreadSeconds) => {
        const buckets = new Array<number>(8).fill(0);
        for (let i = 0; i < 4000; i += 1) {
          const offset = morningSpreadOffsetMs(`${prefix}${i}`, spreadSeconds);
          buckets[Math.floor((offset / (spreadSeconds * 1000)) * 8)]! += 1;
        }
        // Binomial(4,000, 1/8): σ ≈ 20.9; 6σ ≈ 125 around 500 (and this runs 20 times).
        for (const count of buckets) assert.ok(Math.abs(count - 500) <= 125, `${JSON.stringify(prefix)}: ${buckets.join(', ')}`);
      }),
      { numRuns: 20 },
    );
  });
});

/**
 * The first instant at or after `from` at which being quiet is `quiet`: `from` itself, or a whole
 * UTC minute (see the file comment), found by reading the wall clock minute by minute.
 */
function oracleFirst(from: number, zone: string, window: Window, quiet: boolean): number {
  if (oracleQuiet(from, zone, window) === quiet) return from;
  for (let minute = Math.ceil((from + 1) / MINUTE) * MINUTE; minute < from + 3 * 24 * HOUR; minute += MINUTE) {
    if (oracleQuiet(minute, zone, window) === quiet) return minute;
  }
  throw new Error(`no change within 3 days of ${new Date(from).toISOString()} in ${zone}`);
}

/** The first instant at or after `from` outside the window: when a held notification may go. */
const oracleFirstAllowed = (from: number, zone: string, window: Window) => oracleFirst(from, zone, window, false);
/** The first instant at or after `from` inside the window. */
const oracleFirstQuiet = (from: number, zone: string, window: Window) => oracleFirst(from, zone, window, true);

/** True if some instant of [from, to) is quiet. */
function anyQuiet(from: number, to: number, zone: string, window: Window): boolean {
  if (from < to && oracleQuiet(from, zone, window)) return true;
  for (let minute = Math.ceil((from + 1) / MINUTE) * MINUTE; minute < to; minute += MINUTE) {
    if (oracleQuiet(minute, zone, window)) return true;
  }
  return false;
}
