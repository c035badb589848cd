/** Unit tests of the legacy wait-queue format (pure code, nothing stubbed). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { deliveryMessageBody } from '../src/deliveryMessage';
import {
  encodeLegacyBody,
  classifyLegacyMessage as classifyWith,
  contentIdInBucket,
  parseLegacyMessage as parseWith,
  PoisonLegacyMessageError,
  type LegacyBody,
  type LegacyIdContext,
} from '../src/legacy/legacyMessage';

const FIVE_MINUTES = 300_000;
/** A fixed key and sending time: ids below are computed, never assumed. */
const ids: LegacyIdContext = { idKey: Buffer.from('legacy message test key, 32 bytes'), sentAtMs: Date.parse('2026-12-03T13:02:30Z'), dedupWindowMs: FIVE_MINUTES };
const classifyLegacyMessage = (body: string, context: LegacyIdContext = ids) => classifyWith(body, context);
const parseLegacyMessage = (body: string, context: LegacyIdContext = ids) => parseWith(body, context);
const CONTENT_ID = /^legacy-[0-9a-f]{32}-\d+$/;

const legacy: LegacyBody = {
  recipientId: 'user-7',
  channel: 'KAKAO',
  type: 'AD',
  payload: { template: 'night-sale', discount: 30 },
};

