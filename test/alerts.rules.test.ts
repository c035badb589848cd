/**
 * The alert rules (deploy/prometheus/alerts.yml) as Prometheus runs them: `promtool check rules`
 * parses them (and `promtool check config` the example scrape configuration beside them),
 * `promtool test rules` runs their unit tests (alerts.test.yml: each alert fires where
 * it should and stays quiet where it should not), and every metric they read is one a worker
 * serves (src/metricNames.ts, which the live test in test/cli.stack.e2e.test.ts reads from a running
 * worker). The Grafana dashboard reads exactly names that live test reads. promtool is Debian's, provisioned into the cache (src/stack/provisionPrometheus.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { knownMetricNames, LIVE_WORKER_METRICS } from '../src/metricNames';
import { runCommand } from '../src/stack/commands';
import { provisionPrometheus } from '../src/stack/provisionPrometheus';

const DIR = join(__dirname, '..', 'deploy', 'prometheus');

describe('the alert rules', () => {
  test('promtool checks them and their unit tests pass', { timeout: 300_000 }, async () => {
    const { promtool } = await provisionPrometheus();
    const checked = await runCommand(promtool, ['check', 'rules', join(DIR, 'alerts.yml')]);
    assert.match(checked.stdout, /SUCCESS: \d+ rules found/);
    const tested = await runCommand(promtool, ['test', 'rules', join(DIR, 'alerts.test.yml')]);
    assert.match(tested.stdout, /SUCCESS/);
    // The example scrape configuration that loads them.
    const config = await runCommand(promtool, ['check', 'config', join(DIR, 'prometheus.yml')]);
    assert.match(config.stdout, /SUCCESS/);
  });

  test('read only metrics a worker serves (or `up`, which Prometheus adds)', () => {
    const known = knownMetricNames();
    const rules = readFileSync(join(DIR, 'alerts.yml'), 'utf8');
    const expressions = rules.split(/\n\s*expr: /).slice(1).map((part) => part.split(/\n\s*(?:for|labels):/)[0]!);
    assert.ok(expressions.length >= 8, `${expressions.length} expressions found`);
    const read = new Set(expressions.flatMap((expression) => expression.match(/\b(?:notify|temporal)_[a-z0-9_]+\b/g) ?? []));
    const unknown = [...read].filter((name) => !known.has(name));
    assert.deepEqual(unknown, [], `alerts.yml reads metrics no worker serves: ${unknown.join(', ')}`);
    assert.ok(read.size >= 8, [...read].join(', '));
  });
});

describe('the Grafana dashboard (deploy/grafana)', () => {
  test('reads only metrics that test/cli.stack.e2e.test.ts reads from a live worker', () => {
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'deploy', 'grafana', 'notification-scheduler.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const read = new Set(dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/\b(?:notify|temporal)_[a-z0-9_]+\b/g) ?? [])));
    const live = new Set(LIVE_WORKER_METRICS);
    assert.deepEqual([...read].filter((name) => !live.has(name)), []);
    assert.ok(read.size >= 10, [...read].join(', '));
  });
});
