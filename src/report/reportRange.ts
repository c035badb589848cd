/**
 * The days a report covers: whole days on the Korean wall clock (the law's clock), as instants.
 * Pure (luxon only).
 */
import { DateTime } from 'luxon';

export const REPORT_ZONE = 'Asia/Seoul';

export interface ReportRange {
  /** First KST day, 'YYYY-MM-DD'. */
  fromDate: string;
  /** Last KST day, inclusive. */
  toDate: string;
}

export interface ReportInterval extends ReportRange {
  /** Start of the first day (inclusive). */
  startMs: number;
  /** Start of the day after the last (exclusive). */
  endMs: number;
}

export class InvalidReportRangeError extends Error {
  override readonly name = 'InvalidReportRangeError';
}

function dayStart(date: string, field: string): DateTime {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(date) ? DateTime.fromISO(date, { zone: REPORT_ZONE }) : undefined;
  if (!day?.isValid) throw new InvalidReportRangeError(`${field}: expected a day as YYYY-MM-DD, got ${JSON.stringify(date)}`);
  return day.startOf('day');
}

export function reportInterval(range: ReportRange): ReportInterval {
  const start = dayStart(range.fromDate, 'from');
  const last = dayStart(range.toDate, 'to');
  if (last < start) throw new InvalidReportRangeError(`to (${range.toDate}) is before from (${range.fromDate})`);
  return { ...range, startMs: start.toMillis(), endMs: last.plus({ days: 1 }).toMillis() };
}

/** The KST day before the instant: what the daily Schedule reports on. */
export function dayBefore(atMs: number): string {
  return DateTime.fromMillis(atMs, { zone: REPORT_ZONE }).minus({ days: 1 }).toISODate()!;
}

/** The KST day an instant falls in, 'YYYY-MM-DD'. */
export function kstDate(atMs: number): string {
  return DateTime.fromMillis(atMs, { zone: REPORT_ZONE }).toISODate()!;
}

/** The hour of the KST day (0–23) an instant falls in. */
export function kstHour(atMs: number): number {
  return DateTime.fromMillis(atMs, { zone: REPORT_ZONE }).hour;
}

/** The directory name of a report: `2026-12-02`, or `2026-12-01_2026-12-07`. */
export function reportName(range: ReportRange): string {
  return range.fromDate === range.toDate ? range.fromDate : `${range.fromDate}_${range.toDate}`;
}
