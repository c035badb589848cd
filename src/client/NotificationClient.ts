/**
 * The producer's way in: schedule, inspect, cancel and re-decide notifications.
 *
 * ```ts
 * const notifications = await NotificationClient.connect();
 * await notifications.schedule({ notificationId: 'order-1234-shipped', channel: 'kakaotalk',
 *   category: 'delivery', recipient: { id: 'user-42' }, payload: { template: 'shipped' } });
 * await notifications.status('order-1234-shipped');  // { status: 'held', releaseAt: '…T23:00:00.000Z' }
 * await notifications.cancel('order-1234-shipped');  // { cancelled: true, status: 'cancelled', … }
 * ```
 */
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { LegacySource } from '../activities';
import { loadConfig, type Config } from '../config';
import { FAILURE_TYPES } from '../failureTypes';
import { deliveryMessageBytes, isFifoQueue, SQS_DEFAULT_MAX_MESSAGE_BYTES } from '../deliveryMessage';
import {
  InvalidNotificationError,
  isLegacyForward,
  notHeldMessage,
  parseConsentChange,
  parseLegacyForward,
  parseNotification,
  parseReschedule,
  policySubjectOf,
  notificationIdOf,
  workflowIdFor,
  type Deliverable,
  type LegacyForward,
  type Notification,
  type NotificationInput,
  type NotificationResult,
  type NotificationStatus,
} from '../notification';
import { DIGEST_ENVELOPE_BYTES } from '../digest';
import {
  morningOf,
  NO_MORNING_CAP,
  nextAllowedSendTime,
  policyFromConfig,
  prestageLeadMs,
  wakeUpAt,
  type MorningRules,
  type QuietHoursPolicy,
} from '../policy';
import {
  heldSearchAttributes,
  NotificationCategoryKey,
  NotificationChannelKey,
  NotificationReleaseAtKey,
  NotificationStatusKey,
  RecipientIdKey,
} from '../searchAttributes';
import { inLanes } from '../inLanes';
import { dataConverterFromConfig } from '../security/dataConverter';
import { recipientHashKeyFromConfig, recipientIdHash } from '../security/recipientHash';
import { temporalAddress, temporalConnectionOptions } from '../temporalConnection';
import type { notificationWorkflow, SendRetryLimits } from '../workflows/notification';
import { cancelUpdate, rescheduleUpdate, statusQuery, updateConsentUpdate, type CancelOutcome } from '../workflows/notificationMessages';
import { notificationSummary } from '../webUiText';

export type NotificationHandle = WorkflowHandle<typeof notificationWorkflow>;

/**
 * How far ahead of the Temporal server's clock a producer's clock may be without holding a
 * notification that the server would release at once (one scheduled in the minute after a window
 * begins, by this clock, is started at once and decided on the server's). A clock further ahead
 * can only make a notification later, never earlier.
 */
const CLOCK_TOLERANCE_MS = 60_000;

export interface ScheduledNotification {
  notificationId: string;
  workflowId: string;
  /** False when a workflow for this id already existed (running or finished): nothing new was started. */
  started: boolean;
  handle: NotificationHandle;
}

/** One notification as `findByRecipient` lists it: what the search attributes say. */
export interface FoundNotification {
  notificationId: string;
  status: NotificationStatus;
  releaseAt: string;
  category: string;
  channel: string;
  scheduledAt: string;
}

/**
 * A change (consent, reschedule) that came too late: the notification is no longer held. Its
 * message says why, e.g. "already on the delivery queue since X, receivable at Y" for one that was
 * staged; `result` is where it stands.
 */
export class NotificationNotHeldError extends Error {
  override readonly name = 'NotificationNotHeldError';
  constructor(
    message: string,
    readonly result: NotificationResult,
  ) {
    super(message);
  }
}

