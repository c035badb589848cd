import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerDeploymentOptions, type WorkerOptions } from '@temporalio/worker';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../config';
import { dataConverterFromConfig } from '../security/dataConverter';
import { zoneDataBanner } from '../zoneData';
import { activityDepsFromConfig } from './activityDeps';
import { workerDeploymentOptions } from './versioning';
import { workflowCodeOptions, WORKFLOWS_PATH } from './workflowCode';

export interface NotificationWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** The project's one (dataConverterFromConfig): required, so that no worker runs unencrypted. */
  dataConverter: DataConverter;
  tuning?: Partial<Config['worker']>;
  /** Worker Versioning: its deployment and build id (src/workers/versioning.ts); undefined: unversioned. */
  deployment?: WorkerDeploymentOptions;
  /** Anything else to pass to Worker.create (tests set a pre-built bundle, say). */
  overrides?: Partial<WorkerOptions>;
}

export { WORKFLOWS_PATH };

/**
 * The share of the workflow-task pollers that poll the task queue itself rather than this worker's
 * sticky queue. A release is the first workflow task of its workflow (a held notification waits on
 * its start delay, in no worker's cache), and first tasks come only through the task queue. The
 * SDK's default, 0.2, left 2 of its 10 pollers to the release and the tasks waiting on the server
 * (bench/README.md, "What the release waited on"). The sticky queue keeps 2, for the workflows that
 * wait in a cache: a send's retry, an update during the send.
 */
const NON_STICKY_POLL_SHARE = 0.8;

/**
 * One worker process on the shared task queue. Workers are stateless apart from their workflow
 * cache, so any number of them can poll the same queue: that is how the system scales out.
 */
export function createNotificationWorker(options: NotificationWorkerOptions): Promise<Worker> {
  const tuning = options.tuning ?? {};
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    // The prebuilt bundle when compiled, the sources under tsx; a caller's own bundle wins.
    ...(options.overrides?.workflowBundle || options.overrides?.workflowsPath ? {} : workflowCodeOptions()),
    activities: createActivities(options.deps),
    dataConverter: options.dataConverter,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    nonStickyToStickyPollRatio: NON_STICKY_POLL_SHARE,
    ...(options.deployment ? { workerDeploymentOptions: options.deployment } : {}),
    ...options.overrides,
  });
}

export type { SQSClient };

/**
 * The production worker from the configuration: its dependencies from activityDepsFromConfig and
 * its tuning from config.worker. The worker process, `npm start`, the tests and the benchmark all
 * build it here, so a new dependency reaches every one of them. `overrides` go to Worker.create
 * (a test runs the next build's workflow code this way).
 */
export async function createConfiguredWorker(config: Config, connection: NativeConnection, overrides?: Partial<WorkerOptions>): Promise<Worker> {
  // Every decision this worker makes is made on this zone data: an old one is worth a warning at start.
  const { warning } = zoneDataBanner();
  if (warning) console.warn(warning);
  if (config.policy.allowNarrowerQuietHours) {
    console.warn(
      'WARNING: NOTIFY_ALLOW_NARROWER_QUIET_HOURS is on: this worker runs notifications whose quiet window is narrower than the ' +
        "law's 21:00–08:00 (art. 50), and may release advertising at night. For tests and benchmarks only; every such decision is recorded.",
    );
  }
  return createNotificationWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: await activityDepsFromConfig(config),
    dataConverter: dataConverterFromConfig(config),
    tuning: config.worker,
    deployment: workerDeploymentOptions(config.versioning),
    overrides,
  });
}
