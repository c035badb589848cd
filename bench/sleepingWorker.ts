/**
 * The production worker (createNotificationWorker with the configured tuning and deps) in its own
 * process, for the cost-of-sleeping benchmark, which reads its RSS from outside. Unlike
 * src/workers/main.ts it does not install the legacy reconcile schedule, which would add its own
 * workflows to what is measured.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { configuredQueueNames } from '../src/stack/elasticMqConfig';
import { createConfiguredWorker } from '../src/workers/createWorker';
import { ensureQueue, createSqsClient } from '../src/sqs';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const sqs = createSqsClient(config.sqs);
  for (const name of configuredQueueNames(config.sqs)) await ensureQueue(sqs, name);
  sqs.destroy();
  const connection = await NativeConnection.connect({ address: config.temporal.address! });
  const worker = await createConfiguredWorker(config, connection);
  console.log(`worker polling task queue "${config.temporal.taskQueue}"`);
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
