/**
 * The report's files: CSV of what was released per hour, and one self-contained HTML page (inline
 * SVG charts, inline CSS, no script, nothing fetched) that opens anywhere, offline.
 */
import { DateTime } from 'luxon';
import { renderChartSvg, type ChartSpec } from './charts';
import type { ComplianceReport } from './complianceReport';
import { REPORT_ZONE } from './reportRange';

function csvField(value: string | number | boolean): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csv(header: string[], rows: (string | number | boolean)[][]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** released.csv: one line per KST day, hour, category, channel and grounds. */
export function releasedCsv(report: ComplianceReport): string {
  return csv(
    ['date_kst', 'hour_kst', 'category', 'channel', 'grounds', 'count'],
    report.released.map((row) => [row.date, row.hour, row.category, row.channel, row.grounds, row.count]),
  );
}

/** quiet-window.csv: every advertisement receivable inside the law's window, with its grounds. */
export function quietWindowCsv(report: ComplianceReport): string {
  return csv(
    ['notification_id', 'recipient_hash', 'receivable_at', 'zone', 'night_consent', 'policy_window', 'narrower_than_law'],
    report.quietWindowAdvertisements.map((row) => [row.notificationId, row.recipientHash, kstTime(row.receivableAt), row.zone, row.nightConsent, row.policyWindow, row.narrowerThanLaw]),
  );
}

const escapeHtml = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

function table(header: string[], rows: (string | number | boolean)[][]): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  const cells = (row: (string | number | boolean)[], tag: string) => `<tr>${row.map((cell) => `<${tag}>${escapeHtml(String(cell))}</${tag}>`).join('')}</tr>`;
  return `<table><thead>${cells(header, 'th')}</thead><tbody>${rows.map((row) => cells(row, 'td')).join('')}</tbody></table>`;
}

/** An axis of counts: ticks on whole numbers only, printed without decimals. */
const COUNT_AXIS = { tickMinStep: 1, format: 'd' };

/** An instant as the report's reader reads it: on the Korean clock, with the UTC instant beside it. */
export function kstTime(iso: string): string {
  return `${DateTime.fromISO(iso, { zone: REPORT_ZONE }).toFormat('yyyy-MM-dd HH:mm:ss')} KST (${iso})`;
}

/** Hours of the range on the x axis, stacked bars of one field. */
function releasedChart(report: ComplianceReport, field: 'category' | 'grounds', title: string): ChartSpec {
  const multiDay = report.range.fromDate !== report.range.toDate;
  return {
    title,
    width: 720,
    height: 220,
    data: { values: report.released.map((row) => ({ ...row, slot: multiDay ? `${row.date} ${String(row.hour).padStart(2, '0')}h` : String(row.hour).padStart(2, '0') })) },
    mark: 'bar',
    encoding: {
      x: { field: 'slot', type: 'ordinal', title: multiDay ? 'KST day and hour' : 'hour (KST)', ...(multiDay ? {} : { scale: { domain: Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, '0')) } }) },
      // Whole messages: no tick between 0 and 1 however few were released.
      y: { aggregate: 'sum', field: 'count', type: 'quantitative', title: 'messages released', axis: COUNT_AXIS },
      color: { field, type: 'nominal', title: field },
    },
  } as ChartSpec;
}

function statusChart(report: ComplianceReport): ChartSpec {
  return {
    title: 'Notifications by status',
    width: 720,
    height: 160,
    data: { values: Object.entries(report.counts.byStatus).map(([status, count]) => ({ status, count })) },
    mark: 'bar',
    encoding: {
      y: { field: 'status', type: 'nominal', sort: '-x', title: null },
      x: { field: 'count', type: 'quantitative', title: 'notifications', axis: COUNT_AXIS },
    },
  } as ChartSpec;
}

