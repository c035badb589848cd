/** Unit: the report's aggregation and verdict at the range's edges. Pure code, nothing stubbed. */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config';
import { verifyReport } from '../src/report/manifest';
import { buildComplianceReport, reportSigningKey, writeReportFiles } from '../src/report/writeReport';
import { ReportAccumulator, verdictOf } from '../src/report/aggregate';
import { reportInterval } from '../src/report/reportRange';
import type { ReportRow } from '../src/report/reportRow';

const interval = reportInterval({ fromDate: '2026-12-02', toDate: '2026-12-02' });
const evidence = (receivableAt: string, nightConsent = false) => ({ reason: 'held-quiet-hours', nightConsent, heldCategory: true, zone: 'Asia/Seoul', window: '21:00-08:00', receivableAt });
const delivered = (id: string, receivableAt: string, closedAt: string, extra: Partial<ReportRow> = {}): ReportRow => ({
  notificationId: id,
  status: 'delivered',
  category: 'advertising',
  channel: 'push',
  recipientHash: 'a'.repeat(32),
  closedAtMs: Date.parse(closedAt),
  evidence: evidence(receivableAt),
  ...extra,
});

test('a staged message counts at the instant it became receivable, not when its workflow closed', () => {
  const accumulator = new ReportAccumulator(interval);
  // Staged 15 minutes ahead: closed on the day before (KST), receivable at 08:00 on the day.
  accumulator.add(delivered('staged-in', '2026-12-01T23:00:00Z', '2026-12-01T22:45:00Z'));
  // Closed on the day, receivable just after it: the next day's.
  accumulator.add(delivered('staged-out', '2026-12-02T15:00:00Z', '2026-12-02T14:50:00Z'));
  const figures = accumulator.figures();
  assert.deepEqual(figures.released.map((row) => [row.date, row.hour, row.count]), [['2026-12-02', 8, 1]]);
  assert.equal(figures.rows, 1);
});

test('an advertisement receivable at 21:00 KST without consent fails the verdict; 20:59:59.999 does not', () => {
  const accumulator = new ReportAccumulator(interval);
  accumulator.add(delivered('edge-ok', '2026-12-02T11:59:59.999Z', '2026-12-02T11:59:59.999Z'));
  accumulator.add(delivered('edge-bad', '2026-12-02T12:00:00.000Z', '2026-12-02T12:00:00.000Z'));
  const verdict = verdictOf(accumulator.figures());
  assert.equal(verdict.passed, false);
  assert.equal(verdict.line, '1 advertisement receivable in the quiet window without consent: edge-bad');
});

test('a delivered advertisement without recorded grounds cannot pass: the verdict says it is unprovable', () => {
  const accumulator = new ReportAccumulator(interval);
  const { evidence: _none, ...row } = delivered('no-evidence', '2026-12-02T03:00:00Z', '2026-12-02T03:00:00Z');
  accumulator.add(row);
  const verdict = verdictOf(accumulator.figures());
  assert.equal(verdict.passed, false);
  assert.match(verdict.line, /^0 advertisements .*; 1 delivered without recorded grounds: no-evidence$/);
});

test('held notifications still open are counted by status', () => {
  const accumulator = new ReportAccumulator(interval);
  accumulator.add({ notificationId: 'open', status: 'held', category: 'order', channel: 'sms', recipientHash: 'b'.repeat(32) });
  assert.deepEqual(accumulator.figures().statusCounts, { held: 1 });
});

test('a range that is not whole days is refused', () => {
  assert.throws(() => reportInterval({ fromDate: '2026-12-02', toDate: '2026-12-01' }), /before/);
  assert.throws(() => reportInterval({ fromDate: '2026-13-02', toDate: '2026-13-02' }), /YYYY-MM-DD/);
});

test('a report sealed before versions existed counts as version 1: verified in its place, and the next run goes beside it as v2, naming its manifest', async () => {
  const out = await mkdtemp(join(tmpdir(), 'kst-report-legacy-'));
  try {
    const config = loadConfig();
    const key = reportSigningKey(config);
    // The old layout: the files in the range's directory, a manifest of hashes only.
    const legacy = join(out, '2026-12-02');
    await mkdir(legacy);
    await writeFile(join(legacy, 'report.json'), JSON.stringify({ range: { fromDate: '2026-12-02', toDate: '2026-12-02' }, verdict: { passed: false, line: '1 advertisement receivable in the quiet window without consent: ad-1' }, counts: { notifications: 1, byStatus: { delivered: 1 }, released: 1 } }));
    const digest = createHash('sha256').update(await readFile(join(legacy, 'report.json'))).digest('hex');
    const manifest = Buffer.from(`${JSON.stringify({ algorithm: 'sha256', signature: 'hmac-sha256 of manifest.json, hex, in manifest.sig', files: { 'report.json': digest } }, null, 2)}\n`);
    await writeFile(join(legacy, 'manifest.json'), manifest);
    await writeFile(join(legacy, 'manifest.sig'), `${createHmac('sha256', key).update(manifest).digest('hex')}\n`);
    assert.deepEqual(await verifyReport(legacy, key), { ok: true, problems: [], files: 1, versions: [1] });

    const rerun = await writeReportFiles(await buildComplianceReport({ client: undefined as never, config }, { fromDate: '2026-12-02', toDate: '2026-12-02' }, []), out, key);
    assert.deepEqual([rerun.dir, rerun.version, rerun.supersedes], [join(legacy, 'v2'), 2, 1]);
    assert.deepEqual(await verifyReport(legacy, key), { ok: true, problems: [], files: 4, versions: [1, 2] });
    const v2 = JSON.parse(await readFile(join(rerun.dir, 'manifest.json'), 'utf8')) as { supersedes: { version: number; manifestSha256: string } };
    assert.deepEqual(v2.supersedes, { version: 1, manifestSha256: createHash('sha256').update(manifest).digest('hex') });
    assert.match(await readFile(join(rerun.dir, 'report.html'), 'utf8'), /The verdict changed<\/strong>: version 1 said FAIL/);

    // The old report moved to another day's place is refused: its report.json names its day.
    await rename(legacy, join(out, '2026-12-03'));
    const moved = await verifyReport(join(out, '2026-12-03'), key);
    assert.equal(moved.ok, false);
    assert.match(moved.problems.join('\n'), /v1: manifest\.json: names 2026-12-02, but the report is in the place of 2026-12-03/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
