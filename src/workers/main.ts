/**
 * A worker process against servers named by the environment (TEMPORAL_ADDRESS, AWS_ENDPOINT_URL_SQS
 * or real AWS). This is what docker-compose runs twice; `npm start` runs the same code in-process.
 * With NOTIFY_METRICS_PORT it serves Prometheus metrics; with NOTIFY_WORKER_DEPLOYMENT_NAME it is a
 * versioned worker of that Worker Deployment (docs/operations.md).
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
import { startStagingProbe } from './stagingProbe';
import { installRuntime } from './telemetry';
import { workerDeploymentOptions } from './versioning';

async function main(): Promise<void> {
  const config = loadConfig();
  console.log(zoneDataBanner().line);
  // Before any connection: the runtime serves the metrics, the SDK's and the project's.
  const { metricsUrl } = installRuntime({ metrics: config.metrics });
  const deployment = workerDeploymentOptions(config.versioning);
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
  // The staging gauge counts through visibility; only worth its queries when someone scrapes it.
  const probe = metricsUrl ? startStagingProbe({ client, taskQueue: config.temporal.taskQueue }) : undefined;
  if (metricsUrl) console.log(`metrics at ${metricsUrl}`);
  const version = deployment ? ` as ${deployment.version.deploymentName} build ${deployment.version.buildId}` : '';
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${address} (namespace ${config.temporal.namespace})${version}`);
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks are done (the SDK installs the handlers).
  await worker.run();
  probe?.stop();
  await clientConnection.close();
  await connection.close();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
