/** Unit tests of the legacy wait-queue format (pure code, nothing stubbed). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeLegacyBody,
  encodeLegacyBody,
  classifyLegacyMessage,
  parseLegacyMessage,
  PoisonLegacyMessageError,
  type LegacyBody,
} from '../src/legacy/legacyMessage';

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
    assert.deepEqual(plain.payload, legacy.payload);
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
    assert.match(a, /^legacy-[0-9a-f]{32}$/);
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
      assert.match(message.forward.notificationId, /^legacy-[0-9a-f]{32}$/);
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

  test('decodeLegacyBody unwraps exactly one extra level of encoding', () => {
    const triple = JSON.stringify(JSON.stringify(JSON.stringify(legacy)));
    assert.throws(() => decodeLegacyBody(triple), PoisonLegacyMessageError);
  });
});
