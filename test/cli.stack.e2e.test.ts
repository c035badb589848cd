/**
 * The CLI as a user runs it: `npm start` in one shell, `npm run cli -- …` in another, both with
 * the environment of a fresh shell (none of the keys test/setup.mjs gives the suite), on a data
 * dir and ports of their own. Nothing stubbed: the real `npm start` (dev server, ElasticMQ, codec
 * server, worker) and the real CLI, as child processes.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COUNTERS, exposedCounter, GAUGES, HISTOGRAMS, LIVE_WORKER_METRICS, SDK_METRICS } from '../src/metricNames';
import { parseExposition, sumOf, type Sample } from '../src/metricsText';
import { NOTIFICATION_FIELDS, parseNotification } from '../src/notification';
import { zoneWhereAfternoon } from '../src/policy/releaseWindow';
import { ensureLocalSecrets } from '../src/security';
import { userShell, type CliRun, type ForegroundProcess, type UserShell } from './helpers/userShell';

let shell: UserShell;
let stack: ForegroundProcess;

before(async () => {
  shell = await userShell();
  stack = shell.npmStart();
  await stack.waitForOutput(/local stack is running/, 300_000);
}, { timeout: 320_000 });

after(async () => {
  await stack?.stop();
  await shell?.cleanUp();
});

/** The JSON lines a command printed on stdout (npm's own banner lines are not JSON). */
function jsonLines(run: CliRun): unknown[] {
  return run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as unknown);
}

