/**
 * The message a notification becomes on the delivery queue: its body, its attributes and its size
 * as SQS counts it. One definition for the activity that sends it, the client that checks at
 * schedule time that it will fit, and the benchmark's alternatives that send the same bytes.
 * No AWS import: the attribute shape is SQS's, written out.
 */
import { createHash } from 'node:crypto';
import { digestBodyJson, isDigest, type Digest } from './digest';
import { isLegacyForward, type Deliverable } from './notification';
import { zoneDataVersion } from './zoneData';

/** SQS's default (and, before 2025, largest) MaximumMessageSize; a queue may set 1 KiB–1 MiB. */
export const SQS_DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

/** SQS caps a FIFO message's MessageGroupId and MessageDeduplicationId at this many characters. */
export const FIFO_ID_MAX_LENGTH = 128;

export interface StringAttribute {
  DataType: 'String';
  StringValue: string;
}

/** What the workflow knows when it sends: when it was scheduled, released and staged, and why. */
export interface DeliveryTimes {
  /** When the notification was scheduled (its workflow start), ISO-8601. */
  scheduledAt: string;
  /** When it becomes receivable on the delivery queue, ISO-8601. */
  releasedAt: string;
  /** When it was handed to SQS (before releasedAt when staged with a delay), ISO-8601. */
  stagedAt: string;
  /** `immediate`, `held-quiet-hours` or `not-before`. */
  releaseReason: string;
  /** Decided under a quiet window narrower than the law's (NOTIFY_ALLOW_NARROWER_QUIET_HOURS, tests only). */
  narrowerThanLaw?: boolean;
  /** The IANA time zone data of the worker that sent it (src/zoneData.ts), e.g. "2026e". */
  zoneData?: string;
}

/**
 * JSON that SQS accepts. SQS refuses characters outside #x9 | #xA | #xD | #x20–#xD7FF |
 * #xE000–#xFFFD | #x10000–#x10FFFF; JSON.stringify already escapes control characters and lone
 * surrogates, which leaves the noncharacters U+FFFE and U+FFFF. They can only stand inside JSON
 * strings, where the \uXXXX escape means the same character, so the consumer decodes exactly what
 * the producer sent.
 */
export function sqsSafeJson(value: unknown): string {
  return sqsSafeText(JSON.stringify(value));
}

/**
 * The body the downstream sender (KakaoTalk / SMS / push gateway) consumes:
 * `{ notificationId, recipient: { id }, channel, category, payload }`. A payload given as JSON text
 * (`payloadJson`) goes in as that text, so its numbers arrive exactly as written. A legacy forward
 * keeps its original body in the old drain's encoding: a JSON string holding it.
 */
export function deliveryMessageBody(deliverable: Deliverable | Digest): string {
  if (isDigest(deliverable)) return sqsSafeText(digestBodyJson(deliverable));
  if (isLegacyForward(deliverable)) return sqsSafeJson(deliverable.body);
  const { notificationId, recipient, channel, category, payload, payloadJson } = deliverable;
  const head = { notificationId, recipient: { id: recipient.id }, channel, category };
  if (payloadJson === undefined) return sqsSafeJson({ ...head, payload });
  // The contract checked that it is a JSON object; spliced in as the last member, verbatim.
  const headJson = sqsSafeJson(head);
  return `${headJson.slice(0, -1)},"payload":${sqsSafeText(payloadJson.trim())}}`;
}

/** JSON text with U+FFFE and U+FFFF escaped: they can only stand inside its strings, where the escape means the same. */
function sqsSafeText(json: string): string {
  return json.replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

function stringAttribute(value: string): StringAttribute {
  return { DataType: 'String', StringValue: value };
}

/** The attributes that let the downstream sender, and an auditor, see when and why it was released. */
export function deliveryMessageAttributes(deliverable: Deliverable | Digest, times: DeliveryTimes): Record<string, StringAttribute> {
  return {
    notificationId: stringAttribute(deliverable.notificationId),
    ...(isDigest(deliverable)
      ? { category: stringAttribute('advertising'), channel: stringAttribute(deliverable.channel), digestOf: stringAttribute(String(deliverable.entries.length)) }
      : isLegacyForward(deliverable)
        ? { legacyForward: stringAttribute('true') }
        : { category: stringAttribute(deliverable.category), channel: stringAttribute(deliverable.channel) }),
    scheduledAt: stringAttribute(times.scheduledAt),
    releasedAt: stringAttribute(times.releasedAt),
    stagedAt: stringAttribute(times.stagedAt),
    releaseReason: stringAttribute(times.releaseReason),
    ...(times.narrowerThanLaw ? { quietHoursOverride: stringAttribute(NARROWER_THAN_LAW) } : {}),
    ...(times.zoneData ? { zoneData: stringAttribute(times.zoneData) } : {}),
  };
}

/** The `quietHoursOverride` attribute of a message released under a window narrower than the law's. */
export const NARROWER_THAN_LAW = 'narrower-than-law';

/** A message's size as SQS counts it against MaximumMessageSize: the body plus every attribute's name, type and value. */
export function messageBytes(body: string, attributes: Record<string, StringAttribute>): number {
  let size = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType) + Buffer.byteLength(value.StringValue);
  }
  return size;
}

/** Timestamps of the length every real one has, for measuring a message before it is sent. */
const PLACEHOLDER_INSTANT = new Date(0).toISOString();
const LONGEST_REASON = 'held-quiet-hours';

/** The size the delivery message will have, whenever and however it is released. */
export function deliveryMessageBytes(deliverable: Deliverable, options: { narrowerThanLaw?: boolean } = {}): number {
  const times = {
    scheduledAt: PLACEHOLDER_INSTANT,
    releasedAt: PLACEHOLDER_INSTANT,
    stagedAt: PLACEHOLDER_INSTANT,
    releaseReason: LONGEST_REASON,
    narrowerThanLaw: options.narrowerThanLaw,
    // This process's own: a worker's has the same length ("2026e") unless its Node lacks ICU's data.
    zoneData: zoneDataVersion(),
  };
  return messageBytes(deliveryMessageBody(deliverable), deliveryMessageAttributes(deliverable, times));
}

/** A FIFO queue, by its name or URL (SQS requires the .fifo suffix). */
export function isFifoQueue(queueNameOrUrl: string): boolean {
  return queueNameOrUrl.endsWith('.fifo');
}

/**
 * The MessageGroupId and MessageDeduplicationId of a notification on a FIFO queue: its id, or a
 * fixed-length hash of it when the id is longer than SQS allows (ids may have up to 200 characters).
 */
export function fifoMessageId(notificationId: string): string {
  if (notificationId.length <= FIFO_ID_MAX_LENGTH) return notificationId;
  return `sha256-${createHash('sha256').update(notificationId).digest('hex')}`;
}
