/** The notification contract (src/notification.ts), by example: what producers get told. Pure code, nothing stubbed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deliveryMessageBody } from '../src/deliveryMessage';
import { InvalidNotificationError, parseNotification } from '../src/notification';

const valid = { notificationId: 'contract-1', recipient: { id: 'user-1' }, channel: 'sms', category: 'order' };

function issuesOf(input: unknown): { field: string; message: string }[] {
  try {
    parseNotification(input);
  } catch (error) {
    assert.ok(error instanceof InvalidNotificationError, String(error));
    return error.issues;
  }
  assert.fail(`expected ${JSON.stringify(input)} to be refused`);
}

describe('the notification contract', () => {
  test('an unknown field is refused, named, with the field it most likely stands for', () => {
    assert.deepEqual(issuesOf({ ...valid, expireAt: '2026-11-24T09:00:00+09:00' }), [{ field: 'expireAt', message: 'unknown field (did you mean expiresAt?)' }]);
    assert.deepEqual(issuesOf({ ...valid, recipient: { id: 'u', nightconsent: true } }), [{ field: 'recipient.nightconsent', message: 'unknown field (did you mean nightConsent?)' }]);
    assert.deepEqual(issuesOf({ ...valid, campaign: 'winter' }), [{ field: 'campaign', message: 'unknown field' }]);
  });

  test('an instant whose offset no clock shows is refused; real offsets, up to Kiribati\'s +14:00, are not', () => {
    for (const expiresAt of ['2026-11-24T09:00:00+99:99', '2026-11-24T09:00:00+15:00', '2026-11-24T09:00:00-09:75']) {
      assert.equal(issuesOf({ ...valid, expiresAt })[0]?.field, 'expiresAt', expiresAt);
    }
    for (const expiresAt of ['2026-11-24T09:00:00+14:00', '2026-11-24T09:00:00-12:00', '2026-11-24T09:00:00+05:45', '2026-11-24T00:00:00Z']) {
      assert.equal(parseNotification({ ...valid, expiresAt }).expiresAt, expiresAt);
    }
  });

  test('payloadJson carries numbers beyond 2^53 into the delivery body exactly; it must be an object, and not beside payload', () => {
    const notification = parseNotification({ ...valid, payloadJson: '{"orderId": 1234567890123456789, "note": "$& $1"}' });
    assert.equal(deliveryMessageBody(notification), '{"notificationId":"contract-1","recipient":{"id":"user-1"},"channel":"sms","category":"order","payload":{"orderId": 1234567890123456789, "note": "$& $1"}}');
    assert.equal(issuesOf({ ...valid, payloadJson: '[1, 2]' })[0]?.field, 'payloadJson');
    assert.equal(issuesOf({ ...valid, payloadJson: '{"half": ' })[0]?.field, 'payloadJson');
    assert.deepEqual(issuesOf({ ...valid, payload: { a: 1 }, payloadJson: '{}' }), [{ field: 'payloadJson', message: 'give payload or payloadJson, not both' }]);
  });
});
