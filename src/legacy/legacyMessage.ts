/**
 * The legacy wait queue's message format, and its mapping to the notification contract.
 *
 * A legacy body is the notification as JSON in the old producers' vocabulary:
 *   { "notificationId"?: "…", "recipientId": "user-42", "timeZone"?: "Asia/Seoul",
 *     "nightConsent"?: false, "channel": "KAKAO" | "SMS" | "PUSH", "type": "AD" | "ORDER" |
 *     "DELIVERY" | "REFUND", "payload": { … }, "expiresAt"?: "…" }
 * The old producer code JSON-encoded that object once more before sending, so many bodies are a
 * JSON string holding the JSON; both encodings are accepted. Lower-case and the new names
 * ("kakaotalk", "advertising", …) are accepted as well.
 *
 * Bodies are read with a lossless JSON parser: a number keeps the digits it was written with, so
 * a 64-bit id beyond 2^53 is forwarded exactly (the payload travels as JSON text, `payloadJson`),
 * and two bodies that differ only in such digits are two notifications.
 *
 * Any other non-empty body (a producer's own JSON without `recipientId`, or not JSON at all) is
 * foreign: the old drain forwarded it unchanged at 08:00, so it becomes a LegacyForward.
 *
 * A body without a `notificationId` gets one from its content, keyed and time-bucketed (see
 * LegacyIdContext): the same body again within the deduplication window is the same notification
 * (a redelivery, a producer's retry), later it is a new one (a reminder, a second campaign).
 */
import { createHmac } from 'node:crypto';
import { isLosslessNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import { InvalidNotificationError, parseNotification, type LegacyForward, type Notification } from '../notification';

const CHANNEL_ALIASES: Record<string, Notification['channel']> = {
  kakao: 'kakaotalk',
  kakaotalk: 'kakaotalk',
  alimtalk: 'kakaotalk',
  sms: 'sms',
  lms: 'sms',
  push: 'push',
};

const CATEGORY_ALIASES: Record<string, Notification['category']> = {
  ad: 'advertising',
  ads: 'advertising',
  advertising: 'advertising',
  marketing: 'advertising',
  order: 'order',
  delivery: 'delivery',
  shipping: 'delivery',
  refund: 'refund',
};

export interface LegacyBody {
  notificationId?: string;
  recipientId: string;
  timeZone?: string;
  nightConsent?: boolean;
  channel: string;
  type: string;
  payload?: Record<string, unknown>;
  expiresAt?: string;
}

/** Why a legacy message could not become a notification; it goes to the dead-letter queue with this. */
export class PoisonLegacyMessageError extends Error {
  override readonly name = 'PoisonLegacyMessageError';
}

/**
 * What names a legacy message that carries no `notificationId`:
 * - `idKey`: the key of the content hash (NOTIFY_RECIPIENT_HASH_KEY). Keyed, because workflow ids
 *   are in plain sight in the Web UI: a plain SHA-256 of a body would let anyone confirm a guessed
 *   recipient and text offline;
 * - `sentAtMs`: when SQS received the message (its SentTimestamp), the same for every redelivery;
 * - `dedupWindowMs`: copies of one body sent within this long of each other are one notification
 *   (NOTIFY_LEGACY_DEDUP_WINDOW_SECONDS; 5 minutes, as SQS FIFO's content-based deduplication).
 */
export interface LegacyIdContext {
  idKey: Uint8Array;
  sentAtMs: number;
  dedupWindowMs: number;
}

/**
 * The identity of a body without a `notificationId`: its id is `<prefix>-<bucket>`, the bucket
 * being the window-long stretch of time it was sent in. A copy sent in a neighbouring bucket may
 * still be within the window; the reconciler checks those (src/activities/legacyQueue.ts).
 */
export interface ContentIdentity {
  /** `legacy-<keyed hash of the content>`: the same for every copy of the same content. */
  prefix: string;
  bucket: number;
  sentAtMs: number;
  dedupWindowMs: number;
}

/** The notification id of the content in a bucket. */
export function contentIdInBucket(identity: Pick<ContentIdentity, 'prefix'>, bucket: number): string {
  return `${identity.prefix}-${bucket}`;
}

/** What a legacy body becomes: a notification in the documented vocabulary, or a foreign body to forward. */
export type LegacyMessage =
  | { kind: 'notification'; notification: Notification; identity?: ContentIdentity }
  /** `why` says what made it foreign, for a dead letter when foreign bodies are not forwarded. */
  | { kind: 'foreign'; forward: LegacyForward; why: string; identity: ContentIdentity };

/** Parses JSON keeping every number as written; throws a SyntaxError for what is not JSON (or repeats a key with another value). */
function parseExact(text: string): unknown {
  return parseLossless(text);
}

/** A JSON object as the lossless parser gives it (its numbers are objects too, but not JSON objects). */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value);
}

