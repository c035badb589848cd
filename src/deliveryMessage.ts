/**
 * The message a notification becomes on the delivery queue: its body, its attributes and its size
 * as SQS counts it. One definition for the activity that sends it, the client that checks at
 * schedule time that it will fit, and the benchmark's alternatives that send the same bytes.
 * No AWS import: the attribute shape is SQS's, written out.
 */
import { createHash } from 'node:crypto';
import { isLegacyForward, type Deliverable } from './notification';

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
}

/**
 * JSON that SQS accepts. SQS refuses characters outside #x9 | #xA | #xD | #x20–#xD7FF |
 * #xE000–#xFFFD | #x10000–#x10FFFF; JSON.stringify already escapes control characters and lone
 * surrogates, which leaves the noncharacters U+FFFE and U+FFFF. They can only stand inside JSON
 * strings, where the \uXXXX escape means the same character, so the consumer decodes exactly what
 * the producer sent.
 */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/**
 * The body the downstream sender (KakaoTalk / SMS / push gateway) consumes. A legacy forward keeps
 * its original body in the old drain's encoding: a JSON string holding it.
 */
export function deliveryMessageBody(deliverable: Deliverable): string {
  if (isLegacyForward(deliverable)) return sqsSafeJson(deliverable.body);
  const { notificationId, recipient, channel, category, payload } = deliverable;
  return sqsSafeJson({ notificationId, recipient: { id: recipient.id }, channel, category, payload });
}

function stringAttribute(value: string): StringAttribute {
  return { DataType: 'String', StringValue: value };
}

/** The attributes that let the downstream sender, and an auditor, see when and why it was released. */
export function deliveryMessageAttributes(deliverable: Deliverable, times: DeliveryTimes): Record<string, StringAttribute> {
  return {
    notificationId: stringAttribute(deliverable.notificationId),
    ...(isLegacyForward(deliverable)
      ? { legacyForward: stringAttribute('true') }
      : { category: stringAttribute(deliverable.category), channel: stringAttribute(deliverable.channel) }),
    scheduledAt: stringAttribute(times.scheduledAt),
    releasedAt: stringAttribute(times.releasedAt),
    stagedAt: stringAttribute(times.stagedAt),
    releaseReason: stringAttribute(times.releaseReason),
  };
}

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
export function deliveryMessageBytes(deliverable: Deliverable): number {
  const times = { scheduledAt: PLACEHOLDER_INSTANT, releasedAt: PLACEHOLDER_INSTANT, stagedAt: PLACEHOLDER_INSTANT, releaseReason: LONGEST_REASON };
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
