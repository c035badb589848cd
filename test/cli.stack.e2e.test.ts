/**
 * The CLI as a user runs it: `npm start` in one shell, `npm run cli -- …` in another, both with
 * the environment of a fresh shell (none of the keys test/setup.mjs gives the suite), on a data
 * dir and ports of their own. Nothing stubbed: the real `npm start` (dev server, ElasticMQ, codec
 * server, worker) and the real CLI, as child processes.
 */
import assert from 'node:assert/strict';
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NOTIFICATION_FIELDS, parseNotification } from '../src/notification';
import { ensureLocalSecrets } from '../src/security';
import { spawnWorkerProcess } from '../src/stack/workerProcess';
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
