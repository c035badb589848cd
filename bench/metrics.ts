/**
 * The Temporal server's own metrics, read from its Prometheus endpoint: persistence requests by
 * operation (every read and write the server makes to its database), summed over all other labels.
 */

export type OperationCounts = Record<string, number>;

/**
 * Sums one counter of a Prometheus text exposition by the value of one label. Lines look like
 * `persistence_requests{operation="UpdateWorkflowExecution",service_name="history",…} 1234`.
 */
export function sumByLabel(exposition: string, metric: string, label: string, where: Record<string, string> = {}): OperationCounts {
  const sums: OperationCounts = {};
  const labelPattern = new RegExp(`(?:^|,)${label}="((?:[^"\\\\]|\\\\.)*)"`);
  const required = Object.entries(where).map(([name, value]) => `${name}="${value}"`);
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue; // a longer name, e.g. persistence_requests_total_x
    const close = rest.lastIndexOf('}');
    const labels = rest[0] === '{' ? rest.slice(1, close) : '';
    if (required.some((pair) => !labels.split(',').includes(pair))) continue;
    const value = Number((rest[0] === '{' ? rest.slice(close + 1) : rest).trim().split(/\s+/)[0]);
    if (!Number.isFinite(value)) continue;
    const key = labelPattern.exec(labels)?.[1] ?? '(none)';
    sums[key] = (sums[key] ?? 0) + value;
  }
  return sums;
}

/** after − before, per key (keys that did not move are left out). */
export function countsDelta(before: OperationCounts, after: OperationCounts): OperationCounts {
  const delta: OperationCounts = {};
  for (const [key, value] of Object.entries(after)) {
    const moved = value - (before[key] ?? 0);
    if (moved !== 0) delta[key] = moved;
  }
  return delta;
}

export const totalOf = (counts: OperationCounts) => Object.values(counts).reduce((sum, value) => sum + value, 0);

/** Reads a Prometheus endpoint; throws naming it when it does not answer. */
export async function scrape(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`metrics endpoint ${url} answered ${response.status}`);
  return response.text();
}

/** The metric Temporal's persistence layer counts every database request in, by `operation`. */
export const PERSISTENCE_REQUESTS = 'persistence_requests';

/**
 * History tasks (a timer firing, a workflow task to dispatch) whose processing failed and was
 * retried, by `operation`: on the dev server, the sign of its one SQLite connection falling behind.
 */
export const TASK_ERRORS = 'task_errors';

/**
 * The billable actions the frontend counted in a namespace, by `action_type`
 * (grpc_StartWorkflowExecution, command_BatchMarkers, command_UpsertWorkflowSearchAttributes, …):
 * Temporal's `action` counter, which Temporal Cloud bills by.
 */
export const ACTIONS = 'action';

/** The counters a release run reads from a Temporal server's Prometheus endpoint, each by `operation` (actions by type). */
export function operationCountersAt(metricsUrl: string, namespace = 'default') {
  const byOperation = (metric: string) => async () => sumByLabel(await scrape(metricsUrl), metric, 'operation');
  return {
    persistenceRequests: byOperation(PERSISTENCE_REQUESTS),
    serviceRequests: byOperation('service_requests'),
    taskErrors: byOperation(TASK_ERRORS),
    actions: async () => sumByLabel(await scrape(metricsUrl), ACTIONS, 'action_type', { namespace }),
  };
}
