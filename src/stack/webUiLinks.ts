/**
 * Links into the Temporal Web UI (2.54 and 2.56) that open the operator's view in one step. The UI
 * reads a visibility query from the list page's `query` parameter. Its columns cannot be set by URL
 * or server flag, only in the browser (Configure Columns, kept in localStorage under
 * WEB_UI_COLUMNS_KEY), which the README shows.
 */

/** The workflow list of a namespace with a visibility query filled in. */
export function webUiListUrl(ui: string, namespace: string, query: string): string {
  return `${ui}/namespaces/${encodeURIComponent(namespace)}/workflows?${new URLSearchParams({ query })}`;
}

/** Where the Web UI keeps the columns an operator chose for each namespace's workflow list. */
export const WEB_UI_COLUMNS_KEY = 'namespace-workflow-table-columns';

/** The columns of the operator's view: the generic ones, then the notification's search attributes. */
export const NOTIFICATION_COLUMNS = ['Status', 'Workflow ID', 'NotificationStatus', 'NotificationReleaseAt', 'NotificationCategory', 'NotificationChannel', 'Start'];
