/**
 * `npm start`: the whole system on one machine. Provisions what is missing, starts the Temporal
 * dev server (SQLite under the data dir, so sleeping workflows survive a restart; Web UI;
 * search attributes registered), ElasticMQ with the configured queues (its messages kept under the
 * data dir too, so staged messages survive a restart), the codec server (the Web
 * UI's endpoint for decrypting payloads) and one worker in-process. Without TEMPORAL_ADDRESS it
 * generates the local stack's keys and token once (src/security/localSecrets.ts). With
 * TEMPORAL_ADDRESS or AWS_ENDPOINT_URL_SQS set, that server is used instead of starting one.
 * Ctrl-C (SIGINT) or SIGTERM drains the worker, then stops the servers.
 */
import { resolve } from 'node:path';
import { DefaultLogger, type Worker } from '@temporalio/worker';
import { localSecretsFile } from '../config';
import { codecServerFromConfig, type RunningCodecServer } from '../security';
import { ensureReconcileSchedule, reconcileScheduleSettings, RECONCILE_SCHEDULE_ID } from '../schedules/reconcileSchedule';
import { ensureReportSchedule, REPORT_SCHEDULE_ID } from '../schedules/reportSchedule';
import { createSqsClient, resolveQueueUrls } from '../sqs';
import { startLocalServers, type LocalServers } from './localServers';
import { assertNoRunningStack, runningStackFile, stackVariables, writeRunningStack } from './runningStack';
import { stderrLog } from './progress';
import { codecBanner, configWithLocalSecrets } from './stackSecrets';
import { temporalCliPath } from './temporalCliMain';
import { webUiListUrl } from './webUiLinks';
import { createConfiguredWorker } from '../workers/createWorker';
import { zoneDataBanner } from '../zoneData';
import { makeVersionCurrent } from '../workers/deploymentVersion';
import { startStagingProbe, type StagingProbe } from '../workers/stagingProbe';
import { installRuntime, LOCAL_STACK_METRICS_PORT } from '../workers/telemetry';
import { workerDeploymentOptions } from '../workers/versioning';
import { assertPortFree } from './ports';

