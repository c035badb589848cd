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
 * Any other non-empty body (a producer's own JSON without `recipientId`, or not JSON at all) is
 * foreign: the old drain forwarded it unchanged at 08:00, so it becomes a LegacyForward.
 */
import { createHash } from 'node:crypto';
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

/** Decodes a body in either encoding: JSON, or a JSON string that holds JSON. */
export function decodeLegacyBody(body: string): unknown {
  let decoded: unknown;
  try {
    decoded = JSON.parse(body);
  } catch (error) {
    throw new PoisonLegacyMessageError(`body is not JSON: ${(error as Error).message}`);
  }
  if (typeof decoded === 'string') {
    try {
      decoded = JSON.parse(decoded);
    } catch (error) {
      throw new PoisonLegacyMessageError(`body is a JSON string that does not hold JSON: ${(error as Error).message}`);
    }
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw new PoisonLegacyMessageError('body is not a JSON object');
  }
  return decoded;
}

/** JSON with object keys sorted, so that equal content always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The business id of a legacy message: the id it carries, else a hash of its content. Never the
 * SQS MessageId, which changes whenever a producer re-enqueues the same notification.
 */
export function legacyNotificationId(decoded: Record<string, unknown>): string {
  if (typeof decoded.notificationId === 'string' && decoded.notificationId.length > 0) return decoded.notificationId;
  return contentId(canonicalJson(decoded));
}

/** What a legacy body becomes: a notification in the documented vocabulary, or a foreign body to forward. */
export type LegacyMessage =
  | { kind: 'notification'; notification: Notification }
  /** `why` says what made it foreign, for a dead letter when foreign bodies are not forwarded. */
  | { kind: 'foreign'; forward: LegacyForward; why: string };

function contentId(content: string): string {
  return `legacy-${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}

/**
 * Classifies a legacy body. The documented vocabulary (a JSON object, or a JSON string holding
 * one, with `recipientId`) becomes a notification, and one whose fields are invalid throws
 * PoisonLegacyMessageError with the reason; an empty body throws too. Anything else is foreign,
 * with a content-hash id (of the decoded JSON, so both encodings of the same content share it,
 * else of the body itself), so that a redelivery starts nothing twice.
 */
export function classifyLegacyMessage(body: string): LegacyMessage {
  if (body.trim() === '') throw new PoisonLegacyMessageError('body is empty');
  const foreign = (why: string, content: string): LegacyMessage => ({
    kind: 'foreign',
    forward: { kind: 'legacy-forward', notificationId: contentId(content), body },
    why,
  });
  let decoded: unknown;
  try {
    decoded = JSON.parse(body);
  } catch {
    return foreign('body is not JSON', body);
  }
  if (typeof decoded === 'string') {
    try {
      decoded = JSON.parse(decoded);
    } catch {
      return foreign('body is a JSON string that does not hold JSON', body);
    }
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    return foreign('body is not a JSON object', canonicalJson(decoded));
  }
  if (!Object.hasOwn(decoded, 'recipientId')) return foreign('body has no recipientId', canonicalJson(decoded));
  return { kind: 'notification', notification: mapVocabulary(decoded as Record<string, unknown>) };
}

/** Turns a legacy body into a validated notification, or throws PoisonLegacyMessageError with the reason (a foreign body included). */
export function parseLegacyMessage(body: string): Notification {
  const message = classifyLegacyMessage(body);
  if (message.kind === 'foreign') throw new PoisonLegacyMessageError(`not the documented legacy vocabulary: ${message.why}`);
  return message.notification;
}

function mapVocabulary(decoded: Record<string, unknown>): Notification {
  const alias = (table: Record<string, string>, value: unknown) =>
    typeof value === 'string' ? (table[value.trim().toLowerCase()] ?? value) : value;
  const candidate = {
    notificationId: legacyNotificationId(decoded),
    recipient: {
      id: decoded.recipientId,
      timeZone: decoded.timeZone,
      nightConsent: decoded.nightConsent,
    },
    channel: alias(CHANNEL_ALIASES, decoded.channel),
    category: alias(CATEGORY_ALIASES, decoded.type ?? decoded.category),
    payload: decoded.payload,
    expiresAt: decoded.expiresAt,
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
