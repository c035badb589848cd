import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../config';
import { activityDepsFromConfig } from '../workers/activityDeps';
import { createNotificationWorker } from '../workers/createWorker';

/**
 * The same worker that src/workers/main.ts runs, on a given connection: `npm start` runs it
 * in-process and the end-to-end tests run it against their servers. Its dependencies come from
 * activityDepsFromConfig, the one place that builds them, so new ones reach every worker.
 */
export async function createStackWorker(config: Config, connection: NativeConnection): Promise<Worker> {
  return createNotificationWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: await activityDepsFromConfig(config),
    tuning: config.worker,
  });
}
