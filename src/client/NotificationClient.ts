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
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { loadConfig, type Config } from '../config';
import {
  InvalidNotificationError,
  parseNotification,
  workflowIdFor,
  type NotificationInput,
  type NotificationResult,
} from '../notification';
import { policyFromConfig, type QuietHoursPolicy } from '../policy';
import { dataConverterFromConfig } from '../security/dataConverter';
import { temporalAddress, temporalConnectionOptions } from '../temporalConnection';
import type { notificationWorkflow } from '../workflows/notification';
import {
  cancelUpdate,
  rescheduleUpdate,
  statusQuery,
  updateConsentUpdate,
  type CancelOutcome,
} from '../workflows/notificationMessages';

export type NotificationHandle = WorkflowHandle<typeof notificationWorkflow>;

export interface ScheduledNotification {
  notificationId: string;
  workflowId: string;
  /** False when a workflow for this id already existed (running or finished): nothing new was started. */
  started: boolean;
  handle: NotificationHandle;
}

export type ScheduleManyResult =
  | ({ ok: true } & Omit<ScheduledNotification, 'handle'>)
  | { ok: false; index: number; notificationId?: string; error: Error };

export interface NotificationClientOptions {
  client: Client;
  taskQueue: string;
  policy: QuietHoursPolicy;
}

export class NotificationClient {
  readonly temporal: Client;
  private readonly taskQueue: string;
  private readonly policy: QuietHoursPolicy;

  constructor(options: NotificationClientOptions) {
    this.temporal = options.client;
    this.taskQueue = options.taskQueue;
    this.policy = options.policy;
  }

  /** Connects with the configuration from the environment (TEMPORAL_ADDRESS and friends, NOTIFY_CODEC_KEYS). */
  static async connect(config: Config = loadConfig()): Promise<NotificationClient> {
    const dataConverter = dataConverterFromConfig(config);
    const address = temporalAddress(config);
    const connection = await Connection.connect(await temporalConnectionOptions(config.temporal, address));
    return new NotificationClient({
      client: new Client({ connection, namespace: config.temporal.namespace, dataConverter }),
      taskQueue: config.temporal.taskQueue,
      policy: policyFromConfig(config.policy),
    });
  }

  /**
   * Starts the notification's workflow. Invalid input throws InvalidNotificationError before
   * anything is started. Scheduling the same notificationId twice starts one workflow and
   * returns its handle both times (`started: false` the second time), never a second message.
   */
  async schedule(input: NotificationInput): Promise<ScheduledNotification> {
    const notification = parseNotification(input);
    const workflowId = workflowIdFor(notification.notificationId);
    try {
      const handle = await this.temporal.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
        taskQueue: this.taskQueue,
        workflowId,
        args: [{ notification, policy: this.policy }],
        // A finished notification must not be sent again because a producer retried.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      return { notificationId: notification.notificationId, workflowId, started: true, handle };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return { notificationId: notification.notificationId, workflowId, started: false, handle: this.handle(notification.notificationId) };
    }
  }

  /**
   * Schedules many notifications with at most `concurrency` starts in flight. One result per
   * input, in order; a bad item is reported in its place and does not stop the others.
   */
  async scheduleMany(inputs: readonly NotificationInput[], options: { concurrency?: number } = {}): Promise<ScheduleManyResult[]> {
    const concurrency = Math.max(1, options.concurrency ?? 32);
    const results: ScheduleManyResult[] = new Array(inputs.length);
    let next = 0;
    const lane = async () => {
      while (next < inputs.length) {
        const index = next++;
        const input = inputs[index]!;
        try {
          const { handle: _handle, ...scheduled } = await this.schedule(input);
          results[index] = { ok: true, ...scheduled };
        } catch (error) {
          results[index] = { ok: false, index, notificationId: input?.notificationId, error: error as Error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, lane));
    return results;
  }

  handle(notificationId: string): NotificationHandle {
    return this.temporal.workflow.getHandle<typeof notificationWorkflow>(workflowIdFor(notificationId));
  }

  /** Where the notification stands: held (with its release time), delivered, cancelled, expired. */
  async status(notificationId: string): Promise<NotificationResult> {
    const handle = this.handle(notificationId);
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return handle.query(statusQuery);
    return this.result(notificationId);
  }

  /** Waits for the notification's outcome. */
  async result(notificationId: string): Promise<NotificationResult> {
    return this.handle(notificationId).result();
  }

  /**
   * Cancels a held notification. If delivery had already begun or finished, it says so
   * (`cancelled: false` with the status and message id) instead of failing.
   */
  async cancel(notificationId: string): Promise<CancelOutcome> {
    const handle = this.handle(notificationId);
    try {
      return await handle.executeUpdate(cancelUpdate, { args: [] });
    } catch (error) {
      const outcome = await this.closedOutcome(handle);
      if (outcome) return { cancelled: false, ...outcome };
      throw error;
    }
  }

  /** Moves the earliest send time (null clears it); the quiet window still applies. */
  async reschedule(notificationId: string, notBefore: Date | string | null): Promise<NotificationResult> {
    const instant = notBefore === null ? null : new Date(notBefore);
    if (instant !== null && Number.isNaN(instant.getTime())) {
      throw new InvalidNotificationError(`invalid notBefore: ${String(notBefore)}`, [
        { field: 'notBefore', message: 'not a valid instant' },
      ]);
    }
    const iso = instant === null ? null : instant.toISOString();
    return this.handle(notificationId).executeUpdate(rescheduleUpdate, { args: [{ notBefore: iso }] });
  }

  /** Records the recipient's night-time consent (given or withdrawn) and re-decides the release. */
  async updateConsent(notificationId: string, nightConsent: boolean): Promise<NotificationResult> {
    return this.handle(notificationId).executeUpdate(updateConsentUpdate, { args: [{ nightConsent }] });
  }

  /** The outcome of a workflow that has already closed, or undefined if it is still running. */
  private async closedOutcome(handle: NotificationHandle): Promise<NotificationResult | undefined> {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return undefined;
    return handle.result();
  }
}
