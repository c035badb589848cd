/**
 * The failure types a notification can end with or a send can report, shared by the workflow, the
 * activities and clients (which read `error.cause.type`). Plain constants: the workflow bundle
 * imports this file, so it must stay free of Node APIs.
 */
export const FAILURE_TYPES = {
  /** The notification (or an update's argument) breaks the contract; the message names the field. */
  invalidNotification: 'InvalidNotification',
  /** The quiet-hours policy or the staging lead carried by the workflow is invalid, or narrower than the law. */
  invalidPolicy: 'InvalidPolicy',
  /** A change that only a held notification accepts arrived after it left that state (sent, staged, ended). */
  notHeld: 'NotificationNotHeld',
  /** The workflow's failure when the delivery queue refused the message for good; its cause says why. */
  deliveryFailed: 'DeliveryFailed',
  /** A send could not be done before its deadline (the next quiet window or the expiry). */
  sendWindowClosed: 'SendWindowClosed',
  /** A FIFO queue cannot delay one message, so it cannot be staged. */
  stagingUnsupported: 'StagingUnsupported',
  /** The delivery queue's URL names no queue (retried for a while: a redeploy may be recreating it). */
  queueDoesNotExist: 'QueueDoesNotExist',
  /** SQS refused the request itself: access denied, a disabled KMS key, bad credentials (retried for a while, then failed). */
  queueRequestRefused: 'QueueRequestRefused',
  /** SQS refused the message's contents or attributes (never retried). */
  invalidQueueMessage: 'InvalidQueueMessage',
  /** Body and attributes together exceed the delivery queue's MaximumMessageSize (never retried). */
  messageTooLarge: 'MessageTooLarge',
} as const;

/** Failures of the queue's configuration: an operator can fix them, so a send is retried for a bounded time. */
export const MISCONFIGURATION_FAILURES: readonly string[] = [FAILURE_TYPES.queueDoesNotExist, FAILURE_TYPES.queueRequestRefused];

/** Failures of the message itself: no retry can fix them. */
export const MESSAGE_FAILURES: readonly string[] = [FAILURE_TYPES.invalidQueueMessage, FAILURE_TYPES.messageTooLarge];
