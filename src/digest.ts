/**
 * The digest message: one advertisement that lists the payloads of a recipient's notifications
 * that the morning cap merged (NOTIFY_MORNING_CAP_OVERFLOW=digest). Its body is
 *   { notificationId, recipient: { id }, channel, category: "advertising",
 *     digest: [ { notificationId, payload }, … ] }
 * with each payload as its producer wrote it (numbers exactly, as `payloadJson` keeps them).
 *
 * Pure (no Node APIs): the morning gate, a workflow, sizes entries with it when it decides what
 * fits; the delivery activity builds the body with it.
 */
import type { Channel, Notification } from './notification';

/** One merged notification as the digest lists it. */
export interface DigestEntry {
  notificationId: string;
  /** Its payload as JSON text (payloadJson, or the payload serialized). */
  payloadJson: string;
}

/** What the gate sends at the release: a deliverable of its own kind. */
export interface Digest {
  kind: 'digest';
  /** `digest-<gate>`: one per recipient and release instant. */
  notificationId: string;
  recipient: { id: string };
  channel: Channel;
  entries: DigestEntry[];
}

/** The digest of a morning gate (`morning-<recipient hash>-<release ms>`): `digest-<recipient hash>-<release ms>`. */
export function digestIdOf(gateId: string): string {
  return `digest-${gateId.replace(/^morning-/, '')}`;
}

export function isDigest(deliverable: object): deliverable is Digest {
  return (deliverable as { kind?: unknown }).kind === 'digest';
}

/** The payload of a notification as JSON text, exactly as its producer gave it. */
export function payloadText(notification: Pick<Notification, 'payload' | 'payloadJson'>): string {
  return notification.payloadJson?.trim() ?? JSON.stringify(notification.payload);
}

/** A digest entry as it stands in the body. */
export function digestEntryJson(entry: DigestEntry): string {
  return `{"notificationId":${JSON.stringify(entry.notificationId)},"payload":${entry.payloadJson}}`;
}

/** The body of a digest message (JSON; the caller escapes what SQS refuses). */
export function digestBodyJson(digest: Digest): string {
  const head = JSON.stringify({ notificationId: digest.notificationId, recipient: { id: digest.recipient.id }, channel: digest.channel, category: 'advertising' });
  return `${head.slice(0, -1)},"digest":[${digest.entries.map(digestEntryJson).join(',')}]}`;
}

/** Bytes of a string in UTF-8, as SQS counts them. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Bytes an entry adds to a digest's body (its JSON and a separating comma). */
export function digestEntryBytes(entry: DigestEntry): number {
  return utf8Length(digestEntryJson(entry)) + 1;
}

/**
 * What a digest's envelope takes of the queue's size limit besides its entries: the body's head
 * and the message attributes (ids, instants, reasons), generously, for ids up to 200 characters.
 */
export const DIGEST_ENVELOPE_BYTES = 2_048;
