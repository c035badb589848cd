/**
 * How long the compliance report takes to build from visibility: N notifications delivered at once
 * (advertisements with night-time consent, so they go out day or night) on a dev server with a
 * SQLite file, as `npm start` runs it, then the report of today (KST) built from the list query,
 * timed. Writes bench/results/report-build-<start time>.json.
 *
 *   node --import tsx bench/reportBuild.ts [--n 10000]
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { NotificationClient } from '../src/client';
import { loadConfig } from '../src/config';
import { buildComplianceReport } from '../src/report/writeReport';
import { freshLocalSecrets } from '../src/security/localSecrets';
import { startLocalServers } from '../src/stack/localServers';
import { createConfiguredWorker } from '../src/workers/createWorker';
import { waitForCount } from './common';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '10000' } } });
  const n = Number(values.n);
  Object.assign(process.env, freshLocalSecrets());
  const dataDir = await mkdtemp(join(tmpdir(), 'kst-report-bench-'));
  const config = loadConfig({ ...process.env, NOTIFY_DATA_DIR: dataDir });
  const servers = await startLocalServers({ config, dbFilename: join(dataDir, 'temporal.sqlite'), serverLogLevel: 'error', log: () => undefined });
  const worker = await createConfiguredWorker(servers.config, servers.env.nativeConnection);
  const running = worker.run();
  try {
    const client = new NotificationClient({ client: servers.env.client, ...NotificationClient.settingsFromConfig(servers.config) });
    const runId = Date.now().toString(36);
    const inputs = Array.from({ length: n }, (_, index) => ({
      notificationId: `report-bench-${runId}-${index}`,
      recipient: { id: `user-${index % 997}`, nightConsent: true },
      channel: (['kakaotalk', 'sms', 'push'] as const)[index % 3]!,
      category: 'advertising' as const,
      payload: { template: 'report-bench' },
    }));
    console.log(`scheduling ${n} notifications that go out at once`);
    await client.scheduleMany(inputs, { concurrency: 32 });
    await waitForCount(servers.env.client, `WorkflowType = 'notificationWorkflow' AND ExecutionStatus = 'Completed'`, n, { pollMs: 1_000, stallMs: 120_000, what: 'delivered' });
    const today = DateTime.now().setZone('Asia/Seoul').toISODate()!;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const report = await buildComplianceReport({ client: servers.env.client, config: servers.config }, { fromDate: today, toDate: today });
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const result = {
      command: `node --import tsx bench/reportBuild.ts --n ${n}`,
      startedAt: new Date().toISOString(),
      machine: { cores: cpus().length, cpuModel: cpus()[0]?.model },
      server: 'Temporal CLI dev server, SQLite file',
      notifications: report.counts.notifications,
      buildMs: Math.round(ms),
      perSecond: Math.round((report.counts.notifications * 1000) / ms),
      reportProcessCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      verdict: report.verdict.line,
    };
    console.log(JSON.stringify(result, null, 2));
    writeFileSync(join(__dirname, 'results', `report-build-${result.startedAt.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    worker.shutdown();
    await running;
    await servers.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
