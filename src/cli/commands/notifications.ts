/** Operator commands on single notifications: schedule, status, cancel, reschedule, consent; find one recipient's. */
import { parseArgs } from 'node:util';
import { NotificationNotHeldError, type NotificationClient } from '../../client';
import { loadConfig, type Config } from '../../config';
import { InvalidNotificationError, parseNotification, parseReschedule, type NotificationResult, type Reschedule } from '../../notification';
import { UsageError, writeLine, type CliCommand, type CliIo } from '../command';
import { withClient } from '../withClient';
import { cancelLines, changedLines, foundLine, localInstant, statusLines, tooLateLine, type DisplayContext } from '../display';
import { notificationFromJson, readNotificationFile } from '../notificationJson';

/** The positional arguments, exactly `count` of them, or a usage error. */
function positionals(args: string[], count: number): string[] {
  if (args.length !== count || args.some((arg) => arg.startsWith('--'))) {
    throw new UsageError(`expected ${count} argument${count === 1 ? '' : 's'}`);
  }
  return args;
}

/**
 * A consent change or reschedule: a sentence and the notification's new standing, or with `--json`
 * its result as JSON. Too late (staged, sent, ended): a sentence saying where it is instead, exit 1.
 */
async function change(
  io: CliIo,
  config: Config,
  json: boolean,
  what: { id: string; done: string; attempted: string },
  apply: (client: NotificationClient) => Promise<NotificationResult>,
): Promise<number> {
  try {
    const result = await withClient(config, apply);
    if (json) await writeLine(io.stdout, JSON.stringify(result));
    else for (const line of changedLines(what.id, what.done, result, display(config, io))) await writeLine(io.stdout, line);
    return 0;
  } catch (error) {
    if (json || !(error instanceof NotificationNotHeldError)) throw error;
    await writeLine(io.stderr, tooLateLine(what.id, what.attempted, error.result, display(config, io)));
    return 1;
  }
}

/** The positional arguments and a `--json` flag. */
function withJsonFlag(args: string[], count: number): { positional: string[]; json: boolean } {
  const { values, positionals: given } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  return { positional: positionals(given, count), json: values.json ?? false };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

function display(config: Config, io: CliIo): DisplayContext {
  return { zone: config.policy.defaultTimeZone, now: io.now?.() ?? new Date() };
}

const EXAMPLE = {
  notificationId: 'order-1234-winter-sale',
  recipient: { id: 'user-42', timeZone: 'Asia/Seoul', nightConsent: false },
  channel: 'kakaotalk',
  category: 'advertising',
  payload: { template: 'winter-sale', discount: 30 },
  expiresAt: '2026-11-24T12:00:00+09:00',
};

export const scheduleCommand: CliCommand = {
  name: 'schedule',
  summary: 'schedule one notification from a JSON file (or - for stdin); examples/ has one per category',
  usage: [
    'schedule <file.json | ->',
    '',
    'A notification is one JSON object:',
    '  notificationId  string, the business key (letters, digits, . _ : @ -); scheduling it again starts nothing new',
    '  recipient       { id: string, timeZone?: IANA zone (default Asia/Seoul), nightConsent?: boolean (default false) }',
    '  channel         "kakaotalk" | "sms" | "push"',
    '  category        "advertising" | "order" | "delivery" | "refund"',
    '  payload         object, what the sender renders (numbers beyond 2^53 are kept exactly)',
    '  notBefore       ISO-8601 instant with offset, optional: not sent before it',
    '  expiresAt       ISO-8601 instant with offset, optional: never sent at or after it (it ends expired)',
    '  collapseKey     string, optional: of one recipient\'s notifications held for the same morning with this key, only the newest goes',
    '  priority        integer -1000..1000, optional (default 0): under the morning cap (NOTIFY_MORNING_CAP), higher goes first',
    '  payloadJson     string, optional, instead of payload: the payload as JSON text, delivered byte for byte',
    'Unknown fields are refused. Example:',
    `  ${JSON.stringify(EXAMPLE)}`,
  ].join('\n'),
  async run(args, io) {
    const [file] = positionals(args, 1);
    const source = file === '-' ? 'stdin' : file!;
    const text = file === '-' ? await readAll(io.stdin) : await readNotificationFile(file!);
    // Checked before connecting: bad JSON names the file and the place, a bad notification each field.
    const notification = parseNotification(notificationFromJson(text, source));
    const config = loadConfig(io.env);
    const { notificationId, workflowId, started } = await withClient(config, (client) => client.schedule(notification));
    await writeLine(io.stdout, JSON.stringify({ notificationId, workflowId, started }));
    return 0;
  },
};

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show where a notification stands: held until when (and whether it will expire first), delivered, cancelled, expired, failed',
  usage: 'status <notificationId> [--json]',
  async run(args, io) {
    const { positional: [id], json } = withJsonFlag(args, 1);
    const config = loadConfig(io.env);
    const result = await withClient(config, (client) => client.status(id!));
    if (json) await writeLine(io.stdout, JSON.stringify(result));
    else for (const line of statusLines(id!, result, display(config, io))) await writeLine(io.stdout, line);
    return 0;
  },
};

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'cancel a held notification (says where it is instead if it was too late, and exits 1)',
  usage: 'cancel <notificationId> [--json]',
  async run(args, io) {
    const { positional: [id], json } = withJsonFlag(args, 1);
    const config = loadConfig(io.env);
    const { outcome, result } = await withClient(config, async (client) => {
      const outcome = await client.cancel(id!);
      // Too late: the outcome says the status; the status says since when it is on the queue.
      return { outcome, result: outcome.cancelled || json ? undefined : await client.status(id!) };
    });
    if (json) await writeLine(io.stdout, JSON.stringify(outcome));
    else for (const line of cancelLines(id!, outcome, result, display(config, io))) await writeLine(outcome.cancelled ? io.stdout : io.stderr, line);
    return outcome.cancelled ? 0 : 1;
  },
};

