/**
 * End-to-end: the Schedule `compliance-report-daily` on the dev server, ensured as a worker ensures
 * it at start, with the production worker (its real report writer) on a task queue of this file's
 * own and a report directory of its own. A trigger writes the signed report of the KST day before
 * now; the same morning run again writes a second version beside the first; a backfill of a morning weeks ago writes the report of the day before that morning, not of
 * the day before the run (a missed morning caught up later must still report its own day).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { verifyReport } from '../src/report/manifest';
import { dayBefore, REPORT_ZONE } from '../src/report/reportRange';
import { reportSigningKey } from '../src/report/writeReport';
import { ensureReportSchedule, REPORT_SCHEDULE_ID } from '../src/schedules/reportSchedule';
import { startE2EStack, startWorker, type E2EStack } from './helpers/stack';

const TASK_QUEUE = `notifications-report-schedule-e2e-${process.pid}`;
/** What writeComplianceReport writes into each report's directory, the seal last. */
const REPORT_FILES = ['manifest.json', 'manifest.sig', 'quiet-window.csv', 'released.csv', 'report.html', 'report.json'];

describe('the daily compliance report Schedule on the dev server', { timeout: 420_000 }, () => {
  let stack: E2EStack;
  let reportDir: string;
  let worker: Worker;
  let running: Promise<void>;
  /** The day the trigger wrote, which the next test has the Schedule write again. */
  let triggeredDay: string | undefined;

  before(async () => {
    reportDir = await mkdtemp(join(tmpdir(), 'report-schedule-e2e-'));
    stack = await startE2EStack({ env: { NOTIFY_TASK_QUEUE: TASK_QUEUE, NOTIFY_REPORT_DIR: reportDir } });
    worker = await startWorker(stack.config, stack.env.nativeConnection);
    running = worker.run();
    // As every worker process and `npm start` do at start.
    assert.equal(await ensureReportSchedule(stack.env.client, stack.config), 'created');
  }, { timeout: 300_000 });

  after(async () => {
    await stack?.env.client.schedule.getHandle(REPORT_SCHEDULE_ID).delete().catch(() => undefined);
    if (worker) {
      worker.shutdown();
      await running;
    }
    await stack?.stop();
    await rm(reportDir, { recursive: true, force: true });
  });

  /**
   * The first of these reports to have a version sealed (a version appears whole, renamed into
   * place): its name, the version's files, once the range (all its versions) verified with the
   * suite's key and report.json said which days it covers.
   */
  async function sealedReport(version: number, ...names: string[]): Promise<{ name: string; files: string[]; dir: string }> {
    for (let tries = 0; ; tries += 1) {
      for (const name of names) {
        const dir = join(reportDir, name, `v${version}`);
        const files = await readdir(dir).catch((): string[] => []);
        if (!files.includes('manifest.sig')) continue;
        const verified = await verifyReport(join(reportDir, name), reportSigningKey(stack.config));
        assert.ok(verified.ok, verified.problems.join('\n'));
        assert.deepEqual(verified.versions, Array.from({ length: version }, (_, index) => index + 1));
        const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { range: { fromDate: string; toDate: string } };
        assert.deepEqual([report.range.fromDate, report.range.toDate], [name, name]);
        return { name, files: files.sort(), dir };
      }
      assert.ok(tries < 120, `no sealed report ${names.join(' or ')}; the report directory holds ${JSON.stringify(await readdir(reportDir))}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  test('a second ensure updates the Schedule in place: in Asia/Seoul, starting complianceReportWorkflow on the worker\'s task queue', async () => {
    assert.equal(await ensureReportSchedule(stack.env.client, stack.config), 'updated');
    const described = await stack.env.client.schedule.getHandle(REPORT_SCHEDULE_ID).describe();
    assert.equal(described.spec.timezone, REPORT_ZONE);
    assert.equal(described.action.type, 'startWorkflow');
    assert.equal(described.action.type === 'startWorkflow' && described.action.workflowType, 'complianceReportWorkflow');
    assert.equal(described.action.type === 'startWorkflow' && described.action.taskQueue, TASK_QUEUE);
  });

  test('trigger(): the signed report of the KST day before now is written into NOTIFY_REPORT_DIR', async () => {
    const dayBeforeTrigger = dayBefore(Date.now());
    await stack.env.client.schedule.getHandle(REPORT_SCHEDULE_ID).trigger();
    // A trigger that straddles midnight in Seoul reports the later day.
    const written = await sealedReport(1, dayBefore(Date.now()), dayBeforeTrigger);
    assert.deepEqual(written.files, REPORT_FILES);
    assert.deepEqual(await readdir(reportDir), [written.name], 'one report, of one day');
    assert.deepEqual(await readdir(join(reportDir, written.name)), ['v1']);
    triggeredDay = written.name;
  });

  test('the Schedule re-running that day leaves two verifiable versions, and the newest says what changed', async () => {
    assert.ok(triggeredDay, 'the trigger test ran first');
    // A run of the same morning again, as a backfill does (the morning after the triggered day, 06:00).
    const morning = DateTime.fromISO(triggeredDay, { zone: REPORT_ZONE }).plus({ days: 1 }).set({ hour: 6 });
    await stack.env.client.schedule.getHandle(REPORT_SCHEDULE_ID).backfill({
      start: morning.minus({ minutes: 1 }).toJSDate(),
      end: morning.plus({ minutes: 1 }).toJSDate(),
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
    });
    const second = await sealedReport(2, triggeredDay);
    assert.deepEqual(second.files, REPORT_FILES);
    assert.deepEqual((await readdir(join(reportDir, triggeredDay))).sort(), ['v1', 'v2'], 'the first version stays beside the second');
    const html = await readFile(join(second.dir, 'report.html'), 'utf8');
    assert.match(html, /Version 2 of this report\. It supersedes version 1/);
    assert.match(html, /What changed since version 1/);
    const manifest = JSON.parse(await readFile(join(second.dir, 'manifest.json'), 'utf8')) as { version: number; supersedes: { version: number; manifestSha256: string } };
    assert.deepEqual(manifest.supersedes, { version: 1, manifestSha256: createHash('sha256').update(await readFile(join(reportDir, triggeredDay, 'v1', 'manifest.json'))).digest('hex') });
  });

  test('backfill of a morning weeks ago: the report is of the day before that morning, not of the day before the run', async () => {
    const morning = DateTime.now().setZone(REPORT_ZONE).minus({ days: 20 }).set({ hour: 6, minute: 0, second: 0, millisecond: 0 });
    await stack.env.client.schedule.getHandle(REPORT_SCHEDULE_ID).backfill({
      start: morning.minus({ minutes: 1 }).toJSDate(),
      end: morning.plus({ minutes: 1 }).toJSDate(),
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
    });
    assert.deepEqual((await sealedReport(1, morning.minus({ days: 1 }).toISODate()!)).files, REPORT_FILES);
  });
});