function succeeded(run: CliRun, what: string): void {
  assert.equal(run.code, 0, `${what} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
}

describe('the CLI in a second shell, next to a running npm start, with nothing exported', () => {
  test('schedules, finds, reschedules and cancels a notification', { timeout: 180_000 }, async () => {
    const id = `cli-shell-${Date.now().toString(36)}`;
    const file = join(shell.dataDir, 'notification.json');
    // notBefore a day ahead: held whatever the hour the test runs at.
    const notBefore = new Date(Date.now() + 24 * 3_600_000).toISOString();
    await writeFile(file, JSON.stringify({ notificationId: id, recipient: { id: 'shell-user-1' }, channel: 'sms', category: 'order', payload: { order: 1 }, notBefore }));

    const scheduled = await shell.cli(['schedule', file]);
    succeeded(scheduled, 'schedule');
    assert.match(scheduled.stderr, /using the running local stack \(npm start\)/);
    assert.deepEqual(jsonLines(scheduled), [{ notificationId: id, workflowId: `notification-${id}`, started: true }]);

    const status = await shell.cli(['status', id, '--json']);
    succeeded(status, 'status');
    assert.equal((jsonLines(status)[0] as { status: string }).status, 'held');

    const found = await shell.cli(['find', '--recipient', 'shell-user-1', '--json']);
    succeeded(found, 'find');
    assert.deepEqual(jsonLines(found).map((line) => (line as { notificationId: string }).notificationId), [id]);

    const later = new Date(Date.now() + 48 * 3_600_000).toISOString();
    const rescheduled = await shell.cli(['reschedule', id, later]);
    succeeded(rescheduled, 'reschedule');
    assert.equal(Date.parse((jsonLines(rescheduled)[0] as { releaseAt: string }).releaseAt) >= Date.parse(later), true);

    const cancelled = await shell.cli(['cancel', id]);
    succeeded(cancelled, 'cancel');
    assert.equal((jsonLines(cancelled)[0] as { cancelled: boolean }).cancelled, true);
  });

  test('status and find speak to a person: local times, time until release, and an expiry that comes first', { timeout: 120_000 }, async () => {
    const id = `cli-human-${Date.now().toString(36)}`;
    // Held until notBefore, 25 hours away; it expires an hour before that, so it will never go out.
    const notBefore = new Date(Date.now() + 25 * 3_600_000);
    const expiresAt = new Date(notBefore.getTime() - 3_600_000);
    const input = { notificationId: id, recipient: { id: 'shell-user-2' }, channel: 'push', category: 'order', notBefore: notBefore.toISOString(), expiresAt: expiresAt.toISOString() };
    succeeded(await shell.cli(['schedule', '-'], { stdin: JSON.stringify(input) }), 'schedule -');
    const status = await shell.cli(['status', id]);
    succeeded(status, 'status');
    assert.match(status.stdout, new RegExp(`${id}: held \\(will expire before its release\\)`));
    assert.match(status.stdout, /release\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} Asia\/Seoul, in 1 d \d+ h|release\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} Asia\/Seoul, in 1 d/);
    assert.match(status.stdout, /expires\s+.*Asia\/Seoul: before its release, so it will not be sent/);
    const found = await shell.cli(['find', '--recipient', 'shell-user-2']);
    succeeded(found, 'find');
    assert.match(found.stdout, new RegExp(`${id}  held  due .* Asia/Seoul \\(in 1 d`));
    succeeded(await shell.cli(['cancel', id]), 'cancel');
  });

  test('the compliance report: written from the dev server\'s visibility, verified, a changed byte refused, and written by the daily Schedule', { timeout: 180_000 }, async () => {
    // An advertisement with night-time consent goes out at once, day or night.
    const id = `cli-report-${Date.now().toString(36)}`;
    const input = { notificationId: id, recipient: { id: 'shell-user-3', nightConsent: true }, channel: 'kakaotalk', category: 'advertising', payload: { template: 'report' } };
    succeeded(await shell.cli(['schedule', '-'], { stdin: JSON.stringify(input) }), 'schedule -');
    for (let tries = 0; ; tries += 1) {
      const status = jsonLines(await shell.cli(['status', id, '--json']))[0] as { status: string };
      if (status.status === 'delivered') break;
      assert.ok(tries < 30, `still ${status.status}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const today = DateTime.now().setZone('Asia/Seoul').toISODate()!;
    const out = join(shell.dataDir, 'my-reports');
    const report = await shell.cli(['report', '--date', today, '--out', out]);
    succeeded(report, 'report');
    assert.match(report.stdout, /^PASS: 0 advertisements receivable in the quiet window without consent/m);
    const dir = join(out, today);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { counts: { byStatus: Record<string, number> }; released: { category: string; count: number }[] };
    assert.ok((json.counts.byStatus.delivered ?? 0) >= 1, JSON.stringify(json.counts));
    assert.ok(json.released.some((row) => row.category === 'advertising'), JSON.stringify(json.released));

    const intact = await shell.cli(['report', 'verify', dir]);
    succeeded(intact, 'report verify');
    assert.match(intact.stdout, /intact \(4 files match the signed manifest\)/);
    const html = join(dir, 'report.html');
    const bytes = await readFile(html);
    bytes[100] = bytes[100]! ^ 1;
    await writeFile(html, bytes);
    const changed = await shell.cli(['report', 'verify', dir]);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    assert.match(changed.stderr, /report\.html: changed since the report was sealed/);

    // The Schedule npm start created writes the report of the KST day before into NOTIFY_DATA_DIR/reports.
    const connection = await Connection.connect({ address: `127.0.0.1:${shell.ports.temporal}` });
    try {
      await new Client({ connection }).schedule.getHandle('compliance-report-daily').trigger();
    } finally {
      await connection.close();
    }
    const yesterday = DateTime.now().setZone('Asia/Seoul').minus({ days: 1 }).toISODate()!;
    const daily = join(shell.dataDir, 'reports', yesterday);
    for (let tries = 0; !(await readdir(daily).catch((): string[] => [])).includes('manifest.sig'); tries += 1) {
      assert.ok(tries < 60, `no report in ${daily}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    succeeded(await shell.cli(['report', 'verify', daily]), 'report verify (daily)');
  });

  test("the worker serves Prometheus metrics where npm start says: this stack's sends, staged and not, the staging gauge, the SDK's own", { timeout: 180_000 }, async () => {
    const url = /metrics\s+(http:\/\/\S+\/metrics)/.exec(stack.output())?.[1];
    assert.equal(url, `http://127.0.0.1:${shell.ports.metrics}/metrics`, stack.output());
    // An order due in 12 s where it is afternoon: no window holds it, and the 900 s lead stages it at once.
    const id = `cli-metrics-${Date.now().toString(36)}`;
    const notBefore = new Date(Date.now() + 12_000).toISOString();
    const input = { notificationId: id, recipient: { id: 'shell-user-4', timeZone: zoneWhereAfternoon(Date.now()) }, channel: 'sms', category: 'order', payload: { n: 1 }, notBefore };
    succeeded(await shell.cli(['schedule', '-'], { stdin: JSON.stringify(input) }), 'schedule -');
    let status: { status: string; stagedAt?: string; releasedAt?: string } = { status: 'unknown' };
    for (let tries = 0; status.status !== 'delivered'; tries += 1) {
      assert.ok(tries < 30, `still ${status.status}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      status = jsonLines(await shell.cli(['status', id, '--json']))[0] as typeof status;
    }
    assert.ok(Date.parse(status.releasedAt!) > Date.parse(status.stagedAt!), `not staged: ${JSON.stringify(status)}`);
    const scrape = async () => parseExposition(await (await fetch(url!)).text());
    // The staged one counts as released once its delay ends (a timer of the worker).
    let samples: Sample[] = await scrape();
    for (let tries = 0; (sumOf(samples, exposedCounter(COUNTERS.released), { category: 'order' }) ?? 0) < 1; tries += 1) {
      assert.ok(tries < 60, `the staged order never counted as released:\n${samples.filter((sample) => sample.name.startsWith('notify_')).map((sample) => JSON.stringify(sample)).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      samples = await scrape();
    }
    // Every name the dashboard reads is served.
    const served = new Set(samples.map((sample) => sample.name));
    assert.deepEqual(LIVE_WORKER_METRICS.filter((name) => !served.has(name)), []);
    // The advertisement of the report's test went out at once; this order was staged up to 12 s ahead.
    assert.ok(sumOf(samples, exposedCounter(COUNTERS.sent), { category: 'advertising' })! >= 1);
    assert.ok(sumOf(samples, exposedCounter(COUNTERS.staged), { category: 'order' })! >= 1);
    assert.ok(sumOf(samples, exposedCounter(COUNTERS.released), { category: 'advertising' })! >= 1);
    const ahead = { count: sumOf(samples, `${HISTOGRAMS.stagedAhead}_count`, { category: 'order' })!, sum: sumOf(samples, `${HISTOGRAMS.stagedAhead}_sum`, { category: 'order' })! };
    assert.ok(ahead.count >= 1 && ahead.sum / ahead.count > 1 && ahead.sum / ahead.count <= 12, `staged ahead: ${JSON.stringify(ahead)}`);
    const lag = { count: sumOf(samples, `${HISTOGRAMS.releaseLag}_count`, { category: 'order' })!, sum: sumOf(samples, `${HISTOGRAMS.releaseLag}_sum`, { category: 'order' })! };
    assert.ok(lag.count >= 1 && lag.sum / lag.count >= 0 && lag.sum / lag.count < 2, `release lag: ${JSON.stringify(lag)}`);
    // The alarm: present, and 0.
    assert.equal(sumOf(samples, exposedCounter(COUNTERS.insideQuietWindow)), 0);
    assert.ok(sumOf(samples, GAUGES.heldDueSoon, { task_queue: 'notifications' })! >= 0, 'the staging gauge is missing');
    // The SDK's own: task slots, schedule-to-start, pollers, the sticky cache.
    assert.ok(sumOf(samples, `${SDK_METRICS.workflowTaskScheduleToStart}_count`, { task_queue: 'notifications' })! >= 1);
    assert.ok(sumOf(samples, SDK_METRICS.pollers, { poller_type: 'workflow_task' })! >= 1);
    assert.ok(sumOf(samples, SDK_METRICS.taskSlotsAvailable, { worker_type: 'WorkflowWorker' })! >= 1);
    assert.notEqual(sumOf(samples, SDK_METRICS.taskSlotsUsed, { worker_type: 'LocalActivityWorker' }), undefined);
    assert.notEqual(sumOf(samples, SDK_METRICS.stickyCacheSize), undefined);
  });

  test('a second npm start says that a stack is already running, with its pid, instead of a taken port', { timeout: 120_000 }, async () => {
    const second = shell.npmStart();
    const how = await second.exited;
    assert.equal(how, 1, second.output());
    assert.match(second.output(), /a local stack \(npm start\) is already running \(pid \d+, started \d{4}-/);
    assert.doesNotMatch(second.output(), /port \d+ .* is taken/);
  });

  test('Ctrl-C stops it quietly: a line per server, no stack traces, no dial errors', { timeout: 120_000 }, async () => {
    // A terminal's Ctrl-C signals the whole foreground process group: npm, and the stack under it.
    const before = stack.output().length;
    stack.signal('SIGINT');
    await stack.exited;
    const said = stack.output().slice(before);
    for (const server of ['worker', 'Temporal dev server', 'ElasticMQ', 'codec server']) assert.match(said, new RegExp(`${server} stopped`), said);
    assert.doesNotMatch(said, /SIGINT again|^\s+at |dial error|already closed|Error/m, said);
  });
});

describe('the CLI without a stack, as a new user meets it', () => {
  let bare: UserShell;
  before(async () => {
    bare = await userShell();
  });
  after(() => bare?.cleanUp());

  test('before the first npm start, a command says to run it', { timeout: 60_000 }, async () => {
    const run = await bare.cli(['status', 'nothing-here']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /run `npm start` once/);
  });

  test('with nothing running, status says within seconds which address it tried and what to check', { timeout: 60_000 }, async () => {
    // A user who ran npm start before has its generated keys; none runs now.
    await ensureLocalSecrets(bare.dataDir);
    const run = await bare.cli(['status', 'nothing-here']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`cannot reach Temporal at localhost:${bare.ports.temporal}`));
    assert.match(run.stderr, /is `npm start` running\?/);
    // 2 s for the connection, plus the CLI's own start (tsx) on a loaded machine.
    assert.ok(run.ms < 15_000, `it took ${run.ms} ms`);
  });

  test('a missing or truncated file is named, with what is wrong and where', { timeout: 60_000 }, async () => {
    const missing = await bare.cli(['schedule', join(bare.dataDir, 'missing.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*missing\.json: no such file/);
    assert.doesNotMatch(missing.stderr, /ENOENT/);
    const truncated = join(bare.dataDir, 'truncated.json');
    await writeFile(truncated, '{"notificationId": "a", "recipient": {');
    const cut = await bare.cli(['schedule', truncated]);
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, /truncated\.json: unexpected end of input/);
    const broken = join(bare.dataDir, 'broken.json');
    await writeFile(broken, '{\n  "notificationId": "a",\n  "channel" "sms"\n}');
    const wrong = await bare.cli(['schedule', broken]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /broken\.json: not valid JSON at line 3, column \d+/);
  });

  test('help schedule shows what a notification is, with an example that schedules as it stands', { timeout: 60_000 }, async () => {
    const help = await bare.cli(['help', 'schedule']);
    assert.equal(help.code, 0);
    for (const field of NOTIFICATION_FIELDS) assert.match(help.stdout, new RegExp(`^  ${field} `, 'm'), `help schedule explains ${field}`);
    const example = help.stdout.split('\n').map((line) => line.trim()).find((line) => line.startsWith('{'));
    assert.ok(example, help.stdout);
    assert.doesNotThrow(() => parseNotification(JSON.parse(example)));
  });
});
