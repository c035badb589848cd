/**
 * What one send tells the metrics (src/activities/metrics.ts, measureSend): staged or sent, how far
 * ahead of its release, how late after it, and whether it became receivable inside the quiet
 * window its decision kept it out of. Unit tests of a pure function: nothing runs, nothing stubbed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { measureSend } from '../src/activities/metrics';
import type { DeliveryRequest } from '../src/activities/delivery';

const T = Date.parse('2026-12-04T23:00:00.000Z'); // 08:00 in Seoul
const iso = (ms: number) => new Date(ms).toISOString();
const NEXT_WINDOW = T + 13 * 3_600_000; // 21:00 in Seoul

function advertisement(overrides: Partial<DeliveryRequest> = {}, expiresAt?: string): DeliveryRequest {
  return {
    notification: {
      notificationId: 'ad-1',
      recipient: { id: 'user-1', nightConsent: false },
      channel: 'kakaotalk',
      category: 'advertising',
      payload: {},
      ...(expiresAt ? { expiresAt } : {}),
    } as DeliveryRequest['notification'],
    scheduledAt: iso(T - 8 * 3_600_000),
    decidedAt: iso(T - 60_000),
    releaseAt: iso(T),
    releaseReason: 'held-quiet-hours',
    deadline: iso(NEXT_WINDOW),
    ...overrides,
  };
}

describe('measureSend', () => {
  test('a staged advertisement: ahead of its release by the lead, receivable at it, not in the window', () => {
    const measured = measureSend(advertisement(), { stagedAt: iso(T - 60_000), releasedAt: iso(T + 8) });
    assert.deepEqual(measured, { category: 'advertising', staged: true, aheadOfReleaseSeconds: 60, lagSeconds: 0.008, insideQuietWindow: false, receivableAtMs: T + 8 });
  });

  test('receivable before the end of the window that held it: inside', () => {
    assert.equal(measureSend(advertisement(), { stagedAt: iso(T - 60_000), releasedAt: iso(T - 1) }).insideQuietWindow, true);
  });

  test('receivable at the start of its next window: inside; a second before it: not', () => {
    const request = advertisement({ releaseAt: undefined, dueAt: iso(T), decidedAt: iso(NEXT_WINDOW - 2_000) });
    assert.equal(measureSend(request, { stagedAt: iso(NEXT_WINDOW), releasedAt: iso(NEXT_WINDOW) }).insideQuietWindow, true);
    assert.equal(measureSend(request, { stagedAt: iso(NEXT_WINDOW - 1_000), releasedAt: iso(NEXT_WINDOW - 1_000) }).insideQuietWindow, false);
  });

  test('a deadline that is the expiry is not a window', () => {
    const expiry = iso(T + 3_600_000);
    const request = advertisement({ releaseAt: undefined, deadline: expiry }, expiry);
    assert.equal(measureSend(request, { stagedAt: expiry, releasedAt: expiry }).insideQuietWindow, false);
  });

  test('a send at or after its release: sent, its lag from dueAt, or none without it', () => {
    const late = measureSend(advertisement({ releaseAt: undefined, dueAt: iso(T) }), { stagedAt: iso(T + 2_500), releasedAt: iso(T + 2_500) });
    assert.deepEqual({ staged: late.staged, lag: late.lagSeconds, ahead: late.aheadOfReleaseSeconds }, { staged: false, lag: 2.5, ahead: undefined });
    const unknown = measureSend(advertisement({ releaseAt: undefined }), { stagedAt: iso(T + 2_500), releasedAt: iso(T + 2_500) });
    assert.equal(unknown.lagSeconds, undefined);
  });

  test('an order the window did not hold (immediate): never inside, whatever the hour', () => {
    const order = advertisement({ releaseAt: undefined, releaseReason: 'immediate', deadline: undefined });
    (order.notification as { category: string }).category = 'order';
    const measured = measureSend(order, { stagedAt: iso(T - 3_600_000), releasedAt: iso(T - 3_600_000) });
    assert.deepEqual({ category: measured.category, inside: measured.insideQuietWindow }, { category: 'order', inside: false });
  });

  test('a legacy body and a digest carry categories of their own', () => {
    const legacy = { ...advertisement(), notification: { kind: 'legacy-forward', notificationId: 'l-1', body: '{}' } } as unknown as DeliveryRequest;
    const digest = { ...advertisement(), notification: { kind: 'digest', notificationId: 'digest-1', recipient: { id: 'u' }, channel: 'sms', entries: [] } } as unknown as DeliveryRequest;
    assert.equal(measureSend(legacy, { stagedAt: iso(T - 1_000), releasedAt: iso(T) }).category, 'legacy');
    assert.equal(measureSend(digest, { stagedAt: iso(T - 1_000), releasedAt: iso(T) }).category, 'digest');
  });
});
