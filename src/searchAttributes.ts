/**
 * The custom search attributes a notification workflow records, so that operators can list
 * held notifications in the Web UI ("NotificationStatus = 'held'") and see when each is due, and
 * so that the compliance report can read what each one did. The local dev server registers them at
 * start; a production namespace needs them created once (`temporal operator search-attribute
 * create`, as docker/temporal/setup-namespace.sh does).
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { isLegacyForward, LEGACY_FORWARD_CATEGORY, type Deliverable, type NotificationStatus } from './notification';

export const NotificationStatusKey = defineSearchAttributeKey('NotificationStatus', SearchAttributeType.KEYWORD);
export const NotificationReleaseAtKey = defineSearchAttributeKey('NotificationReleaseAt', SearchAttributeType.DATETIME);
export const NotificationCategoryKey = defineSearchAttributeKey('NotificationCategory', SearchAttributeType.KEYWORD);
export const NotificationChannelKey = defineSearchAttributeKey('NotificationChannel', SearchAttributeType.KEYWORD);
export const RecipientIdKey = defineSearchAttributeKey('RecipientId', SearchAttributeType.KEYWORD);
/** Written when a notification ends: on what grounds it went out when it did (src/evidence.ts). */
export const NotificationEvidenceKey = defineSearchAttributeKey('NotificationEvidence', SearchAttributeType.KEYWORD);

export const NOTIFICATION_SEARCH_ATTRIBUTES = [
  NotificationStatusKey,
  NotificationReleaseAtKey,
  NotificationCategoryKey,
  NotificationChannelKey,
  RecipientIdKey,
  NotificationEvidenceKey,
] as const;

/**
 * What a held notification is listed with: status (held, or its morning's verdict), release time,
 * category and channel (a legacy forward has neither of its own). The client adds RecipientId, the
 * keyed hash of the recipient id.
 */
export function heldSearchAttributes(deliverable: Deliverable, releaseAt: Date, status: NotificationStatus = 'held'): SearchAttributePair[] {
  return [
    { key: NotificationStatusKey, value: status },
    { key: NotificationReleaseAtKey, value: releaseAt },
    ...(isLegacyForward(deliverable)
      ? [{ key: NotificationCategoryKey, value: LEGACY_FORWARD_CATEGORY }]
      : [
          { key: NotificationCategoryKey, value: deliverable.category },
          { key: NotificationChannelKey, value: deliverable.channel },
        ]),
  ];
}
