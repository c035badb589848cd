/**
 * The report's figures, accumulated one row at a time so that a day of millions is read once and
 * never held in memory: counts by hour, category, channel and grounds; counts by status; and the
 * few rows an auditor must see one by one (advertisements receivable inside the law's window).
 * Pure.
 */
import { DEFAULT_POLICY, LEGAL_QUIET_WINDOW, isInQuietWindow } from '../policy';
import { kstDate, kstHour, type ReportInterval } from './reportRange';
import type { ReportRow } from './reportRow';

/** Why a delivered notification was released when it was. */
export type ReleaseGrounds = 'immediate' | 'held-quiet-hours' | 'not-before' | 'night-consent';

export interface ReleasedCount {
  /** The KST day and hour (0–23) the message became receivable. */
  date: string;
  hour: number;
  category: string;
  channel: string;
  grounds: ReleaseGrounds;
  count: number;
}

/** An advertisement that became receivable inside the law's quiet window, with its grounds. */
export interface QuietWindowAdvertisement {
  notificationId: string;
  recipientHash: string;
  receivableAt: string;
  zone: string;
  /** Night-time consent, as recorded when the release was decided. */
  nightConsent: boolean;
  /** The window of the policy the decision was made under. */
  policyWindow: string;
  /** Decided under NOTIFY_ALLOW_NARROWER_QUIET_HOURS. */
  narrowerThanLaw: boolean;
}

/** A digest: one released advertisement that carried the content of several (the morning cap's overflow). */
export interface DigestRelease {
  notificationId: string;
  recipientHash: string;
  receivableAt: string;
  grounds: ReleaseGrounds;
  zone: string;
  /** The notifications it carried (those of the range that ended `digested` with its id). */
  merged: string[];
  /** How many it carried, as the digest recorded it. */
  mergedCount: number;
}

export interface ReportFigures {
  /** Notifications that ended (or still wait) in the range, by status. */
  statusCounts: Record<string, number>;
  released: ReleasedCount[];
  quietWindowAdvertisements: QuietWindowAdvertisement[];
  /** The digests released in the range, each with the notifications it merged (also counted in `released`). */
  digests: DigestRelease[];
  /** Delivered advertisements without recorded evidence: their grounds cannot be shown. */
  advertisementsWithoutEvidence: string[];
  /** Policy windows the decisions were made under, with how many decisions each. */
  policyWindows: Record<string, number>;
  /** Decisions made under a window narrower than the law's. */
  narrowerThanLawDecisions: number;
  /** Notifications without a recorded decision: still held (or retrying) when the report was made, or ended by an error before one. */
  withoutDecision: number;
  /**
   * The IANA time zone data the decisions recorded, per KST day: version → decisions. More than one
   * version on a day means workers disagreed about the zone rules that day.
   */
  zoneData: Record<string, Record<string, number>>;
  /** Decisions whose evidence names no zone data (recorded before it was kept, or never sent). */
  decisionsWithoutZoneData: number;
  rows: number;
}

const LAW_POLICY = { ...DEFAULT_POLICY, ...LEGAL_QUIET_WINDOW };

export class ReportAccumulator {
  private readonly statusCounts = new Map<string, number>();
  private readonly released = new Map<string, ReleasedCount>();
  private readonly quietWindow: QuietWindowAdvertisement[] = [];
  private readonly digests = new Map<string, Omit<DigestRelease, 'merged'>>();
  private readonly mergedInto = new Map<string, string[]>();
  private readonly withoutEvidence: string[] = [];
  private readonly windows = new Map<string, number>();
  private narrower = 0;
  private withoutDecision = 0;
  private readonly zoneData = new Map<string, Map<string, number>>();
  private withoutZoneData = 0;
  private rows = 0;

  constructor(private readonly interval: ReportInterval) {}

  /**
   * The instant a row belongs to: the latest a delivered message can have become receivable (its
   * evidence brackets the true instant; older evidence has only the earliest), else when its
   * workflow closed. Undefined for a row outside the range (the query reads a margin around it).
   */
  private instantOf(row: ReportRow): number | undefined {
    const latest = row.evidence?.receivableBy ?? row.evidence?.receivableAt;
    const receivable = row.status === 'delivered' && latest ? Date.parse(latest) : undefined;
    return receivable ?? row.closedAtMs;
  }

