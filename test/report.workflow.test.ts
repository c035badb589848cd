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
import { createMorningActivities } from '../src/activities/morning';
import { NotificationClient } from '../src/client';
import { MorningGates } from '../src/client/morningGates';
import { morningGateId } from '../src/workflows/morningGateMessages';
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
/** The zone data of this suite's workers: most sends are made on the newer, those in olderZoneData on the older. */
const [STUB_ZONE_DATA, OLDER_ZONE_DATA] = ['2026e', '2026d'];
const olderZoneData = new Set<string>();
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
      ...createMorningActivities({ morningGatesFor: (client) => new MorningGates(client, TASK_QUEUE) }),
      async deliverNotification(request: DeliveryRequest): Promise<DeliveryResult> {
        if (refused.has(request.notification.notificationId)) throw ApplicationFailure.nonRetryable('SQS refused the message', 'InvalidQueueMessage');
        const now = DateTime.fromMillis(await env.currentTimeMs());
        const releasedAt = request.releaseAt ? DateTime.max(now, DateTime.fromISO(request.releaseAt)) : now;
        // As a worker's send answers: with the zone data it decides with (two workers may differ).
        const zoneData = olderZoneData.has(request.notification.notificationId) ? OLDER_ZONE_DATA : STUB_ZONE_DATA;
        return { messageId: `fake-${request.notification.notificationId}`, stagedAt: now.toUTC().toISO()!, releasedAt: releasedAt.toUTC().toISO()!, zoneData };
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

function clientWith(policy: QuietHoursPolicy, morningCap?: { cap: number; overflow: 'drop' | 'digest' }): NotificationClient {
  return new NotificationClient({ client: env.client, taskQueue: TASK_QUEUE, policy, recipientHashKey: testRecipientHashKey(), clock: () => env.currentTimeMs(), ...(morningCap ? { morningCap } : {}) });
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
async function reportOver(day: string, ids: string[], gates: string[] = []): Promise<ComplianceReport> {
  const rows = await Promise.all([...ids.map((id) => `notification-${id}`), ...gates].map(async (workflowId) => reportRowOf(await env.client.workflow.getHandle(workflowId).describe())));
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
    // A worker on older zone data sends the orders.
    for (const input of orders) olderZoneData.add(input.notificationId);
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
    // Every decision that was sent names its zone data: the day's versions, and that workers disagreed.
    assert.deepEqual(report.zoneData.byDay, { [day]: { [OLDER_ZONE_DATA]: 2, [STUB_ZONE_DATA]: 4 } });
    assert.deepEqual(report.zoneData.disagreements, [day]);
    assert.equal(report.zoneData.decisionsWithoutVersion, 3, 'the cancelled, expired and failed ones were never sent');
    assert.equal(report.policy.notificationsWithoutDecision, 0);

    // The files, sealed; an untouched report verifies and one changed byte does not.
    const written = await writeReportFiles(report, outDir, reportSigningKey(config));
    assert.deepEqual(written.files.sort(), ['manifest.json', 'manifest.sig', 'quiet-window.csv', 'released.csv', 'report.html', 'report.json']);
    assert.deepEqual(JSON.parse(await readFile(join(written.dir, 'report.json'), 'utf8')).counts, report.counts);
    assert.match(await readFile(join(written.dir, 'released.csv'), 'utf8'), new RegExp(`^${day},8,advertising,kakaotalk,held-quiet-hours,3$`, 'm'));
    assert.deepEqual(await verifyReport(written.dir, reportSigningKey(config)), { ok: true, problems: [], files: 4, versions: [1] });
    assert.equal(written.dir, join(outDir, day, 'v1'));
    const manifest = JSON.parse(await readFile(join(written.dir, 'manifest.json'), 'utf8'));
    assert.deepEqual([manifest.range, manifest.version, manifest.supersedes, manifest.generatedAt], [{ fromDate: day, toDate: day }, 1, null, report.generatedAt]);
    assert.deepEqual(manifest.zoneData, { madeWith: process.versions.tz, decisions: [OLDER_ZONE_DATA, STUB_ZONE_DATA] });
    assert.equal(manifest.software.name, 'kst-notification-scheduler');
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
      // For people: the time it was made on the Korean clock, whole numbers on the count axes, the zone data and its disagreement.
      const meta = await page.locator('p.meta').first().innerText();
      assert.match(meta, new RegExp(`Made ${DateTime.fromISO(report.generatedAt, { zone: KST }).toFormat('yyyy-MM-dd HH:mm:ss')} KST`));
      for (const index of [0, 1, 2]) {
        const ticks = await page.locator('.chart').nth(index).locator('svg .role-axis-label text').allTextContents();
        assert.ok(ticks.length > 0, `chart ${index} has axis labels`);
        assert.deepEqual(ticks.filter((tick) => /^\d*\.\d+$/.test(tick.trim())), [], `chart ${index}: no fractional counts on its axes (${ticks.join(' ')})`);
      }
      assert.match(await page.locator('#zone-data-disagreement').innerText(), new RegExp(`Workers disagreed about the zone rules on ${day}`));
      assert.match(await page.locator('body').innerText(), /21:00-08:00: 9 decisions \(one per notification, 9 notifications\)/);
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

      // Sealed FAIL; a re-run after retention has dropped the workflows finds nothing and says PASS:
      // it is a second version beside the first, which says what changed.
      const key = reportSigningKey(config);
      const failed = await writeReportFiles(report, outDir, key);
      const rerun = await writeReportFiles(await reportOver(day, []), outDir, key);
      assert.deepEqual([failed.dir, failed.version, rerun.dir, rerun.version, rerun.supersedes], [join(outDir, day, 'v1'), 1, join(outDir, day, 'v2'), 2, 1]);
      assert.deepEqual(await verifyReport(join(outDir, day), key), { ok: true, problems: [], files: 4, versions: [1, 2] });
      assert.equal(JSON.parse(await readFile(join(failed.dir, 'report.json'), 'utf8')).verdict.passed, false, 'the sealed FAIL stays');
      const second = JSON.parse(await readFile(join(rerun.dir, 'report.json'), 'utf8')) as ComplianceReport;
      assert.equal(second.changes?.verdict?.before.passed, false);
      assert.equal(second.changes?.verdict?.after.passed, true);
      assert.deepEqual(second.changes?.counts.find((change) => change.what === 'delivered'), { what: 'delivered', before: 2, after: 0 });
      const html = await readFile(join(rerun.dir, 'report.html'), 'utf8');
      assert.match(html, /Version 2 of this report\. It supersedes version 1/);
      assert.match(html, /<strong>The verdict changed<\/strong>: version 1 said FAIL/);
    } finally {
      narrowerAllowed = false;
    }
  });

  test('a digest is a released advertisement: listed with what it merged, counted, and judged by the window (narrowed: FAIL)', async () => {
    narrowerAllowed = true;
    try {
      const client = clientWith({ ...DEFAULT_POLICY, quietStart: '23:00', quietEnd: '06:00' }, { cap: 1, overflow: 'digest' });
      const evening = await advanceTo('23:30');
      const day = evening.plus({ days: 1 }).toISODate()!;
      const recipient = { id: `user-digest-${sequence}`, nightConsent: false };
      const night = [notification('advertising', { recipient }), notification('advertising', { recipient }), notification('advertising', { recipient })];
      for (const input of night) {
        await client.schedule(input);
        await env.sleep(60_000);
      }
      for (const input of night) await env.client.workflow.getHandle(`notification-${input.notificationId}`).result();
      const sixAm = evening.plus({ days: 1 }).set({ hour: 6, minute: 0 });
      const gate = morningGateId(client.recipientSearchKey(recipient.id), sixAm.toJSDate());
      await env.client.workflow.getHandle(gate).result();
      const report = await reportOver(day, night.map((input) => input.notificationId), [gate]);

      assert.deepEqual(report.counts.byStatus, { delivered: 1, digested: 3 }, 'the digest, and the three it carried');
      assert.equal(report.counts.released, 1);
      assert.deepEqual(report.released.map(({ hour, category, grounds, count }) => ({ hour, category, grounds, count })), [{ hour: 6, category: 'advertising', grounds: 'held-quiet-hours', count: 1 }]);
      assert.equal(report.digests.length, 1);
      const [digest] = report.digests;
      assert.equal(digest!.notificationId, gate.replace(/^morning-/, 'digest-'));
      assert.equal(digest!.mergedCount, 3);
      assert.deepEqual(digest!.merged, night.map((input) => input.notificationId).sort());
      const receivableMs = Date.parse(digest!.receivableAt);
      assert.ok(receivableMs >= sixAm.toMillis() && receivableMs < sixAm.toMillis() + 60_000, `the digest went at the release (06:00), not at ${digest!.receivableAt}`);
      // 06:00 is inside the law's 21:00–08:00: the digest fails the verdict like any advertisement would.
      assert.equal(report.verdict.passed, false);
      assert.equal(report.verdict.line, `1 advertisement receivable in the quiet window without consent: ${digest!.notificationId}`);
      assert.deepEqual(report.quietWindowAdvertisements.map((row) => [row.notificationId, row.narrowerThanLaw]), [[digest!.notificationId, true]]);
    } finally {
      narrowerAllowed = false;
    }
  });
});
