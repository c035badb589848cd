/**
 * The evidence a notification leaves for the compliance report: on what grounds it was released
 * when it was, recorded by its workflow when it ends, in the NotificationEvidence search attribute
 * (one keyword, so that it costs no write of its own: it goes with the final status). The report
 * reads it back from visibility (src/report).
 *
 * A compact `key=value;…` text: short enough for a keyword attribute, readable in the Web UI, and
 * free of personal data (the recipient's zone and consent flag, never their id or the message).
 * Pure: the workflow bundle imports this file.
 */

export interface Evidence {
  /** Why it was released when it was: immediate, held-quiet-hours, not-before. */
  reason: string;
  /** The recipient's night-time consent when the release was decided. */
  nightConsent: boolean;
  /** Whether the policy held this category in the quiet window (advertising always is). */
  heldCategory: boolean;
  /** The zone the window was read in. */
  zone: string;
  /** The policy's window, "HH:mm-HH:mm". */
  window: string;
  /** The earliest instant it can have become receivable on the delivery queue (delivered notifications), ISO-8601. */
  receivableAt?: string;
  /** The latest instant it can have become receivable: the true one lies between the two. ISO-8601. */
  receivableBy?: string;
  /** The decision was made under a window narrower than the law's. */
  narrowerThanLaw?: boolean;
  /**
   * The IANA time zone data the send was made with (e.g. "2026e"), as the worker that sent it
   * reported. Absent in evidence recorded before it was kept, and for notifications never sent.
   */
  zoneData?: string;
  /** A digested notification: the digest that carried its content (`digest-…`). */
  digest?: string;
  /** A digest: how many notifications it merged. */
  merged?: number;
}

const VERSION = '1';

export function formatEvidence(evidence: Evidence): string {
  const fields: Array<[string, string]> = [
    ['v', VERSION],
    ['reason', evidence.reason],
    ['consent', evidence.nightConsent ? '1' : '0'],
    ['held', evidence.heldCategory ? '1' : '0'],
    ['zone', evidence.zone],
    ['window', evidence.window],
  ];
  if (evidence.receivableAt !== undefined) fields.push(['receivable', evidence.receivableAt]);
  if (evidence.receivableBy !== undefined) fields.push(['by', evidence.receivableBy]);
  if (evidence.narrowerThanLaw) fields.push(['narrowed', '1']);
  // Only what cannot break the `key=value;` form: an IANA release name is letters and digits.
  if (evidence.zoneData !== undefined && /^[A-Za-z0-9._-]+$/.test(evidence.zoneData)) fields.push(['tz', evidence.zoneData]);
  if (evidence.digest !== undefined && /^[A-Za-z0-9._-]+$/.test(evidence.digest)) fields.push(['digest', evidence.digest]);
  if (evidence.merged !== undefined) fields.push(['merged', String(evidence.merged)]);
  return fields.map(([key, value]) => `${key}=${value}`).join(';');
}

/** Reads an evidence text back; undefined for one that is missing or not of this format. */
export function parseEvidence(text: string | undefined): Evidence | undefined {
  if (!text) return undefined;
  const fields = new Map(text.split(';').map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] as const));
  if (fields.get('v') !== VERSION) return undefined;
  const reason = fields.get('reason');
  const zone = fields.get('zone');
  const window = fields.get('window');
  if (!reason || !zone || !window) return undefined;
  return {
    reason,
    nightConsent: fields.get('consent') === '1',
    heldCategory: fields.get('held') === '1',
    zone,
    window,
    ...(fields.has('receivable') ? { receivableAt: fields.get('receivable')! } : {}),
    ...(fields.has('by') ? { receivableBy: fields.get('by')! } : {}),
    ...(fields.get('narrowed') === '1' ? { narrowerThanLaw: true } : {}),
    ...(fields.get('tz') ? { zoneData: fields.get('tz')! } : {}),
    ...(fields.get('digest') ? { digest: fields.get('digest')! } : {}),
    ...(Number.isInteger(Number(fields.get('merged'))) && fields.has('merged') ? { merged: Number(fields.get('merged')) } : {}),
  };
}
