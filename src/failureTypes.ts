/**
 * The failure types a notification can end with or a send can report, shared by the workflow, the
 * activities and clients (which read `error.cause.type`). Plain constants: the workflow bundle
 * imports this file, so it must stay free of Node APIs.
 */
export const FAILURE_TYPES = {
  /** The notification (or an update's argument) breaks the contract; the message names the field. */
  invalidNotification: 'InvalidNotification',
  /** The quiet-hours policy or the staging lead carried by the workflow is invalid. */
  invalidPolicy: 'InvalidPolicy',
  /** An update that only a held notification accepts arrived after it left that state. */
  notHeld: 'NotificationNotHeld',
  /** The workflow's failure when the delivery queue refused the message for good; its cause says why. */
  deliveryFailed: 'DeliveryFailed',
  /** A send could not be done before its deadline (the next quiet window or the expiry). */
  sendWindowClosed: 'SendWindowClosed',
  /** A FIFO queue cannot delay one message, so it cannot be staged. */
  stagingUnsupported: 'StagingUnsupported',
  /** The delivery queue's URL names no queue. */
  queueDoesNotExist: 'QueueDoesNotExist',
  /** SQS refused the message's contents or attributes. */
  invalidQueueMessage: 'InvalidQueueMessage',
  /** Body and attributes together exceed the delivery queue's MaximumMessageSize. */
  messageTooLarge: 'MessageTooLarge',
} as const;
