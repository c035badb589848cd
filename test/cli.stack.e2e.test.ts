/**
 * The CLI as a user runs it: `npm start` in one shell, `npm run cli -- …` in another, both with
 * the environment of a fresh shell (none of the keys test/setup.mjs gives the suite), on a data
 * dir and ports of their own. Nothing stubbed: the real `npm start` (dev server, ElasticMQ, codec
 * server, worker) and the real CLI, as child processes; the README's tour in Debian's Chromium,
 * and the README's runnable command blocks as printed (the docs check's live part).
 */
import assert from 'node:assert/strict';
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COUNTERS, exposedCounter, GAUGES, HISTOGRAMS, LIVE_WORKER_METRICS, SDK_METRICS } from '../src/metricNames';
import { parseExposition, sumOf, type Sample } from '../src/metricsText';
import { NOTIFICATION_FIELDS, parseNotification } from '../src/notification';
import { zoneWhereAfternoon } from '../src/policy/releaseWindow';
import { ensureLocalSecrets } from '../src/security';
import { spawnWorkerProcess } from '../src/stack/workerProcess';
import { launchChromium } from './helpers/browser';
import { commandsOf, readmeCommandBlocks } from './helpers/markdown';
import { runCollected, userShell, type CliRun, type ForegroundProcess, type UserShell } from './helpers/userShell';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks `status --json` until the notification is delivered (on the queue, perhaps with a delay). */
async function deliveredResult(id: string): Promise<{ status: string; releasedAt: string; stagedAt: string }> {
  for (let tries = 0; ; tries += 1) {
    const result = jsonLines(await shell.cli(['status', id, '--json']))[0] as { status: string; releasedAt: string; stagedAt: string };
    if (result.status === 'delivered') return result;
    assert.ok(tries < 30, `still ${result.status}`);
    await sleep(1_000);
  }
}

/** Peeks at the delivery queue as JSON: the messages, by notification id. */
async function peekedById(): Promise<Map<string, { attributes: Record<string, string>; body: { notificationId?: string } }>> {
  const run = await shell.cli(['queue', 'peek', '--json', '--limit', '100']);
  succeeded(run, 'queue peek --json');
  const messages = jsonLines(run) as { attributes: Record<string, string>; body: { notificationId?: string } }[];
  return new Map(messages.map((message) => [message.attributes.notificationId ?? '', message]));
}

