/**
 * The notification contract shared by the client, the workflow, the legacy reconciler and the CLI.
 * Only zod here: the workflow bundle imports this file, so it must stay free of Node APIs and I/O.
 *
 * Every workflow on a worker thread shares this module (src/workflows/sharedModules.ts), and the
 * SDK freezes what a shared module exports. So the schemas are not exported, only functions that
 * parse with them: a zod object schema caches its shape on itself at its first parse, which a
 * frozen schema would refuse.
 */
import { z } from 'zod';

export const CATEGORIES = ['advertising', 'order', 'delivery', 'refund'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CHANNELS = ['kakaotalk', 'sms', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Zone names found valid (only those, so the set stays bounded): a client checking 10,000 notifications asks Intl once per zone. */
const knownTimeZones = new Set<string>();

/** True for IANA zone names the runtime knows ("Asia/Seoul"), false for "KST" typos and the like. */
export function isValidTimeZone(zone: string): boolean {
  // Fixed-offset and abbreviations are refused on purpose: a quiet window follows the
  // recipient's civil time, DST included, which only an IANA region name describes.
  if (!zone.includes('/') && zone !== 'UTC') return false;
  if (knownTimeZones.has(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  knownTimeZones.add(zone);
  return true;
}

/**
 * Whether an instant's offset is one a clock can show: at most 14 hours and fewer than 60 minutes
 * ("+99:99" is well-formed but would move the instant by days). The policy checks the same
 * (src/policy/quietHours.ts isRealOffset); repeated here because this file imports only zod.
 */
function hasRealOffset(instant: string): boolean {
  const offset = /(Z|[+-]\d{2}(?::?\d{2})?)$/i.exec(instant)?.[1];
  if (offset === undefined || offset.toUpperCase() === 'Z') return true;
  const digits = offset.slice(1).replace(':', '');
  const minutes = Number(digits.slice(2, 4) || '0');
  return minutes < 60 && Number(digits.slice(0, 2)) * 60 + minutes <= 14 * 60;
}

const isoInstant = z
  .string()
  .datetime({ offset: true, message: 'expected an ISO-8601 instant with offset, e.g. 2026-11-23T22:30:00+09:00' })
  .refine(hasRealOffset, 'expected an offset of at most ±14:00 with fewer than 60 minutes, e.g. +09:00');

/** Text that JSON.parse reads as an object: a payload given as JSON text. */
function isJsonObjectText(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

const RecipientSchema = z.strictObject({
  id: z.string().min(1).max(200),
  /** IANA zone of the recipient; the quiet window is read in this zone. Unset: the policy's default (Asia/Seoul). */
  timeZone: z.string().refine(isValidTimeZone, 'expected an IANA time zone such as Asia/Seoul').optional(),
  /** Separate consent to receive advertising at night (art. 50(3)). */
  nightConsent: z.boolean().default(false),
});

/** The business key; the workflow id is `notification-<notificationId>`. */
const NotificationIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'only letters, digits and . _ : @ - are allowed');

/**
 * Unknown fields are refused, naming them: a producer who writes `expireAt` for `expiresAt` must
 * hear about it, not get a notification that never expires.
 */
const NotificationSchema = z
  .strictObject({
    notificationId: NotificationIdSchema,
    recipient: RecipientSchema,
    channel: z.enum(CHANNELS),
    category: z.enum(CATEGORIES),
    /** What the downstream sender renders: template, variables, text. Passed through untouched. */
    // A fresh object for each parse: a constant default would be one object shared by every workflow.
    payload: z.record(z.unknown()).default(() => ({})),
    /**
     * The payload as JSON text instead, put into the delivery message byte for byte: for numbers
     * that a JavaScript number cannot hold exactly (64-bit ids beyond 2^53). The legacy reconciler
     * uses it, so a legacy payload arrives exactly as its producer wrote it.
     */
    payloadJson: z.string().refine(isJsonObjectText, 'expected a JSON object as text').optional(),
    /** Not sent before this instant (a producer's own schedule); the quiet window still applies after it. */
    notBefore: isoInstant.optional(),
    /** Not sent at all if it could only be released at or after this instant; the workflow ends `expired`. */
    expiresAt: isoInstant.optional(),
    /**
     * Among one recipient's notifications held for the same morning with the same key, only the
     * newest goes; the others end `collapsed` (like FCM's collapse_key). Any category may carry one.
     */
    collapseKey: z.string().min(1).max(200).optional(),
    /** Under the morning cap, higher goes first (default 0). */
    priority: z.number().int().min(-1000).max(1000).optional(),
  })
  .superRefine((notification, ctx) => {
    if (notification.payloadJson !== undefined && Object.keys(notification.payload).length > 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['payloadJson'], message: 'give payload or payloadJson, not both' });
    }
  });

/** Every field a notification may have, for help texts that must not fall behind the contract. */
export const NOTIFICATION_FIELDS: readonly string[] = Object.keys(NotificationSchema.innerType().shape);

/**
 * A legacy wait-queue message that is not in the documented vocabulary (a producer's own JSON, or
 * not JSON at all). The old drain forwarded every such body at 08:00 and the downstream consumer
 * reads it, so it is held through the window like advertising and then forwarded as it was.
 */
const LegacyForwardSchema = z
  .object({
    kind: z.literal('legacy-forward'),
    notificationId: NotificationIdSchema,
    /** The original SQS body, character for character. */
    body: z.string().min(1),
  })
  .strict();
export type LegacyForward = z.output<typeof LegacyForwardSchema>;

/** The NotificationCategory search attribute of a legacy forward (it has no category of its own). */
export const LEGACY_FORWARD_CATEGORY = 'legacy-forward';

/** What a notification workflow delivers: a notification, or a legacy body forwarded as it was. */
export type Deliverable = Notification | LegacyForward;

export function isLegacyForward(deliverable: Deliverable): deliverable is LegacyForward {
  return (deliverable as LegacyForward).kind === 'legacy-forward';
}

/** The argument of the `updateConsent` update: a real boolean, never a truthy string such as "false". */
const ConsentChangeSchema = z.object({ nightConsent: z.boolean() }).strict();
export type ConsentChange = z.infer<typeof ConsentChangeSchema>;

/** The argument of the `reschedule` update: an instant with its offset, or null to clear notBefore. */
const RescheduleSchema = z.object({ notBefore: isoInstant.nullable() }).strict();
export type Reschedule = z.infer<typeof RescheduleSchema>;

/** What a producer passes in (defaults not yet applied). */
export type NotificationInput = z.input<typeof NotificationSchema>;
/** A validated notification, defaults applied. */
export type Notification = z.output<typeof NotificationSchema>;

export class InvalidNotificationError extends Error {
  override readonly name = 'InvalidNotificationError';
  constructor(
    message: string,
    /** Each problem with the dotted path of the field it concerns. */
    readonly issues: { field: string; message: string }[],
  ) {
    super(message);
  }
}

/** Validates a notification; throws InvalidNotificationError naming every bad field. */
export function parseNotification(input: unknown): Notification {
  return parseWith(NotificationSchema, input, 'notification');
}

/** Validates a legacy forward (src/legacy): its body is forwarded as it was. */
export function parseLegacyForward(input: unknown): LegacyForward {
  return parseWith(LegacyForwardSchema, input, 'legacy forward');
}

/** Validates the argument of the `reschedule` update. */
export function parseReschedule(input: unknown): Reschedule {
  return parseWith(RescheduleSchema, input, 'reschedule');
}

/** Validates the argument of the `updateConsent` update. */
export function parseConsentChange(input: unknown): ConsentChange {
  return parseWith(ConsentChangeSchema, input, 'consent change');
}

/** Validates a workflow's input: a legacy forward when it says so (`kind`), else a notification. */
export function parseDeliverable(input: unknown): Deliverable {
  const kind = (input as { kind?: unknown } | null)?.kind;
  return kind === 'legacy-forward' ? parseLegacyForward(input) : parseNotification(input);
}

/**
 * What the quiet-hours policy reads of a deliverable (the shape of src/policy's PolicySubject). A
 * legacy forward is held like advertising without consent, in the policy's default zone: the old
 * drain held every night message until 08:00.
 */
export function policySubjectOf(deliverable: Deliverable): {
  notificationId: string;
  category: Category;
  notBefore?: string;
  expiresAt?: string;
  recipient: { timeZone?: string; nightConsent: boolean };
} {
  if (!isLegacyForward(deliverable)) return deliverable;
  return { notificationId: deliverable.notificationId, category: 'advertising', recipient: { nightConsent: false } };
}

/**
 * Validates anything against one of the schemas above; throws InvalidNotificationError naming every
 * bad field. Updates go through this too: the Web UI, the temporal CLI or another SDK can send them.
 */
function parseWith<T extends z.ZodTypeAny>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.flatMap((issue) =>
    issue.code === z.ZodIssueCode.unrecognized_keys
      ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: unknownFieldMessage(key, schemaKeys(schema, issue.path)) }))
      : [{ field: issue.path.join('.') || '(root)', message: issue.message }],
  );
  throw new InvalidNotificationError(
    `invalid ${what}: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
    issues,
  );
}

/** The field names of the object schema at `path` inside `schema` (for "did you mean"). */
function schemaKeys(schema: z.ZodTypeAny, path: (string | number)[]): string[] {
  let current: z.ZodTypeAny = schema;
  for (const step of [undefined, ...path]) {
    while (current instanceof z.ZodEffects) current = current.innerType();
    if (!(current instanceof z.ZodObject)) return [];
    if (step !== undefined) current = (current.shape as Record<string, z.ZodTypeAny>)[String(step)] ?? z.never();
  }
  while (current instanceof z.ZodEffects || current instanceof z.ZodOptional || current instanceof z.ZodDefault) {
    current = current instanceof z.ZodEffects ? current.innerType() : current._def.innerType;
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : [];
}

/** "unknown field", with the known field it most likely stands for (at most two edits away). */
function unknownFieldMessage(key: string, known: string[]): string {
  const closest = known
    .map((name) => ({ name, distance: editDistance(key.toLowerCase(), name.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return closest && closest.distance <= 2 ? `unknown field (did you mean ${closest.name}?)` : 'unknown field';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const WORKFLOW_ID_PREFIX = 'notification-';

export function workflowIdFor(notificationId: string): string {
  return `${WORKFLOW_ID_PREFIX}${notificationId}`;
}

/** The notification id in a notification workflow's id. */
export function notificationIdOf(workflowId: string): string {
  return workflowId.startsWith(WORKFLOW_ID_PREFIX) ? workflowId.slice(WORKFLOW_ID_PREFIX.length) : workflowId;
}

/**
 * held: waiting for its release (or its staging lead); sending: a send attempt is under way;
 * retrying: a send failed and is tried again (the next attempt, or the next release window), with
 * the last error; delivered: on the delivery queue (receivable from releasedAt); cancelled;
 * expired: never sent; failed: the delivery queue refused it for good, or it kept failing for
 * longer than the retry limits (scheduling the same id again is allowed); collapsed: a newer one
 * with its collapse key went instead; capped: beyond the morning cap, never sent; digested: its
 * content is on the delivery queue inside its morning's digest message.
 */
export type NotificationStatus =
  | 'held'
  | 'sending'
  | 'retrying'
  | 'delivered'
  | 'cancelled'
  | 'expired'
  | 'failed'
  | 'collapsed'
  | 'capped'
  | 'digested';

/**
 * The statuses in which a notification still accepts a cancel, a consent change or a reschedule
 * (one that arrives while sending waits for the attempt). Every other status is final, and a fact.
 */
export const OPEN_STATUSES: readonly NotificationStatus[] = ['held', 'sending', 'retrying'];

/** What the notification workflow returns, and what a status query reports while it runs. */
export interface NotificationResult {
  status: NotificationStatus;
  /** When it is (or was) due to be released, ISO-8601 UTC. */
  releaseAt: string;
  /** Why then: immediate, held-quiet-hours or not-before. */
  releaseReason?: string;
  /** Its expiry, if it has one: it is not sent at or after this instant. */
  expiresAt?: string;
  /** When it became (or becomes) receivable on the delivery queue. */
  releasedAt?: string;
  /** When it was handed to SQS: before releasedAt when it was staged with a delay. */
  stagedAt?: string;
  /** The delivery queue's message id. */
  messageId?: string;
  /** Why it failed (status `failed`). */
  failure?: string;
  /** The last error of a send that keeps failing (status `retrying`). */
  lastError?: string;
  /** Failed send attempts since the last decision, and release windows that passed with every attempt failing. */
  failedAttempts?: number;
  failedWindows?: number;
  /** Decided under a quiet window narrower than the law's (tests and benchmarks only). */
  narrowerThanLaw?: true;
  /** Collapsed: the newer notification with the same key that went instead. */
  replacedBy?: string;
  /** Digested: the digest that listed it (its notification id), and its message id once sent. */
  digest?: { notificationId: string; messageId?: string };
}

/**
 * Why a change came too late, from where the notification stands: on the queue (alone, or in its
 * morning's digest) and since when, or ended otherwise. The workflow refuses with it, and the
 * client says the same of a workflow that has closed.
 */
export function notHeldMessage(notificationId: string, result: NotificationResult): string {
  const since = `since ${result.stagedAt}, receivable at ${result.releasedAt}: it can no longer be changed`;
  if (result.status === 'delivered') return `notification ${notificationId} is already on the delivery queue ${since}`;
  if (result.status === 'digested') return `notification ${notificationId} is already on the delivery queue in the digest ${result.digest?.notificationId} ${since}`;
  return `notification ${notificationId} is ${result.status}${OPEN_STATUSES.includes(result.status) ? '' : ', no longer held'}`;
}
