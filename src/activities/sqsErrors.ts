import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../failureTypes';

const MISSING_QUEUE = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'NonExistentQueue']);
const INVALID_MESSAGE = new Set([
  'InvalidMessageContents',
  'InvalidAttributeValue',
  'InvalidAttributeName',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'MessageTooLong',
  'BatchRequestTooLong',
]);
/** Client faults that are load, not a mistake: retried with backoff like a network error. */
const THROTTLING = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'KmsThrottled',
  'KMS.ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'OverLimit',
  'RequestTimeout',
  'RequestTimeoutException',
]);

interface AwsErrorShape {
  name?: string;
  Code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/**
 * Turns SQS errors into failures the workflow can act on:
 * - the message itself is refused (bad contents or attributes, too long): `InvalidQueueMessage`,
 *   non-retryable; no retry can fix it;
 * - the queue is missing (`QueueDoesNotExist`), or SQS refuses the request itself (access denied, a
 *   KMS key disabled or missing, bad or expired credentials, any other client fault that is not
 *   throttling): an operator can fix these, so the workflow retries them for a bounded time
 *   (NOTIFY_SEND_MISCONFIGURED_GRACE_SECONDS) and then fails the notification;
 * - anything else (throttling, network, SQS 5xx, timeouts) is returned as it is: transient, retried
 *   with backoff until the send's deadline.
 */
export function classifySqsError(error: unknown, queueUrl: string): unknown {
  const shape = (error ?? {}) as AwsErrorShape;
  const name = shape.name ?? '';
  const code = shape.Code ?? '';
  const has = (set: Set<string>) => set.has(name) || set.has(code);
  const message = (error as Error)?.message ?? String(error);
  if (has(MISSING_QUEUE)) {
    return ApplicationFailure.retryable(`SQS queue does not exist: ${queueUrl}`, FAILURE_TYPES.queueDoesNotExist);
  }
  if (has(INVALID_MESSAGE)) {
    return ApplicationFailure.nonRetryable(`SQS refused the message for ${queueUrl}: ${message}`, FAILURE_TYPES.invalidQueueMessage);
  }
  if (has(THROTTLING)) return error;
  const status = shape.$metadata?.httpStatusCode;
  const clientFault = shape.$fault === 'client' || (status !== undefined && status >= 400 && status < 500 && status !== 429);
  if (clientFault || name.startsWith('Kms') || code.startsWith('KMS.') || /AccessDenied/.test(`${name} ${code}`)) {
    return ApplicationFailure.retryable(`SQS refused the request for ${queueUrl}: ${name || code}: ${message}`, FAILURE_TYPES.queueRequestRefused);
  }
  return error;
}