/** No Temporal server answered at the address: says which, and what to check. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    localStack: boolean,
    cause: unknown,
  ) {
    super(
      `cannot reach Temporal at ${address} (${cause instanceof Error ? cause.message : String(cause)}): ` +
        (localStack ? 'is `npm start` running? Or set TEMPORAL_ADDRESS to your server.' : 'is TEMPORAL_ADDRESS right, and the server up?'),
      { cause },
    );
  }
}

export type ScheduleManyResult =
  | ({ ok: true } & Omit<ScheduledNotification, 'handle'>)
  | { ok: false; index: number; notificationId?: string; error: Error };

/** What the client needs besides a Temporal client; `settingsFromConfig` reads it from the configuration. */
export interface NotificationClientSettings {
  taskQueue: string;
  policy: QuietHoursPolicy;
  /**
   * Key of the keyed hash that stands for the recipient id in the RecipientId search attribute
   * (NOTIFY_RECIPIENT_HASH_KEY): search attributes are stored and indexed in plain text.
   */
  recipientHashKey: Uint8Array;
  /** Send held notifications this many seconds before their release, with an SQS delay; 0 (default) sends at the release. Must be 0 for a FIFO delivery queue. */
  prestageSeconds?: number;
  /** Largest delivery message (body and attributes) accepted at schedule time; default 256 KiB, SQS's default. */
  maxMessageBytes?: number;
  /**
   * The clock that decides a notification's start delay; default the system clock. The workflow
   * decides again on the server's clock, so a client clock off by a few ms only matters at the
   * edge of a window, where the workflow's decision wins.
   */
  clock?: () => number | Promise<number>;
  /** How long a failing send is tried before the notification ends `failed` (NOTIFY_SEND_MAX_FAILED_WINDOWS, NOTIFY_SEND_MISCONFIGURED_GRACE_SECONDS). */
  retryLimits?: SendRetryLimits;
  /** The morning cap (NOTIFY_MORNING_CAP, NOTIFY_MORNING_CAP_OVERFLOW); default none (collapse keys still collapse). */
  morningCap?: Pick<MorningRules, 'cap' | 'overflow'>;
}

export interface NotificationClientOptions extends NotificationClientSettings {
  client: Client;
}

export class NotificationClient {
  readonly temporal: Client;
  private readonly settings: Required<Omit<NotificationClientSettings, 'clock' | 'retryLimits' | 'morningCap'>> & Pick<NotificationClientSettings, 'retryLimits'>;
  private readonly morningRules: MorningRules;
  private readonly clock: () => number | Promise<number>;

  constructor(options: NotificationClientOptions) {
    this.temporal = options.client;
    this.settings = {
      taskQueue: options.taskQueue,
      policy: options.policy,
      recipientHashKey: options.recipientHashKey,
      prestageSeconds: options.prestageSeconds ?? 0,
      maxMessageBytes: options.maxMessageBytes ?? SQS_DEFAULT_MAX_MESSAGE_BYTES,
      retryLimits: options.retryLimits,
    };
    prestageLeadMs(this.settings.prestageSeconds); // throws a RangeError naming a bad lead
    this.clock = options.clock ?? Date.now;
    // A digest holds what fits the delivery queue's limit besides its own envelope.
    this.morningRules = { ...(options.morningCap ?? NO_MORNING_CAP), digestCapacityBytes: this.settings.maxMessageBytes - DIGEST_ENVELOPE_BYTES };
  }

  /** The settings from the configuration; staging is off when the delivery queue is FIFO (SQS cannot delay one FIFO message). */
  static settingsFromConfig(config: Config): NotificationClientSettings {
    return {
      taskQueue: config.temporal.taskQueue,
      policy: policyFromConfig(config.policy),
      recipientHashKey: recipientHashKeyFromConfig(config),
      prestageSeconds: isFifoQueue(config.sqs.deliveryQueue) ? 0 : config.delivery.prestageSeconds,
      maxMessageBytes: config.sqs.maxMessageBytes,
      retryLimits: config.delivery.retryLimits,
      morningCap: config.morning,
    };
  }

  /**
   * Connects with the configuration from the environment (TEMPORAL_ADDRESS and friends,
   * NOTIFY_CODEC_KEYS). A server that does not answer within `connectTimeoutMs` (default the SDK's
   * 10 s) is a TemporalUnreachableError naming the address.
   */
  static async connect(config: Config = loadConfig(), options: { connectTimeoutMs?: number } = {}): Promise<NotificationClient> {
    const dataConverter = dataConverterFromConfig(config);
    const address = temporalAddress(config);
    let connection: Connection;
    try {
      connection = await Connection.connect({
        ...(await temporalConnectionOptions(config.temporal, address)),
        ...(options.connectTimeoutMs ? { connectTimeout: options.connectTimeoutMs } : {}),
      });
    } catch (error) {
      throw new TemporalUnreachableError(address, config.temporal.address === undefined, error);
    }
    return new NotificationClient({
      client: new Client({ connection, namespace: config.temporal.namespace, dataConverter }),
      ...NotificationClient.settingsFromConfig(config),
    });
  }