export const rescheduleCommand: CliCommand = {
  name: 'reschedule',
  summary: 'move a held notification to not before an instant ("none" clears it); the quiet window still applies',
  usage: 'reschedule <notificationId> <ISO-8601 instant | none> [--json]',
  async run(args, io) {
    const { positional: [id, instant], json } = withJsonFlag(args, 2);
    // Checked before connecting: an instant without its offset would be read in this host's zone.
    let requested: Reschedule;
    try {
      requested = parseReschedule({ notBefore: instant === 'none' ? null : instant });
    } catch (error) {
      throw error instanceof InvalidNotificationError ? new UsageError(error.message) : error;
    }
    const { notBefore } = requested;
    const config = loadConfig(io.env);
    const context = display(config, io);
    const done = notBefore === null ? 'its not-before time cleared' : `rescheduled to not before ${localInstant(notBefore, context)}`;
    return change(io, config, json, { id: id!, done, attempted: 'reschedule' }, (client) => client.reschedule(id!, notBefore));
  },
};

export const consentCommand: CliCommand = {
  name: 'consent',
  summary: "record the recipient's night-time consent for a held notification (given | withdrawn)",
  usage: 'consent <notificationId> <given | withdrawn> [--json]',
  async run(args, io) {
    const { positional: [id, consent], json } = withJsonFlag(args, 2);
    if (consent !== 'given' && consent !== 'withdrawn') throw new UsageError('consent is "given" or "withdrawn"');
    const config = loadConfig(io.env);
    return change(io, config, json, { id: id!, done: `night-time consent ${consent}`, attempted: 'change the consent' }, (client) => client.updateConsent(id!, consent === 'given'));
  },
};

export const findCommand: CliCommand = {
  name: 'find',
  summary: "list one recipient's notifications (matched through the keyed hash in RecipientId; newest first)",
  usage: 'find --recipient <recipientId> [--limit N] [--json]',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { recipient: { type: 'string' }, limit: { type: 'string', default: '100' }, json: { type: 'boolean', default: false } } });
    if (!values.recipient) throw new UsageError('--recipient is required');
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
    const config = loadConfig(io.env);
    const found = await withClient(config, (client) => client.findByRecipient(values.recipient!, { limit }));
    if (!values.json && found.length === 0) await writeLine(io.stderr, `no notifications for recipient ${values.recipient}`);
    for (const notification of found) await writeLine(io.stdout, values.json ? JSON.stringify(notification) : foundLine(notification, display(config, io)));
    return 0;
  },
};
