/** Unit tests of the legacy wait-queue format (pure code, nothing stubbed). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeLegacyBody,
  encodeLegacyBody,
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

  test('poison bodies are refused with a reason', () => {
    const cases: [string, RegExp][] = [
      ['not json at all', /not JSON/],
      [JSON.stringify('{"half": '), /does not hold JSON/],
      ['[1,2,3]', /not a JSON object/],
      [JSON.stringify({ ...legacy, channel: 'FAX' }), /channel/],
      [JSON.stringify({ ...legacy, recipientId: undefined }), /recipient\.id/],
      [JSON.stringify({ ...legacy, timeZone: 'KST' }), /recipient\.timeZone/],
    ];
    for (const [body, reason] of cases) {
      assert.throws(
        () => parseLegacyMessage(body),
        (error: unknown) => error instanceof PoisonLegacyMessageError && reason.test(error.message),
        `expected ${body} to be poison matching ${reason}`,
      );
    }
  });

  test('decodeLegacyBody unwraps exactly one extra level of encoding', () => {
    const triple = JSON.stringify(JSON.stringify(JSON.stringify(legacy)));
    assert.throws(() => decodeLegacyBody(triple), PoisonLegacyMessageError);
  });
});
