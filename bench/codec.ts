/**
 * The payload codec's cost per payload: AES-256-GCM encode and decode of a notification workflow's
 * input (the largest payload a notification has), in this process. `node --import tsx bench/codec.ts`.
 * A notification's life encodes about six payloads and decodes about as many, so this times six is
 * what encryption adds to each one's CPU.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../src/security/payloadCodec';

const codec = new AesGcmPayloadCodec({ currentKeyId: 'bench', keys: new Map([['bench', randomBytes(32)]]) });
const input = {
  notification: {
    notificationId: 'order-1234-winter-sale',
    recipient: { id: 'user-42', timeZone: 'Asia/Seoul', nightConsent: false },
    channel: 'kakaotalk',
    category: 'advertising',
    payload: { template: 'winter-sale', discount: 30, body: '겨울 세일 30% 할인 — 오늘 밤까지' },
  },
  policy: { quietStart: '21:00', quietEnd: '08:00', defaultTimeZone: 'Asia/Seoul', heldCategories: ['advertising', 'order', 'delivery', 'refund'], morningSpreadSeconds: 0 },
};

async function main(): Promise<void> {
  const payload = defaultPayloadConverter.toPayload(input);
  const n = Number(process.argv[2] ?? 100_000);
  for (let index = 0; index < 5_000; index += 1) await codec.decode(await codec.encode([payload])); // warm-up
  const encodeStart = performance.now();
  let encoded = await codec.encode([payload]);
  for (let index = 1; index < n; index += 1) encoded = await codec.encode([payload]);
  const decodeStart = performance.now();
  for (let index = 0; index < n; index += 1) await codec.decode(encoded);
  const end = performance.now();
  const perPayload = (ms: number) => `${((ms * 1000) / n).toFixed(1)} µs`;
  console.log(
    `${n} payloads of ${payload.data!.length} B (${encoded[0]!.data!.length} B encrypted): ` +
      `encode ${perPayload(decodeStart - encodeStart)}, decode ${perPayload(end - decodeStart)} per payload`,
  );
}

void main();