async function printBanner(servers: LocalServers, dbFilename: string, sqsDataDir: string, codec: RunningCodecServer | undefined, worker: { metricsUrl?: string; version?: string }): Promise<void> {
  const { config, started } = servers;
  // Without TEMPORAL_ADDRESS the keys came from the local stack's file (configWithLocalSecrets).
  const secretsFile = started.temporal ? resolve(localSecretsFile(config.localStack.dataDir)) : undefined;
  const sqs = createSqsClient(config.sqs);
  const queues = await resolveQueueUrls(sqs, config.sqs).finally(() => sqs.destroy());
  const ui = started.temporal ? `http://localhost:${config.localStack.temporalUiPort}` : '(the server at TEMPORAL_ADDRESS has its own)';
  const held = started.temporal ? webUiListUrl(ui, config.temporal.namespace, "NotificationStatus = 'held'") : undefined;
  const temporalCli = await temporalCliPath().catch(() => undefined);
  console.log(
    [
      '',
      'local stack is running',
      `  Temporal    ${config.temporal.address}  namespace ${config.temporal.namespace}  ${started.temporal ? `dev server, data in ${dbFilename}` : '(TEMPORAL_ADDRESS)'}`,
      `  Web UI      ${ui}`,
      ...(held
        ? [
            `    held notifications  ${held}`,
            '    (Configure Columns, the sliders icon below the list: add NotificationStatus, NotificationReleaseAt,',
            '     NotificationCategory and NotificationChannel; the README shows how)',
          ]
        : []),
      `  SQS         ${config.sqs.endpoint}  ${started.sqs ? `ElasticMQ, messages kept in ${sqsDataDir}` : '(AWS_ENDPOINT_URL_SQS)'}`,
      `    delivery      ${queues.delivery}`,
      `    legacy wait   ${queues.legacyWait}`,
      `    dead letter   ${queues.deadLetter}`,
      '    peek          npm run cli -- queue peek   (the messages, decoded, left on the queue)',
      ...codecBanner(codec, secretsFile),
      ...(temporalCli ? [`  temporal    npm run temporal -- workflow show -w notification-<id> --detailed`, `              (${temporalCli}, pointed at this stack and its codec server)`] : []),
      `  worker      polling task queue "${config.temporal.taskQueue}"${worker.version ? ` as ${worker.version}` : ''}`,
      ...(worker.metricsUrl ? [`    metrics   ${worker.metricsUrl}  (Prometheus; NOTIFY_METRICS_PORT=0 turns them off)`] : []),
      `  ${zoneDataBanner().line}`,
      '',
      `In another shell, \`npm run cli -- …\` finds it (${runningStackFile(config.localStack.dataDir)}); other programs need:`,
      `  export TEMPORAL_ADDRESS=${config.temporal.address} AWS_ENDPOINT_URL_SQS=${config.sqs.endpoint}`,
      ...(secretsFile ? [`  set -a; . ${secretsFile}; set +a   # its keys (tools read them by themselves while TEMPORAL_ADDRESS is unset)`] : []),
      'Ctrl-C stops the worker and every server this command started.',
      '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const config = await configWithLocalSecrets();
  // Before any port is tried: "port 8081 is taken" would not say that it is our own stack.
  assertNoRunningStack(config.localStack.dataDir);
  // The worker's metrics on 9464 unless NOTIFY_METRICS_PORT says otherwise (0: none).
  const metrics = { ...config.metrics, port: config.metrics.port ?? LOCAL_STACK_METRICS_PORT };
  if (metrics.port) await assertPortFree(metrics.port, "the worker's metrics", 'NOTIFY_METRICS_PORT (0: none)');
  // The worker's own state changes are not news to someone running the stack; its warnings are.
  const { metricsUrl } = installRuntime({ metrics, logger: new DefaultLogger('WARN') });
  const deployment = workerDeploymentOptions(config.versioning);
  const dbFilename = resolve(config.localStack.dataDir, 'temporal.sqlite');
  // ElasticMQ keeps its messages beside it: a message staged with a delay survives a restart, as its workflow does.
  const sqsDataDir = resolve(config.localStack.dataDir, 'elasticmq');
  let servers: LocalServers | undefined;
  let codec: RunningCodecServer | undefined;
  let worker: Worker | undefined;
  let probe: StagingProbe | undefined;
  let removeRecord: (() => Promise<void>) | undefined;
  let signals = 0;
  let firstSignalAt = 0;
  // The Temporal runtime also listens for these and drains the worker; ours covers start-up
  // (no worker yet) and a second Ctrl-C, which stops the servers without waiting any longer.
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C arrives more than once: the terminal signals the whole process group (npm and
    // this process), and npm passes it on as well. A second one means it only when it comes later.
    if (signals > 0 && Date.now() - firstSignalAt < REPEATED_SIGNAL_MS) return;
    signals += 1;
    if (signals === 1) {
      firstSignalAt = Date.now();
      stderrLog(`${signal}: stopping${worker ? ' (draining the worker first)' : ''}…`);
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      return;
    }
    stderrLog(`${signal} again: stopping the servers now`);
    void Promise.allSettled([servers?.stop(), codec?.stop()]).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A crash must not leave the dev server behind (it would hold the port and the SQLite file).
  const onCrash = (error: unknown) => {
    console.error('local stack crashed:', error);
    void Promise.allSettled([servers?.stop(), codec?.stop()]).finally(() => process.exit(1));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  // First, so that the dev server's Web UI can be pointed at it.
  codec = await codecServerFromConfig(config, { log: stderrLog });
  servers = await startLocalServers({
    config,
    uiCodecEndpoint: codec?.url,
    temporalPort: config.localStack.temporalPort,
    temporalUiPort: config.localStack.temporalUiPort,
    dbFilename,
    sqsPort: config.localStack.sqsPort,
    sqsDataDir,
    serverLogLevel: 'error',
    log: stderrLog,
  });
  try {
    if (signals > 0) return;
    worker = await createConfiguredWorker(servers.config, servers.env.nativeConnection);
    // As every worker process does (src/workers/main.ts): bring the schedules to their spec.
    stderrLog(`schedule ${RECONCILE_SCHEDULE_ID} ${await ensureReconcileSchedule(servers.env.client, reconcileScheduleSettings(servers.config))}`);
    stderrLog(`schedule ${REPORT_SCHEDULE_ID} ${await ensureReportSchedule(servers.env.client, servers.config)}`);
    if (metricsUrl) probe = startStagingProbe({ client: servers.env.client, taskQueue: servers.config.temporal.taskQueue });
    if (signals > 0) return;
    const running = worker.run();
    running.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
    // Its only worker: a versioned local stack makes its own build current (production leaves that to the operator).
    if (deployment) await makeVersionCurrent(servers.env.client, servers.config.temporal.namespace, deployment.version);
    const version = deployment ? `${deployment.version.deploymentName} build ${deployment.version.buildId}` : undefined;
    await printBanner(servers, dbFilename, sqsDataDir, codec, { metricsUrl, version });
    removeRecord = await writeRunningStack(config.localStack.dataDir, {
      kind: 'local',
      env: stackVariables(servers.config),
      webUi: servers.started.temporal ? `http://localhost:${config.localStack.temporalUiPort}` : undefined,
      codecServer: codec?.url,
      // Without TEMPORAL_ADDRESS it runs on the generated secrets, which the CLI of a second shell then reads too.
      localSecrets: !config.temporal.address,
    });
    // Resolves once the worker has shut down (after a signal) and its in-flight tasks are done.
    await running;
  } finally {
    probe?.stop();
    await removeRecord?.();
    if (worker) stderrLog('worker stopped');
    await servers.stop();
    if (codec) {
      await codec.stop();
      stderrLog('codec server stopped');
    }
    stderrLog('local stack stopped');
  }
}

/** Signals closer together than this are one Ctrl-C delivered twice. */
const REPEATED_SIGNAL_MS = 2_000;

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
