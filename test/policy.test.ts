/**
 * The quiet-hours policy, by example: the window's edges, categories and consent, zones with DST,
 * notBefore, expiry, the morning spread and the policy's validation.
 *
 * Every expected instant below was worked out by hand from the rule (and the zones' published DST
 * dates), and is written as local wall time with the offset in force then, so each one can be
 * checked by reading it: "2026-11-24T08:00:00+09:00" is 08:00 in Seoul.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config';
import { CATEGORIES, type Category } from '../src/notification';
import {
  DEFAULT_POLICY,
  isInQuietWindow,
  morningSpreadOffsetMs,
  NarrowerThanLawError,
  isStageable,
  wakeUpAt,
  windowCovers,
  nextAllowedSendTime,
  POLICY_CATEGORIES,
  defaultZoneKeepsLawWindow,
  keepsLawWindow,
  policyFromConfig,
  rehearsalEndingAt,
  quietWindowEnd,
  type PolicySubject,
  type QuietHoursPolicy,
  type SendDecision,
} from '../src/policy';
import { fnv1a32 } from '../src/policy/spread';

const SEOUL = 'Asia/Seoul';
const NEW_YORK = 'America/New_York';
const LONDON = 'Europe/London';
const SYDNEY = 'Australia/Sydney';

function subject(overrides: {
  id?: string;
  category?: Category;
  zone?: string | null;
  consent?: boolean;
  notBefore?: string;
  expiresAt?: string;
} = {}): PolicySubject {
  return {
    notificationId: overrides.id ?? 'n-1',
    category: overrides.category ?? 'advertising',
    notBefore: overrides.notBefore,
    expiresAt: overrides.expiresAt,
    recipient: {
      timeZone: overrides.zone === null ? undefined : (overrides.zone ?? SEOUL),
      nightConsent: overrides.consent ?? false,
    },
  };
}

function policy(overrides: Partial<QuietHoursPolicy> = {}): QuietHoursPolicy {
  return { ...DEFAULT_POLICY, ...overrides };
}

const ms = (iso: string): number => {
  const value = Date.parse(iso);
  assert.ok(Number.isFinite(value), `bad instant in the test itself: ${iso}`);
  return value;
};

function decide(at: string, who: PolicySubject = subject(), with_: QuietHoursPolicy = DEFAULT_POLICY): SendDecision {
  return nextAllowedSendTime(new Date(at), who, with_);
}

function assertHeldUntil(decision: SendDecision, expected: string, message?: string): void {
  assert.equal(decision.reason, 'held-quiet-hours', message);
  assert.equal(decision.releaseAt.toISOString(), new Date(expected).toISOString(), message);
  assert.equal(decision.windowEndsAt?.toISOString(), new Date(expected).toISOString(), message);
}

function assertImmediate(decision: SendDecision, at: string, message?: string): void {
  assert.equal(decision.reason, 'immediate', message);
  assert.equal(decision.releaseAt.getTime(), ms(at), message);
  assert.equal(decision.windowEndsAt, undefined, message);
}

describe('the window edges in Asia/Seoul (default policy, 21:00–08:00)', () => {
  test('20:59:59.999 is allowed', () => {
    assertImmediate(decide('2026-11-23T20:59:59.999+09:00'), '2026-11-23T20:59:59.999+09:00');
    assert.equal(isInQuietWindow(new Date('2026-11-23T20:59:59.999+09:00'), SEOUL), false);
  });
  test('21:00:00 is held until 08:00 the next day', () => {
    assertHeldUntil(decide('2026-11-23T21:00:00+09:00'), '2026-11-24T08:00:00+09:00');
    assert.equal(isInQuietWindow(new Date('2026-11-23T21:00:00+09:00'), SEOUL), true);
  });
  test('23:59 is held until 08:00 the next day', () => {
    assertHeldUntil(decide('2026-11-23T23:59:00+09:00'), '2026-11-24T08:00:00+09:00');
  });
  test('00:00 is held until 08:00 the same day', () => {
    assertHeldUntil(decide('2026-11-24T00:00:00+09:00'), '2026-11-24T08:00:00+09:00');
  });
  test('07:59:59.999 is held until 08:00 the same day', () => {
    assertHeldUntil(decide('2026-11-24T07:59:59.999+09:00'), '2026-11-24T08:00:00+09:00');
    assert.equal(isInQuietWindow(new Date('2026-11-24T07:59:59.999+09:00'), SEOUL), true);
  });
  test('08:00:00 is allowed', () => {
    assertImmediate(decide('2026-11-24T08:00:00+09:00'), '2026-11-24T08:00:00+09:00');
    assert.equal(isInQuietWindow(new Date('2026-11-24T08:00:00+09:00'), SEOUL), false);
  });
  test('the window is read in the recipient zone, not from the instant’s own offset', () => {
    // 12:30Z is 21:30 in Seoul: held, although it is written as a UTC instant.
    assertHeldUntil(decide('2026-11-23T12:30:00Z'), '2026-11-23T23:00:00Z');
    // 23:00 in Seoul is 14:00 in London: a London recipient is not held.
    assertImmediate(decide('2026-11-23T23:00:00+09:00', subject({ zone: LONDON })), '2026-11-23T14:00:00Z');
  });
  test('a release crosses month and year ends', () => {
    assertHeldUntil(decide('2026-12-31T22:00:00+09:00'), '2027-01-01T08:00:00+09:00');
    assertHeldUntil(decide('2028-02-28T23:00:00+09:00'), '2028-02-29T08:00:00+09:00');
  });
  test('deciding again at the release instant releases it there (the workflow re-decides after sleeping)', () => {
    const first = decide('2026-11-23T22:00:00+09:00');
    const again = nextAllowedSendTime(first.releaseAt, subject());
    assert.equal(again.reason, 'immediate');
    assert.equal(again.releaseAt.getTime(), first.releaseAt.getTime());
  });
});

describe('other windows', () => {
  test('a window that does not wrap midnight: [13:00, 14:00)', () => {
    const lunch = policy({ quietStart: '13:00', quietEnd: '14:00' });
    assertImmediate(decide('2026-11-23T12:59:59.999+09:00', subject(), lunch), '2026-11-23T12:59:59.999+09:00');
    assertHeldUntil(decide('2026-11-23T13:00:00+09:00', subject(), lunch), '2026-11-23T14:00:00+09:00');
    assertHeldUntil(decide('2026-11-23T13:59:00+09:00', subject(), lunch), '2026-11-23T14:00:00+09:00');
    assertImmediate(decide('2026-11-23T14:00:00+09:00', subject(), lunch), '2026-11-23T14:00:00+09:00');
    assertImmediate(decide('2026-11-23T23:00:00+09:00', subject(), lunch), '2026-11-23T23:00:00+09:00');
  });
  test('start == end means no window at all', () => {
    const none = policy({ quietStart: '21:00', quietEnd: '21:00' });
    for (const at of ['2026-11-23T21:00:00+09:00', '2026-11-23T23:00:00+09:00', '2026-11-24T03:00:00+09:00']) {
      assertImmediate(decide(at, subject(), none), at);
      assert.equal(isInQuietWindow(new Date(at), SEOUL, none), false);
    }
  });
  test('a window starting at midnight: [00:00, 06:00)', () => {
    const small = policy({ quietStart: '00:00', quietEnd: '06:00' });
    assertImmediate(decide('2026-11-23T23:59:59.999+09:00', subject(), small), '2026-11-23T23:59:59.999+09:00');
    assertHeldUntil(decide('2026-11-24T00:00:00+09:00', subject(), small), '2026-11-24T06:00:00+09:00');
  });
  test('quietWindowEnd gives the end of the window holding an instant, or the instant itself', () => {
    assert.equal(
      quietWindowEnd(new Date('2026-11-23T22:00:00+09:00'), SEOUL).toISOString(),
      new Date('2026-11-24T08:00:00+09:00').toISOString(),
    );
    assert.equal(
      quietWindowEnd(new Date('2026-11-23T12:00:00+09:00'), SEOUL).toISOString(),
      new Date('2026-11-23T12:00:00+09:00').toISOString(),
    );
  });
});

describe('categories and consent', () => {
  test('by default every category is held without consent', () => {
    for (const category of CATEGORIES) {
      assertHeldUntil(decide('2026-11-23T23:00:00+09:00', subject({ category })), '2026-11-24T08:00:00+09:00', category);
    }
  });
  test('night consent releases every category at once', () => {
    for (const category of CATEGORIES) {
      assertImmediate(
        decide('2026-11-23T23:00:00+09:00', subject({ category, consent: true })),
        '2026-11-23T23:00:00+09:00',
        category,
      );
    }
  });
  test('with heldCategories [advertising] an order notice at 23:00 goes at once, advertising waits', () => {
    const adsOnly = policy({ heldCategories: ['advertising'] });
    for (const category of ['order', 'delivery', 'refund'] as const) {
      assertImmediate(decide('2026-11-23T23:00:00+09:00', subject({ category }), adsOnly), '2026-11-23T23:00:00+09:00');
    }
    assertHeldUntil(decide('2026-11-23T23:00:00+09:00', subject(), adsOnly), '2026-11-24T08:00:00+09:00');
  });
  test('advertising is held without consent even if the policy leaves it out (the law)', () => {
    for (const heldCategories of [[], ['order']] as Category[][]) {
      const lax = policy({ heldCategories });
      assertHeldUntil(decide('2026-11-23T23:00:00+09:00', subject(), lax), '2026-11-24T08:00:00+09:00');
      assertImmediate(
        decide('2026-11-23T23:00:00+09:00', subject({ category: 'delivery' }), lax),
        '2026-11-23T23:00:00+09:00',
      );
    }
  });
  test('a recipient without a zone is read in the policy’s default zone', () => {
    // 22:00Z is 22:00 in London (held until 08:00 London) but 07:00 in Seoul (held until 08:00 Seoul).
    const london = policy({ defaultTimeZone: LONDON });
    assertHeldUntil(decide('2026-11-23T22:00:00Z', subject({ zone: null }), london), '2026-11-24T08:00:00Z');
    assertHeldUntil(decide('2026-11-23T22:00:00Z', subject({ zone: null })), '2026-11-24T08:00:00+09:00');
    // An explicit zone wins over the default.
    assertHeldUntil(decide('2026-11-23T22:00:00Z', subject({ zone: SEOUL }), london), '2026-11-24T08:00:00+09:00');
  });
  test('an unknown zone is refused with its name', () => {
    assert.throws(() => decide('2026-11-23T22:00:00Z', subject({ zone: 'Mars/Olympus' })), /Mars\/Olympus/);
    assert.throws(() => decide('2026-11-23T22:00:00Z', subject({ zone: 'KST' })), /"KST"/);
    assert.throws(() => isInQuietWindow(new Date(), 'Nowhere/Land'), /Nowhere\/Land/);
  });
});

describe('notBefore', () => {
  test('a later notBefore outside the window is the release, reason not-before', () => {
    const decision = decide('2026-11-23T10:00:00+09:00', subject({ notBefore: '2026-11-23T15:00:00+09:00' }));
    assert.equal(decision.reason, 'not-before');
    assert.equal(decision.releaseAt.getTime(), ms('2026-11-23T15:00:00+09:00'));
    assert.equal(decision.windowEndsAt, undefined);
  });
  test('a notBefore inside the window is held until the window ends', () => {
    const decision = decide('2026-11-23T10:00:00+09:00', subject({ notBefore: '2026-11-23T22:30:00+09:00' }));
    assertHeldUntil(decision, '2026-11-24T08:00:00+09:00');
  });
  test('inside the window with a notBefore after its end: released at notBefore', () => {
    const decision = decide('2026-11-23T23:00:00+09:00', subject({ notBefore: '2026-11-24T09:00:00+09:00' }));
    assert.equal(decision.reason, 'not-before');
    assert.equal(decision.releaseAt.getTime(), ms('2026-11-24T09:00:00+09:00'));
  });
  test('a notBefore in the past is ignored', () => {
    assertImmediate(
      decide('2026-11-23T10:00:00+09:00', subject({ notBefore: '2026-11-22T10:00:00+09:00' })),
      '2026-11-23T10:00:00+09:00',
    );
    assertHeldUntil(
      decide('2026-11-23T23:00:00+09:00', subject({ notBefore: '2026-11-22T10:00:00+09:00' })),
      '2026-11-24T08:00:00+09:00',
    );
  });
  test('a notBefore with consent is honoured but not pushed by the window', () => {
    const decision = decide(
      '2026-11-23T10:00:00+09:00',
      subject({ consent: true, notBefore: '2026-11-23T23:30:00+09:00' }),
    );
    assert.equal(decision.reason, 'not-before');
    assert.equal(decision.releaseAt.getTime(), ms('2026-11-23T23:30:00+09:00'));
  });
  test('notBefore with a fractional second and a Z offset', () => {
    const decision = decide('2026-11-23T01:00:00Z', subject({ notBefore: '2026-11-23T02:00:00.250Z' }));
    assert.equal(decision.releaseAt.toISOString(), '2026-11-23T02:00:00.250Z');
  });
  test('a notBefore that is not an instant with an offset is refused', () => {
    assert.throws(() => decide('2026-11-23T10:00:00Z', subject({ notBefore: '2026-11-23T22:30:00' })), /notBefore/);
    assert.throws(() => decide('2026-11-23T10:00:00Z', subject({ notBefore: 'tomorrow' })), /notBefore/);
  });
});

describe('expiry', () => {
  test('expiring before the window ends: expired', () => {
    const decision = decide('2026-11-23T22:00:00+09:00', subject({ expiresAt: '2026-11-24T07:00:00+09:00' }));
    assert.equal(decision.expired, true);
    assert.equal(decision.releaseAt.getTime(), ms('2026-11-24T08:00:00+09:00'));
  });
  test('expiring exactly at the release: expired (a message cannot be receivable at the very instant it is released)', () => {
    const decision = decide('2026-11-23T22:00:00+09:00', subject({ expiresAt: '2026-11-24T08:00:00+09:00' }));
    assert.equal(decision.expired, true);
    assert.equal(decide('2026-11-23T22:00:00+09:00', subject({ expiresAt: '2026-11-24T08:00:00.001+09:00' })).expired, false);
  });
  test('expiring after the release: not expired', () => {
    assert.equal(decide('2026-11-23T22:00:00+09:00', subject({ expiresAt: '2026-11-24T09:00:00+09:00' })).expired, false);
    assert.equal(decide('2026-11-23T10:00:00+09:00', subject({ expiresAt: '2026-11-23T11:00:00+09:00' })).expired, false);
  });
  test('already expired when decided: expired, even if it could go now', () => {
    assert.equal(decide('2026-11-23T10:00:00+09:00', subject({ expiresAt: '2026-11-23T09:00:00+09:00' })).expired, true);
    assert.equal(decide('2026-11-23T10:00:00+09:00', subject({ expiresAt: '2026-11-23T10:00:00+09:00' })).expired, true);
  });
  test('a notBefore after the expiry: expired', () => {
    const decision = decide(
      '2026-11-23T10:00:00+09:00',
      subject({ notBefore: '2026-11-23T12:00:00+09:00', expiresAt: '2026-11-23T11:00:00+09:00' }),
    );
    assert.equal(decision.expired, true);
  });
  test('no expiry: never expired', () => {
    assert.equal(decide('2026-11-23T22:00:00+09:00').expired, false);
  });
  test('the morning spread counts: a release pushed past the expiry by the spread is expired', () => {
    const spread = policy({ morningSpreadSeconds: 3600 });
    // An id whose spread offset is over a minute, found by the test, not assumed.
    const id = Array.from({ length: 100 }, (_, i) => `exp-${i}`).find((c) => morningSpreadOffsetMs(c, 3600) > 60_000)!;
    const decision = decide(
      '2026-11-23T22:00:00+09:00',
      subject({ id, expiresAt: '2026-11-24T08:01:00+09:00' }),
      spread,
    );
    assert.equal(decision.expired, true);
  });
});

describe('staging: only a release no consent change can forbid is sent ahead of its instant', () => {
  const LEAD = 900_000;
  test('an advertisement held until 08:00 wakes the lead before it', () => {
    const decision = decide('2026-11-23T22:30:00+09:00');
    assert.equal(isStageable(decision, subject(), DEFAULT_POLICY), true);
    assert.equal(wakeUpAt(decision, subject(), DEFAULT_POLICY, LEAD).getTime(), ms('2026-11-24T07:45:00+09:00'));
  });
  test('with night consent and notBefore 23:00 it goes at 23:00 itself, not at 22:45: a withdrawal until then must hold it', () => {
    const who = subject({ consent: true, notBefore: '2026-11-23T23:00:00+09:00' });
    const decision = decide('2026-11-23T20:00:00+09:00', who);
    assert.equal(decision.releaseAt.getTime(), ms('2026-11-23T23:00:00+09:00'));
    assert.equal(isStageable(decision, who, DEFAULT_POLICY), false);
    assert.equal(wakeUpAt(decision, who, DEFAULT_POLICY, LEAD).getTime(), ms('2026-11-23T23:00:00+09:00'));
  });
  test('a daytime release with consent, and a category the policy does not hold, are staged', () => {
    const daytime = subject({ consent: true, notBefore: '2026-11-24T10:00:00+09:00' });
    assert.equal(isStageable(decide('2026-11-23T20:00:00+09:00', daytime), daytime, DEFAULT_POLICY), true);
    const order = subject({ category: 'order', notBefore: '2026-11-23T23:00:00+09:00' });
    const advertisingOnly = policy({ heldCategories: ['advertising'] });
    assert.equal(isStageable(decide('2026-11-23T20:00:00+09:00', order, advertisingOnly), order, advertisingOnly), true);
  });
  test('one that expires before its release wakes at its expiry, never staged', () => {
    const who = subject({ expiresAt: '2026-11-24T07:50:00+09:00' });
    assert.equal(wakeUpAt(decide('2026-11-23T22:30:00+09:00', who), who, DEFAULT_POLICY, LEAD).getTime(), ms('2026-11-24T07:50:00+09:00'));
  });
});

describe('offsets', () => {
  test('an offset no clock shows (+99:99, +15:00, +09:60) is refused, not read as days away', () => {
    for (const notBefore of ['2026-11-24T10:00:00+99:99', '2026-11-24T10:00:00+15:00', '2026-11-24T10:00:00+09:60']) {
      assert.throws(() => decide('2026-11-23T10:00:00Z', subject({ notBefore })), /notBefore/, notBefore);
    }
    // The widest real one (Kiribati) still counts.
    const consenting = subject({ consent: true, notBefore: '2026-11-24T10:00:00+14:00' });
    assert.equal(decide('2026-11-23T10:00:00Z', consenting).releaseAt.getTime(), ms('2026-11-23T20:00:00Z'));
  });
});

describe('zones with daylight saving time', () => {
  test('America/New_York, spring forward (2026-03-08 02:00 EST → 03:00 EDT): 21:00–08:00 is a short night', () => {
    assertHeldUntil(decide('2026-03-07T22:00:00-05:00', subject({ zone: NEW_YORK })), '2026-03-08T08:00:00-04:00');
    assertHeldUntil(decide('2026-03-08T03:30:00-04:00', subject({ zone: NEW_YORK })), '2026-03-08T08:00:00-04:00');
    assertImmediate(decide('2026-03-08T08:00:00-04:00', subject({ zone: NEW_YORK })), '2026-03-08T08:00:00-04:00');
    assertImmediate(
      decide('2026-03-08T07:59:59.999-04:00', subject({ zone: NEW_YORK, consent: true })),
      '2026-03-08T07:59:59.999-04:00',
    );
  });
  test('America/New_York, a window end inside the spring-forward gap (quietEnd 02:30 on 2026-03-08)', () => {
    const endsInGap = policy({ quietEnd: '02:30' });
    // 02:30 never happens that night: the first instant whose wall time is >= 02:30 is the jump
    // itself, 07:00Z, which the clock shows as 03:00 EDT. (Shifting 02:30 forward by the gap, as
    // luxon does for a missing local time, would give 03:30 EDT and hold for half an hour too long.)
    for (const at of ['2026-03-07T23:00:00-05:00', '2026-03-08T00:00:00-05:00', '2026-03-08T01:59:59.999-05:00']) {
      assertHeldUntil(decide(at, subject({ zone: NEW_YORK }), endsInGap), '2026-03-08T03:00:00-04:00', at);
    }
    assert.equal(isInQuietWindow(new Date('2026-03-08T06:59:59.999Z'), NEW_YORK, endsInGap), true);
    assert.equal(isInQuietWindow(new Date('2026-03-08T07:00:00Z'), NEW_YORK, endsInGap), false);
    // The night before and after are ordinary.
    assertHeldUntil(decide('2026-03-07T01:00:00-05:00', subject({ zone: NEW_YORK }), endsInGap), '2026-03-07T02:30:00-05:00');
    assertHeldUntil(decide('2026-03-09T01:00:00-04:00', subject({ zone: NEW_YORK }), endsInGap), '2026-03-09T02:30:00-04:00');
  });
  test('America/New_York, a window start inside the spring-forward gap (quietStart 02:30)', () => {
    const startsInGap = policy({ quietStart: '02:30', quietEnd: '05:00' });
    assertImmediate(
      decide('2026-03-08T01:59:59.999-05:00', subject({ zone: NEW_YORK }), startsInGap),
      '2026-03-08T01:59:59.999-05:00',
    );
    // At the jump the clock shows 03:00, inside [02:30, 05:00).
    assertHeldUntil(decide('2026-03-08T03:00:00-04:00', subject({ zone: NEW_YORK }), startsInGap), '2026-03-08T05:00:00-04:00');
  });
  test('America/New_York, fall back (2026-11-01 02:00 EDT → 01:00 EST): 21:00–08:00 is a long night', () => {
    assertHeldUntil(decide('2026-10-31T22:00:00-04:00', subject({ zone: NEW_YORK })), '2026-11-01T08:00:00-05:00');
    assertHeldUntil(decide('2026-11-01T01:30:00-04:00', subject({ zone: NEW_YORK })), '2026-11-01T08:00:00-05:00');
    assertHeldUntil(decide('2026-11-01T01:30:00-05:00', subject({ zone: NEW_YORK })), '2026-11-01T08:00:00-05:00');
  });
  test('America/New_York, a window end inside the repeated hour (quietEnd 01:30 on 2026-11-01)', () => {
    const endsInOverlap = policy({ quietEnd: '01:30' });
    // The first 01:30 (EDT) ends the window…
    assertHeldUntil(decide('2026-10-31T23:00:00-04:00', subject({ zone: NEW_YORK }), endsInOverlap), '2026-11-01T01:30:00-04:00');
    assertImmediate(
      decide('2026-11-01T01:45:00-04:00', subject({ zone: NEW_YORK }), endsInOverlap),
      '2026-11-01T01:45:00-04:00',
    );
    // …then the clock goes back to 01:00 (EST), inside [21:00, 01:30) again, until the second 01:30.
    assert.equal(isInQuietWindow(new Date('2026-11-01T01:00:00-05:00'), NEW_YORK, endsInOverlap), true);
    assertHeldUntil(decide('2026-11-01T01:10:00-05:00', subject({ zone: NEW_YORK }), endsInOverlap), '2026-11-01T01:30:00-05:00');
  });
  test('America/New_York, fall back out of a window that starts in the repeated hour (quietStart 01:30)', () => {
    const startsInOverlap = policy({ quietStart: '01:30', quietEnd: '08:00' });
    // At 01:45 EDT it is quiet; at 06:00Z the clock falls back to 01:00 EST, before the window's
    // start, so the first allowed instant is the fall-back itself (the window starts again at 01:30 EST).
    assertHeldUntil(decide('2026-11-01T01:45:00-04:00', subject({ zone: NEW_YORK }), startsInOverlap), '2026-11-01T01:00:00-05:00');
    assertImmediate(
      decide('2026-11-01T01:15:00-05:00', subject({ zone: NEW_YORK }), startsInOverlap),
      '2026-11-01T01:15:00-05:00',
    );
    assertHeldUntil(decide('2026-11-01T01:30:00-05:00', subject({ zone: NEW_YORK }), startsInOverlap), '2026-11-01T08:00:00-05:00');
  });
  test('Europe/London (2026-03-29 01:00 GMT → 02:00 BST, 2026-10-25 02:00 BST → 01:00 GMT)', () => {
    assertHeldUntil(decide('2026-03-28T21:00:00Z', subject({ zone: LONDON })), '2026-03-29T08:00:00+01:00');
    assertHeldUntil(decide('2026-10-24T21:00:00+01:00', subject({ zone: LONDON })), '2026-10-25T08:00:00Z');
    // quietEnd 01:30 falls in the gap: released at the jump, 01:00Z, shown as 02:00 BST.
    assertHeldUntil(
      decide('2026-03-28T22:00:00Z', subject({ zone: LONDON }), policy({ quietEnd: '01:30' })),
      '2026-03-29T02:00:00+01:00',
    );
    assert.equal(isInQuietWindow(new Date('2026-03-28T20:59:59.999Z'), LONDON), false);
    assert.equal(isInQuietWindow(new Date('2026-06-01T20:00:00Z'), LONDON), true); // 21:00 BST
  });
  test('Australia/Sydney (2026-04-05 03:00 AEDT → 02:00 AEST, 2026-10-04 02:00 AEST → 03:00 AEDT)', () => {
    assertHeldUntil(decide('2026-04-04T22:00:00+11:00', subject({ zone: SYDNEY })), '2026-04-05T08:00:00+10:00');
    assertHeldUntil(decide('2026-10-03T22:00:00+10:00', subject({ zone: SYDNEY })), '2026-10-04T08:00:00+11:00');
    // quietEnd 02:15 on 2026-10-04 falls in the gap: released at the jump, 16:00Z, shown as 03:00 AEDT.
    assertHeldUntil(
      decide('2026-10-03T22:00:00+10:00', subject({ zone: SYDNEY }), policy({ quietEnd: '02:15' })),
      '2026-10-04T03:00:00+11:00',
    );
    // quietEnd 02:30 on 2026-04-05 happens twice: the first (AEDT) ends the window.
    assertHeldUntil(
      decide('2026-04-04T22:00:00+11:00', subject({ zone: SYDNEY }), policy({ quietEnd: '02:30' })),
      '2026-04-05T02:30:00+11:00',
    );
  });
  test('America/Santiago, midnight does not exist (2026-09-06 00:00 → 01:00): quietEnd 00:00 ends at 01:00', () => {
    assertHeldUntil(decide('2026-09-05T22:00:00-04:00', subject({ zone: 'America/Santiago' }), policy({ quietEnd: '00:00' })), '2026-09-06T01:00:00-03:00');
  });
  test('when the whole allowed stretch falls in a gap, the release is the next day’s (never inside the window)', () => {
    // Quiet [00:30, 00:20): only 00:20–00:30 is allowed, and on 2026-09-06 in Santiago the clock
    // jumps from 00:00 to 01:00, over it, and lands inside the window again.
    const almostAlways = policy({ quietStart: '00:30', quietEnd: '00:20' });
    assertHeldUntil(
      decide('2026-09-05T22:00:00-04:00', subject({ zone: 'America/Santiago' }), almostAlways),
      '2026-09-07T00:20:00-03:00',
    );
    assert.equal(isInQuietWindow(new Date('2026-09-06T01:00:00-03:00'), 'America/Santiago', almostAlways), true);
  });
  test('results do not depend on the process time zone (TZ)', () => {
    const cases: [string, string, Partial<QuietHoursPolicy>][] = [
      ['2026-11-23T21:30:00+09:00', SEOUL, {}],
      ['2026-03-08T04:00:00Z', NEW_YORK, { quietEnd: '02:30' }],
      ['2026-11-01T03:00:00Z', NEW_YORK, { quietEnd: '01:30' }],
      ['2026-03-28T22:00:00Z', LONDON, { quietEnd: '01:30' }],
      ['2026-10-03T12:00:00Z', SYDNEY, { quietEnd: '02:15', morningSpreadSeconds: 900 }],
    ];
    const script = `
      const { nextAllowedSendTime, DEFAULT_POLICY } = require(${JSON.stringify(require.resolve('../src/policy'))});
      const cases = ${JSON.stringify(cases)};
      process.stdout.write(JSON.stringify(cases.map(([at, zone, overrides]) => nextAllowedSendTime(new Date(at),
        { notificationId: 'tz-check', category: 'advertising', recipient: { timeZone: zone, nightConsent: false } },
        { ...DEFAULT_POLICY, ...overrides }))));`;
    const here = JSON.stringify(
      cases.map(([at, zone, overrides]) => decide(at, subject({ id: 'tz-check', zone }), policy(overrides))),
    );
    for (const tz of ['Pacific/Chatham', 'America/New_York', 'Asia/Kathmandu']) {
      const there = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
        env: { ...process.env, TZ: tz },
        encoding: 'utf8',
      });
      assert.equal(there, here, `TZ=${tz}`);
    }
  });
});

describe('the morning spread', () => {
  test('FNV-1a 32 matches its published test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });
  test('offsets are integers in [0, spread) and 0 without a spread', () => {
    for (const seconds of [1, 7, 60, 600, 3600, 86_400]) {
      for (let i = 0; i < 2000; i += 1) {
        const offset = morningSpreadOffsetMs(`order-${i}`, seconds);
        assert.ok(Number.isInteger(offset) && offset >= 0 && offset < seconds * 1000, `${seconds}s order-${i}: ${offset}`);
      }
    }
    assert.equal(morningSpreadOffsetMs('order-1', 0), 0);
    assert.throws(() => morningSpreadOffsetMs('order-1', -1), /morningSpreadSeconds/);
    assert.throws(() => morningSpreadOffsetMs('order-1', Number.NaN), /morningSpreadSeconds/);
  });
  test('offsets are deterministic and differ between ids', () => {
    assert.equal(morningSpreadOffsetMs('order-1234-shipped', 600), morningSpreadOffsetMs('order-1234-shipped', 600));
    const distinct = new Set(Array.from({ length: 1000 }, (_, i) => morningSpreadOffsetMs(`n-${i}`, 600)));
    // 1,000 ids over 600,000 ms: the expected number of collisions is under 1.
    assert.ok(distinct.size >= 995, `only ${distinct.size} distinct offsets`);
  });
  for (const [label, idOf] of [
    ['sequential ids', (i: number) => `order-${i}`],
    ['ids differing in the middle', (i: number) => `user-${i}:ad-campaign-7`],
    ['one-character steps', (i: number) => String.fromCharCode(0x41 + (i % 26), 0x41 + ((i / 26) | 0) % 26, 0x30 + ((i / 676) | 0))],
  ] as const) {
    test(`offsets are evenly spread (${label}): 10,000 ids into 10 buckets`, () => {
      const buckets = new Array<number>(10).fill(0);
      for (let i = 0; i < 10_000; i += 1) {
        const offset = morningSpreadOffsetMs(idOf(i), 600);
        buckets[Math.floor(offset / 60_000)]! += 1;
      }
      // Binomial(10,000, 0.1) has σ = 30: each bucket within 5σ of 1,000, and Pearson's χ² with
      // 9 degrees of freedom under its 0.1% critical value 27.88.
      for (const [bucket, count] of buckets.entries()) {
        assert.ok(Math.abs(count - 1000) <= 150, `bucket ${bucket}: ${count} (${buckets.join(', ')})`);
      }
      const chiSquare = buckets.reduce((sum, count) => sum + (count - 1000) ** 2 / 1000, 0);
      assert.ok(chiSquare < 27.88, `χ² = ${chiSquare.toFixed(2)} (${buckets.join(', ')})`);
    });
  }
  test('a held message is released in [windowEnd, windowEnd + spread), at its own offset', () => {
    const spread = policy({ morningSpreadSeconds: 1800 });
    const windowEnd = ms('2026-11-24T08:00:00+09:00');
    for (let i = 0; i < 200; i += 1) {
      const id = `morning-${i}`;
      const decision = decide('2026-11-23T23:00:00+09:00', subject({ id }), spread);
      assert.equal(decision.reason, 'held-quiet-hours');
      assert.equal(decision.windowEndsAt?.getTime(), windowEnd);
      const offset = decision.releaseAt.getTime() - windowEnd;
      assert.ok(offset >= 0 && offset < 1_800_000, `${id}: ${offset}`);
      assert.equal(offset, morningSpreadOffsetMs(id, 1800));
    }
  });
  test('a message that is not held is not spread', () => {
    const spread = policy({ morningSpreadSeconds: 1800 });
    assertImmediate(decide('2026-11-23T12:00:00+09:00', subject(), spread), '2026-11-23T12:00:00+09:00');
    assertImmediate(decide('2026-11-23T23:00:00+09:00', subject({ consent: true }), spread), '2026-11-23T23:00:00+09:00');
  });
  test('a spread longer than the allowed day never releases into the next window', () => {
    // [13:00, 08:00) leaves five allowed hours; a 20-hour spread is squeezed into them.
    const long = policy({ quietStart: '13:00', quietEnd: '08:00', morningSpreadSeconds: 20 * 3600 });
    const windowEnd = ms('2026-11-24T08:00:00+09:00');
    const nextStart = ms('2026-11-24T13:00:00+09:00');
    let latest = windowEnd;
    for (let i = 0; i < 500; i += 1) {
      const decision = decide('2026-11-23T23:00:00+09:00', subject({ id: `long-${i}` }), long);
      const release = decision.releaseAt.getTime();
      assert.ok(release >= windowEnd && release < nextStart, `long-${i}: ${decision.releaseAt.toISOString()}`);
      assert.equal(isInQuietWindow(decision.releaseAt, SEOUL, long), false);
      latest = Math.max(latest, release);
    }
    // Still spread over (most of) the allowed hours, not bunched at 08:00.
    assert.ok(latest - windowEnd > 4 * 3_600_000, `latest release ${new Date(latest).toISOString()}`);
  });
});

describe('policyFromConfig', () => {
  test('the configuration defaults are the default policy', () => {
    assert.deepEqual(policyFromConfig(loadConfig({}).policy), { ...DEFAULT_POLICY, heldCategories: [...CATEGORIES] });
  });
  test('the environment sets the policy', () => {
    const fromEnv = policyFromConfig(
      loadConfig({
        NOTIFY_QUIET_START: '20:30',
        NOTIFY_QUIET_END: '09:00',
        // Korea's clock, under another name: it keeps the law for recipients without a zone.
        NOTIFY_DEFAULT_TIME_ZONE: 'Asia/Tokyo',
        NOTIFY_HELD_CATEGORIES: 'advertising, order,order',
        NOTIFY_MORNING_SPREAD_SECONDS: '900',
      }).policy,
    );
    assert.deepEqual(fromEnv, {
      quietStart: '20:30',
      quietEnd: '09:00',
      defaultTimeZone: 'Asia/Tokyo',
      heldCategories: ['advertising', 'order'],
      morningSpreadSeconds: 900,
    });
  });
  const valid = { quietStart: '21:00', quietEnd: '08:00', defaultTimeZone: SEOUL, heldCategories: ['advertising'], morningSpreadSeconds: 0 };
  test('a bad category is named', () => {
    assert.throws(() => policyFromConfig({ ...valid, heldCategories: ['advertising', 'marketing'] }), /"marketing"/);
  });
  test('a bad zone is named', () => {
    assert.throws(() => policyFromConfig({ ...valid, defaultTimeZone: 'KST' }), /defaultTimeZone "KST"/);
    assert.throws(() => policyFromConfig({ ...valid, defaultTimeZone: 'Asia/Seul' }), /Asia\/Seul/);
  });
  test('a bad time is named', () => {
    assert.throws(() => policyFromConfig({ ...valid, quietStart: '24:00' }), /quietStart "24:00"/);
    assert.throws(() => policyFromConfig({ ...valid, quietEnd: '8:00' }), /quietEnd "8:00"/);
  });
  test('a bad spread is refused', () => {
    assert.throws(() => policyFromConfig({ ...valid, morningSpreadSeconds: -5 }), /morningSpreadSeconds/);
  });
  test("a window narrower than the law's 21:00–08:00 is refused, naming the override; wider ones are fine", () => {
    for (const [quietStart, quietEnd] of [['23:00', '06:00'], ['00:00', '00:00'], ['21:00', '07:59'], ['21:01', '08:00'], ['09:00', '17:00']]) {
      const narrow = { ...valid, quietStart: quietStart!, quietEnd: quietEnd! };
      assert.throws(() => policyFromConfig(narrow), (error: unknown) => error instanceof NarrowerThanLawError && /NOTIFY_ALLOW_NARROWER_QUIET_HOURS/.test(error.message), `${quietStart}–${quietEnd}`);
      assert.throws(() => loadConfig({ NOTIFY_QUIET_START: quietStart, NOTIFY_QUIET_END: quietEnd }), /NOTIFY_QUIET_START, NOTIFY_QUIET_END: .*narrower than the law/);
      // With the override (tests, benchmarks) it is accepted, and every decision under it says so.
      const allowed = policyFromConfig({ ...narrow, allowNarrowerQuietHours: true });
      assert.equal(decide('2026-11-23T22:30:00+09:00', subject(), allowed).narrowerThanLaw, true);
      assert.equal(loadConfig({ NOTIFY_QUIET_START: quietStart, NOTIFY_QUIET_END: quietEnd, NOTIFY_ALLOW_NARROWER_QUIET_HOURS: 'true' }).policy.allowNarrowerQuietHours, true);
    }
    for (const [quietStart, quietEnd] of [['21:00', '08:00'], ['20:00', '09:00'], ['18:00', '08:30']]) {
      const wide = policyFromConfig({ ...valid, quietStart: quietStart!, quietEnd: quietEnd! });
      assert.equal(decide('2026-11-23T22:30:00+09:00', subject(), wide).narrowerThanLaw, undefined, `${quietStart}–${quietEnd}`);
    }
  });
  test('a default zone that moves the law\'s window is refused at start, naming NOTIFY_DEFAULT_TIME_ZONE; only the override allows it, and its decisions say so', () => {
    for (const zone of ['America/Los_Angeles', 'UTC', 'Europe/London', 'Asia/Kolkata']) {
      assert.throws(() => loadConfig({ NOTIFY_DEFAULT_TIME_ZONE: zone }), /NOTIFY_DEFAULT_TIME_ZONE: .*recipient without a zone/, zone);
      assert.throws(() => policyFromConfig({ ...valid, defaultTimeZone: zone }), (error: unknown) => error instanceof NarrowerThanLawError && /NOTIFY_DEFAULT_TIME_ZONE/.test(error.message), zone);
      const allowed = policyFromConfig({ ...loadConfig({ NOTIFY_DEFAULT_TIME_ZONE: zone, NOTIFY_ALLOW_NARROWER_QUIET_HOURS: 'true' }).policy });
      assert.equal(keepsLawWindow(allowed), false, zone);
      // Any decision under it says so, whatever its recipient's zone: the policy moved the law.
      assert.equal(decide('2026-11-23T12:00:00+09:00', subject({ zone: null }), allowed).narrowerThanLaw, true, zone);
    }
    // 02:00 KST, a recipient without a zone, NOTIFY_DEFAULT_TIME_ZONE=America/Los_Angeles (09:00 there): sent at once, as the override allows.
    const losAngeles = policyFromConfig({ ...valid, defaultTimeZone: 'America/Los_Angeles', allowNarrowerQuietHours: true });
    assertImmediate(decide('2026-12-03T02:00:00+09:00', subject({ zone: null }), losAngeles), '2026-12-02T17:00:00Z');
    assert.throws(() => loadConfig({ NOTIFY_DEFAULT_TIME_ZONE: 'Mars/Olympus' }), /NOTIFY_DEFAULT_TIME_ZONE: "Mars\/Olympus" is not an IANA zone name/);
    // A zone on Korea's clock, or a window that keeps 21:00–08:00 KST on another zone's clock (and 21:00–08:00 on everyone's), keeps the law.
    for (const [zone, quietStart, quietEnd] of [['Asia/Tokyo', '21:00', '08:00'], ['UTC', '12:00', '08:00'], ['Etc/GMT+8', '21:00', '15:00'], ['America/Los_Angeles', '21:00', '17:00']]) {
      const policy = policyFromConfig({ ...valid, defaultTimeZone: zone!, quietStart: quietStart!, quietEnd: quietEnd! });
      assert.equal(keepsLawWindow(policy), true, `${zone} ${quietStart}–${quietEnd}`);
      assert.equal(loadConfig({ NOTIFY_DEFAULT_TIME_ZONE: zone, NOTIFY_QUIET_START: quietStart, NOTIFY_QUIET_END: quietEnd }).policy.defaultTimeZone, zone);
    }
    // Los Angeles is 17 hours behind Korea in winter (21:00–08:00 KST is 04:00–15:00 PST), 16 in summer (05:00–16:00 PDT): both must be kept.
    assert.equal(defaultZoneKeepsLawWindow({ quietStart: '04:00', quietEnd: '16:00', defaultTimeZone: 'America/Los_Angeles' }), true);
    assert.equal(defaultZoneKeepsLawWindow({ quietStart: '04:00', quietEnd: '15:00', defaultTimeZone: 'America/Los_Angeles' }), false, 'summer: 07:00–08:00 KST');
    assert.equal(defaultZoneKeepsLawWindow({ quietStart: '05:00', quietEnd: '16:00', defaultTimeZone: 'America/Los_Angeles' }), false, 'winter: 21:00–22:00 KST');
  });
  test('a rehearsal keeps the law at every hour: held until T in its zone, and a recipient without a zone is never receivable 21:00–08:00 KST', () => {
    for (let hour = 0; hour < 48; hour += 1) {
      const releaseAtMs = Date.parse('2026-12-02T00:00:00Z') + hour * 1_800_000;
      const rehearsal = rehearsalEndingAt(releaseAtMs, { heldCategories: ['advertising'] });
      assert.equal(keepsLawWindow(rehearsal.policy), true, new Date(releaseAtMs).toISOString());
      const before = new Date(releaseAtMs - 600_000);
      assert.equal(decide(before.toISOString(), subject({ zone: rehearsal.timeZone }), rehearsal.policy).releaseAt.getTime(), releaseAtMs);
      const zoneless = decide(before.toISOString(), subject({ zone: null }), rehearsal.policy).releaseAt;
      assert.equal(isInQuietWindow(zoneless, SEOUL), false, `a recipient without a zone at ${zoneless.toISOString()}`);
    }
  });
  test('windowCovers agrees with a minute-by-minute comparison', () => {
    const times = ['00:00', '06:00', '07:59', '08:00', '08:01', '12:00', '20:59', '21:00', '21:01', '23:59'];
    const quiet = (start: number, end: number, minute: number) => (start === end ? false : start < end ? minute >= start && minute < end : minute >= start || minute < end);
    const minutes = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3));
    for (const os of times) for (const oe of times) for (const is of times) for (const ie of times) {
      let expected = true;
      for (let minute = 0; minute < 1440 && expected; minute += 1) {
        if (quiet(minutes(is), minutes(ie), minute) && !quiet(minutes(os), minutes(oe), minute)) expected = false;
      }
      assert.equal(windowCovers({ quietStart: os, quietEnd: oe }, { quietStart: is, quietEnd: ie }), expected, `[${os}, ${oe}) ⊇ [${is}, ${ie})`);
    }
  });
  test('a bad policy passed straight to nextAllowedSendTime is refused too', () => {
    assert.throws(() => decide('2026-11-23T22:00:00Z', subject(), policy({ quietEnd: '8am' })), /quietEnd/);
  });
  test('the policy’s categories are the contract’s categories', () => {
    assert.deepEqual([...POLICY_CATEGORIES], [...CATEGORIES]);
  });
  test('the default policy cannot be changed by accident', () => {
    assert.ok(Object.isFrozen(DEFAULT_POLICY));
    assert.ok(Object.isFrozen(DEFAULT_POLICY.heldCategories));
  });
});
