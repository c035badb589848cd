/**
 * The workflow-side metrics (src/workflows/metrics.ts) through the SDK's workflow metric meter and
 * its Prometheus exporter, in a worker process of their own (test/helpers/workflowMetricsProbe.ts):
 * each counter by category, under the names src/metricNames.ts gives, with the SDK's labels; what
 * a replay runs again is not counted again; statuses without a counter of their own add nothing.
 * Real: the time-skipping server, the SDK's exporter. Nothing stubbed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { COUNTERS, exposedCounter } from '../src/metricNames';
import { parseExposition, sumOf } from '../src/metricsText';
import { freePort } from '../src/stack/ports';

test('the outcome counters are recorded once per workflow, by category, replays left out', { timeout: 240_000 }, async () => {
  const port = await freePort();
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, 'helpers', 'workflowMetricsProbe.ts'), String(port)], {
    cwd: join(__dirname, '..'),
    maxBuffer: 16 * 1024 * 1024,
  });
  const samples = parseExposition(stdout);
  const count = (name: Parameters<typeof exposedCounter>[0], category: string) =>
    sumOf(samples, exposedCounter(name), { category, workflowType: 'metricsProbeWorkflow', taskQueue: 'metrics-probe' });
  // The task after the timer replayed the workflow (the SDK counts replays)…
  assert.ok(sumOf(samples, 'temporal_workflow_task_replay_latency_seconds_count', { workflow_type: 'metricsProbeWorkflow' })! >= 1, 'no replay happened');
  // …so what it recorded before the timer ran twice: counted once.
  assert.equal(count(COUNTERS.scheduled, 'advertising'), 1);
  assert.equal(count(COUNTERS.scheduled, 'legacy'), 1);
  assert.equal(count(COUNTERS.capped, 'advertising'), 1);
  assert.equal(count(COUNTERS.collapsed, 'order'), 1);
  assert.equal(count(COUNTERS.digested, 'advertising'), 1);
  assert.equal(count(COUNTERS.failed, 'refund'), 1);
  // Delivered is the send's to count (staged or sent); cancelled has no counter.
  const ours = samples.filter((sample) => sample.name.startsWith('notify_')).map((sample) => sample.name);
  assert.deepEqual(
    [...new Set(ours)].sort(),
    [COUNTERS.capped, COUNTERS.collapsed, COUNTERS.digested, COUNTERS.failed, COUNTERS.scheduled].map(exposedCounter).sort(),
  );
});
