export * from './NotificationClient';
export type { CancelOutcome } from '../workflows/notificationMessages';
export { InvalidNotificationError, type NotificationInput, type NotificationResult } from '../notification';
