import { ApplicationFailure } from '@temporalio/common';

/** SQS's hard limit for one message, body and attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;

const MISSING_QUEUE = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'NonExistentQueue']);
const INVALID_MESSAGE = new Set(['InvalidMessageContents', 'InvalidAttributeValue', 'InvalidAttributeName', 'InvalidParameterValue']);

/**
 * Turns the SQS errors that no retry can fix into non-retryable failures with a clear type;
 * anything else (throttling, network, 5xx) is returned as is so that Temporal retries it with backoff.
 */
export function classifySqsError(error: unknown, queueUrl: string): unknown {
  const name = (error as { name?: string; Code?: string })?.name ?? '';
  const code = (error as { Code?: string })?.Code ?? '';
  if (MISSING_QUEUE.has(name) || MISSING_QUEUE.has(code)) {
    return ApplicationFailure.nonRetryable(`SQS queue does not exist: ${queueUrl}`, 'QueueDoesNotExist');
  }
  if (INVALID_MESSAGE.has(name) || INVALID_MESSAGE.has(code)) {
    return ApplicationFailure.nonRetryable(
      `SQS refused the message for ${queueUrl}: ${(error as Error).message}`,
      'InvalidQueueMessage',
    );
  }
  return error;
}

export function isFifoQueue(queueUrl: string): boolean {
  return queueUrl.endsWith('.fifo');
}