/** JSON with object keys sorted and numbers as written, so that equal content always hashes the same. */
function canonicalJson(value: unknown): string {
  if (isLosslessNumber(value)) return value.toString();
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function contentIdentity(content: string, context: LegacyIdContext): ContentIdentity {
  if (!(context.dedupWindowMs > 0)) throw new RangeError('the legacy deduplication window must be positive');
  const hash = createHmac('sha256', context.idKey).update(content, 'utf8').digest('hex').slice(0, 32);
  return {
    prefix: `legacy-${hash}`,
    bucket: Math.floor(context.sentAtMs / context.dedupWindowMs),
    sentAtMs: context.sentAtMs,
    dedupWindowMs: context.dedupWindowMs,
  };
}

/**
 * Classifies a legacy body. The documented vocabulary (a JSON object, or a JSON string holding
 * one, with `recipientId`) becomes a notification, and one whose fields are invalid throws
 * PoisonLegacyMessageError with the reason; an empty body throws too. Anything else is foreign.
 * Without a `notificationId` of its own, its id comes from its content (of the decoded JSON, so
 * both encodings of the same content share it, else of the body itself) and its sending time.
 */
export function classifyLegacyMessage(body: string, context: LegacyIdContext): LegacyMessage {
  if (body.trim() === '') throw new PoisonLegacyMessageError('body is empty');
  const foreign = (why: string, content: string): LegacyMessage => {
    const identity = contentIdentity(content, context);
    return { kind: 'foreign', forward: { kind: 'legacy-forward', notificationId: contentIdInBucket(identity, identity.bucket), body }, why, identity };
  };
  let decoded: unknown;
  try {
    decoded = parseExact(body);
  } catch {
    return foreign('body is not JSON', body);
  }
  if (typeof decoded === 'string') {
    try {
      decoded = parseExact(decoded);
    } catch {
      return foreign('body is a JSON string that does not hold JSON', body);
    }
  }
  if (!isJsonObject(decoded)) return foreign('body is not a JSON object', canonicalJson(decoded));
  const fields = decoded as Record<string, unknown>;
  if (!Object.hasOwn(fields, 'recipientId')) return foreign('body has no recipientId', canonicalJson(decoded));
  if (typeof fields.notificationId === 'string' && fields.notificationId.length > 0) {
    return { kind: 'notification', notification: mapVocabulary(fields, fields.notificationId) };
  }
  const identity = contentIdentity(canonicalJson(decoded), context);
  return { kind: 'notification', notification: mapVocabulary(fields, contentIdInBucket(identity, identity.bucket)), identity };
}

/** Turns a legacy body into a validated notification, or throws PoisonLegacyMessageError with the reason (a foreign body included). */
export function parseLegacyMessage(body: string, context: LegacyIdContext): Notification {
  const message = classifyLegacyMessage(body, context);
  if (message.kind === 'foreign') throw new PoisonLegacyMessageError(`not the documented legacy vocabulary: ${message.why}`);
  return message.notification;
}

/**
 * A field outside the payload as JSON.parse would give it. Numbers are never valid there (ids and
 * zones are strings, consent a boolean), so the contract refuses them either way, naming the type.
 */
function plain(value: unknown): unknown {
  return isLosslessNumber(value) ? Number(value.toString()) : value;
}

function mapVocabulary(decoded: Record<string, unknown>, notificationId: string): Notification {
  const alias = (table: Record<string, string>, value: unknown) =>
    typeof value === 'string' ? (table[value.trim().toLowerCase()] ?? value) : plain(value);
  const payload = decoded.payload;
  const payloadIsObject = isJsonObject(payload);
  const candidate = {
    notificationId,
    recipient: {
      id: plain(decoded.recipientId),
      timeZone: plain(decoded.timeZone),
      nightConsent: plain(decoded.nightConsent),
    },
    channel: alias(CHANNEL_ALIASES, decoded.channel),
    category: alias(CATEGORY_ALIASES, decoded.type ?? decoded.category),
    // The payload as the producer wrote it, numbers and all; anything else is the contract's to refuse.
    ...(payloadIsObject ? { payloadJson: stringifyLossless(payload) } : payload === undefined ? {} : { payload: plain(payload) }),
    expiresAt: plain(decoded.expiresAt),
  };
  try {
    return parseNotification(candidate);
  } catch (error) {
    if (error instanceof InvalidNotificationError) throw new PoisonLegacyMessageError(error.message);
    throw error;
  }
}

/** Encodes a legacy body the way the old producers did (`doubleEncoded`) or as plain JSON. */
export function encodeLegacyBody(body: LegacyBody, options: { doubleEncoded: boolean }): string {
  const json = JSON.stringify(body);
  return options.doubleEncoded ? JSON.stringify(json) : json;
}
