/** The morning plan (src/policy/morning.ts), by example and by property. Pure code, nothing stubbed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CATEGORIES, type Category } from '../src/notification';
import { planMorning, type MorningEntry, type MorningOutcome } from '../src/policy';

let clock = Date.parse('2026-12-03T12:00:00Z');
function entry(id: string, overrides: Partial<MorningEntry> = {}): MorningEntry {
  clock += 60_000;
  return { notificationId: id, category: 'advertising', scheduledAtMs: clock, digestBytes: 100, ...overrides };
}
const outcomes = (entries: MorningEntry[], cap: number, overflow: 'drop' | 'digest', digestCapacityBytes?: number) => {
  const plan = planMorning(entries, { cap, overflow, digestCapacityBytes });
  return { outcomes: Object.fromEntries(entries.map((each) => [each.notificationId, plan.verdicts.get(each.notificationId)!.outcome])), plan };
};

describe('the morning plan', () => {
  // The night: five ads (two sharing a collapse key) and two order updates, cap 2.
  const night = () => [
    entry('ad-1'),
    entry('ad-2', { collapseKey: 'sale' }),
    entry('order-1', { category: 'order' }),
    entry('ad-3'),
    entry('ad-4', { collapseKey: 'sale' }),
    entry('order-2', { category: 'order' }),
    entry('ad-5'),
  ];

  test('drop: the newest key wins its collapse, the two newest ads go, the rest are capped; orders always go', () => {
    const { outcomes: got, plan } = outcomes(night(), 2, 'drop');
    assert.deepEqual(got, {
      'ad-1': 'capped',
      'ad-2': 'collapsed',
      'order-1': 'admitted',
      'ad-3': 'capped',
      'ad-4': 'admitted',
      'order-2': 'admitted',
      'ad-5': 'admitted',
    });
    assert.deepEqual(plan.verdicts.get('ad-2'), { outcome: 'collapsed', replacedBy: 'ad-4' });
  });

  test('digest: the newest ad goes, the others merge into one digest (the cap\'s second place), newest first', () => {
    const { outcomes: got, plan } = outcomes(night(), 2, 'digest');
    assert.deepEqual(got, {
      'ad-1': 'digested',
      'ad-2': 'collapsed',
      'order-1': 'admitted',
      'ad-3': 'digested',
      'ad-4': 'digested',
      'order-2': 'admitted',
      'ad-5': 'admitted',
    });
    assert.deepEqual(plan.digest, ['ad-4', 'ad-3', 'ad-1']);
  });

  test('priority comes before age; a digest takes what fits in rank order and caps the rest', () => {
    const entries = [entry('old-urgent', { priority: 5 }), entry('a'), entry('b', { digestBytes: 500 }), entry('c'), entry('d')];
    assert.deepEqual(outcomes(entries, 2, 'drop').outcomes, { 'old-urgent': 'admitted', a: 'capped', b: 'capped', c: 'capped', d: 'admitted' });
    const { outcomes: got, plan } = outcomes(entries, 2, 'digest', 300);
    assert.deepEqual(got, { 'old-urgent': 'admitted', a: 'digested', b: 'capped', c: 'digested', d: 'digested' });
    assert.deepEqual(plan.digest, ['d', 'c', 'a']);
  });

  test('a digest of one is no digest: its place goes to that notification itself', () => {
    const entries = [entry('a'), entry('b', { digestBytes: 10_000 }), entry('c')];
    assert.deepEqual(outcomes(entries, 2, 'digest', 1_000).outcomes, { a: 'capped', b: 'admitted', c: 'admitted' });
  });

  test('no cap: everything goes, but collapse keys still collapse; transactional categories collapse only with a key', () => {
    const entries = [entry('a'), entry('b'), entry('o1', { category: 'delivery', collapseKey: 'parcel-9' }), entry('o2', { category: 'delivery', collapseKey: 'parcel-9' })];
    assert.deepEqual(outcomes(entries, 0, 'drop').outcomes, { a: 'admitted', b: 'admitted', o1: 'collapsed', o2: 'admitted' });
  });

  test('any set of entries: at most cap messages of advertising go (a digest counting as one), and every entry has exactly one verdict', () => {
    const arbitraryEntry = fc.record({
      notificationId: fc.string({ minLength: 1, maxLength: 6 }),
      category: fc.constantFrom<Category>(...CATEGORIES),
      collapseKey: fc.option(fc.constantFrom('k1', 'k2', 'k3'), { nil: undefined }),
      priority: fc.option(fc.integer({ min: -2, max: 2 }), { nil: undefined }),
      scheduledAtMs: fc.integer({ min: 0, max: 1_000 }),
      digestBytes: fc.integer({ min: 1, max: 400 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(arbitraryEntry, { selector: (each) => each.notificationId, maxLength: 12 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom('drop' as const, 'digest' as const),
        fc.integer({ min: 0, max: 1_000 }),
        (entries, cap, overflow, capacity) => {
          const plan = planMorning(entries, { cap, overflow, digestCapacityBytes: capacity });
          assert.equal(plan.verdicts.size, entries.length);
          const count = (outcome: MorningOutcome, category?: Category) =>
            entries.filter((each) => plan.verdicts.get(each.notificationId)!.outcome === outcome && (category === undefined || each.category === category)).length;
          const adsGoing = count('admitted', 'advertising') + (plan.digest.length > 0 ? 1 : 0);
          if (cap > 0) assert.ok(adsGoing <= cap, `${adsGoing} ads go with a cap of ${cap}`);
          // Nothing of another category is ever capped or digested.
          for (const each of entries) {
            if (each.category !== 'advertising') assert.ok(['admitted', 'collapsed'].includes(plan.verdicts.get(each.notificationId)!.outcome));
          }
          // The digest holds what fits, and only digested entries.
          const digestBytes = plan.digest.reduce((sum, id) => sum + entries.find((each) => each.notificationId === id)!.digestBytes, 0);
          assert.ok(digestBytes <= capacity);
          assert.equal(plan.digest.length, count('digested'));
          // Only one per collapse key goes.
          for (const key of ['k1', 'k2', 'k3']) {
            assert.ok(entries.filter((each) => each.collapseKey === key && plan.verdicts.get(each.notificationId)!.outcome !== 'collapsed').length <= 1);
          }
          // The order of the input does not matter.
          const again = planMorning([...entries].reverse(), { cap, overflow, digestCapacityBytes: capacity });
          assert.deepEqual([...again.verdicts].sort(), [...plan.verdicts].sort());
        },
      ),
      { numRuns: 500 },
    );
  });
});
