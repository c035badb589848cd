import type { ActivityDeps } from '../activities';
import { MorningGates } from '../client/morningGates';
import { NotificationClient } from '../client/NotificationClient';
import type { Config } from '../config';
import { recipientHashKeyFromConfig } from '../security/recipientHash';
import { createSqsClient, queueMaxMessageBytes, resolveQueueUrls } from '../sqs';
import { writeComplianceReport } from '../report/writeReport';

/**
 * The activities' dependencies from the configuration: one SQS client, the three queues, the
 * delivery queue's own size limit, the scheduler the legacy drain starts notifications with (and
 * the key and window that name legacy bodies without an id), and whether this worker allows quiet
 * windows narrower than the law's.
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
    morningGatesFor: (client) => new MorningGates(client, config.temporal.taskQueue),
    foreignBodies: config.reconcile.foreignBodies,
    contentIdKey: recipientHashKeyFromConfig(config),
    dedupWindowMs: config.reconcile.dedupWindowSeconds * 1000,
    allowNarrowerQuietHours: config.policy.allowNarrowerQuietHours,
    reportWriterFor: (client) => (range) => writeComplianceReport({ client, config }, range, config.report.dir),
  };
}