  add(row: ReportRow): void {
    const atMs = this.instantOf(row);
    const open = row.closedAtMs === undefined;
    if (!open && (atMs === undefined || atMs < this.interval.startMs || atMs >= this.interval.endMs)) return;
    this.rows += 1;
    this.statusCounts.set(row.status, (this.statusCounts.get(row.status) ?? 0) + 1);
    const evidence = row.evidence;
    if (evidence) {
      this.windows.set(evidence.window, (this.windows.get(evidence.window) ?? 0) + 1);
      if (evidence.narrowerThanLaw) this.narrower += 1;
      if (evidence.zoneData && atMs !== undefined) {
        const day = this.zoneData.get(kstDate(atMs)) ?? new Map<string, number>();
        day.set(evidence.zoneData, (day.get(evidence.zoneData) ?? 0) + 1);
        this.zoneData.set(kstDate(atMs), day);
      } else {
        this.withoutZoneData += 1;
      }
    } else {
      this.withoutDecision += 1;
    }
    if (row.status === 'digested' && evidence?.digest) this.mergedInto.set(evidence.digest, [...(this.mergedInto.get(evidence.digest) ?? []), row.notificationId]);
    if (row.status !== 'delivered' || atMs === undefined) return;
    if (!evidence) {
      if (row.category === 'advertising') this.withoutEvidence.push(row.notificationId);
      return;
    }
    // Inside the law's window if any instant it can have become receivable is: the latest (a send
    // near 21:00) or the earliest (a release near 08:00).
    const earliestMs = evidence.receivableAt ? Date.parse(evidence.receivableAt) : atMs;
    const insideLawWindow = isInQuietWindow(new Date(atMs), evidence.zone, LAW_POLICY) || isInQuietWindow(new Date(earliestMs), evidence.zone, LAW_POLICY);
    const grounds: ReleaseGrounds = insideLawWindow && evidence.nightConsent ? 'night-consent' : (evidence.reason as ReleaseGrounds);
    const date = kstDate(atMs);
    const key = [date, kstHour(atMs), row.category, row.channel, grounds].join('|');
    const counted = this.released.get(key) ?? { date, hour: kstHour(atMs), category: row.category, channel: row.channel, grounds, count: 0 };
    counted.count += 1;
    this.released.set(key, counted);
    if (evidence.merged !== undefined) {
      this.digests.set(row.notificationId, { notificationId: row.notificationId, recipientHash: row.recipientHash, receivableAt: new Date(atMs).toISOString(), grounds, zone: evidence.zone, mergedCount: evidence.merged });
    }
    if (insideLawWindow && row.category === 'advertising') {
      this.quietWindow.push({
        notificationId: row.notificationId,
        recipientHash: row.recipientHash,
        receivableAt: new Date(atMs).toISOString(),
        zone: evidence.zone,
        nightConsent: evidence.nightConsent,
        policyWindow: evidence.window,
        narrowerThanLaw: evidence.narrowerThanLaw === true,
      });
    }
  }

  figures(): ReportFigures {
    const byTime = (a: ReleasedCount, b: ReleasedCount) => a.date.localeCompare(b.date) || a.hour - b.hour || a.category.localeCompare(b.category) || a.channel.localeCompare(b.channel) || a.grounds.localeCompare(b.grounds);
    return {
      statusCounts: Object.fromEntries([...this.statusCounts].sort(([a], [b]) => a.localeCompare(b))),
      released: [...this.released.values()].sort(byTime),
      // Ties broken by id: visibility lists in no set order, and the signed report must not depend on it.
      quietWindowAdvertisements: [...this.quietWindow].sort((a, b) => a.receivableAt.localeCompare(b.receivableAt) || a.notificationId.localeCompare(b.notificationId)),
      digests: [...this.digests.values()]
        .map((digest) => ({ ...digest, merged: [...(this.mergedInto.get(digest.notificationId) ?? [])].sort() }))
        .sort((a, b) => a.receivableAt.localeCompare(b.receivableAt) || a.notificationId.localeCompare(b.notificationId)),
      advertisementsWithoutEvidence: [...this.withoutEvidence].sort(),
      policyWindows: Object.fromEntries([...this.windows].sort(([a], [b]) => a.localeCompare(b))),
      narrowerThanLawDecisions: this.narrower,
      withoutDecision: this.withoutDecision,
      zoneData: Object.fromEntries([...this.zoneData].sort(([a], [b]) => a.localeCompare(b)).map(([day, versions]) => [day, Object.fromEntries([...versions].sort(([a], [b]) => a.localeCompare(b)))])),
      decisionsWithoutZoneData: this.withoutZoneData,
      rows: this.rows,
    };
  }
}

export interface Verdict {
  passed: boolean;
  /** The line at the top of the report. */
  line: string;
  /** The advertisements that fail it. */
  withoutConsent: QuietWindowAdvertisement[];
}

/** The report's verdict: no advertisement receivable in the law's window without consent, and none unprovable. */
export function verdictOf(figures: ReportFigures): Verdict {
  const withoutConsent = figures.quietWindowAdvertisements.filter((advertisement) => !advertisement.nightConsent);
  const unprovable = figures.advertisementsWithoutEvidence.length;
  const passed = withoutConsent.length === 0 && unprovable === 0;
  const line =
    `${withoutConsent.length} advertisement${withoutConsent.length === 1 ? '' : 's'} receivable in the quiet window without consent` +
    (withoutConsent.length ? `: ${withoutConsent.map((advertisement) => advertisement.notificationId).join(', ')}` : '') +
    (unprovable ? `; ${unprovable} delivered without recorded grounds: ${figures.advertisementsWithoutEvidence.join(', ')}` : '');
  return { passed, line, withoutConsent };
}
