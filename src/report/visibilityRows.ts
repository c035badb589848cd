/**
 * The report's data source: visibility. Every notification workflow records, when it ends, its
 * status and the grounds of its release (NotificationEvidence) as search attributes, so a report
 * lists the workflows that closed in the range and reads each one's attributes.
 *
 * Why visibility, and not the histories or a store of our own: it costs no extra write per send (the
 * evidence goes with the final status upsert the workflow makes anyway); it answers one paged list
 * query instead of one history read per notification; and it is the same API on the dev server's
 * SQLite and on the cluster's PostgreSQL. It lasts as long as the namespace's retention, which is
 * why the report writes its files: they are what is kept beyond it.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { digestIdOf } from '../digest';
import { parseEvidence } from '../evidence';
import { notificationIdOf } from '../notification';
import { NotificationCategoryKey, NotificationChannelKey, NotificationEvidenceKey, NotificationStatusKey, RecipientIdKey } from '../searchAttributes';
import type { ReportInterval } from './reportRange';
import type { ReportRow } from './reportRow';

/**
 * A staged message is sent up to the staging lead (at most 900 s) before it becomes receivable, so
 * its workflow closes that much before the instant it is counted at: the closed list starts this
 * much before the range.
 */
const CLOSE_MARGIN_MS = 20 * 60_000;

/** A notification workflow's row, from its list entry or its description (the same attributes). */
export function reportRowOf(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'typedSearchAttributes' | 'status' | 'closeTime'>): ReportRow {
  const attributes = info.typedSearchAttributes;
  const evidence = parseEvidence(attributes.get(NotificationEvidenceKey));
  // A morning gate that sent a digest: the row is the digest, a released advertisement of its own.
  const digest = info.workflowId.startsWith('morning-');
  return {
    notificationId: digest ? digestIdOf(info.workflowId) : notificationIdOf(info.workflowId),
    status: attributes.get(NotificationStatusKey) ?? info.status.name.toLowerCase(),
    category: attributes.get(NotificationCategoryKey) ?? 'unknown',
    channel: attributes.get(NotificationChannelKey) ?? 'unknown',
    recipientHash: attributes.get(RecipientIdKey) ?? (digest ? info.workflowId.split('-')[1]! : ''),
    ...(info.closeTime ? { closedAtMs: info.closeTime.getTime() } : {}),
    ...(evidence ? { evidence } : {}),
  };
}

/**
 * The notifications of a range: those that closed in it (with a margin before), then those still
 * open that were scheduled before its end (held, retrying). Streams: a day of millions is paged.
 */
export async function* visibilityRows(client: Client, interval: ReportInterval): AsyncGenerator<ReportRow> {
  const from = new Date(interval.startMs - CLOSE_MARGIN_MS).toISOString();
  const to = new Date(interval.endMs).toISOString();
  const type = `WorkflowType = 'notificationWorkflow'`;
  for await (const info of client.workflow.list({ query: `${type} AND CloseTime >= '${from}' AND CloseTime < '${to}'`, pageSize: 1000 })) yield reportRowOf(info);
  for await (const info of client.workflow.list({ query: `${type} AND ExecutionStatus = 'Running' AND StartTime < '${to}'`, pageSize: 1000 })) yield reportRowOf(info);
  // Digests: their gate closes a few minutes after the digest turned receivable, so the closed list
  // runs that margin past the range too (rows outside the range are dropped by their instant).
  const digests = `WorkflowType = 'morningGateWorkflow' AND NotificationStatus = 'delivered'`;
  const toAfter = new Date(interval.endMs + CLOSE_MARGIN_MS).toISOString();
  for await (const info of client.workflow.list({ query: `${digests} AND CloseTime >= '${from}' AND CloseTime < '${toAfter}'`, pageSize: 1000 })) yield reportRowOf(info);
  for await (const info of client.workflow.list({ query: `${digests} AND ExecutionStatus = 'Running'`, pageSize: 1000 })) yield reportRowOf(info);
}