  /**
   * Starts the notification's workflow. Invalid input (or a message too large for the delivery
   * queue) throws InvalidNotificationError before anything is started. A held notification is
   * started with a start delay that ends at its staging time, and its search attributes and Web UI
   * summary are set at once, so it is listed as held with its release time while nothing runs.
   * Scheduling the same notificationId twice starts one workflow and returns its handle both times
   * (`started: false` the second time), never a second message; only a notification that failed
   * may be scheduled again.
   */
  async schedule(input: NotificationInput): Promise<ScheduledNotification> {
    return this.start(parseNotification(input));
  }

  /**
   * Schedules a legacy wait-queue body that is not in the documented vocabulary: held through the
   * quiet window like advertising, then forwarded as it was (see README, "The legacy wait queue").
   * The legacy reconciler calls this; producers use `schedule`.
   */
  async scheduleLegacyForward(forward: LegacyForward, source: LegacySource): Promise<ScheduledNotification> {
    return this.start(parseLegacyForward(forward), source);
  }

  /**
   * Schedules a legacy wait-queue message in the documented vocabulary, recording when SQS received
   * it (the reconciler's deduplication window compares that). The legacy reconciler calls this.
   */
  async scheduleFromLegacy(notification: Notification, source: LegacySource): Promise<ScheduledNotification> {
    return this.start(parseNotification(notification), source);
  }

