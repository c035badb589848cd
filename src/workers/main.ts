/**
 * A worker process against servers named by the environment (TEMPORAL_ADDRESS, AWS_ENDPOINT_URL_SQS
 * or real AWS). This is what docker-compose runs twice; `npm start` runs the same code in-process.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { temporalConnectionOptions } from '../temporalConnection';
import { activityDepsFromConfig } from './activityDeps';
import { createNotificationWorker } from './createWorker';

async function main(): Promise<void> {
  const config = loadConfig();
  const address = config.temporal.address ?? 'localhost:7233';
  const connection = await NativeConnection.connect(await temporalConnectionOptions(config.temporal, address));
  const worker = await createNotificationWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: await activityDepsFromConfig(config),
    tuning: config.worker,
  });
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${address} (namespace ${config.temporal.namespace})`);
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks are done (the SDK installs the handlers).
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
