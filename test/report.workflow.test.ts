/**
 * The compliance report over a night of real notification workflows, on the time-skipping test
 * server: the counts are known in advance and the report must match them exactly.
 *
 * What is real: the test server (its clock, start delays, timers, updates), the bundled workflow
 * code, the worker, the client SDK, the evidence each workflow records when it ends, the report's
 * aggregation, verdict, files and seal, and Chromium opening the HTML. What is stubbed: the
 * deliverNotification activity (records nothing, answers as SQS would, or refuses a message where
 * the test says so). The time-skipping server cannot answer visibility list queries, so the rows
 * come from describing each workflow, which returns the same attributes; the list query itself runs
 * against the dev server in test/cli.stack.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { chromium } from 'playwright-core';
import { NotificationClient } from '../src/client';
import type { DeliveryRequest, DeliveryResult } from '../src/activities';
import { loadConfig } from '../src/config';
import type { NotificationInput } from '../src/notification';
import { DEFAULT_POLICY, type QuietHoursPolicy } from '../src/policy';
import type { ComplianceReport } from '../src/report/complianceReport';
import { verifyReport } from '../src/report/manifest';
import { reportRowOf } from '../src/report/visibilityRows';
import { buildComplianceReport, reportSigningKey, writeReportFiles } from '../src/report/writeReport';
import { workflowCodeOptions } from '../src/workers/workflowCode';
import { startTimeSkippingEnv, testDataConverter, testRecipientHashKey } from './helpers/stack';

const KST = 'Asia/Seoul';
const TASK_QUEUE = 'report-night-test';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BROWSER_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let narrowerAllowed = false;
/** Notifications whose send SQS refuses for good (InvalidQueueMessage): they end failed. */
const refused = new Set<string>();
let outDir: string;
const config = loadConfig();

before(async () => {
  env = await startTimeSkippingEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    ...workflowCodeOptions(),
    dataConverter: testDataConverter(),
    activities: {
      async deliverNotification(request: DeliveryRequest): Promise<DeliveryResult> {
        if (refused.has(request.notification.notificationId)) throw ApplicationFailure.nonRetryable('SQS refused the message', 'InvalidQueueMessage');
        const now = DateTime.fromMillis(await env.currentTimeMs());
        const releasedAt = request.releaseAt ? DateTime.max(now, DateTime.fromISO(request.releaseAt)) : now;
        return { messageId: `fake-${request.notification.notificationId}`, stagedAt: now.toUTC().toISO()!, releasedAt: releasedAt.toUTC().toISO()! };
      },
      async sendSmokeMessage() {
        return { messageId: 'unused' };
      },
      async narrowerQuietHoursAllowed() {
        return narrowerAllowed;
      },
    },
  });
  workerRun = worker.run();
  outDir = await mkdtemp(join(tmpdir(), 'kst-report-'));
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

function clientWith(policy: QuietHoursPolicy): NotificationClient {
  return new NotificationClient({ client: env.client, taskQueue: TASK_QUEUE, policy, recipientHashKey: testRecipientHashKey(), clock: () => env.currentTimeMs() });
}

/** Moves the test server's clock to the next occurrence of a KST wall-clock time (at least a minute ahead). */
async function advanceTo(time: string): Promise<DateTime> {
  const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  let target = now.set({ hour, minute, second: 0, millisecond: 0 });
  if (target.toMillis() <= now.toMillis() + 60_000) target = target.plus({ days: 1 });
  await env.sleep(target.toMillis() - now.toMillis());
  return target;
}

let sequence = 0;
function notification(category: NotificationInput['category'], overrides: Partial<NotificationInput> = {}): NotificationInput {
  sequence += 1;
  return {
    notificationId: `report-${category}-${sequence}`,
    recipient: { id: `user-${sequence}`, nightConsent: false },
    channel: category === 'advertising' ? 'kakaotalk' : 'sms',
    category,
    payload: { template: 'night' },
    ...overrides,
  };
}

/** The report of one KST day over these notifications, from their workflows' own descriptions. */
async function reportOver(day: string, ids: string[]): Promise<ComplianceReport> {
  const rows = await Promise.all(ids.map(async (id) => reportRowOf(await env.client.workflow.getHandle(`notification-${id}`).describe())));
  return buildComplianceReport({ client: env.client, config }, { fromDate: day, toDate: day }, rows);
}