/** The windows the decisions were made under, counted in decisions, and the notifications that have none yet. */
/** The merged notifications of a digest: its count, and their ids (the first 20 in the page; report.json has them all). */
function mergedText(digest: ComplianceReport['digests'][number]): string {
  const shown = digest.merged.slice(0, 20).join(', ');
  const more = digest.merged.length > 20 ? `, and ${digest.merged.length - 20} more (report.json)` : '';
  return `${digest.mergedCount}${digest.merged.length ? `: ${shown}${more}` : ''}`;
}

function decisionWindowsText(report: ComplianceReport): string {
  const windows = Object.entries(report.policy.decisionWindows).map(([window, count]) => `${window}: ${count} decision${count === 1 ? '' : 's'}`);
  const undecided = report.policy.notificationsWithoutDecision;
  const of = `${report.counts.notifications} notification${report.counts.notifications === 1 ? '' : 's'}`;
  if (undecided === 0) return `${windows.join(', ') || 'none'} (one per notification, ${of})`;
  return (
    `${windows.join(', ') || 'none'}, of ${of}: ${undecided} ${undecided === 1 ? 'has' : 'have'} no recorded decision yet ` +
    '(a decision is recorded when a notification ends; these were still held or retrying when the report was made, or ended by an error before one)'
  );
}

/** Which version of the range's report this is, what it supersedes, and what changed against it. */
function versionSection(report: ComplianceReport): string {
  if (!report.supersedes) return `<p class="meta" id="version">Version 1 of this report: the first made for ${report.range.fromDate === report.range.toDate ? 'this day' : 'these days'}.</p>`;
  const previous = report.supersedes;
  const changes = report.changes;
  const head =
    `<p class="meta" id="version">Version ${report.version} of this report. It supersedes version ${previous.version}` +
    `${previous.generatedAt ? `, made ${escapeHtml(kstTime(previous.generatedAt))}` : ''}, which stays beside it (its manifest's SHA-256: <code>${escapeHtml(previous.manifestSha256)}</code>).</p>`;
  const unreadable = changes?.previousUnreadable ? `<p class="verdict fail">${escapeHtml(changes.previousUnreadable)}</p>` : '';
  const verdict = changes?.verdict
    ? `<p id="verdict-change"><strong>The verdict changed</strong>: version ${previous.version} said ${changes.verdict.before.passed ? 'PASS' : 'FAIL'}: ${escapeHtml(changes.verdict.before.line)}; this version says ${changes.verdict.after.passed ? 'PASS' : 'FAIL'}: ${escapeHtml(changes.verdict.after.line)}.</p>`
    : `<p>The verdict is the same as version ${previous.version}'s.</p>`;
  const counts = changes && changes.counts.length > 0
    ? table(['count', `version ${previous.version}`, `version ${report.version}`], changes.counts.map((change) => [change.what, change.before, change.after]))
    : `<p class="none">No count differs from version ${previous.version}'s.</p>`;
  return `${head}\n<h2 id="changes">What changed since version ${previous.version}</h2>\n${unreadable}${verdict}\n${counts}`;
}

/** The zone data the decisions were made with, per day, and the days on which workers disagreed. */
function zoneDataSection(report: ComplianceReport): string {
  const days = Object.entries(report.zoneData.byDay);
  const rows = days.map(([day, versions]) => [
    day,
    Object.entries(versions).map(([version, count]) => `${version} (${count} decision${count === 1 ? '' : 's'})`).join(', '),
    Object.keys(versions).length > 1 ? 'YES: workers used different zone data' : 'no',
  ]);
  const disagreed = report.zoneData.disagreements.length
    ? `<p class="verdict fail" id="zone-data-disagreement">Workers disagreed about the zone rules on ${report.zoneData.disagreements.map(escapeHtml).join(', ')}: decisions of the same day were made with different IANA releases.</p>`
    : '';
  const without = report.zoneData.decisionsWithoutVersion
    ? `<p class="meta">${report.zoneData.decisionsWithoutVersion} decision${report.zoneData.decisionsWithoutVersion === 1 ? '' : 's'} name no zone data (not sent, or recorded by a version of this software that did not keep it).</p>`
    : '';
  return `${disagreed}${table(['KST day', 'IANA release (decisions)', 'workers disagreed'], rows)}${without}`;
}