describe('legacy wait-queue messages', () => {
  test('both encodings decode to the same notification', () => {
    const plain = parseLegacyMessage(encodeLegacyBody(legacy, { doubleEncoded: false }));
    const double = parseLegacyMessage(encodeLegacyBody(legacy, { doubleEncoded: true }));
    assert.deepEqual(plain, double);
    assert.equal(plain.channel, 'kakaotalk');
    assert.equal(plain.category, 'advertising');
    assert.equal(plain.recipient.id, 'user-7');
    assert.equal(plain.recipient.timeZone, undefined, 'no zone given: the policy default applies');
    assert.equal(plain.recipient.nightConsent, false);
    // The payload travels as the JSON text it was written as (numbers exactly), the same in both encodings.
    assert.deepEqual(JSON.parse(plain.payloadJson!), legacy.payload);
  });

  test('the id it carries becomes the notification id', () => {
    const parsed = parseLegacyMessage(JSON.stringify({ ...legacy, notificationId: 'order-991-ad' }));
    assert.equal(parsed.notificationId, 'order-991-ad');
  });

  test('without an id, the id is a hash of the content: stable across key order and encodings, different for other content', () => {
    const a = parseLegacyMessage(JSON.stringify(legacy)).notificationId;
    const reordered = { payload: { discount: 30, template: 'night-sale' }, type: 'AD', channel: 'KAKAO', recipientId: 'user-7' };
    const b = parseLegacyMessage(encodeLegacyBody(reordered, { doubleEncoded: true })).notificationId;
    const c = parseLegacyMessage(JSON.stringify({ ...legacy, recipientId: 'user-8' })).notificationId;
    assert.match(a, CONTENT_ID);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  test('a body in the documented vocabulary with an invalid field is poison, with the field named', () => {
    const cases: [string, RegExp][] = [
      [JSON.stringify({ ...legacy, channel: 'FAX' }), /channel/],
      [JSON.stringify({ ...legacy, recipientId: '' }), /recipient\.id/],
      [JSON.stringify({ ...legacy, recipientId: null }), /recipient\.id/],
      [JSON.stringify({ ...legacy, timeZone: 'KST' }), /recipient\.timeZone/],
      [JSON.stringify(JSON.stringify({ ...legacy, type: 'LOTTERY' })), /category/],
      ['   ', /empty/],
    ];
    for (const [body, reason] of cases) {
      assert.throws(
        () => classifyLegacyMessage(body),
        (error: unknown) => error instanceof PoisonLegacyMessageError && reason.test(error.message),
        `expected ${body} to be poison matching ${reason}`,
      );
    }
  });

  test('any other non-empty body is foreign: forwarded as it was, under an id from its content', () => {
    const cases: [string, RegExp][] = [
      ['not json at all', /not JSON/],
      [JSON.stringify('{"half": '), /does not hold JSON/],
      ['[1,2,3]', /not a JSON object/],
      ['42', /not a JSON object/],
      [JSON.stringify({ user_id: 42, message: 'your parcel is here' }), /no recipientId/],
      [JSON.stringify({ ...legacy, recipientId: undefined }), /no recipientId/],
    ];
    for (const [body, why] of cases) {
      const message = classifyLegacyMessage(body);
      assert.equal(message.kind, 'foreign', body);
      assert.ok(message.kind === 'foreign');
      assert.match(message.why, why);
      assert.equal(message.forward.body, body, 'the body must be kept character for character');
      assert.match(message.forward.notificationId, CONTENT_ID);
      const again = classifyLegacyMessage(body);
      assert.equal(again.kind === 'foreign' ? again.forward.notificationId : undefined, message.forward.notificationId, 'the id must be stable');
    }
    // The same foreign content in both encodings is one notification; different content is another.
    const own = { user_id: 7, message: 'hi' };
    const plain = classifyLegacyMessage(JSON.stringify(own));
    const double = classifyLegacyMessage(JSON.stringify(JSON.stringify(own)));
    const other = classifyLegacyMessage(JSON.stringify({ ...own, user_id: 8 }));
    assert.ok(plain.kind === 'foreign' && double.kind === 'foreign' && other.kind === 'foreign');
    assert.equal(plain.forward.notificationId, double.forward.notificationId);
    assert.notEqual(plain.forward.notificationId, other.forward.notificationId);
    // parseLegacyMessage, the strict form, refuses a foreign body.
    assert.throws(() => parseLegacyMessage('not json at all'), /not the documented legacy vocabulary/);
  });

  test('numbers keep every digit: a 64-bit id is forwarded exactly, and bodies that differ only there are two notifications', () => {
    const body = '{"recipientId":"user-7","channel":"SMS","type":"ORDER","payload":{"orderId":1234567890123456789,"ratio":1.50,"list":[9007199254740993]}}';
    const notification = parseLegacyMessage(body);
    assert.equal(notification.payloadJson, '{"orderId":1234567890123456789,"ratio":1.50,"list":[9007199254740993]}');
    const delivered = deliveryMessageBody(notification);
    assert.match(delivered, /"payload":\{"orderId":1234567890123456789,"ratio":1\.50,"list":\[9007199254740993\]\}\}$/);
    // JSON.parse would round both to the same number; the ids tell them apart.
    const neighbour = body.replace('1234567890123456789', '1234567890123456790');
    assert.equal(JSON.parse(body).payload.orderId, JSON.parse(neighbour).payload.orderId, 'the test needs two numbers that JSON.parse rounds alike');
    assert.notEqual(parseLegacyMessage(neighbour).notificationId, notification.notificationId);
  });

  test('the content id is keyed: not a plain SHA-256 of the body, and another key gives another id', () => {
    const body = JSON.stringify(legacy);
    const id = parseLegacyMessage(body).notificationId;
    const plainHash = createHash('sha256').update(body).digest('hex').slice(0, 32);
    assert.ok(!id.includes(plainHash));
    assert.notEqual(parseLegacyMessage(body, { ...ids, idKey: Buffer.from('another key of at least 32 bytes!') }).notificationId, id);
  });

  test('the content id names the window-long stretch in which SQS received it: a redelivery keeps it, a later copy gets another', () => {
    const body = JSON.stringify(legacy);
    const message = classifyLegacyMessage(body);
    assert.ok(message.kind === 'notification' && message.identity);
    const { identity } = message;
    assert.equal(identity.bucket, Math.floor(ids.sentAtMs / FIVE_MINUTES));
    assert.equal(message.notification.notificationId, contentIdInBucket(identity, identity.bucket));
    // A redelivery of the same SQS message has the same SentTimestamp: the same id.
    assert.equal(parseLegacyMessage(body).notificationId, message.notification.notificationId);
    // An hour later: a new notification.
    assert.notEqual(parseLegacyMessage(body, { ...ids, sentAtMs: ids.sentAtMs + 3_600_000 }).notificationId, message.notification.notificationId);
    // A body with an id of its own keeps it, whenever it was sent.
    assert.equal(parseLegacyMessage(JSON.stringify({ ...legacy, notificationId: 'own-1' }), { ...ids, sentAtMs: 0 }).notificationId, 'own-1');
  });

  test('exactly one extra level of encoding is unwrapped: a body encoded three times is foreign, forwarded as it came', () => {
    const triple = JSON.stringify(JSON.stringify(JSON.stringify(legacy)));
    const message = classifyLegacyMessage(triple);
    assert.ok(message.kind === 'foreign');
    assert.match(message.why, /not a JSON object/);
    assert.equal(message.forward.body, triple);
  });
});