  /**
   * When SQS received the legacy messages that started these notifications, for those that exist
   * and came from one. Described one by one, all at once: a description is never behind a start,
   * which a visibility query can be.
   */
  async legacySentAt(notificationIds: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    await Promise.all(
      notificationIds.map(async (notificationId) => {
        try {
          const { memo } = await this.handle(notificationId).describe();
          const sentAtMs = (memo as { legacySentAt?: unknown } | undefined)?.legacySentAt;
          if (typeof sentAtMs === 'number') found.set(notificationId, sentAtMs);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
      }),
    );
    return found;
  }

  private async start(deliverable: Deliverable, source?: LegacySource): Promise<ScheduledNotification> {
    const { policy, prestageSeconds, taskQueue, retryLimits } = this.settings;
    const subject = policySubjectOf(deliverable);
    const nowMs = await this.clock();
    const decision = nextAllowedSendTime(new Date(nowMs), subject, policy);
    this.assertFits(deliverable, Boolean(decision.narrowerThanLaw));
    const { notificationId } = deliverable;
    const workflowId = workflowIdFor(notificationId);
    // One that a morning cap or a collapse key concerns starts at once: its workflow registers with
    // the gate of the morning it decides on the server's clock, then sleeps. So does one this clock
    // holds only because it is a little ahead of the server's (just past 21:00 here, still before it
    // there): the workflow decides on the server's clock. Any other sleeps in its start delay until
    // there is something to do.
    const concernsMorning = !isLegacyForward(deliverable) && morningOf(decision, { category: deliverable.category, collapseKey: deliverable.collapseKey }, this.morningRules) !== undefined;
    const heldByThisClock = decision.reason === 'held-quiet-hours' && nextAllowedSendTime(new Date(nowMs - CLOCK_TOLERANCE_MS), subject, policy).reason !== 'held-quiet-hours';
    const startDelayMs = concernsMorning || heldByThisClock ? 0 : wakeUpAt(decision, subject, policy, prestageLeadMs(prestageSeconds)).getTime() - nowMs;
    try {
      const handle = await this.temporal.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
        taskQueue,
        workflowId,
        args: [{ notification: deliverable, policy, prestageSeconds, ...(retryLimits ? { retryLimits } : {}), morningRules: this.morningRules }],
        ...(startDelayMs > 0 ? { startDelay: startDelayMs } : {}),
        typedSearchAttributes: [
          ...heldSearchAttributes(deliverable, decision.releaseAt),
          ...(isLegacyForward(deliverable) ? [] : [{ key: RecipientIdKey, value: this.recipientSearchKey(deliverable.recipient.id) }]),
        ],
        // What `status` reads while nothing runs: when it expires, and where a legacy one came from.
        ...(source || subject.expiresAt
          ? { memo: { ...(source ? { legacySentAt: source.sentAtMs } : {}), ...(subject.expiresAt ? { expiresAt: subject.expiresAt } : {}) } }
          : {}),
        staticSummary: notificationSummary(deliverable, new Date(nowMs), policy.defaultTimeZone),
        // A delivered, cancelled or expired notification must not go out again because a producer
        // retried; one that failed (its queue refused it) may be scheduled again once fixed.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
      return { notificationId, workflowId, started: true, handle };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return { notificationId, workflowId, started: false, handle: this.handle(notificationId) };
    }
  }

  /**
   * Schedules many notifications with at most `concurrency` starts in flight. One result per
   * input, in order; a bad item is reported in its place and does not stop the others.
   */
  async scheduleMany(inputs: readonly NotificationInput[], options: { concurrency?: number } = {}): Promise<ScheduleManyResult[]> {
    const concurrency = Math.max(1, options.concurrency ?? 32);
    const results: ScheduleManyResult[] = new Array(inputs.length);
    await inLanes(inputs, concurrency, async (input, index) => {
      try {
        const { handle: _handle, ...scheduled } = await this.schedule(input);
        results[index] = { ok: true, ...scheduled };
      } catch (error) {
        results[index] = { ok: false, index, notificationId: input?.notificationId, error: error as Error };
      }
    });
    return results;
  }

  handle(notificationId: string): NotificationHandle {
    return this.temporal.workflow.getHandle<typeof notificationWorkflow>(workflowIdFor(notificationId));
  }

  /**
   * Where the notification stands: held (with its release time), delivered, cancelled, expired or
   * failed. A running notification is read from its search attributes, which its workflow keeps
   * current: a held one may not have run a task yet (it waits on its start delay), and the answer
   * then needs no worker.
   */
  async status(notificationId: string): Promise<NotificationResult> {
    const handle = this.handle(notificationId);
    return this.statusFrom(handle, await handle.describe());
  }

  /** Waits for the notification's outcome. */
  async result(notificationId: string): Promise<NotificationResult> {
    return this.handle(notificationId).result();
  }

  /**
   * Cancels a held notification. If delivery had already begun or finished (a staged notification
   * has been handed to SQS already), it says so (`cancelled: false` with the status and message id)
   * instead of failing.
   */
  async cancel(notificationId: string): Promise<CancelOutcome> {
    const handle = this.handle(notificationId);
    try {
      return await handle.executeUpdate(cancelUpdate, { args: [] });
    } catch (error) {
      const description = await handle.describe();
      if (description.status.name === 'RUNNING') throw error;
      return { cancelled: false, ...(await this.statusFrom(handle, description)) } as CancelOutcome;
    }
  }

  /**
   * Moves the earliest send time (null clears it); the quiet window still applies. A string must
   * be an ISO-8601 instant with its offset, as in `schedule`: one without would be read in some
   * host's zone.
   */
  async reschedule(notificationId: string, notBefore: Date | string | null): Promise<NotificationResult> {
    const candidate = notBefore instanceof Date ? (Number.isNaN(notBefore.getTime()) ? String(notBefore) : notBefore.toISOString()) : notBefore;
    const change = parseReschedule({ notBefore: candidate });
    return this.changeHeld(notificationId, (handle) => handle.executeUpdate(rescheduleUpdate, { args: [change] }));
  }

  /**
   * Records the recipient's night-time consent (given or withdrawn) and re-decides the release.
   * Too late (sent, staged, ended): NotificationNotHeldError saying since when it is on the queue.
   */
  async updateConsent(notificationId: string, nightConsent: boolean): Promise<NotificationResult> {
    const change = parseConsentChange({ nightConsent });
    return this.changeHeld(notificationId, (handle) => handle.executeUpdate(updateConsentUpdate, { args: [change] }));
  }

  /**
   * Runs an update that only an open notification accepts. Refused by the workflow as no longer
   * held, or lost because the workflow ended meanwhile (a staged notification completes when it
   * is on the queue, and an update racing with that finds no workflow to run in), it becomes a
   * NotificationNotHeldError saying where the notification stands.
   */
  private async changeHeld(notificationId: string, update: (handle: NotificationHandle) => Promise<NotificationResult>): Promise<NotificationResult> {
    const handle = this.handle(notificationId);
    try {
      return await update(handle);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === FAILURE_TYPES.notHeld) {
        throw new NotificationNotHeldError(error.cause.message, await this.status(notificationId));
      }
      if (error instanceof WorkflowUpdateFailedError) throw error;
      const description = await handle.describe().catch(() => undefined);
      if (!description || description.status.name === 'RUNNING') throw error;
      const result = await this.statusFrom(handle, description);
      throw new NotificationNotHeldError(notHeldMessage(notificationId, result), result);
    }
  }

