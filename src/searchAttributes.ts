/**
 * The custom search attributes a notification workflow records, so that operators can list
 * held notifications in the Web UI ("NotificationStatus = 'held'") and see when each is due.
 * The local dev server registers them at start; a production namespace needs them created once
 * (`temporal operator search-attribute create`, see the README).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const NotificationStatusKey = defineSearchAttributeKey('NotificationStatus', SearchAttributeType.KEYWORD);
export const NotificationReleaseAtKey = defineSearchAttributeKey('NotificationReleaseAt', SearchAttributeType.DATETIME);
export const NotificationCategoryKey = defineSearchAttributeKey('NotificationCategory', SearchAttributeType.KEYWORD);
export const NotificationChannelKey = defineSearchAttributeKey('NotificationChannel', SearchAttributeType.KEYWORD);
export const RecipientIdKey = defineSearchAttributeKey('RecipientId', SearchAttributeType.KEYWORD);

export const NOTIFICATION_SEARCH_ATTRIBUTES = [
  NotificationStatusKey,
  NotificationReleaseAtKey,
  NotificationCategoryKey,
  NotificationChannelKey,
  RecipientIdKey,
] as const;
