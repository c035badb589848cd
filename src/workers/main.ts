/**
 * A worker process against servers named by the environment (TEMPORAL_ADDRESS, AWS_ENDPOINT_URL_SQS
 * or real AWS). This is what docker-compose runs twice; `npm start` runs the same code in-process.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { dataConverterFromConfig } from '../security/dataConverter';
import { ensureReconcileSchedule, reconcileScheduleSettings, RECONCILE_SCHEDULE_ID } from '../schedules/reconcileSchedule';
import { ensureReportSchedule, REPORT_SCHEDULE_ID } from '../schedules/reportSchedule';
import { temporalAddress, temporalConnectionOptions } from '../temporalConnection';
import { zoneDataBanner } from '../zoneData';
import { createConfiguredWorker } from './createWorker';

async function main(): Promise<void> {
  const config = loadConfig();
  console.log(zoneDataBanner().line);
  const address = temporalAddress(config);
  const connectionOptions = await temporalConnectionOptions(config.temporal, address);
  const connection = await NativeConnection.connect(connectionOptions);
  const worker = await createConfiguredWorker(config, connection);
  // Every worker brings the legacy-queue and report schedules to the configured spec: idempotent,
  // so any number of replicas may do it at once.
  const clientConnection = await Connection.connect(connectionOptions);
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter: dataConverterFromConfig(config) });
  console.log(`schedule ${RECONCILE_SCHEDULE_ID} ${await ensureReconcileSchedule(client, reconcileScheduleSettings(config))}`);
  console.log(`schedule ${REPORT_SCHEDULE_ID} ${await ensureReportSchedule(client, config)}`);
  await clientConnection.close();
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${address} (namespace ${config.temporal.namespace})`);
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks are done (the SDK installs the handlers).
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