  /**
   * One recipient's notifications, newest first, from the search attributes (no personal data is
   * stored there: the recipient id is matched through its keyed hash).
   */
  async findByRecipient(recipientId: string, options: { limit?: number } = {}): Promise<FoundNotification[]> {
    const found: FoundNotification[] = [];
    const query = `RecipientId = '${this.recipientSearchKey(recipientId)}'`;
    for await (const execution of this.temporal.workflow.list({ query })) {
      const attributes = execution.typedSearchAttributes;
      found.push({
        notificationId: notificationIdOf(execution.workflowId),
        status: (attributes.get(NotificationStatusKey) ?? 'held') as NotificationStatus,
        releaseAt: attributes.get(NotificationReleaseAtKey)?.toISOString() ?? '',
        category: attributes.get(NotificationCategoryKey) ?? '',
        channel: attributes.get(NotificationChannelKey) ?? '',
        scheduledAt: execution.startTime.toISOString(),
      });
      if (found.length >= (options.limit ?? 100)) break;
    }
    return found;
  }

  /**
   * What the RecipientId search attribute holds for a recipient: a keyed hash of the id, never the
   * id. `find --recipient` and the Web UI query `RecipientId = '<this>'`.
   */
  recipientSearchKey(recipientId: string): string {
    return recipientIdHash(this.settings.recipientHashKey, recipientId);
  }

  /** A message that cannot fit the delivery queue would be held all night and then fail: refuse it now. */
  private assertFits(deliverable: Deliverable, narrowerThanLaw: boolean): void {
    const bytes = deliveryMessageBytes(deliverable, { narrowerThanLaw });
    if (bytes > this.settings.maxMessageBytes) {
      throw new InvalidNotificationError(
        `invalid notification: payload: the delivery message would be ${bytes} bytes with its attributes, over the limit of ${this.settings.maxMessageBytes}`,
        [{ field: 'payload', message: `the delivery message would be ${bytes} bytes, over the limit of ${this.settings.maxMessageBytes}` }],
      );
    }
  }

  private async statusFrom(handle: NotificationHandle, description: WorkflowExecutionDescription): Promise<NotificationResult> {
    const attributes = description.typedSearchAttributes;
    const releaseAt = attributes.get(NotificationReleaseAtKey)?.toISOString() ?? '';
    switch (description.status.name) {
      case 'RUNNING': {
        const status = (attributes.get(NotificationStatusKey) ?? 'held') as NotificationStatus;
        const memo = (description.memo ?? {}) as { expiresAt?: unknown };
        const known: NotificationResult = { status, releaseAt, ...(typeof memo.expiresAt === 'string' ? { expiresAt: memo.expiresAt } : {}) };
        // A failing send's last error is the workflow's to tell (it runs, so a worker answers).
        if (status === 'retrying') return handle.query(statusQuery).catch(() => known);
        return known;
      }
      case 'COMPLETED':
        return handle.result();
      case 'CANCELLED':
        return { status: 'cancelled', releaseAt };
      default: {
        // FAILED (the queue refused it), TERMINATED or TIMED_OUT: not sent, and it may be scheduled again.
        const failure = await handle.result().then(
          () => description.status.name,
          (error: unknown) => (error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : String(error)),
        );
        return { status: 'failed', releaseAt, failure };
      }
    }
  }
}
