/**
 * A worker process of its own for test/metrics.workflow.test.ts (a test process's Temporal runtime
 * is installed without metrics by test/setup.mjs, and a runtime is installed once per process): the
 * production runtime with its Prometheus exporter (src/workers/telemetry.ts) on the port given as
 * argv[2], a worker without a workflow cache on the time-skipping server, one run of
 * test/fixtures/metricsWorkflow.ts, then the worker's /metrics on stdout.
 */
import { Worker } from '@temporalio/worker';
import { startTimeSkippingServer } from '../../src/stack/temporalServers';
import { defaultLogger, installRuntime } from '../../src/workers/telemetry';

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const { metricsUrl } = installRuntime({ metrics: { host: '127.0.0.1', port }, logger: defaultLogger('WARN') });
  const env = await startTimeSkippingServer();
  try {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'metrics-probe',
      workflowsPath: require.resolve('../fixtures/metricsWorkflow'),
      // No cache: the task after the timer replays the workflow from its start.
      maxCachedWorkflows: 0,
    });
    await worker.runUntil(env.client.workflow.execute('metricsProbeWorkflow', { taskQueue: 'metrics-probe', workflowId: 'metrics-probe' }));
    process.stdout.write(await (await fetch(metricsUrl!)).text());
  } finally {
    await env.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
