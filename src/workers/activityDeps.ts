import type { ActivityDeps } from '../activities';
import { NotificationClient } from '../client/NotificationClient';
import type { Config } from '../config';
import { createSqsClient, queueMaxMessageBytes, resolveQueueUrls } from '../sqs';

/**
 * The activities' dependencies from the configuration: one SQS client, the three queues, the
 * delivery queue's own size limit, and the scheduler the legacy drain starts notifications with.
 */
export async function activityDepsFromConfig(config: Config): Promise<ActivityDeps> {
  const sqs = createSqsClient(config.sqs);
  const queues = await resolveQueueUrls(sqs, config.sqs);
  const maxMessageBytes = await queueMaxMessageBytes(sqs, queues.delivery);
  // The reconciler checks each message against the delivery queue's own limit.
  const settings = { ...NotificationClient.settingsFromConfig(config), maxMessageBytes };
  return {
    sqs,
    deliveryQueueUrl: queues.delivery,
    maxMessageBytes,
    sendBatchWindowMs: config.delivery.sendBatchWindowMs,
    legacyWaitQueueUrl: queues.legacyWait,
    deadLetterQueueUrl: queues.deadLetter,
    schedulerFor: (client) => new NotificationClient({ client, ...settings }),
    foreignBodies: config.reconcile.foreignBodies,
  };
}