describe('the compliance report of a night (time-skipping)', { timeout: 300_000 }, () => {
  test('a night under the law: exact counts per hour, category and grounds, and a passing verdict', async () => {
    // Orders are not held at night under this policy: they go out at once, also at 01:00.
    const client = clientWith({ ...DEFAULT_POLICY, heldCategories: ['advertising'] });
    const evening = await advanceTo('22:30');
    const day = evening.plus({ days: 1 }).toISODate()!;
    const held = [notification('advertising'), notification('advertising'), notification('advertising')];
    const consented = notification('advertising', { recipient: { id: 'user-consent', nightConsent: true }, notBefore: evening.set({ hour: 0, minute: 30 }).plus({ days: 1 }).toISO()! });
    const cancelled = notification('advertising');
    const expiring = notification('advertising', { expiresAt: evening.set({ hour: 7, minute: 0 }).plus({ days: 1 }).toISO()! });
    const failing = notification('advertising');
    refused.add(failing.notificationId);
    for (const input of [...held, consented, cancelled, expiring, failing]) await client.schedule(input);
    await advanceTo('01:00');
    const orders = [notification('order'), notification('order')];
    for (const input of orders) await client.schedule(input);
    await advanceTo('02:00');
    assert.equal((await client.cancel(cancelled.notificationId)).cancelled, true);
    await advanceTo('09:00');
    const all = [...held, consented, cancelled, expiring, failing, ...orders];
    for (const input of all) await env.client.workflow.getHandle(`notification-${input.notificationId}`).result().catch(() => undefined);

    const report = await reportOver(day, all.map((input) => input.notificationId));
    assert.deepEqual(report.counts.byStatus, { cancelled: 1, delivered: 6, expired: 1, failed: 1 });
    assert.equal(report.counts.notifications, 9);
    assert.deepEqual(
      report.released.map(({ date, hour, category, channel, grounds, count }) => ({ date, hour, category, channel, grounds, count })),
      [
        { date: day, hour: 0, category: 'advertising', channel: 'kakaotalk', grounds: 'night-consent', count: 1 },
        { date: day, hour: 1, category: 'order', channel: 'sms', grounds: 'immediate', count: 2 },
        { date: day, hour: 8, category: 'advertising', channel: 'kakaotalk', grounds: 'held-quiet-hours', count: 3 },
      ],
    );
    assert.deepEqual(report.quietWindowAdvertisements.map((row) => [row.notificationId, row.nightConsent, row.narrowerThanLaw]), [[consented.notificationId, true, false]]);
    assert.equal(report.quietWindowAdvertisements[0]!.recipientHash.length, 32, 'recipients appear as keyed hashes only');
    assert.equal(report.verdict.passed, true);
    assert.equal(report.verdict.line, '0 advertisements receivable in the quiet window without consent');
    assert.equal(report.policy.narrowerThanLawDecisions, 0);

    // The files, sealed; an untouched report verifies and one changed byte does not.
    const written = await writeReportFiles(report, outDir, reportSigningKey(config));
    assert.deepEqual(written.files.sort(), ['manifest.json', 'manifest.sig', 'quiet-window.csv', 'released.csv', 'report.html', 'report.json']);
    assert.deepEqual(JSON.parse(await readFile(join(written.dir, 'report.json'), 'utf8')).counts, report.counts);
    assert.match(await readFile(join(written.dir, 'released.csv'), 'utf8'), new RegExp(`^${day},8,advertising,kakaotalk,held-quiet-hours,3$`, 'm'));
    assert.deepEqual(await verifyReport(written.dir, reportSigningKey(config)), { ok: true, problems: [], files: 4 });
    const csvFile = join(written.dir, 'released.csv');
    const original = await readFile(csvFile);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 1;
    await writeFile(csvFile, tampered);
    const check = await verifyReport(written.dir, reportSigningKey(config));
    assert.equal(check.ok, false);
    assert.match(check.problems.join('\n'), /released\.csv: changed/);
    await writeFile(csvFile, original);

    // The HTML opens offline in Chromium, with its charts drawn.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_FLAGS });
    try {
      const context = await browser.newContext({ viewport: { width: 1000, height: 1400 }, offline: true });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${join(written.dir, 'report.html')}`);
      assert.match((await page.locator('#verdict').innerText()), /^PASS: 0 advertisements receivable in the quiet window without consent/);
      assert.equal(await page.locator('.chart svg').count(), 3);
      const chartText = await page.locator('.chart').first().innerText();
      for (const label of ['advertising', 'order', 'hour (KST)']) assert.ok(chartText.includes(label), `the category chart shows ${label}`);
      assert.ok(await page.locator('.chart').nth(1).locator('text=night-consent').count() > 0, 'the grounds chart shows night-consent');
      assert.ok((await page.locator('.chart svg path, .chart svg rect').count()) > 10, 'the bars are drawn');
      assert.deepEqual(requests.filter((url) => !url.startsWith('file://')), [], 'the page fetches nothing');
      // Kept in memory: docs/images/compliance-report.png is a chosen picture, not a test output.
      const screenshot = await page.screenshot({ fullPage: true });
      assert.ok(screenshot.length > 10_000, 'the page renders to a screenshot');
    } finally {
      await browser.close();
    }
  });

  test('a window narrowed by the test-only override: the ads go out at night, and the verdict fails naming them', async () => {
    narrowerAllowed = true;
    try {
      const client = clientWith({ ...DEFAULT_POLICY, quietStart: '23:00', quietEnd: '06:00' });
      const evening = await advanceTo('22:00');
      const day = evening.toISODate()!;
      const night = [notification('advertising'), notification('advertising')];
      for (const input of night) await client.schedule(input);
      for (const input of night) await env.client.workflow.getHandle(`notification-${input.notificationId}`).result();
      const report = await reportOver(day, night.map((input) => input.notificationId));
      assert.deepEqual(report.counts.byStatus, { delivered: 2 });
      assert.equal(report.verdict.passed, false);
      // Named in the order they became receivable, which is the order the worker sent them in.
      const named = /^2 advertisements receivable in the quiet window without consent: (.+)$/.exec(report.verdict.line)?.[1]?.split(', ');
      assert.deepEqual(named?.sort(), night.map((input) => input.notificationId).sort(), report.verdict.line);
      assert.deepEqual(report.quietWindowAdvertisements.map((row) => [row.nightConsent, row.policyWindow, row.narrowerThanLaw]), [[false, '23:00-06:00', true], [false, '23:00-06:00', true]]);
      assert.equal(report.policy.narrowerThanLawDecisions, 2);
      assert.deepEqual(report.policy.decisionWindows, { '23:00-06:00': 2 });
    } finally {
      narrowerAllowed = false;
    }
  });
});
