/**
 * `preview`: what the quiet-hours policy decides for a notification, without scheduling anything.
 *
 *   npm run cli -- preview --at 2026-11-23T22:30:00+09:00 --category advertising
 *   npm run cli -- preview --zone America/New_York --consent --category order
 *   cat notifications.jsonl | npm run cli -- preview --stdin      # one JSON line out per line in
 *
 * The policy is the configured one (NOTIFY_QUIET_START, NOTIFY_QUIET_END, NOTIFY_DEFAULT_TIME_ZONE,
 * NOTIFY_HELD_CATEGORIES, NOTIFY_MORNING_SPREAD_SECONDS), and so is the morning cap
 * (NOTIFY_MORNING_CAP, NOTIFY_MORNING_CAP_OVERFLOW): with --stdin, each held advertisement's line
 * says what the cap and the collapse keys would do with the whole batch (`morning`).
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { loadConfig } from '../../config';
import { DIGEST_ENVELOPE_BYTES, digestEntryBytes, payloadText } from '../../digest';
import { CATEGORIES, parseNotification } from '../../notification';
import {
  morningOf,
  nextAllowedSendTime,
  planMorning,
  policyFromConfig,
  type MorningEntry,
  type MorningRules,
  type PolicySubject,
  type QuietHoursPolicy,
  type SendDecision,
} from '../../policy';
import { writeLine, type CliCommand, type CliIo } from '../command';

const USAGE =
  'preview [--at <ISO instant>] [--category <' +
  CATEGORIES.join('|') +
  '>] [--zone <IANA zone>] [--consent] [--id <notificationId>] [--not-before <ISO instant>] ' +
  '[--expires-at <ISO instant>] [--json]\n' +
  '       npm run cli -- preview --stdin [--at <ISO instant>]   (JSON lines in, one JSON line out per line in)';

const OPTIONS = {
  at: { type: 'string' },
  category: { type: 'string' },
  zone: { type: 'string' },
  consent: { type: 'boolean' },
  id: { type: 'string' },
  'not-before': { type: 'string' },
  'expires-at': { type: 'string' },
  json: { type: 'boolean' },
  stdin: { type: 'boolean' },
} as const;

const isoInstant = z.string().datetime({ offset: true });

/** An ISO-8601 instant with an offset; throws an Error naming the field otherwise. */
function instantFrom(value: unknown, field: string): Date {
  if (!isoInstant.safeParse(value).success) {
    throw new Error(`${field}: expected an ISO-8601 instant with offset, e.g. 2026-11-23T22:30:00+09:00, got ${JSON.stringify(value)}`);
  }
  return new Date(value as string);
}

/** The policy subject of a raw notification, validated by the contract's schema. */
function subjectFrom(raw: unknown): PolicySubject {
  return parseNotification(raw);
}

function zoneOf(subject: PolicySubject, policy: QuietHoursPolicy): string {
  return subject.recipient.timeZone ?? policy.defaultTimeZone;
}

function localIso(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISO() ?? instant.toISOString();
}

function localText(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toFormat('yyyy-MM-dd HH:mm:ss.SSS ZZ');
}