/** A message staged before the restart of the stack, and when it turns receivable. */
let staged: { id: string; releasedAt: string } | undefined;

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
    const rescheduled = await shell.cli(['reschedule', id, later, '--json']);
    succeeded(rescheduled, 'reschedule');
    assert.equal(Date.parse((jsonLines(rescheduled)[0] as { releaseAt: string }).releaseAt) >= Date.parse(later), true);

    const cancelled = await shell.cli(['cancel', id, '--json']);
    succeeded(cancelled, 'cancel --json');
    assert.equal((jsonLines(cancelled)[0] as { cancelled: boolean }).cancelled, true);
  });

  test('consent, reschedule and cancel answer a person in the shop\'s zone; a cancel too late says where the message is, and exits 1', { timeout: 180_000 }, async () => {
    const held = `cli-change-${Date.now().toString(36)}`;
    const notBefore = new Date(Date.now() + 24 * 3_600_000).toISOString();
    succeeded(await shell.cli(['schedule', '-'], { stdin: JSON.stringify({ notificationId: held, recipient: { id: 'shell-user-4' }, channel: 'push', category: 'advertising', notBefore }) }), 'schedule -');
    const consent = await shell.cli(['consent', held, 'given']);
    succeeded(consent, 'consent');
    assert.match(consent.stdout, new RegExp(`^${held}: night-time consent given; now held\n  release  \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} Asia/Seoul, in 1 d`, 'm'));
    const later = DateTime.now().plus({ days: 2 }).setZone('Asia/Seoul').startOf('second');
    const rescheduled = await shell.cli(['reschedule', held, later.toISO({ suppressMilliseconds: true })!]);
    succeeded(rescheduled, 'reschedule');
    assert.match(rescheduled.stdout, new RegExp(`^${held}: rescheduled to not before ${later.toFormat('yyyy-MM-dd HH:mm:ss')} Asia/Seoul; now held$`, 'm'));
    const cancelled = await shell.cli(['cancel', held]);
    succeeded(cancelled, 'cancel');
    assert.match(cancelled.stdout, new RegExp(`^${held}: cancelled; it was due ${later.toFormat('yyyy-MM-dd HH:mm:ss')} Asia/Seoul and will not be sent$`, 'm'));
    assert.doesNotMatch(cancelled.stdout, /^\{/m);

    // With night-time consent and no notBefore an order goes out at once, at any hour.
    const sent = `cli-too-late-${Date.now().toString(36)}`;
    succeeded(await shell.cli(['schedule', '-'], { stdin: JSON.stringify({ notificationId: sent, recipient: { id: 'shell-user-4', nightConsent: true }, channel: 'sms', category: 'order' }) }), 'schedule -');
    const result = await deliveredResult(sent);
    const local = (instant: string) => DateTime.fromISO(instant, { zone: 'Asia/Seoul' }).toFormat('yyyy-MM-dd HH:mm:ss');
    const tooLate = await shell.cli(['cancel', sent]);
    assert.equal(tooLate.code, 1, tooLate.stdout + tooLate.stderr);
    assert.match(tooLate.stderr, new RegExp(`^${sent}: too late to cancel: on the delivery queue since ${local(result.stagedAt)} Asia/Seoul, receivable at ${local(result.releasedAt)} Asia/Seoul \\(`, 'm'));
    const tooLateJson = await shell.cli(['cancel', sent, '--json']);
    assert.equal(tooLateJson.code, 1);
    assert.deepEqual(Object.entries(jsonLines(tooLateJson)[0] as object).filter(([key]) => key === 'cancelled' || key === 'status'), [['cancelled', false], ['status', 'delivered']]);
    const lateConsent = await shell.cli(['consent', sent, 'withdrawn']);
    assert.equal(lateConsent.code, 1);
    assert.match(lateConsent.stderr, new RegExp(`^${sent}: too late to change the consent: on the delivery queue since ${local(result.stagedAt)} Asia/Seoul`, 'm'));
  });

  test('queue peek shows what is on the delivery queue, decoded, and leaves it there; a staged message is counted as delayed', { timeout: 180_000 }, async () => {
    const id = `cli-peek-${Date.now().toString(36)}`;
    succeeded(await shell.cli(['schedule', '-'], { stdin: JSON.stringify({ notificationId: id, recipient: { id: 'shell-user-5', nightConsent: true }, channel: 'kakaotalk', category: 'advertising', payload: { template: 'peek', amount: 12_000 } }) }), 'schedule -');
    await deliveredResult(id);
    const message = (await peekedById()).get(id);
    assert.ok(message, 'not on the queue');
    assert.deepEqual(message.body, { notificationId: id, recipient: { id: 'shell-user-5' }, channel: 'kakaotalk', category: 'advertising', payload: { template: 'peek', amount: 12_000 } });
    assert.equal(message.attributes.releaseReason, 'immediate');
    // Peeked once already, and still there for the next reader.
    const forPeople = await shell.cli(['queue', 'peek', '--limit', '100']);
    succeeded(forPeople, 'queue peek');
    assert.match(forPeople.stdout, /^notification-delivery: \d+ receivable, \d+ delayed/m);
    assert.match(forPeople.stdout, new RegExp(`^${id}  advertising/kakaotalk  receivable since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} Asia/Seoul`, 'm'));

    // Staged now with an SQS delay, receivable at its notBefore (night-time consent: at any hour):
    // the restart below must keep it. Received only at its release; before then SQS only counts it.
    const stagedId = `cli-staged-${Date.now().toString(36)}`;
    const release = new Date(Date.now() + 45_000).toISOString();
    succeeded(await shell.cli(['schedule', '-'], { stdin: JSON.stringify({ notificationId: stagedId, recipient: { id: 'shell-user-5', nightConsent: true }, channel: 'push', category: 'advertising', notBefore: release }) }), 'schedule -');
    const result = await deliveredResult(stagedId);
    // SQS delays are whole seconds: receivable at its notBefore, or within the second after it.
    assert.ok(Date.parse(result.releasedAt) >= Date.parse(release) && Date.parse(result.releasedAt) < Date.parse(release) + 1_000, result.releasedAt);
    staged = { id: stagedId, releasedAt: result.releasedAt };
    const before = await shell.cli(['queue', 'peek', '--limit', '100']);
    if (Date.now() < Date.parse(release)) {
      assert.doesNotMatch(before.stdout, new RegExp(stagedId));
      assert.doesNotMatch(before.stdout, / 0 delayed/);
    }
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

  test('the compliance report: written from the dev server\'s visibility, a second run versioned beside the first, a copied day, a gap, a replaced version and a changed byte refused, and written by the daily Schedule', { timeout: 240_000 }, async () => {
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
    const yesterday = DateTime.now().setZone('Asia/Seoul').minus({ days: 1 }).toISODate()!;
    const out = join(shell.dataDir, 'my-reports');
    const report = await shell.cli(['report', '--date', today, '--out', out]);
    succeeded(report, 'report');
    assert.match(report.stdout, /^PASS: 0 advertisements receivable in the quiet window without consent/m);
    const first = join(out, today, 'v1');
    assert.match(report.stdout, new RegExp(`report in ${first} `));
    const json = JSON.parse(await readFile(join(first, 'report.json'), 'utf8')) as { counts: { byStatus: Record<string, number> }; released: { category: string; count: number }[] };
    assert.ok((json.counts.byStatus.delivered ?? 0) >= 1, JSON.stringify(json.counts));
    assert.ok(json.released.some((row) => row.category === 'advertising'), JSON.stringify(json.released));
    // The decision names the zone data its worker (npm start's) decided with.
    assert.match(stack.output(), new RegExp(`zone data +IANA ${process.versions.tz}`));
    assert.deepEqual(Object.keys((JSON.parse(await readFile(join(first, 'report.json'), 'utf8')) as { zoneData: { byDay: Record<string, Record<string, number>> } }).zoneData.byDay[today] ?? {}), [process.versions.tz]);

    // The same day again: a second version beside the sealed first, never in its place.
    const again = await shell.cli(['report', '--date', today, '--out', out]);
    succeeded(again, 'report (again)');
    assert.match(again.stdout, /version 2: supersedes version 1, which stays beside it/);
    assert.deepEqual((await readdir(join(out, today))).sort(), ['v1', 'v2']);
    // Another day's report, for the copy below.
    succeeded(await shell.cli(['report', '--date', yesterday, '--out', out]), 'report (yesterday)');

    // Copies a user (or someone covering a day) makes: a report copied over another day's, a
    // version removed, a first version replaced by another one made for the same day.
    const scratch = (name: string) => join(shell.dataDir, name);
    await rm(join(out, yesterday), { recursive: true });
    await cp(join(out, today), join(out, yesterday), { recursive: true });
    await cp(join(out, today), join(scratch('gap'), today), { recursive: true });
    await rm(join(scratch('gap'), today, 'v1'), { recursive: true });
    await cp(join(out, today), join(scratch('replaced'), today), { recursive: true });
    succeeded(await shell.cli(['report', '--date', today, '--out', scratch('remade')]), 'report (remade)');
    await rm(join(scratch('replaced'), today, 'v1'), { recursive: true });
    await cp(join(scratch('remade'), today, 'v1'), join(scratch('replaced'), today, 'v1'), { recursive: true });

    const [intact, intactVersion, copied, gap, replaced] = await Promise.all([
      shell.cli(['report', 'verify', join(out, today)]),
      shell.cli(['report', 'verify', join(out, today, 'v2')]),
      shell.cli(['report', 'verify', join(out, yesterday)]),
      shell.cli(['report', 'verify', join(scratch('gap'), today)]),
      shell.cli(['report', 'verify', join(scratch('replaced'), today)]),
    ]);
    succeeded(intact, 'report verify (the day)');
    assert.match(intact.stdout, /intact \(4 files match the signed manifest; versions v1–v2, each naming the one before\)/);
    succeeded(intactVersion, 'report verify (v2)');
    for (const [run, what] of [[copied, 'copied'], [gap, 'gap'], [replaced, 'replaced']] as const) assert.equal(run.code, 1, `${what}: ${run.stdout}${run.stderr}`);
    assert.match(copied.stderr, new RegExp(`v1: manifest\\.json: names ${today}, but the report is in the place of ${yesterday}`));
    assert.match(gap.stderr, /v1: missing: the versions of this report have a gap/);
    assert.match(replaced.stderr, /v2: manifest\.json: the SHA-256 of v1's manifest it names does not match v1's manifest/);

    const html = join(out, today, 'v2', 'report.html');
    const bytes = await readFile(html);
    bytes[100] = bytes[100]! ^ 1;
    await writeFile(html, bytes);
    const changed = await shell.cli(['report', 'verify', join(out, today, 'v2')]);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    assert.match(changed.stderr, /report\.html: changed since the report was sealed/);

    // The Schedule npm start created writes the report of the KST day before into NOTIFY_DATA_DIR/reports.
    const connection = await Connection.connect({ address: `127.0.0.1:${shell.ports.temporal}` });
    try {
      await new Client({ connection }).schedule.getHandle('compliance-report-daily').trigger();
    } finally {
      await connection.close();
    }
    const daily = join(shell.dataDir, 'reports', yesterday);
    for (let tries = 0; !(await readdir(join(daily, 'v1')).catch((): string[] => [])).includes('manifest.sig'); tries += 1) {
      assert.ok(tries < 60, `no report in ${daily}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    succeeded(await shell.cli(['report', 'verify', daily]), 'report verify (daily)');
  });

  test('a default zone that moves the law\'s window: the CLI and a worker refuse to start, naming NOTIFY_DEFAULT_TIME_ZONE', { timeout: 120_000 }, async () => {
    const operator = { NOTIFY_DEFAULT_TIME_ZONE: 'America/Los_Angeles' };
    const file = join(shell.dataDir, 'ad.json');
    await writeFile(file, JSON.stringify({ notificationId: `cli-zone-${Date.now().toString(36)}`, recipient: { id: 'shell-user-4' }, channel: 'kakaotalk', category: 'advertising', payload: {} }));
    const worker = spawnWorkerProcess({ env: { ...shell.env, ...operator, TEMPORAL_ADDRESS: `127.0.0.1:${shell.ports.temporal}`, NOTIFY_TASK_QUEUE: 'cli-zone-refused' }, code: 'sources', name: 'worker-los-angeles' });
    const [scheduled, exited] = await Promise.all([shell.cli(['schedule', file], { env: operator }), worker.exited]);
    assert.notEqual(scheduled.code, 0, scheduled.stdout + scheduled.stderr);
    for (const said of [scheduled.stderr, worker.output()]) {
      assert.match(said, /NOTIFY_DEFAULT_TIME_ZONE: America\/Los_Angeles would let a recipient without a zone receive advertising between 21:00 and 08:00 in Korea/);
    }
    assert.notEqual(exited, '0', worker.output());
    assert.doesNotMatch(worker.output(), /worker polling/);
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

  test('with the stack stopped, status and drain say that it is not running and how to start it, not AWS credentials', { timeout: 120_000 }, async () => {
    for (const args of [['status', 'anything'], ['drain']]) {
      const run = await shell.cli(args);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /NoLocalStackError: the local stack is not running: no `npm start` is recorded in .*running-stack\.json.* Start it with `npm start` in another shell/, args.join(' '));
      assert.doesNotMatch(run.stderr, /credentials|ap-northeast-2|NOTIFY_CODEC_KEYS/, args.join(' '));
    }
  });

  test('npm start again: the message staged before the restart is still on the queue, and is received at its release', { timeout: 420_000 }, async () => {
    assert.ok(staged, 'the staged message of the queue peek test');
    stack = shell.npmStart();
    await stack.waitForOutput(/local stack is running/, 300_000);
    assert.match(stack.output(), /ElasticMQ, messages kept in .*elasticmq/);
    let message: { attributes: Record<string, string> } | undefined;
    for (let tries = 0; !message; tries += 1) {
      assert.ok(tries < 90, `${staged.id} never became receivable after the restart`);
      message = (await peekedById()).get(staged.id);
      if (message) assert.ok(Date.now() >= Date.parse(staged.releasedAt), `received before its release ${staged.releasedAt}`);
      else await sleep(2_000);
    }
    assert.equal(message.attributes.releasedAt, staged.releasedAt);
    assert.equal((jsonLines(await shell.cli(['status', staged.id, '--json']))[0] as { status: string }).status, 'delivered');
  });

  test('the tour in Chromium, at the hour it is: the always-held example in the printed link, its row and Configure Columns', { timeout: 180_000 }, async () => {
    const scheduled = await shell.cli(['schedule', 'examples/scheduled-advertising.json']);
    succeeded(scheduled, 'schedule examples/scheduled-advertising.json');
    const { notificationId, workflowId } = jsonLines(scheduled)[0] as { notificationId: string; workflowId: string };
    assert.match((await shell.cli(['status', notificationId])).stdout, new RegExp(`^${notificationId}: held$`, 'm'));
    const link = /held notifications\s+(http\S+)/.exec(stack.output())?.[1];
    assert.ok(link, stack.output());
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      // The list reads visibility, which trails the start by a moment: reload until the row is there.
      for (let tries = 0; ; tries += 1) {
        await page.goto(link);
        const row = page.getByRole('link', { name: workflowId, exact: true });
        try {
          await row.waitFor({ timeout: 5_000 });
          break;
        } catch (error) {
          if (tries >= 10) throw error;
        }
      }
      const configure = page.getByRole('button', { name: 'Configure Columns' });
      await configure.click();
      for (const column of ['NotificationStatus', 'NotificationReleaseAt', 'NotificationCategory', 'NotificationChannel']) {
        await page.getByText(column, { exact: true }).first().waitFor({ timeout: 10_000 });
      }
    } finally {
      await browser.close();
    }
  });

  test('the README\'s runnable command blocks run as printed, in order, against the running stack', { timeout: 300_000 }, async () => {
    const commands = readmeCommandBlocks().filter((block) => block.marker === 'runnable').flatMap(commandsOf);
    assert.ok(commands.length >= 10, commands.join('\n'));
    for (const command of commands) {
      const run = await inShell(command);
      assert.equal(run.code, 0, `${command} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
      assert.doesNotMatch(run.stderr, /failed:|Error:/, command);
    }
  });
});

/** A command line as a user types it in the project's root, in the shell's environment (its data dir and ports). */
function inShell(command: string): Promise<CliRun> {
  return runCollected('bash', ['-c', command], shell.env);
}

describe('the CLI without a stack, as a new user meets it', () => {
  let bare: UserShell;
  before(async () => {
    bare = await userShell();
  });
  after(() => bare?.cleanUp());

  test('before the first npm start, status, drain and report say that no local stack was found and to run npm start', { timeout: 60_000 }, async () => {
    for (const args of [['status', 'nothing-here'], ['drain'], ['report', '--date', '2026-12-02']]) {
      const run = await bare.cli(args);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`NoLocalStackError: no local stack found in ${bare.dataDir}: run \`npm start\` in another shell first`), args.join(' '));
      assert.doesNotMatch(run.stderr, /NOTIFY_CODEC_KEYS|NOTIFY_REPORT_SIGNING_KEY|credentials/, args.join(' '));
    }
  });

  test('a zone that is not an IANA name is refused naming NOTIFY_DEFAULT_TIME_ZONE, before anything else', { timeout: 60_000 }, async () => {
    for (const args of [['status', 'nothing-here'], ['preview', '--stdin']]) {
      const run = await bare.cli(args, { env: { NOTIFY_DEFAULT_TIME_ZONE: 'KST' }, stdin: '{}' });
      assert.notEqual(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /Invalid configuration in the environment:\n  NOTIFY_DEFAULT_TIME_ZONE: "KST" is not an IANA zone name: expected one such as Asia\/Seoul/, args.join(' '));
      assert.doesNotMatch(run.stderr, /defaultTimeZone/);
    }
  });

  test('a misspelled command gets the nearest ones', { timeout: 60_000 }, async () => {
    const typo = await bare.cli(['stauts', 'x']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command "stauts": did you mean "status"\?/);
    const prefix = await bare.cli(['help', 'sched']);
    assert.equal(prefix.code, 2);
    assert.match(prefix.stderr, /unknown command "sched": did you mean "schedule" or "schedule-legacy"\?/);
  });

  test('with nothing running, status says within seconds that the local stack is not running, and where it looked', { timeout: 60_000 }, async () => {
    // A user who ran npm start before has its generated keys; none runs now.
    await ensureLocalSecrets(bare.dataDir);
    const run = await bare.cli(['status', 'nothing-here']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /the local stack is not running: no `npm start` is recorded in/);
    assert.match(run.stderr, new RegExp(`nothing answers at localhost:${bare.ports.temporal}`));
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
