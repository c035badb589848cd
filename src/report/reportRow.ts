/** One notification as the report sees it: what its workflow left in visibility when it ended. */
import type { Evidence } from '../evidence';

export interface ReportRow {
  notificationId: string;
  /** The final status (NotificationStatus), or the status of one still open. */
  status: string;
  category: string;
  channel: string;
  /** The keyed hash in RecipientId: never the recipient's id. */
  recipientHash: string;
  /** When the workflow closed; undefined while it runs. */
  closedAtMs?: number;
  /** The release's grounds, recorded when the workflow ended (undefined: none recorded). */
  evidence?: Evidence;
}
