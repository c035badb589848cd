import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../failureTypes';

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
    return ApplicationFailure.nonRetryable(`SQS queue does not exist: ${queueUrl}`, FAILURE_TYPES.queueDoesNotExist);
  }
  if (INVALID_MESSAGE.has(name) || INVALID_MESSAGE.has(code)) {
    return ApplicationFailure.nonRetryable(
      `SQS refused the message for ${queueUrl}: ${(error as Error).message}`,
      FAILURE_TYPES.invalidQueueMessage,
    );
  }
  return error;
}
