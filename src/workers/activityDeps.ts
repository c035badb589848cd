import type { ActivityDeps } from '../activities';
import type { Config } from '../config';
import { policyFromConfig } from '../policy';
import { createSqsClient, resolveQueueUrls } from '../sqs';

/** The activities' dependencies from the configuration: one SQS client, the three queues, the policy. */
export async function activityDepsFromConfig(config: Config): Promise<ActivityDeps> {
  const sqs = createSqsClient(config.sqs);
  const queues = await resolveQueueUrls(sqs, config.sqs);
  return {
    sqs,
    deliveryQueueUrl: queues.delivery,
    legacyWaitQueueUrl: queues.legacyWait,
    deadLetterQueueUrl: queues.deadLetter,
    notifications: { taskQueue: config.temporal.taskQueue, policy: policyFromConfig(config.policy) },
  };
}