/** The JSON line for one decision. */
export function decisionRecord(
  subject: PolicySubject,
  at: Date,
  decision: SendDecision,
  policy: QuietHoursPolicy,
): Record<string, unknown> {
  const zone = zoneOf(subject, policy);
  return {
    notificationId: subject.notificationId,
    category: subject.category,
    timeZone: zone,
    nightConsent: subject.recipient.nightConsent,
    at: at.toISOString(),
    releaseAt: decision.releaseAt.toISOString(),
    releaseAtLocal: localIso(decision.releaseAt, zone),
    reason: decision.reason,
    ...(decision.windowEndsAt ? { windowEndsAt: decision.windowEndsAt.toISOString() } : {}),
    ...(subject.notBefore ? { notBefore: subject.notBefore } : {}),
    ...(subject.expiresAt ? { expiresAt: subject.expiresAt } : {}),
    expired: decision.expired,
    ...(decision.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
  };
}

function humanReport(subject: PolicySubject, at: Date, decision: SendDecision, policy: QuietHoursPolicy): string {
  const zone = zoneOf(subject, policy);
  const both = (instant: Date) => `${instant.toISOString()}   ${localText(instant, zone)}`;
  const window =
    policy.quietStart === policy.quietEnd ? 'none' : `${policy.quietStart}–${policy.quietEnd} local time`;
  const lines = [
    `notification  ${subject.notificationId} (${subject.category}, ${subject.recipient.nightConsent ? 'night consent' : 'no night consent'})`,
    `zone          ${zone}${subject.recipient.timeZone ? '' : ' (policy default)'}`,
    `quiet window  ${window}; held without consent: ${[...new Set(['advertising', ...policy.heldCategories])].join(', ')}; morning spread ${policy.morningSpreadSeconds} s`,
    `at            ${both(at)}`,
    ...(subject.notBefore ? [`not before    ${both(new Date(subject.notBefore))}`] : []),
    ...(subject.expiresAt ? [`expires at    ${both(new Date(subject.expiresAt))}`] : []),
    `release at    ${both(decision.releaseAt)}`,
    `reason        ${decision.reason}${decision.windowEndsAt ? ` (window ends ${both(decision.windowEndsAt)})` : ''}`,
    `expired       ${decision.expired ? 'yes: it would not be sent' : 'no'}`,
    ...(decision.narrowerThanLaw ? [`WARNING       the window is narrower than the law's 21:00–08:00 (NOTIFY_ALLOW_NARROWER_QUIET_HOURS, tests only)`] : []),
  ];
  return lines.join('\n');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One line per notification on stdin, one decision out per line in. With a morning cap (or lines
 * with a collapse key), each held advertisement's record says what the cap and the keys would do
 * with the whole batch: the lines are read to the end before any is answered.
 */
async function previewLines(io: CliIo, policy: QuietHoursPolicy, defaultAt: Date, rules: MorningRules): Promise<number> {
  let lineNumber = 0;
  let bad = 0;
  const records: Record<string, unknown>[] = [];
  /** The morning entries by recipient and release, with the record each annotates. */
  const mornings = new Map<string, { entry: MorningEntry; record: Record<string, unknown> }[]>();
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  for await (const text of lines) {
    lineNumber += 1;
    let record: Record<string, unknown>;
    try {
      if (text.trim() === '') throw new Error('empty line: expected a JSON notification');
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (error) {
        throw new Error(`not JSON: ${messageOf(error)}`);
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('expected a JSON object');
      // "at" is the line's own decision instant, not a field of the notification.
      const { at: rawAt, ...notification } = raw as { at?: unknown };
      const at = rawAt === undefined ? defaultAt : instantFrom(rawAt, 'at');
      const parsed = parseNotification(notification);
      const decision = nextAllowedSendTime(at, parsed, policy);
      record = { line: lineNumber, ...decisionRecord(parsed, at, decision, policy) };
      const morning = morningOf(decision, parsed, rules);
      if (morning) {
        const key = `${parsed.recipient.id}\u0000${morning.getTime()}`;
        const entry: MorningEntry = {
          notificationId: parsed.notificationId,
          category: parsed.category,
          collapseKey: parsed.collapseKey,
          priority: parsed.priority,
          // Later lines are newer at the same instant.
          scheduledAtMs: at.getTime() + lineNumber / 1_000,
          digestBytes: digestEntryBytes({ notificationId: parsed.notificationId, payloadJson: payloadText(parsed) }),
        };
        mornings.set(key, [...(mornings.get(key) ?? []), { entry, record }]);
      }
    } catch (error) {
      bad += 1;
      record = { line: lineNumber, error: messageOf(error) };
    }
    records.push(record);
  }
  for (const group of mornings.values()) {
    const plan = planMorning(group.map(({ entry }) => entry), rules);
    for (const { entry, record } of group) record.morning = plan.verdicts.get(entry.notificationId);
  }
  for (const record of records) await writeLine(io.stdout, JSON.stringify(record));
  return bad > 0 ? 1 : 0;
}

export const previewCommand: CliCommand = {
  name: 'preview',
  summary: 'show when the quiet-hours policy would release a notification (no scheduling)',
  usage: USAGE,
  async run(args, io) {
    let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];
    try {
      ({ values } = parseArgs({ args, options: OPTIONS, allowPositionals: false }));
    } catch (error) {
      io.stderr.write(`preview: ${messageOf(error)}\nusage: npm run cli -- ${USAGE}\n`);
      return 2;
    }

    let policy: QuietHoursPolicy;
    let rules: MorningRules;
    try {
      const config = loadConfig(io.env ?? process.env);
      policy = policyFromConfig(config.policy);
      rules = { ...config.morning, digestCapacityBytes: config.sqs.maxMessageBytes - DIGEST_ENVELOPE_BYTES };
    } catch (error) {
      io.stderr.write(`preview: ${messageOf(error)}\n`);
      return 2;
    }

    let at: Date;
    try {
      at = values.at === undefined ? (io.now ?? (() => new Date()))() : instantFrom(values.at, '--at');
    } catch (error) {
      io.stderr.write(`preview: ${messageOf(error)}\n`);
      return 2;
    }

    if (values.stdin) {
      const conflicting = (['category', 'zone', 'consent', 'id', 'not-before', 'expires-at'] as const).filter(
        (flag) => values[flag] !== undefined,
      );
      if (conflicting.length > 0) {
        io.stderr.write(
          `preview: with --stdin each line carries its own notification; --${conflicting.join(', --')} cannot be combined with it\n`,
        );
        return 2;
      }
      return previewLines(io, policy, at, rules);
    }

    let subject: PolicySubject;
    try {
      subject = subjectFrom({
        notificationId: values.id ?? 'preview',
        channel: 'push',
        category: values.category ?? 'advertising',
        recipient: {
          id: 'preview',
          ...(values.zone !== undefined ? { timeZone: values.zone } : {}),
          nightConsent: values.consent ?? false,
        },
        ...(values['not-before'] !== undefined ? { notBefore: values['not-before'] } : {}),
        ...(values['expires-at'] !== undefined ? { expiresAt: values['expires-at'] } : {}),
      });
    } catch (error) {
      io.stderr.write(`preview: ${messageOf(error)}\n`);
      return 1;
    }
    const decision = nextAllowedSendTime(at, subject, policy);
    await writeLine(
      io.stdout,
      values.json ? JSON.stringify(decisionRecord(subject, at, decision, policy)) : humanReport(subject, at, decision, policy),
    );
    return 0;
  },
};