export async function reportHtml(report: ComplianceReport): Promise<string> {
  const charts = await Promise.all([
    releasedChart(report, 'category', 'Messages released per hour, by category'),
    releasedChart(report, 'grounds', 'Messages released per hour, by grounds'),
    statusChart(report),
  ].map(renderChartSvg));
  const range = report.range.fromDate === report.range.toDate ? report.range.fromDate : `${report.range.fromDate} to ${report.range.toDate}`;
  const configured = report.policy.configured;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Compliance report ${escapeHtml(range)} (KST)</title>
<style>
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
.verdict { font-size: 1.3em; padding: 0.6em 0.8em; border-radius: 4px; }
.pass { background: #e6f4ea; border: 1px solid #34a853; } .fail { background: #fce8e6; border: 1px solid #d93025; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; } th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
.chart { margin: 1em 0; } .none { color: #666; } .meta { color: #555; font-size: 0.9em; }
</style></head><body>
<h1>Compliance report: ${escapeHtml(range)} (KST)</h1>
<p class="verdict ${report.verdict.passed ? 'pass' : 'fail'}" id="verdict">${report.verdict.passed ? 'PASS' : 'FAIL'}: ${escapeHtml(report.verdict.line)}</p>
<p class="meta">Act on Promotion of Information and Communications Network Utilization, art. 50: no advertisement between ${escapeHtml(report.policy.law.quietStart)} and ${escapeHtml(report.policy.law.quietEnd)} on the recipient's clock without separate night-time consent.
Made ${escapeHtml(kstTime(report.generatedAt))} by ${escapeHtml(report.software.name)} ${escapeHtml(report.software.version)}, on IANA time zone data ${escapeHtml(report.zoneData.madeWith)}. Recipients appear only as keyed hashes.</p>
${versionSection(report)}
<h2>Released</h2>
${charts.slice(0, 2).map((svg) => `<div class="chart">${svg}</div>`).join('\n')}
<h2>Advertisements receivable inside the quiet window</h2>
${table(['notification', 'recipient (keyed hash)', 'receivable at', 'zone', 'night consent at decision', 'policy window', 'narrower than law'], report.quietWindowAdvertisements.map((row) => [row.notificationId, row.recipientHash, kstTime(row.receivableAt), row.zone, row.nightConsent ? 'yes' : 'NO', row.policyWindow, row.narrowerThanLaw ? 'yes' : 'no']))}
<h2>Digests</h2>
<p class="meta">A digest is one released advertisement that carries the content of several: the morning cap's overflow for one recipient. It is counted above as released, and checked against the window like any other.</p>
${table(['digest', 'recipient (keyed hash)', 'receivable at', 'grounds', 'notifications merged'], (report.digests ?? []).map((row) => [row.notificationId, row.recipientHash, kstTime(row.receivableAt), row.grounds, mergedText(row)]))}
<h2>Outcomes</h2>
<div class="chart">${charts[2]}</div>
${table(['status', 'notifications'], Object.entries(report.counts.byStatus))}
<h2>Time zone data</h2>
${zoneDataSection(report)}
<h2>Policy in force</h2>
${table(['setting', 'value'], [
    ['quiet window (configured)', `${configured.quietStart}–${configured.quietEnd}`],
    ['default zone', configured.defaultTimeZone],
    ['held categories', configured.heldCategories.join(', ')],
    ['staging lead', `${configured.prestageSeconds} s`],
    ['NOTIFY_ALLOW_NARROWER_QUIET_HOURS', configured.allowNarrowerQuietHours ? 'set' : 'not set'],
    ['morning cap', configured.morningCap ? `${configured.morningCap} (${configured.morningCapOverflow})` : 'off'],
    ['windows the decisions were made under', decisionWindowsText(report)],
    ['decisions under a window narrower than the law', report.policy.narrowerThanLawDecisions],
  ])}
</body></html>
`;
}
